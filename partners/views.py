"""Sign-in, the home page and the organisation directory."""

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import Case, Exists, OuterRef, Prefetch, Q, Value, When
from django.shortcuts import render
from django.utils import timezone

from .choices import PARTNER_KINDS
from .forms import DirectoryFilterForm, LockoutAuthenticationForm
from .models import Membership, Organization, Service

DIRECTORY_PAGE_SIZE = 20
APPROVAL_WARNING_DAYS = 30


class LoginView(auth_views.LoginView):
    form_class = LockoutAuthenticationForm
    template_name = "registration/login.html"
    redirect_authenticated_user = True


def directory_results(params) -> tuple[DirectoryFilterForm, object]:
    form = DirectoryFilterForm(params or None)
    orgs = Organization.objects.filter(active=True).exclude(kind="ministry")
    services = Service.objects.filter(active=True).order_by("name")
    if form.is_valid():
        data = form.cleaned_data
        if data["q"]:
            q = data["q"].strip()
            orgs = orgs.filter(Q(name__icontains=q) | Q(services__name__icontains=q)).distinct()
        if data["kind"]:
            orgs = orgs.filter(kind=data["kind"])
        if data["borough"]:
            orgs = orgs.filter(
                pk__in=Organization.objects.active_in_borough(data["borough"]).values("pk")
            )
        if data["domain"]:
            matching = [data["domain"]]
            orgs = orgs.filter(services__domains__contains=matching).distinct()
            services = services.filter(domains__contains=matching)
    orgs = orgs.select_related("parent").prefetch_related(Prefetch("services", queryset=services))
    # Those who provide services first: that is what a coordinator looking for help wants.
    providers_first = Case(When(kind__in=PARTNER_KINDS, then=Value(0)), default=Value(1))
    offers = Exists(Service.objects.filter(organization=OuterRef("pk"), active=True))
    orgs = orgs.order_by(offers.desc(), providers_first, "kind", "name")
    page = Paginator(orgs, DIRECTORY_PAGE_SIZE).get_page(params.get("page"))
    return form, page


@login_required
def home(request):
    today = timezone.localdate()
    memberships = list(
        Membership.objects.filter(user=request.user).select_related("organization", "approved_by")
    )
    for m in memberships:
        m.current = m.is_current(today)
        m.expiring = m.current and (m.approval_expires_on - today).days <= APPROVAL_WARNING_DAYS
        m.not_started = m.started_on > today
        m.ended = not m.active or (m.ended_on is not None and m.ended_on < today)
        m.training_lapsed = bool(settings.SECURITY_TRAINING_DAYS) and (
            m.training_due_on is None or m.training_due_on < today
        )
        m.training_expiring = (
            not m.training_lapsed
            and m.training_days_left is not None
            and m.training_days_left <= APPROVAL_WARNING_DAYS
        )
    # Decree 15⑥: training lapses yearly; warn a month ahead, and say why access stopped.
    training_due = [m for m in memberships if not m.ended and m.training_expiring]
    training_lapsed = [m for m in memberships if not m.ended and m.training_lapsed]
    form, page = directory_results(request.GET)
    return render(
        request,
        "partners/home.html",
        {
            "memberships": memberships,
            "training_due": training_due,
            "training_lapsed": training_lapsed,
            "form": form,
            "page": page,
            "today": today,
        },
    )


@login_required
def directory(request):
    form, page = directory_results(request.GET)
    template = (
        "partners/_directory.html"
        if request.headers.get("HX-Request")
        else "partners/directory.html"
    )
    return render(request, template, {"form": form, "page": page})
