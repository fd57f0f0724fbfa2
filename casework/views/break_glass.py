"""Break-glass (긴급 열람) as pages: a privacy officer or a centre head finds a case by its number
and opens it with a written reason; the opener may end the opening early.

The search shows the case's number and school only — nothing personal before the opening — and
says the same "찾을 수 없습니다" for a number that does not exist and for a case outside the
user's reach."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from casework import access
from casework.forms import BreakGlassForm, BreakGlassSearchForm
from casework.workflows import break_glass
from casework.workflows.errors import WorkflowError

from .common import log


def _found(request, number: str) -> dict:
    """What the page shows about the case of `number`: the case (or None), whether the user
    already sees it through their grants, and the opening in force, if any."""
    case = access.find_break_glass_case(request.user, number)
    if case is None:
        return {"case": None, "already": False, "in_force": None}
    in_force = access.break_glass_in_force(request.user, case=case)
    already = in_force is None and access.has_case_perm(request.user, access.VIEW_CASE, case)
    return {"case": case, "already": already, "in_force": in_force}


@login_required
def break_glass_search(request):
    """GET: find a case by number. POST: open it with the reason typed, then go to its page."""
    if not access.may_break_glass_somewhere(request.user):
        raise PermissionDenied
    posted = request.method == "POST"
    # The number travels in the query string, the reason in the body (the page's two forms).
    search = BreakGlassSearchForm(request.GET or ({"number": ""} if posted else None))
    form = BreakGlassForm(request.POST) if posted else None
    found, errors, status = None, [], 200
    if search.is_bound and search.is_valid():
        found = _found(request, search.cleaned_data["number"])
        if found["case"] is not None and not posted:
            log(request, "search", "case", [found["case"]])
    elif search.is_bound:
        status = 400
    if posted and found is not None and found["case"] is not None:
        if form.is_valid():
            try:
                opening, created = break_glass.open_break_glass(
                    found["case"],
                    by=request.user,
                    reason=form.cleaned_data["reason"],
                    request=request,
                )
            except WorkflowError as exc:
                errors.append(exc.message)
            except ValidationError as exc:
                texts = exc.messages
                if hasattr(exc, "error_dict"):
                    texts = exc.message_dict.get("reason", exc.messages)
                for text in texts:
                    form.add_error("reason", text)
            else:
                until = formats.date_format(
                    timezone.localtime(opening.expires_at), "DATETIME_FORMAT"
                )
                text = (
                    _("긴급 열람을 시작했습니다. %(until)s까지 볼 수 있습니다.")
                    if created
                    else _("이미 긴급 열람 중인 사례입니다. %(until)s까지 볼 수 있습니다.")
                )
                messages.success(request, text % {"until": until})
                return redirect("casework:case_detail", opening.case_id)
        status = 409 if errors else 400
    elif posted and found is not None:
        status = 404
    if form is None and found is not None and found["case"] is not None:
        form = BreakGlassForm()
    return render(
        request,
        "casework/break_glass_search.html",
        {
            "search": search,
            "form": form,
            "found": found,
            "section_errors": errors,
            "hours": break_glass.break_glass_hours(),
            "in_force": access.break_glasses_in_force(request.user),
        },
        status=status,
    )


@login_required
@require_POST
def break_glass_end(request, pk):
    """The opener ends their opening before it expires (anyone else: 404)."""
    opening = access.get_own_break_glass_or_404(request.user, pk)
    try:
        break_glass.end_break_glass(opening, by=request.user)
    except WorkflowError as exc:
        messages.error(request, exc.message)
    else:
        messages.success(request, _("긴급 열람을 끝냈습니다."))
    return redirect("casework:break_glass_search")
