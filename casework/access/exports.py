"""Who may take a file out of Ieum, for which organisation, and fetch it again (DESIGN.md §10).

An export is its requester's alone: only they see its job and download its file, and only while
they still hold a membership at the organisation it was made for — and, for a case summary,
while they may still see the case. What goes into the file is what the requester may see
(the same selectors as the pages)."""

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.http import Http404

from casework.models import Case, Job
from partners.models import Organization, User

from .sql import current_memberships
from .visibility import visible_cases, visible_jobs


def export_organization(user: User, case: Case | None = None) -> Organization | None:
    """The organisation a file is made for (its watermark names it): for a case, the one of the
    requester's organisations that owns, leads or takes part in it; otherwise their first."""
    memberships = (
        current_memberships(user).select_related("organization").order_by("organization__name")
    )
    organizations = [m.organization for m in memberships]
    if case is not None:
        involved = {case.owner_id, case.lead_id} | set(
            case.participants.filter(until__isnull=True).values_list("organization_id", flat=True)
        )
        for organization in organizations:
            if organization.pk in involved:
                return organization
    return organizations[0] if organizations else None


def visible_export_jobs(user: User):
    """The user's own exports, at organisations where they still hold a membership."""
    return visible_jobs(user).filter(kind=Job.Kind.EXPORT)


def may_download_export(user: User, job: Job) -> bool:
    """Whether `user` may fetch the file of `job` now (its case still visible to them)."""
    if not visible_export_jobs(user).filter(pk=job.pk).exists():
        return False
    case_id = (job.result or {}).get("params", {}).get("case")
    return case_id is None or visible_cases(user).filter(pk=case_id).exists()


def get_visible_export_job_or_404(user: User, pk) -> Job:
    """One of the user's own exports (its page), or 404 like a missing one."""
    rows = visible_export_jobs(user).select_related("organization", "created_by")
    try:
        return rows.get(pk=pk)
    except (ObjectDoesNotExist, ValidationError, ValueError, TypeError):
        raise Http404 from None


def get_downloadable_export_or_404(user: User, pk) -> Job:
    """An export whose file `user` may fetch now (`may_download_export`), or 404: another
    user's export, or one about a case they no longer see, is told apart from nothing."""
    job = get_visible_export_job_or_404(user, pk)
    if not may_download_export(user, job):
        raise Http404
    return job
