"""Pages of alerts from partners (DESIGN.md §11): the sender's form and their list of sent
alerts (status only, the same whether the child was matched or not), and the district office's
list of alerts to send on to a school. Every page showing what a sender wrote about a child
logs one access event."""

import uuid

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from casework import access
from casework.forms import AlertForm, AlertRouteForm
from casework.workflows import alerts
from casework.workflows.errors import GuardFailed
from core.pagination import SlimPaginator

from .common import PAGE_SIZE, log


def _sending_organization(request):
    organization = access.alert_sending_organization(request.user)
    if organization is None:
        raise PermissionDenied(_("협력기관·행정복지센터·경찰서 담당자만 학교에 알릴 수 있습니다."))
    return organization


def _put_errors(form, exc: ValidationError) -> None:
    """A workflow's refusal beside the fields it names (the rest above the form)."""
    if not hasattr(exc, "error_dict"):
        form.add_error(None, exc.messages)
        return
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@login_required
def alert_new(request):
    organization = _sending_organization(request)
    choices = {"schools": alerts.schools_near(organization), "boroughs": alerts.boroughs()}
    form = AlertForm(request.POST or None, **choices)
    if request.method == "POST" and form.is_valid():
        try:
            alerts.send_alert(request.user, **form.cleaned_data)
        except ValidationError as exc:
            _put_errors(form, exc)
        else:
            messages.success(request, _("알림을 보냈습니다. 이음이 학생의 학교에 전달합니다."))
            return redirect("casework:alert_list")
    return render(request, "casework/alert_new.html", {"form": form, "organization": organization})


@login_required
def alert_list(request):
    """The sender's alerts: when and their status, nothing about the child or the school."""
    _sending_organization(request)
    rows = (
        access.sent_alerts(request.user).order_by("-created_at").only("id", "created_at", "status")
    )
    page = SlimPaginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "casework/alert_list.html", {"page": page})


# --- The district office ---------------------------------------------------------------------


@login_required
def alert_route_list(request):
    if not access.may_route_alerts(request.user):
        raise PermissionDenied(_("교육지원청 통합지원센터 담당자만 볼 수 있습니다."))
    waiting = request.GET.get("all") != "1"
    rows = access.alerts_to_route(request.user).select_related(
        "sender", "sender_organization", "school", "borough", "office", "concern__school"
    )
    if waiting:
        rows = rows.filter(concern__isnull=True)
    page = SlimPaginator(rows.order_by("-created_at"), PAGE_SIZE).get_page(request.GET.get("page"))
    log(request, "list", "alert", page)
    return render(request, "casework/alert_route_list.html", {"page": page, "waiting": waiting})


@login_required
def alert_route(request, pk):
    """One alert routed to the user's office, and 학교로 보내기: a school of the office, then the
    student there it is about."""
    alert = access.get_alert_to_route_or_404(request.user, pk)
    schools = access.alert_route_schools(alert)
    chosen = request.POST.get("school") or request.GET.get("school") or ""
    school = schools.filter(pk=chosen).first() if _is_uuid(chosen) else None
    students = list(access.alert_candidate_students(request.user, alert, school)) if school else []
    data = request.POST if request.method == "POST" else None
    form = AlertRouteForm(data, initial={"school": chosen}, schools=schools, students=students)
    code = 200
    if data is not None and form.is_valid() and alert.concern_id is None:
        student = next(st for st in students if str(st.pk) == form.cleaned_data["student"])
        try:
            alerts.route_alert(alert, by=request.user, school=school, student=student)
        except ValidationError as exc:
            _put_errors(form, exc)
        except GuardFailed as exc:
            messages.error(request, exc.message)
            code = 409
        else:
            messages.success(
                request,
                _("%(school)s에 보냈습니다. 학교의 담당자에게 지원 요청이 만들어졌습니다.")
                % {"school": school.name},
            )
            return redirect("casework:alert_route_list")
    elif data is not None and alert.concern_id is not None:
        messages.error(request, _("이미 학교로 보낸 알림입니다."))
        code = 409
    log(request, "view", "alert", [alert])
    if students:
        log(request, "list", "student", students)
    return render(
        request,
        "casework/alert_route.html",
        {"alert": alert, "form": form, "school": school, "students": students},
        status=code,
    )


def _is_uuid(value: str) -> bool:
    try:
        uuid.UUID(value)
    except (ValueError, TypeError, AttributeError):
        return False
    return True
