"""The referral packet (DESIGN.md §4–§5): an immutable snapshot of exactly the fields the sender
chose, taken when the referral is sent. The receiver of a service referral reads this, never the
live case. Values are stored as codes and plain data; `display_rows` labels them for a page."""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from core.identifiers import mask_phone_numbers
from partners.catalogue import packet_fields

from .choices import ConsentSubject, Difficulty, RiskLevel, Sex
from .models import BenefitStatus, Consent, Referral

BACKGROUND_FLAGS = {
    "multicultural": gettext_lazy("다문화·이주배경"),
    "special_education": gettext_lazy("특수교육대상"),
    "north_korean_defector": gettext_lazy("북한이탈주민 가정"),
    "refugee": gettext_lazy("난민 가정"),
}


def _field_value(referral: Referral, code: str):
    case = referral.case
    student = case.student
    if code == "student_name":
        return student.name
    if code == "grade":
        return student.grade
    if code == "school":
        return student.school.name
    if code == "birth_year":
        return student.birth_date.year
    if code == "sex":
        return student.sex
    if code == "guardian_contact":
        return [
            {"name": g.name, "relation": g.relation, "phone": g.phone}
            for g in student.guardians.all()
        ]
    if code == "home_borough":
        borough = student.home_borough
        return {"code": borough.region_code, "name": borough.name} if borough else None
    if code == "difficulties":
        return list(case.difficulties or [])
    if code == "risk_level":
        return case.risk_level
    if code == "reason":
        return referral.reason
    if code == "requested_support":
        return {
            "domains": list(referral.requested_domains or []),
            "text": referral.requested_support,
        }
    if code == "notes_excerpt":
        return referral.notes_excerpt
    if code == "assessment_summary":
        return [
            {
                "instrument": a.instrument,
                "score": a.score,
                "level": a.level,
                "on": a.assessed_at.date().isoformat(),
            }
            for a in case.assessments.order_by("-assessed_at")[:3]
        ]
    if code == "background_flags":
        return [flag for flag in BACKGROUND_FLAGS if getattr(student, flag)]
    if code == "benefit_status":
        return student.benefit_status
    raise KeyError(code)


def build_packet(referral: Referral) -> dict:
    """The snapshot: `fields` holds exactly the shared field codes, in catalogue order. When the
    guardian's contact goes and the guardian who consented is not among the roster's guardians,
    `guardian_consent` names the one who consented, so the receiver knows whom the contact is
    not (`warnings`)."""
    order = list(packet_fields())
    codes = sorted(set(referral.shared_fields), key=order.index)
    fields = {code: _field_value(referral, code) for code in codes}
    if "guardian_contact" not in fields:
        _mask_free_text(fields)
    packet = {"taken_at": timezone.now().isoformat(), "fields": fields}
    if fields.get("guardian_contact"):
        consented = _consenting_guardian(referral)
        roster = {g["name"].strip() for g in fields["guardian_contact"]}
        if consented is not None and consented.guardian_name.strip() not in roster:
            packet["guardian_consent"] = {
                "name": consented.guardian_name,
                "relation": consented.relation,
            }
    return packet


def _mask_free_text(fields: dict) -> None:
    """Without the guardian's contact among the shared fields, a telephone number typed into the
    packet's free text (the reason, the support asked for, the notes excerpt) does not go
    either (DESIGN.md §9)."""
    for code in ("reason", "notes_excerpt"):
        if code in fields:
            fields[code] = mask_phone_numbers(fields[code])
    if isinstance(fields.get("requested_support"), dict):
        support = fields["requested_support"]
        support["text"] = mask_phone_numbers(support.get("text"))


def _consenting_guardian(referral: Referral) -> Consent | None:
    """The guardian's consent the referral goes on: its own, else the newest valid one."""
    consent = referral.consent
    if consent is not None and consent.subject == ConsentSubject.GUARDIAN:
        return consent
    for consent in referral.case.consents.filter(
        subject=ConsentSubject.GUARDIAN, withdrawn_on__isnull=True
    ).order_by("-given_on"):
        if consent.is_valid():
            return consent
    return None


def warnings(packet: dict | None) -> list[str]:
    """What the reader of a packet must know before using it: a guardian's contact that is not
    the guardian who consented."""
    if not packet or not packet.get("guardian_consent"):
        return []
    consented = packet["guardian_consent"]
    roster = packet.get("fields", {}).get("guardian_contact") or []
    return [
        _(
            "동의한 보호자는 %(consented)s인데, 공유된 보호자 연락처는 명부의 %(roster)s입니다. "
            "연락하기 전에 누가 동의했는지 확인하세요."
        )
        % {
            "consented": f"{consented['name']}({consented['relation']})",
            "roster": ", ".join(f"{g['name']}({g['relation']})" for g in roster),
        }
    ]


def _label(code: str, value) -> str:
    from partners.choices import Domain

    if value in (None, "", []):
        return "—"
    if code == "sex":
        return str(Sex(value).label) if value in Sex.values else str(value)
    if code == "risk_level":
        return str(RiskLevel(value).label) if value in RiskLevel.values else str(value)
    if code == "difficulties":
        return ", ".join(str(Difficulty(v).label) if v in Difficulty.values else v for v in value)
    if code == "guardian_contact":
        return " / ".join(f"{g['name']}({g['relation']}) {g['phone']}".strip() for g in value)
    if code == "home_borough":
        return value.get("name", "")
    if code == "requested_support":
        domains = ", ".join(
            str(Domain(v).label) if v in Domain.values else v for v in value.get("domains", [])
        )
        return " · ".join(part for part in (domains, value.get("text", "")) if part) or "—"
    if code == "assessment_summary":
        return " / ".join(_("%(instrument)s %(score)s점 (%(level)s, %(on)s)") % a for a in value)
    if code == "background_flags":
        return ", ".join(str(BACKGROUND_FLAGS[v]) for v in value if v in BACKGROUND_FLAGS)
    if code == "benefit_status":
        return str(BenefitStatus(value).label) if value in BenefitStatus.values else str(value)
    if code == "grade":
        return _("%(grade)s학년") % {"grade": value}
    return str(value)


def display_rows(packet: dict | None) -> list[tuple[str, str, bool]]:
    """(label, display value, sensitive) for each field of a packet, for pages."""
    if not packet:
        return []
    catalogue = packet_fields()
    rows = []
    for code, value in packet.get("fields", {}).items():
        field = catalogue.get(code)
        rows.append(
            (field.label if field else code, _label(code, value), bool(field and field.sensitive))
        )
    return rows
