"""The isolation matrix's entries for the export routes (merged into matrix.ROUTES): anyone with
a current membership asks for an export (the system administrator, who has none, is refused);
an export, its page and its file are its requester's alone — to anyone else 404 whether it
exists or not. The form for a case summary shows the case, so a foreign case is 404 there too."""

from datetime import timedelta

from django.utils import timezone

from casework.models import Job
from tests.access.routes_base import Route, signed_in
from tests.conftest import World


def export_job(w: World) -> Job:
    """A made export of the world's coordinator, its file still kept (built once per world)."""
    if getattr(w, "export_job", None) is None:
        w.export_job = Job.objects.create(
            kind=Job.Kind.EXPORT,
            created_by=w["coordinator"],
            organization=w.school,
            status=Job.Status.SUCCEEDED,
            reason="사례 회의 자료",
            file_name="ieum-case-list-20261203-0930.xlsx",
            payload=b"PK\x03\x04 matrix",
            result={"export": "case_list", "params": {}, "content_type": "application/zip"},
            expires_at=timezone.now() + timedelta(hours=1),
        )
    return w.export_job


OWN_EXPORT = {"coordinator": 200, "*": 404}

ROUTES: dict[str, Route] = {
    "api-exports": Route(
        method="post",
        data={"kind": "case_list", "reason": "사례 회의 자료"},
        expect={"anonymous": 401, "admin": 403, "*": 202},
        note="the file is made after the answer; tests/casework/exports/ covers what is in it",
    ),
    "api-job-download": Route(
        kwargs=lambda w: {"pk": export_job(w).pk},
        expect={"anonymous": 401, **OWN_EXPORT},
        note="only the requester downloads",
    ),
    "casework:export_list": Route(expect=signed_in(200), note="the user's own exports only"),
    "casework:export_new": Route(
        query=lambda w: f"?kind=case_summary&case={w.case.pk}",
        expect={"anonymous": 302, **OWN_EXPORT},
        note="the form names the case: 404 to whoever may not see it",
    ),
    "casework:export_detail": Route(
        kwargs=lambda w: {"pk": export_job(w).pk}, expect={"anonymous": 302, **OWN_EXPORT}
    ),
    "casework:export_download": Route(
        kwargs=lambda w: {"pk": export_job(w).pk}, expect={"anonymous": 302, **OWN_EXPORT}
    ),
}
