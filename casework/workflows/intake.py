"""From a teacher's concern to an opened case (Act Art. 10②)."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from casework import access
from casework.choices import Difficulty, RiskLevel, TeamRole, Urgency
from casework.models import (
    FINISHED_STATUSES,
    Alert,
    Case,
    CaseMember,
    CaseParticipant,
    Concern,
    IdentificationSource,
    Student,
)
from casework.notify import notify
from casework.reasons import patterned
from partners.choices import Domain
from partners.models import Organization, User

from .common import attribute, save
from .errors import GuardFailed


def _check_codes(values, choices, field):
    unknown = sorted(set(values or []) - set(choices.values))
    if unknown:
        raise ValidationError({field: _("알 수 없는 코드: %s") % ", ".join(unknown)})


@transaction.atomic
def raise_concern(
    *,
    by: User,
    student: Student,
    difficulties: list[str],
    description: str = "",
    urgency: str = Urgency.NORMAL,
    source: str = IdentificationSource.TEACHER,
) -> Concern:
    """Any staff member of the student's school asks that the student be considered."""
    if not access.works_at_school(by, student.school):
        raise PermissionDenied(_("이 학교의 교직원만 지원을 요청할 수 있습니다."))
    if not difficulties:
        raise ValidationError({"difficulties": _("어려움 유형을 하나 이상 고르세요.")})
    _check_codes(difficulties, Difficulty, "difficulties")
    _check_codes([urgency], Urgency, "urgency")
    concern = Concern(
        student=student,
        school=student.school,
        raised_by=by,
        source=source,
        difficulties=list(difficulties),
        description=description,
        urgency=urgency,
    )
    attribute(concern, by, gettext_noop("지원 요청"))
    concern.save()
    notify(
        access.audience(student.school, "concern_raised"),
        kind="concern_raised",
        params={"name": student.name},
        body=description[:200],
        url="/casework/",
        exclude=by,
    )
    return concern


def _next_case_number(school: Organization) -> str:
    # Serialise numbering per school: the school row is the lock.
    Organization.objects.select_for_update().filter(pk=school.pk).first()
    prefix = f"{timezone.localdate().year}-{school.code}-"
    last = (
        Case.objects.filter(number__startswith=prefix)
        .order_by("-number")
        .values_list("number", flat=True)
        .first()
    )
    serial = int(last.rsplit("-", 1)[1]) + 1 if last else 1
    return f"{prefix}{serial:04d}"


@transaction.atomic
def open_case(
    *,
    by: User,
    student: Student,
    difficulties: list[str],
    domains: list[str] | None = None,
    risk_level: str = RiskLevel.WATCH,
    summary: str = "",
    source: str = IdentificationSource.TEACHER,
) -> Case:
    """Open the student's case at their school, run by the opening coordinator."""
    school = student.school
    if not access.may_open_case(by, school):
        raise PermissionDenied(_("사례는 학교의 담당자가 개설합니다."))
    _check_codes(difficulties, Difficulty, "difficulties")
    _check_codes(domains or [], Domain, "domains")
    _check_codes([risk_level], RiskLevel, "risk_level")
    # The student row is the lock: two coordinators opening a case for one student at once
    # queue here, and the second sees the first's case.
    Student.objects.select_for_update().filter(pk=student.pk).first()
    if Case.objects.filter(student=student).exclude(status__in=FINISHED_STATUSES).exists():
        raise GuardFailed(_("이 학생에게는 이미 진행 중인 사례가 있습니다."))
    case = Case(
        number=_next_case_number(school),
        student=student,
        owner=school,
        lead=school,
        difficulties=list(difficulties),
        domains=list(domains or []),
        risk_level=risk_level,
        summary=summary,
        source=source,
        coordinator=by,
    )
    try:
        # The unique index on a student's open case is the last word (a case opened by a
        # path that does not take the student lock): a lost race is a 409, never a 500.
        with transaction.atomic():
            save(case, by, gettext_noop("사례 개설"))
    except IntegrityError as error:
        raise GuardFailed(_("이 학생에게는 이미 진행 중인 사례가 있습니다.")) from error
    for role in (CaseParticipant.Role.OWNER, CaseParticipant.Role.LEAD):
        participant = CaseParticipant(case=case, organization=school, role=role)
        attribute(participant, by)
        participant.save()
    member = CaseMember(case=case, user=by, role=TeamRole.COORDINATOR, added_by=by)
    attribute(member, by)
    member.save()
    access.grant_case_to_owner_school(case)
    notify(
        access.audience(school, "case_opened"),
        kind="case_opened",
        params={"name": student.name, "number": case.number},
        case=case,
        url=f"/casework/cases/{case.pk}/",
        exclude=by,
    )
    return case


@transaction.atomic
def triage_concern(
    concern: Concern, *, by: User, decision: str, case: Case | None = None, reason: str = ""
) -> Concern:
    """The coordinator decides: open a case, attach to the student's open case, or no action."""
    if not access.may_triage(by, concern.school):
        raise PermissionDenied(_("지원 요청은 학교의 담당자가 검토합니다."))
    # The status is checked on the locked row: of two triages at once, the second waits and
    # then finds the concern triaged (409).
    concern = (
        Concern.objects.select_for_update(of=("self",))
        .select_related("student", "school", "raised_by")
        .get(pk=concern.pk)
    )
    if concern.status != Concern.Status.OPEN:
        raise GuardFailed(_("이미 검토한 지원 요청입니다."))
    if decision == Concern.Triage.OPEN_CASE:
        case = open_case(
            by=by,
            student=concern.student,
            difficulties=concern.difficulties,
            risk_level=RiskLevel.CAUTION if concern.urgency != Urgency.NORMAL else RiskLevel.WATCH,
            summary=concern.description,
            source=concern.source,
        )
    elif decision == Concern.Triage.ATTACH:
        if case is None:
            raise ValidationError({"case": _("연결할 사례를 고르세요.")})
        # The case may be closing right now: its status is read on the locked row.
        case = Case.objects.select_for_update(of=("self",)).filter(pk=case.pk).first() or case
        if case.student_id != concern.student_id or not case.is_open:
            raise GuardFailed(_("같은 학생의 진행 중인 사례에만 연결할 수 있습니다."))
    elif decision == Concern.Triage.NO_ACTION:
        if not reason.strip():
            raise ValidationError({"reason": _("조치하지 않는 사유를 적어 주세요.")})
        case = None
    else:
        raise ValidationError({"decision": _("알 수 없는 결정입니다.")})
    concern.status = Concern.Status.TRIAGED
    concern.triage = decision
    concern.triage_reason = reason
    concern.triaged_by = by
    concern.triaged_at = timezone.now()
    concern.case = case
    save(concern, by, patterned("triage", decision=decision))
    # A concern made from a partner's alert tells its sender nothing (DESIGN.md §11).
    from_alert = Alert.objects.filter(concern=concern).exists()
    notify(
        [] if from_alert else [concern.raised_by],
        kind="concern_triaged",
        params={
            "name": concern.student.name,
            "number": case.number if case else "",
            "result": Concern.Triage(decision).value,
            "variant": "case" if case else "no_case",
        },
        case=case,
        url=f"/casework/concerns/{concern.pk}/",
        exclude=by,
    )
    return concern
