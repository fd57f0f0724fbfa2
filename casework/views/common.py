"""What every page module uses: the access log of a page, a workflow's refusal as a message,
the visible case of a URL, htmx detection, the page size, the case lists' sortable columns and
the query string of a list's export."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.utils.http import urlencode

from casework import access, audit
from casework.choices import RiskLevel
from casework.models import Case, CaseStatus
from casework.workflows.errors import WorkflowError
from core.listing import in_order

PAGE_SIZE = 25


def case_sorts() -> dict:
    """The case list's columns that sort (the school overview's list too)."""
    return {
        "number": "number",
        "student": ("student__name", "student__grade", "student__class_no"),
        "status": in_order("status", CaseStatus.values),
        "risk": in_order("risk_level", RiskLevel.values),
        "updated": "updated_at",
    }


def export_query(kind: str, shown, names=()) -> str:
    """The query string of the export form (casework/views/exports.py) for a list shown with
    the filters `shown` (those of `names` that are set), or for one object."""
    return urlencode({"kind": kind, **{name: shown[name] for name in names if shown.get(name)}})


def log(request, action, object_type, objects, **kwargs):
    # A read through break-glass is logged as one (DESIGN.md §5).
    action, kwargs["reason"] = access.read_logged_as(
        request.user,
        action,
        case=kwargs.get("case"),
        student=kwargs.get("student"),
        reason=kwargs.get("reason", ""),
    )
    audit.record_access(request.user, action, object_type, objects, request=request, **kwargs)


def attempt(request, workflow, *args, **kwargs):
    """Run a workflow; a refused guard, stale version or bad input becomes a message on the
    page instead of an error page. Forbidden actions still answer 403."""
    try:
        return workflow(*args, **kwargs)
    except WorkflowError as exc:
        messages.error(request, exc.message)
    except ValidationError as exc:
        for text in exc.messages:
            messages.error(request, text)
    return None


def visible_case_or_404(request, pk) -> Case:
    return access.get_visible_case_or_404(request.user, pk)


def is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


def form_errors(request, form) -> None:
    """Each error of an invalid form as a message, its field's label first."""
    for field, errors in form.errors.items():
        for error in errors:
            messages.error(
                request,
                f"{form.fields[field].label if field in form.fields else ''} {error}".strip(),
            )
