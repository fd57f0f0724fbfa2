"""Notes, consents, assessments and case details: what the team records while working a case.
A consent's withdrawal, with all that relied on it, is in `consents.py`."""

from datetime import datetime, timedelta

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from casework import access, instruments
from casework.choices import (
    ConsentMethod,
    ConsentPurpose,
    ConsentSubject,
    Difficulty,
    RiskLevel,
)
from casework.models import Assessment, Case, Consent, Note
from partners.choices import Domain
from partners.models import User

from .common import attribute, check_version, require_case_perm, save
from .errors import GuardFailed


@transaction.atomic
def add_note(
    case: Case,
    *,
    by: User,
    kind: str,
    body: str,
    confidentiality: str = Note.Confidentiality.TEAM,
    occurred_at: datetime | None = None,
    amends: Note | None = None,
) -> Note:
    """Notes are append-only: a correction is a new note that amends the old one."""
    require_case_perm(by, access.CHANGE_CASE, case)
    if kind not in Note.Kind.values:
        raise ValidationError({"kind": _("알 수 없는 기록 종류입니다.")})
    if confidentiality not in Note.Confidentiality.values:
        raise ValidationError({"confidentiality": _("알 수 없는 공개 범위입니다.")})
    if not body.strip():
        raise ValidationError({"body": _("내용을 적어 주세요.")})
    if amends is not None and amends.case_id != case.pk:
        raise ValidationError({"amends": _("같은 사례의 기록만 정정할 수 있습니다.")})
    if (
        amends is not None
        and amends.confidentiality == Note.Confidentiality.RESTRICTED
        and confidentiality != Note.Confidentiality.RESTRICTED
    ):
        # A team amendment would name the restricted note to the whole team (DESIGN.md §3).
        raise ValidationError(
            {"confidentiality": _("비공개 기록의 정정은 비공개로만 남길 수 있습니다.")}
        )
    occurred_at = occurred_at or timezone.now()
    if occurred_at > timezone.now() + timedelta(minutes=5):
        raise ValidationError({"occurred_at": _("앞으로의 일시는 기록할 수 없습니다.")})
    note = Note(
        case=case,
        author=by,
        kind=kind,
        body=body,
        confidentiality=confidentiality,
        occurred_at=occurred_at,
        amends=amends,
    )
    attribute(note, by, gettext_noop("기록 추가") if amends is None else "기록 정정")
    note.save()
    return note


@transaction.atomic
def record_consent(
    case: Case,
    *,
    by: User,
    subject: str,
    purposes: list[str],
    method: str,
    given_on,
    guardian_name: str = "",
    relation: str = "",
    recipients: list[str] | None = None,
    expires_on=None,
    document=None,
) -> Consent:
    """Act Art. 11③: the student's and the guardian's consent, each recorded on its own."""
    require_case_perm(by, access.MANAGE_CASE, case)
    if subject not in ConsentSubject.values:
        raise ValidationError({"subject": _("동의 주체는 학생 또는 보호자입니다.")})
    if method not in ConsentMethod.values:
        raise ValidationError({"method": _("알 수 없는 동의 방법입니다.")})
    unknown = set(purposes or []) - set(ConsentPurpose.values)
    if not purposes or unknown:
        raise ValidationError({"purposes": _("동의 목적을 하나 이상 올바르게 고르세요.")})
    if subject == ConsentSubject.GUARDIAN and not (guardian_name.strip() and relation.strip()):
        raise ValidationError({"guardian_name": _("보호자의 이름과 관계를 적어 주세요.")})
    if given_on > timezone.localdate():
        raise ValidationError({"given_on": _("동의일은 오늘 이후일 수 없습니다.")})
    if expires_on and expires_on < given_on:
        raise ValidationError({"expires_on": _("만료일은 동의일보다 빠를 수 없습니다.")})
    # The status is read on the locked row: a case being closed right now takes no consent.
    case = Case.objects.select_for_update(of=("self",)).get(pk=case.pk)
    if case.status == "closed":
        raise GuardFailed(_("종결된 사례에는 동의를 기록할 수 없습니다."))
    consent = Consent(
        case=case,
        subject=subject,
        guardian_name=guardian_name if subject == ConsentSubject.GUARDIAN else "",
        relation=relation if subject == ConsentSubject.GUARDIAN else "",
        purposes=list(purposes),
        recipients=list(recipients or []),
        method=method,
        given_on=given_on,
        expires_on=expires_on,
        recorded_by=by,
    )
    if document is not None:
        consent.document = document
    attribute(consent, by, gettext_noop("동의 기록"))
    consent.save()
    return consent


@transaction.atomic
def record_assessment(case: Case, *, by: User, instrument: str, answers: dict) -> Assessment:
    require_case_perm(by, access.CHANGE_CASE, case)
    result = instruments.score(instrument, answers)  # ValidationError on bad answers
    assessment = Assessment(
        case=case,
        instrument=instrument,
        answers=result.answers,
        score=result.score,
        level=result.level,
        assessed_by=by,
    )
    attribute(assessment, by, gettext_noop("평가 기록"))
    assessment.save()
    return assessment


EDITABLE_CASE_FIELDS = ("risk_level", "difficulties", "domains", "summary", "review_due_on")


@transaction.atomic
def update_case(case: Case, *, by: User, version: int | None, reason: str = "", **fields) -> Case:
    """Change a case's details (not its status: that is transition_case)."""
    require_case_perm(by, access.CHANGE_CASE, case)
    case = Case.objects.select_for_update().get(pk=case.pk)
    check_version(case, version)
    if "risk_level" in fields and fields["risk_level"] not in RiskLevel.values:
        raise ValidationError({"risk_level": _("알 수 없는 위기 수준입니다.")})
    for name, choices in (("difficulties", Difficulty), ("domains", Domain)):
        if name in fields and set(fields[name] or []) - set(choices.values):
            raise ValidationError({name: _("알 수 없는 코드가 있습니다.")})
    changed = False
    for name in EDITABLE_CASE_FIELDS:
        if name in fields and getattr(case, name) != fields[name]:
            setattr(case, name, fields[name])
            changed = True
    if changed:
        save(case, by, reason or gettext_noop("사례 정보 수정"), bump=True)
    return case
