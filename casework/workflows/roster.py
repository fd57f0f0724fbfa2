"""Starting a roster import: who may, which files, and the job that tracks it."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from casework import access
from casework.models import Job
from partners.choices import Role
from partners.models import Organization, User

MAX_BYTES = 5 * 1024 * 1024
EXTENSIONS = (".csv", ".xlsx")


@transaction.atomic
def start_roster_import(
    *, by: User, school: Organization, file_name: str, data: bytes, dry_run: bool
) -> Job:
    if access.acting_membership(by, school, [Role.COORDINATOR]) is None:
        raise PermissionDenied(_("학생 명부는 학교의 담당자가 가져옵니다."))
    if not file_name.lower().endswith(EXTENSIONS):
        raise ValidationError({"file": _("CSV 또는 XLSX 파일만 올릴 수 있습니다.")})
    if len(data) > MAX_BYTES:
        raise ValidationError({"file": _("파일이 너무 큽니다 (최대 5MB).")})
    if not data:
        raise ValidationError({"file": _("빈 파일입니다.")})
    job = Job.objects.create(
        kind=Job.Kind.ROSTER_IMPORT,
        created_by=by,
        organization=school,
        dry_run=dry_run,
        file_name=file_name[:255],
        payload=data,
    )
    from casework.tasks import import_roster

    transaction.on_commit(lambda: import_roster.delay(str(job.pk)))
    return job
