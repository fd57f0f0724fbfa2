"""Retention of casework (Decree 10, DESIGN.md §6 and §9): what is past its keeping period is
anonymised, and each anonymisation is a line of the register of destruction (파기 대장).

- **Selection data** (`selection_retention`): once the student completed high school, or left
  school and turned 19, everything that names or describes them goes: their name becomes
  "익명-…", their birth date the first of January of its year, their NEIS id and family notes go,
  their guardians' names and telephone numbers, and every free text of their concerns, cases,
  notes, consents, plans, assessments, referrals, messages and transfers becomes "[파기됨]".
  Codes, dates, statuses and counts stay, so the reports still add up.
- **Data without consent** (`preconsent_retention`): a closed case that never had both the
  student's and the guardian's consent keeps no free text past PRECONSENT_RETENTION_DAYS after
  it was opened; the student's roster entry stays (it is the school's).

History is part of the data: the rows simple-history kept of each changed object are scrubbed of
the same fields, and a last history row records the anonymisation and its reason. A note is
append-only for people; here, and only here, its body is replaced in place.
"""

from dataclasses import dataclass, field
from datetime import date, timedelta

from django.conf import settings
from django.db import models, transaction
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_noop

from casework import deadlines
from casework.models import (
    Assessment,
    Case,
    Concern,
    Consent,
    Decision,
    DestructionRecord,
    Guardian,
    Intervention,
    Note,
    Notification,
    Referral,
    ReferralMessage,
    Student,
    SupportPlan,
    Transfer,
    TransferClaim,
)
from casework.models.cases import FINISHED_STATUSES
from casework.models.students import EnrolmentStatus
from partners.choices import SchoolLevel
from partners.models import User

from .common import attribute

ERASED = "[파기됨]"
REASON = gettext_noop("보관 기간 경과로 익명화")
Rule = DestructionRecord.Rule

# The free text of each model, and what it becomes. JSON lists and objects are emptied.
FREE_TEXT: dict[type[models.Model], dict[str, object]] = {
    Concern: {"description": ERASED, "triage_reason": ERASED},
    Case: {"summary": ERASED},
    Note: {"body": ERASED},
    Consent: {"withdrawal_reason": ERASED},
    Assessment: {"answers": {}},
    Decision: {"reasons": []},
    SupportPlan: {"goals": []},
    Intervention: {"description": ERASED},
    Referral: {
        "reason": ERASED,
        "requested_support": ERASED,
        "notes_excerpt": ERASED,
        "packet": None,
        "justification": ERASED,
        "decline_reason": ERASED,
        "cancel_reason": ERASED,
        "outcome": ERASED,
    },
    ReferralMessage: {"body": ERASED},
    Transfer: {"reason": ERASED, "response_reason": ERASED},
    TransferClaim: {"reason": ERASED, "response_reason": ERASED},
}
# Models whose rows people never change: their values are replaced without a save().
APPEND_ONLY = {Note}


def _rows(model, case_ids: list) -> QuerySet:
    if model is Case:
        return Case.objects.filter(pk__in=case_ids)
    if model is ReferralMessage:
        return ReferralMessage.objects.filter(referral__case_id__in=case_ids)
    if model is Intervention:
        return Intervention.objects.filter(plan__case_id__in=case_ids)
    return model.objects.filter(case_id__in=case_ids)


def _blank(value) -> bool:
    return value in (None, "", [], {}, ERASED)


def _scrub(obj, values: dict, by: User | None) -> list[str]:
    """Replace `values` on `obj` and in its history rows; the fields that held something."""
    changed = {name: value for name, value in values.items() if not _blank(getattr(obj, name))}
    if not changed:
        return []
    model = type(obj)
    if model in APPEND_ONLY:
        model.objects.filter(pk=obj.pk).update(**changed)
    else:
        for name, value in changed.items():
            setattr(obj, name, value)
        attribute(obj, by, REASON)
        obj.save()
    history = model.history.model
    kept = {f.name for f in history._meta.concrete_fields}
    scrubbed = {name: value for name, value in changed.items() if name in kept}
    if scrubbed:
        history.objects.filter(id=obj.pk).update(**scrubbed)
    label = model._meta.model_name
    return [f"{label}.{name}" for name in changed]


def _scrub_cases(case_ids: list, by: User | None) -> list[str]:
    parts: list[str] = []
    for model, values in FREE_TEXT.items():
        for obj in _rows(model, case_ids):
            parts += _scrub(obj, values, by)
    return parts


def _scrub_name(text: str, name: str, label: str) -> str:
    return text.replace(name, label) if name and isinstance(text, str) else text


def _scrub_notifications(student: Student, case_ids: list, label: str) -> list[str]:
    """Notifications name the student in their parameters and stored text."""
    parts = []
    for notice in Notification.objects.filter(case_id__in=case_ids):
        params = {k: _scrub_name(v, student.name, label) for k, v in (notice.params or {}).items()}
        values = {
            "params": params,
            "title": _scrub_name(notice.title, student.name, label),
            "body": ERASED if notice.body else "",
        }
        if values["params"] != notice.params or values["title"] != notice.title or notice.body:
            Notification.objects.filter(pk=notice.pk).update(**values)
            Notification.history.model.objects.filter(id=notice.pk).update(**values)
            parts.append("notification")
    return sorted(set(parts))


def anonymised_label(student: Student) -> str:
    return f"익명-{str(student.pk)[:8]}"


def _record(*, object_type, object_id, label, parts, action, rule, detail, due_on, case=None, by):
    record = DestructionRecord(
        object_type=object_type,
        object_id=object_id,
        object_label=label[:100],
        case=case,
        parts=sorted(set(parts)),
        action=action,
        rule=rule,
        rule_detail=detail[:200],
        due_on=due_on,
        destroyed_at=timezone.now(),
        destroyed_by=by,
    )
    attribute(record, by, gettext_noop("파기 대장 기록"))
    record.save()
    return record


@transaction.atomic
def anonymise_student(
    student: Student, *, rule: str, detail: str, due_on: date | None, by: User | None = None
) -> DestructionRecord | None:
    """Everything that names or describes the student, as the module says; None when another run
    did it first (the student row is the lock)."""
    student = Student.objects.select_for_update().get(pk=student.pk)
    if _recorded("student", student.pk, rule):
        return None
    label = anonymised_label(student)
    case_ids = list(Case.objects.filter(student=student).values_list("pk", flat=True))
    parts = _scrub_cases(case_ids, by)
    parts += _scrub_notifications(student, case_ids, label)
    for guardian in Guardian.objects.filter(student=student):
        parts += _scrub(guardian, {"name": ERASED, "phone": ""}, by)
    for consent in Consent.objects.filter(case_id__in=case_ids):
        parts += _scrub(consent, {"guardian_name": ERASED if consent.guardian_name else ""}, by)
    for concern in Concern.objects.filter(student=student, case__isnull=True):
        parts += _scrub(concern, FREE_TEXT[Concern], by)
    identity = {
        "name": label,
        "birth_date": student.birth_date.replace(month=1, day=1),
        "neis_id": "",
        "family_structure": "",
    }
    changed = [k for k, v in identity.items() if getattr(student, k) != v]
    for name in changed:
        setattr(student, name, identity[name])
    attribute(student, by, REASON)
    student.save()
    Student.history.model.objects.filter(id=student.pk).update(**identity)
    parts += [f"student.{name}" for name in changed]
    return _record(
        object_type="student",
        object_id=student.pk,
        label=f"{student.school.code} {label}",
        parts=parts,
        action=DestructionRecord.Action.ANONYMISED,
        rule=rule,
        detail=detail,
        due_on=due_on,
        by=by,
    )


@transaction.atomic
def destroy_case_text(case: Case, *, due_on: date | None, by: User | None = None):
    """The free text of a case that never had both consents (the case row is the lock)."""
    case = Case.objects.select_for_update().get(pk=case.pk)
    if _recorded("case", case.pk, Rule.PRECONSENT_RETENTION):
        return None
    parts = _scrub_cases([case.pk], by)
    for concern in Concern.objects.filter(case=case):
        parts += _scrub(concern, FREE_TEXT[Concern], by)
    return _record(
        object_type="case",
        object_id=case.pk,
        label=case.number,
        case=case,
        parts=parts,
        action=DestructionRecord.Action.DESTROYED,
        rule=Rule.PRECONSENT_RETENTION,
        detail=f"PRECONSENT_RETENTION_DAYS={settings.PRECONSENT_RETENTION_DAYS}",
        due_on=due_on,
        by=by,
    )


def _recorded(object_type: str, pk, rule: str) -> bool:
    return DestructionRecord.objects.filter(
        object_type=object_type, object_id=pk, rule=rule
    ).exists()


def _not_recorded(object_type: str, rule: str):
    return ~Exists(
        DestructionRecord.objects.filter(
            object_type=object_type, object_id=OuterRef("pk"), rule=rule
        )
    )


# --- What is due -------------------------------------------------------------------------------


def nineteenth_birthday_cutoff(day: date) -> date:
    """Born on or before this day: 19 or older on `day`."""
    try:
        return day.replace(year=day.year - 19)
    except ValueError:  # 29 February
        return day.replace(year=day.year - 19, day=28)


def selection_due(day: date | None = None) -> QuerySet[Student]:
    day = day or deadlines.today()
    finished = Q(enrolment_status=EnrolmentStatus.GRADUATED, school__school_level=SchoolLevel.HIGH)
    left = Q(enrolment_status=EnrolmentStatus.LEFT, birth_date__lte=nineteenth_birthday_cutoff(day))
    return Student.objects.filter(finished | left).filter(
        _not_recorded("student", Rule.SELECTION_RETENTION)
    )


def _both_consents():
    subjects = Consent.objects.filter(case_id=OuterRef("pk"))
    return Exists(subjects.filter(subject="student")) & Exists(subjects.filter(subject="guardian"))


def preconsent_due(day: date | None = None) -> QuerySet[Case]:
    day = day or deadlines.today()
    cutoff = day - timedelta(days=settings.PRECONSENT_RETENTION_DAYS)
    return (
        Case.objects.filter(status__in=list(FINISHED_STATUSES), opened_on__lt=cutoff)
        .exclude(_both_consents())
        .filter(_not_recorded("case", Rule.PRECONSENT_RETENTION))
    )


@dataclass
class RetentionRun:
    anonymised: int = 0
    destroyed: int = 0
    records: list = field(default_factory=list)


def apply_retention(day: date | None = None, *, by: User | None = None) -> RetentionRun:
    """The daily job: every student past Decree 10 anonymised, every case without consent past
    PRECONSENT_RETENTION_DAYS stripped of its free text; one register line each."""
    day = day or deadlines.today()
    run = RetentionRun()
    for student in list(selection_due(day).select_related("school")):
        why = (
            "graduated from high school"
            if student.enrolment_status == EnrolmentStatus.GRADUATED
            else "left school, 19 or older"
        )
        record = anonymise_student(
            student, rule=Rule.SELECTION_RETENTION, detail=f"Decree 10: {why}", due_on=day, by=by
        )
        if record is not None:
            run.anonymised += 1
            run.records.append(record)
    for case in list(preconsent_due(day)):
        record = destroy_case_text(
            case,
            due_on=case.opened_on + timedelta(days=settings.PRECONSENT_RETENTION_DAYS),
            by=by,
        )
        if record is not None:
            run.destroyed += 1
            run.records.append(record)
    return run


@dataclass
class Forecast:
    rule: str
    count: int
    first_on: date | None

    @property
    def label(self) -> str:
        return str(Rule(self.rule).label)


def forecast(day: date | None = None, days: int = 30) -> list[Forecast]:
    """What the next runs of the daily job will destroy within `days` (the privacy officer's
    view ahead): students due now or turning 19 after leaving school, cases without consent
    whose keeping period runs out."""
    day = day or deadlines.today()
    end = day + timedelta(days=days)
    students_now = selection_due(day).count()
    turning = Student.objects.filter(
        enrolment_status=EnrolmentStatus.LEFT,
        birth_date__gt=nineteenth_birthday_cutoff(day),
        birth_date__lte=nineteenth_birthday_cutoff(end),
    ).order_by("birth_date")
    first_turning = turning.values_list("birth_date", flat=True).first()
    rows = [
        Forecast(
            Rule.SELECTION_RETENTION,
            students_now + turning.count(),
            day
            if students_now
            else (first_turning.replace(year=first_turning.year + 19) if first_turning else None),
        )
    ]
    cutoff_end = end - timedelta(days=settings.PRECONSENT_RETENTION_DAYS)
    cases = (
        Case.objects.filter(status__in=list(FINISHED_STATUSES), opened_on__lt=cutoff_end)
        .exclude(_both_consents())
        .filter(_not_recorded("case", Rule.PRECONSENT_RETENTION))
    )
    first_case = cases.order_by("opened_on").values_list("opened_on", flat=True).first()
    rows.append(
        Forecast(
            Rule.PRECONSENT_RETENTION,
            cases.count(),
            max(day, first_case + timedelta(days=settings.PRECONSENT_RETENTION_DAYS))
            if first_case
            else None,
        )
    )
    return rows
