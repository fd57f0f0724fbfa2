"""Starting a roster import: who may, which files, and the job that tracks it."""

import re

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from casework import access
from casework.models import Job
from casework.tasks import import_roster
from partners.models import Organization, User

from .common import attribute

MAX_BYTES = 5 * 1024 * 1024
EXTENSIONS = (".csv", ".xlsx")
ZIP_MAGIC = b"PK\x03\x04"  # an .xlsx is a zip archive; an old .xls renamed is not


@transaction.atomic
def start_roster_import(
    *, by: User, school: Organization, file_name: str, data: bytes, dry_run: bool
) -> Job:
    """Queue an import of `data` into `school`'s roster; the job reports progress and errors.
    Only the school's coordinator (학생맞춤통합지원 담당자) keeps the roster."""
    if not access.keeps_roster(by, school):
        raise PermissionDenied(_("학생 명부는 학교의 담당자가 가져옵니다."))
    # Browsers on Windows may send the whole client path.
    file_name = re.split(r"[\\/]", file_name or "")[-1].strip()
    if not file_name.lower().endswith(EXTENSIONS):
        raise ValidationError({"file": _("CSV 또는 XLSX 파일만 올릴 수 있습니다.")})
    if len(data) > MAX_BYTES:
        raise ValidationError({"file": _("파일이 너무 큽니다 (최대 5MB).")})
    if not data:
        raise ValidationError({"file": _("빈 파일입니다.")})
    if file_name.lower().endswith(".xlsx") and not data.startswith(ZIP_MAGIC):
        raise ValidationError(
            {"file": _("XLSX 파일이 아닙니다. 엑셀에서 'Excel 통합 문서(.xlsx)'로 저장해 주세요.")}
        )
    job = Job(
        kind=Job.Kind.ROSTER_IMPORT,
        created_by=by,
        organization=school,
        dry_run=dry_run,
        file_name=file_name[-255:],
        payload=data,
    )
    attribute(job, by)
    job.save()
    job_id = str(job.pk)
    # The worker must find the job (and its file) committed before it starts.
    transaction.on_commit(lambda: import_roster.delay(job_id))
    return job
