"""Alerts from partners (DESIGN.md §11, docs/discovery.md): a partner, a 행정복지센터 or a police
officer tells a school about a child they met.

`send_alert` matches the child to one student — exact name and birth date, at the school named,
else at the schools of the borough named, else anywhere in the sender's province; only a single
match counts — and raises a concern (source `external`) at the student's school, of which its
coordinator is told at once. An alert that matches nobody, or more than one student, goes to the
district office covering the borough (or the school's office), whose centre staff send it on
with `route_alert`. Either way the sender's alert reads `routed` and nothing more: the answer
never says whether the child is known or has a case.
"""

import datetime
import uuid

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from casework import access
from casework.choices import Urgency
from casework.models import (
    Alert,
    AlertStatus,
    Concern,
    EnrolmentStatus,
    IdentificationSource,
    Student,
)
from casework.notify import notify
from partners.choices import EDUCATION_OFFICE_KINDS, OrganizationKind
from partners.models import Organization, User

from .common import attribute, save
from .errors import GuardFailed

NAME_MAX = 100
DESCRIPTION_MAX = 2000
# The concern's text, stored in Korean whoever sends (casework/reasons.py): who alerted, how
# urgent, and what they wrote, as they wrote it.
CONCERN_TEXT = gettext_noop(
    "외부 기관 알림: %(org)s %(sender)s 님 (긴급도: %(urgency)s)\n%(description)s"
)


# --- Input -----------------------------------------------------------------------------------


def _text(value, field: str, *, required_message, maximum: int, errors: dict) -> str:
    if value is None or value == "":
        errors[field] = [required_message]
        return ""
    if not isinstance(value, str):
        errors[field] = [_("글자로 입력하세요.")]
        return ""
    text = value.strip()
    if not text:
        errors[field] = [required_message]
    elif len(text) > maximum:
        errors[field] = [_("%(max)s자 이내로 입력하세요.") % {"max": maximum}]
    elif "\x00" in text or not _encodable(text):
        errors[field] = [_("입력할 수 없는 문자가 있습니다.")]
    return text


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:  # a lone surrogate
        return False
    return True


def _birth_date(value, errors: dict) -> datetime.date | None:
    if value is None or value == "":
        errors["birth_date"] = [_("생년월일을 입력하세요.")]
        return None
    day = value if isinstance(value, datetime.date) else None
    if day is None and isinstance(value, str) and _encodable(value):
        try:
            day = datetime.date.fromisoformat(value.strip())
        except ValueError:
            day = None
    if day is None:
        errors["birth_date"] = [_("생년월일은 2015-03-01 형식으로 입력하세요.")]
    elif day > timezone.localdate():
        errors["birth_date"] = [_("생년월일이 오늘보다 뒤일 수 없습니다.")]
        return None
    return day


def _urgency(value, errors: dict) -> str:
    if value is None or value == "":
        return Urgency.NORMAL
    if not isinstance(value, str) or value not in Urgency.values:
        errors["urgency"] = [_("긴급도는 보통, 높음, 긴급 중에서 고르세요.")]
        return Urgency.NORMAL
    return value


def _school(value, errors: dict) -> Organization | None:
    if value is None or value == "":
        return None
    if isinstance(value, Organization):
        found = value
    elif isinstance(value, str) and _encodable(value) and "\x00" not in value:
        key = value.strip()
        try:
            found = Organization.objects.filter(pk=uuid.UUID(key)).first()
        except ValueError:
            found = Organization.objects.filter(code=key[:40]).first()
    else:
        found = None
    if found is None or found.kind != OrganizationKind.SCHOOL:
        errors["school"] = [_("학교를 찾을 수 없습니다. 학교 목록에서 고르세요.")]
        return None
    return found


def _borough(value, errors: dict) -> Organization | None:
    if value is None or value == "":
        return None
    if isinstance(value, Organization):
        found = value if value.kind == OrganizationKind.LOCAL_GOVERNMENT else None
    elif isinstance(value, str) and value.strip().isdigit() and len(value.strip()) == 5:
        found = Organization.objects.boroughs().filter(region_code=value.strip()).first()
    else:
        found = None
    if found is None:
        errors["borough"] = [
            _("자치구를 찾을 수 없습니다. 행정표준코드 5자리(예: 11545)로 입력하세요.")
        ]
    return found


# --- Where an alert goes ---------------------------------------------------------------------


def _sender_boroughs(organization: Organization) -> list[Organization]:
    """The boroughs the sender works in: those it serves and the one it sits in."""
    return list(
        Organization.objects.boroughs()
        .filter(Q(served_by=organization) | Q(region_code=organization.region_code or "-"))
        .distinct()
    )


def _covering_offices(boroughs) -> list[Organization]:
    return list(
        Organization.objects.filter(kind__in=EDUCATION_OFFICE_KINDS, covers__in=boroughs)
        .distinct()
        .order_by("name")
    )


def routing_office(
    *, school: Organization | None, borough: Organization | None, organization: Organization
) -> Organization | None:
    """The education office an unplaced alert goes to: the school's own office, else the one
    covering the borough, else the one covering where the sender works (if only one does)."""
    if school is not None:
        offices = school.education_offices_above()[:1]
    elif borough is not None:
        offices = _covering_offices([borough])[:1]
    else:
        offices = _covering_offices(_sender_boroughs(organization))
    return offices[0] if len(offices) == 1 else None


def _province_schools(organization: Organization):
    """The schools of the provinces whose offices cover where the sender works."""
    offices = _covering_offices(_sender_boroughs(organization))
    provinces = {
        (o if o.kind == OrganizationKind.PROVINCIAL_OFFICE else o.parent).pk
        for o in offices
        if o.kind == OrganizationKind.PROVINCIAL_OFFICE or o.parent_id
    }
    return Organization.objects.filter(kind=OrganizationKind.SCHOOL).filter(
        Q(parent_id__in=provinces) | Q(parent__parent_id__in=provinces)
    )


def schools_near(organization: Organization):
    """The schools in the boroughs the sender works in (the form's list; any school may be
    named by id or code over the API)."""
    codes = [b.region_code for b in _sender_boroughs(organization)]
    return Organization.objects.filter(
        kind=OrganizationKind.SCHOOL, region_code__in=codes, active=True
    ).order_by("name")


def boroughs():
    return Organization.objects.boroughs().order_by("name")


def match_student(
    *,
    name: str,
    birth_date: datetime.date,
    school: Organization | None,
    borough: Organization | None,
    organization: Organization,
) -> Student | None:
    """The one enrolled student the alert is about, locked; None when nobody or more than one
    student fits (an ambiguous match is no match: a district office decides)."""
    rows = Student.objects.filter(
        name=name, birth_date=birth_date, enrolment_status=EnrolmentStatus.ENROLLED
    )
    if school is not None:
        rows = rows.filter(school=school)
    elif borough is not None:
        rows = rows.filter(school__region_code=borough.region_code)
    else:
        rows = rows.filter(school__in=_province_schools(organization))
    found = list(rows.order_by("pk").values_list("pk", flat=True)[:2])
    if len(found) != 1:
        return None
    return Student.objects.select_for_update().select_related("school").get(pk=found[0])


def _variant(alert: Alert) -> str:
    return "urgent" if alert.urgency == Urgency.URGENT else "normal"


def _raise_concern(alert: Alert, student: Student, *, by: User) -> Concern:
    """The concern at the student's school, raised by the alert's sender (its origin is the
    alert, `concern.alert`); the school's coordinator is told at once, urgent ones marked."""
    with translation.override(settings.LANGUAGE_CODE):
        urgency = str(Urgency(alert.urgency).label)
    concern = Concern(
        student=student,
        school=student.school,
        raised_by=alert.sender,
        source=IdentificationSource.EXTERNAL,
        difficulties=[],
        description=CONCERN_TEXT
        % {
            "org": alert.sender_organization.name,
            "sender": alert.sender.name or alert.sender.username,
            "urgency": urgency,
            "description": alert.description,
        },
        urgency=alert.urgency,
    )
    attribute(concern, by, gettext_noop("외부 기관 알림으로 지원 요청"))
    concern.save()
    alert.student = student
    alert.concern = concern
    alert.status = AlertStatus.ROUTED
    # Every notification is e-mailed once the transaction commits (casework/notify); an urgent
    # alert's says so in its subject.
    notify(
        access.audience(student.school, "alert_concern"),
        kind="alert_concern",
        params={"name": student.name, "variant": _variant(alert)},
        url=f"/casework/concerns/{concern.pk}/",
        exclude=by,
    )
    return concern


# --- Workflows -------------------------------------------------------------------------------


@transaction.atomic
def send_alert(
    by: User,
    *,
    name,
    birth_date,
    description,
    urgency=Urgency.NORMAL,
    school=None,
    borough=None,
) -> Alert:
    """Record the alert and place it: a concern at the matched student's school, or the
    district office's list to route. Values come as typed (strings) or as objects; what is
    wrong is a ValidationError naming each field."""
    organization = access.alert_sending_organization(by)
    if organization is None:
        raise PermissionDenied(_("협력기관·행정복지센터·경찰서 담당자만 학교에 알릴 수 있습니다."))
    errors: dict[str, list[str]] = {}
    name = _text(
        name, "name", required_message=_("이름을 입력하세요."), maximum=NAME_MAX, errors=errors
    )
    birth_date = _birth_date(birth_date, errors)
    description = _text(
        description,
        "description",
        required_message=_("있었던 일을 적어 주세요."),
        maximum=DESCRIPTION_MAX,
        errors=errors,
    )
    urgency = _urgency(urgency, errors)
    school = _school(school, errors)
    borough = _borough(borough, errors)
    if errors:
        raise ValidationError(errors)
    # Decided before matching, whatever the match: a refusal must not depend on the child.
    office = routing_office(school=school, borough=borough, organization=organization)
    if office is None:
        raise ValidationError({"borough": [_("학생이 사는 자치구나 다니는 학교를 알려 주세요.")]})
    alert = Alert(
        sender=by,
        sender_organization=organization,
        name=name,
        birth_date=birth_date,
        school=school,
        borough=borough,
        description=description,
        urgency=urgency,
    )
    save(alert, by, gettext_noop("외부 기관 알림 접수"))
    student = match_student(
        name=name, birth_date=birth_date, school=school, borough=borough, organization=organization
    )
    if student is not None:
        _raise_concern(alert, student, by=by)
        save(alert, by, gettext_noop("학교로 전달"))
    else:
        alert.office = office
        alert.status = AlertStatus.ROUTED
        save(alert, by, gettext_noop("교육지원청으로 전달"))
        notify(
            access.audience(office, "alert_to_route"),
            kind="alert_to_route",
            params={"org": organization.name, "variant": _variant(alert)},
            url="/casework/alerts/route/",
            exclude=by,
        )
    return alert


@transaction.atomic
def route_alert(alert: Alert, *, by: User, school: Organization, student: Student) -> Alert:
    """A district office's centre staff send an alert routed to them on to a school: the
    student they picked there gets the concern, as a matched alert would."""
    alert = (
        Alert.objects.select_for_update()
        .select_related("sender", "sender_organization")
        .get(pk=alert.pk)
    )
    if not access.may_route_alert(by, alert):
        raise PermissionDenied(_("알림을 받은 교육지원청의 담당자만 학교로 보낼 수 있습니다."))
    if alert.concern_id is not None:
        raise GuardFailed(_("이미 학교로 보낸 알림입니다."))
    if school is None or not access.alert_route_schools(alert).filter(pk=school.pk).exists():
        raise ValidationError({"school": [_("이 교육지원청의 학교를 고르세요.")]})
    candidates = {row.pk for row in access.alert_candidate_students(by, alert, school)}
    if student is None or student.pk not in candidates:
        raise ValidationError({"student": [_("이 학교에서 알림의 학생을 고르세요.")]})
    student = Student.objects.select_for_update().select_related("school").get(pk=student.pk)
    _raise_concern(alert, student, by=by)
    alert.routed_by = by
    alert.routed_at = timezone.now()
    save(alert, by, gettext_noop("교육지원청이 학교로 전달"))
    return alert
