"""Subject access (PIPA 35조): everything Ieum holds on one student, and everyone who read it.

`gather` collects the records — the student, guardians, concerns, cases with their team notes
(as far as the requester may read them), consents, plans, interventions, referrals with their
packets and messages — and every access event about the student or their cases. The same
bundle answers as JSON (codes and ISO dates, for a machine) and as a Korean PDF (labels and
Korean dates, for the person who asked). Producing it is itself an access event (`export`,
with the stated reason), so the monthly review sees it.
"""

import datetime
import uuid
from dataclasses import dataclass, field

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from casework import access
from casework.audit import record_access
from casework.models import (
    AccessEvent,
    Case,
    Concern,
    Consent,
    Guardian,
    Intervention,
    Referral,
    ReferralMessage,
    Student,
    SupportPlan,
)
from core import exportfiles
from partners.models import User

# What a record shows of each model: every concrete field but the internal ones. A field added
# to a model appears here by itself; only what must never leave (version counters) is listed.
HIDDEN_FIELDS = {"version", "payload", "prev_hash", "hash", "partition"}
# Labels of the bookkeeping fields that models leave to Django's automatic (English) names.
COMMON_LABELS = {
    "id": _("식별번호"),
    "created_at": _("생성 시각"),
    "updated_at": _("수정 시각"),
    "submitted_at": _("제출 시각"),
    "approved_at": _("승인 시각"),
    "triaged_at": _("검토 시각"),
    "sent_at": _("보낸 시각"),
}


@dataclass
class Record:
    """One object: its kind's label and its fields as (name, label, code value, shown value)."""

    kind: str
    label: str
    fields: list[tuple[str, str, object, str]]
    children: dict[str, list["Record"]] = field(default_factory=dict)

    def as_json(self) -> dict:
        data = {name: value for name, _label, value, _shown in self.fields}
        for key, records in self.children.items():
            data[key] = [r.as_json() for r in records]
        return data


def _json_value(value):
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).isoformat()
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, models.Model):
        return str(value.pk)
    return value


def _shown(obj, f) -> str:
    value = getattr(obj, f.name)
    if value is None or value == "" or value == []:
        return "-"
    if f.choices:
        return str(getattr(obj, f"get_{f.name}_display")())
    if isinstance(value, bool):
        return str(_("예") if value else _("아니오"))
    if isinstance(value, datetime.datetime):
        return timezone.localtime(value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def record(obj, kind: str, *, skip: tuple[str, ...] = ()) -> Record:
    fields = []
    for f in obj._meta.concrete_fields:
        if f.name in HIDDEN_FIELDS or f.name in skip:
            continue
        value = getattr(obj, f.attname)
        if isinstance(f, models.FileField):
            value = value.name or None
            fields.append(
                (f.name, str(f.verbose_name), value, str(_("첨부 있음")) if value else "-")
            )
            continue
        if f.is_relation:
            related = getattr(obj, f.name)
            value = str(value) if value is not None else None
            shown = str(related) if related is not None else "-"
        else:
            shown = _shown(obj, f)
        label = f.verbose_name
        if label == f.name.replace("_", " ") and f.name in COMMON_LABELS:
            label = COMMON_LABELS[f.name]
        fields.append((f.name, str(label), _json_value(value), shown))
    return Record(kind=kind, label=str(obj._meta.verbose_name), fields=fields)


def events_about(student: Student, case_ids: list):
    """Every access event naming the student or one of their cases, directly or among the ids a
    list returned."""
    ids = [str(student.pk), *(str(pk) for pk in case_ids)]
    about = Q(student=student) | Q(case_id__in=case_ids)
    for pk in ids:
        about |= Q(object_ids__contains=[pk])
    return (
        AccessEvent.objects.filter(about)
        .select_related("user", "membership__organization")
        .order_by("occurred_at", "id")
    )


def _event(event: AccessEvent) -> Record:
    organization = event.membership.organization if event.membership else None
    return Record(
        kind="access_event",
        label=str(AccessEvent._meta.verbose_name),
        fields=[
            ("occurred_at", str(_("시각")), _json_value(event.occurred_at), _local(event)),
            ("user", str(_("사용자")), str(event.user_id), event.user.get_full_name() or "-"),
            (
                "organization",
                str(_("기관")),
                str(organization.pk) if organization else None,
                organization.name if organization else "-",
            ),
            ("action", str(_("행위")), event.action, event.get_action_display()),
            ("object_type", str(_("대상")), event.object_type, event.object_type),
            ("reason", str(_("사유")), event.reason, event.reason or "-"),
        ],
    )


def _local(event) -> str:
    return timezone.localtime(event.occurred_at).strftime("%Y-%m-%d %H:%M")


@dataclass
class Bundle:
    student: Record
    guardians: list[Record]
    concerns: list[Record]
    cases: list[Record]
    events: list[Record]
    produced_at: datetime.datetime
    requester: User
    reason: str

    def as_json(self) -> dict:
        return {
            "produced_at": _json_value(self.produced_at),
            "requester": {"id": str(self.requester.pk), "name": self.requester.get_full_name()},
            "reason": self.reason,
            "student": self.student.as_json(),
            "guardians": [r.as_json() for r in self.guardians],
            "concerns": [r.as_json() for r in self.concerns],
            "cases": [r.as_json() for r in self.cases],
            "access_events": [r.as_json() for r in self.events],
        }


def _by_case(rows) -> dict:
    grouped: dict = {}
    for row in rows:
        grouped.setdefault(row.case_id, []).append(row)
    return grouped


def requester_organization(user: User, student: Student):
    """The organisation the requester acts for: the school, or their provincial office."""
    if access.keeps_student_records(user, student):
        return student.school
    offices = access.privacy_offices(user)
    return offices[0] if offices else None


def watermark(bundle: "Bundle", organization) -> str:
    return exportfiles.watermark(
        bundle.requester.get_full_name() or bundle.requester.get_username(),
        organization.name if organization else "-",
        bundle.produced_at,
        bundle.reason,
    )


def gather(user: User, student: Student, reason: str, request=None) -> Bundle:
    """Everything held on `student` that `user` may produce, and log that it was produced."""
    cases = list(
        Case.objects.filter(student=student)
        .select_related("owner", "lead", "coordinator")
        .order_by("opened_on", "number")
    )
    case_ids = [c.pk for c in cases]
    notes = _by_case(
        access.subject_access_notes(user, student).select_related("author").order_by("occurred_at")
    )
    consents = _by_case(Consent.objects.filter(case__in=case_ids).order_by("given_on"))
    plans = _by_case(
        SupportPlan.objects.filter(case__in=case_ids).select_related("created_by", "approved_by")
    )
    interventions = {}
    for row in Intervention.objects.filter(plan__case__in=case_ids).select_related("plan"):
        interventions.setdefault(row.plan.case_id, []).append(row)
    referrals = _by_case(
        Referral.objects.filter(case__in=case_ids)
        .select_related("from_organization", "to_organization")
        .order_by("created_at")
    )
    messages: dict = {}
    for row in ReferralMessage.objects.filter(referral__case__in=case_ids).select_related(
        "author", "organization"
    ):
        messages.setdefault(row.referral_id, []).append(row)

    case_records = []
    for case in cases:
        rec = record(case, "case")
        rec.children = {
            "notes": [record(n, "note") for n in notes.get(case.pk, [])],
            "consents": [record(c, "consent") for c in consents.get(case.pk, [])],
            "plans": [record(p, "plan") for p in plans.get(case.pk, [])],
            "interventions": [record(i, "intervention") for i in interventions.get(case.pk, [])],
            "referrals": [],
        }
        for referral in referrals.get(case.pk, []):
            ref = record(referral, "referral")
            ref.children = {
                "messages": [record(m, "message") for m in messages.get(referral.pk, [])]
            }
            rec.children["referrals"].append(ref)
        case_records.append(rec)

    events = [_event(e) for e in events_about(student, case_ids)]
    bundle = Bundle(
        student=record(student, "student"),
        guardians=[record(g, "guardian") for g in Guardian.objects.filter(student=student)],
        concerns=[
            record(c, "concern")
            for c in Concern.objects.filter(student=student)
            .select_related("raised_by", "school", "triaged_by")
            .order_by("created_at")
        ],
        cases=case_records,
        events=events,
        produced_at=timezone.now(),
        requester=user,
        reason=reason,
    )
    record_access(
        user,
        AccessEvent.Action.EXPORT,
        "subject_access",
        [student],
        student=student,
        request=request,
        reason=reason,
    )
    return bundle


def pdf(bundle: Bundle, organization) -> bytes:
    """The bundle as a Korean PDF with the requester's watermark on every page."""
    from core.pdf import render_pdf

    return render_pdf(
        "casework/subject_access_pdf.html",
        {
            "bundle": bundle,
            "produced_at": bundle.produced_at,
            "requester": bundle.requester.get_full_name(),
            "reason": bundle.reason,
        },
        watermark=watermark(bundle, organization),
    )


def filename(student: Student, extension: str) -> str:
    return f"subject-access-{timezone.localdate():%Y%m%d}-{str(student.pk)[:8]}.{extension}"
