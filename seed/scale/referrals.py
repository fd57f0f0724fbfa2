"""Referrals: escalations to the district office and service referrals to partners, in every
state of DESIGN.md §4, with their packets and history."""

from datetime import timedelta

from casework.models import Referral
from core.bulk import hist

from .base import Load
from .network import Network
from .people import People
from .tiers import CLOSED, REFERRAL_MIX, weighted


def build_referrals(load: Load, net: Network, people: People, cases: list[dict]) -> list[tuple]:
    """A year's referrals in every state: escalations of the escalated cases to their district
    office, service referrals to the partners of the school's borough. Returns (referral id,
    receiving organisation id) of each one sent, for the grants."""
    t = load.tier
    sent_referrals: list[tuple] = []
    serial: dict[str, int] = {}
    open_cases = [c for c in cases if c["_open"] and c["status"] != "identified"]
    closed_cases = [c for c in cases if not c["_open"]]
    escalated = [c for c in cases if c["_escalated"]]
    made_escalations = 0

    def referrals():
        nonlocal made_escalations
        year = load.today.year
        for i in range(t.referrals):
            status = weighted(load.rng, REFERRAL_MIX)
            if made_escalations < len(escalated) and i % 8 == 0:
                case = escalated[made_escalations]
                made_escalations += 1
                kind, status = "escalation", "accepted"
            elif status in CLOSED and closed_cases and load.rng.random() < 0.5:
                case = load.rng.choice(closed_cases)
                kind = "service"
            else:
                case = load.rng.choice(open_cases or closed_cases)
                kind = "service"
                if not case["_open"] and status not in CLOSED:
                    status = "completed"
            school = case["_school"]
            if kind == "escalation":
                to = school.parent_id
                assignee = None
            else:
                partner = load.rng.choice(net.partners_by_borough[school.region_code])
                to = partner.pk
                assignee = (
                    load.rng.choice(people.partner_workers[partner.pk])
                    if status not in ("draft", "sent", "received")
                    else None
                )
            serial[school.code] = serial.get(school.code, 0) + 1
            sent_days = load.rng.randint(0, 360)
            sent = load.at(sent_days)
            rid = load.uid()
            respond_by = (sent + timedelta(days=7)).date()
            row = {
                "id": rid,
                "number": f"R{year}-{school.code}-{serial[school.code]:05d}",
                "case_id": case["id"],
                "kind": kind,
                "from_organization_id": school.pk,
                "to_organization_id": to,
                "status": status,
                "urgency": load.rng.choice(["normal", "normal", "normal", "high", "urgent"]),
                "reason": "상담 및 지원 연계 요청",
                "requested_domains": ["counselling"],
                "shared_fields": ["student_name", "grade", "reason"],
                "packet": None
                if status == "draft"
                else {
                    "taken_at": sent.isoformat(),
                    "fields": {
                        "student_name": "(가상)",
                        "grade": 3,
                        "reason": "상담 및 지원 연계 요청",
                    },
                },
                "legal_basis": "consent" if kind == "escalation" else "emergency",
                "consent_id": case.get("_consent") if kind == "escalation" else None,
                "justification": "" if kind == "escalation" else "시험 자료",
                "respond_by": respond_by,
                "assignee_id": assignee,
                "created_by_id": case["coordinator_id"],
                "decision_reasons": "지원 결정" if kind == "escalation" else "",
                "decline_reason": "정원 초과" if status == "declined" else "",
                "cancel_reason": "학교 지원으로 충분" if status == "cancelled" else "",
                "outcome": "상담 종결" if status == "completed" else "",
                "sent_at": None if status == "draft" else sent,
                "closed_at": sent + timedelta(days=20) if status in CLOSED else None,
                "created_at": sent,
                "updated_at": sent,
            }
            if status != "draft":
                sent_referrals.append((rid, to))
            yield row

    def referral_history(row):
        rows = [hist(row["created_at"], "+", "의뢰 작성", row["created_by_id"])]
        if row["status"] != "draft":
            rows.append(
                hist(
                    row["created_at"] + timedelta(minutes=5),
                    "~",
                    f"draft → {row['status']}",
                    row["created_by_id"],
                )
            )
        return rows

    n = load.copier.copy(Referral, referrals(), history=referral_history)
    load.progress(f"referrals: {n}")
    return sent_referrals
