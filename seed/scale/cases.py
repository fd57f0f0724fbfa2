"""Cases: open ones in every status and several years of closed ones, each with its owner and
lead, its coordinator, both consents where the workflows would need them, notes and the
coordinator's notifications; and a few fresh concerns per school."""

import uuid
from datetime import timedelta

from casework.models import (
    Case,
    CaseMember,
    CaseParticipant,
    Concern,
    Consent,
    Note,
    Notification,
)
from core.bulk import hist

from .base import Load
from .network import Network
from .people import People
from .students import Pupils
from .tiers import DIFFICULTIES, OPEN_STATUS_MIX, weighted


def build_cases(load: Load, net: Network, people: People, students: Pupils) -> list[dict]:
    """Open and closed cases with their participants, coordinator, consents, notes and
    notifications, and fresh concerns in each coordinator's queue. Returns one summary per case
    (ids, organisations, status) for the referrals, the grants and the access log."""
    t = load.tier
    summaries: list[dict] = []
    schools = net.schools
    participants, members, consents, notes, concerns, notifications = [], [], [], [], [], []
    serial: dict[uuid.UUID, int] = {}
    pools = {s.pk: list(students[s.pk]) for s in schools}
    for pool in pools.values():
        load.rng.shuffle(pool)
    total = t.open_cases + t.closed_cases

    def cases():
        for i in range(total):
            school = schools[i % len(schools)]
            pool = pools[school.pk]
            if not pool:
                continue
            sid, name, _grade = pool.pop()
            staff = people.staff[school.pk]
            is_open = i < t.open_cases
            status = weighted(load.rng, OPEN_STATUS_MIX) if is_open else "closed"
            opened_days = load.rng.randint(5, 300) if is_open else load.rng.randint(100, 1_100)
            opened = load.at(opened_days)
            year = opened.year
            serial[school.pk] = serial.get(school.pk, 0) + 1
            district = school.parent_id
            escalated = (
                is_open
                and status in ("selected", "active", "monitoring")
                and load.rng.random() < 0.12
            )
            case_id = load.uid()
            difficulties = load.rng.choice(DIFFICULTIES)
            row = {
                "id": case_id,
                "number": f"{year}-{school.code}-{serial[school.pk]:05d}",
                "student_id": sid,
                "owner_id": school.pk,
                "lead_id": district if escalated else school.pk,
                "status": status,
                "risk_level": load.rng.choice(
                    ["watch", "watch", "caution", "caution", "crisis", "urgent"]
                ),
                "difficulties": difficulties,
                "domains": ["counselling"],
                "summary": "",
                "coordinator_id": staff.coordinator,
                "closure_reason": ""
                if is_open
                else load.rng.choice(
                    ["goals_met", "goals_met", "transferred_out", "no_longer_needed"]
                ),
                "opened_on": opened.date(),
                "closed_on": None
                if is_open
                else (opened + timedelta(days=load.rng.randint(30, 200))).date(),
                "review_due_on": (load.today + timedelta(days=load.rng.randint(-10, 60)))
                if status in ("active", "monitoring")
                else None,
                "created_at": opened,
                "updated_at": opened,
                "_school": school,
                "_student_name": name,
                "_escalated": escalated,
                "_open": is_open,
            }
            summaries.append(
                {
                    k: row[k]
                    for k in (
                        "id",
                        "owner_id",
                        "lead_id",
                        "status",
                        "student_id",
                        "_school",
                        "_escalated",
                        "_open",
                        "opened_on",
                        "coordinator_id",
                    )
                }
            )
            participants.append(
                {
                    "id": load.uid(),
                    "case_id": case_id,
                    "organization_id": school.pk,
                    "role": "owner",
                    "since": opened,
                }
            )
            participants.append(
                {
                    "id": load.uid(),
                    "case_id": case_id,
                    "organization_id": school.pk,
                    "role": "lead",
                    "since": opened,
                    "until": opened + timedelta(days=10) if escalated else None,
                }
            )
            if escalated:
                participants.append(
                    {
                        "id": load.uid(),
                        "case_id": case_id,
                        "organization_id": district,
                        "role": "lead",
                        "since": opened + timedelta(days=10),
                    }
                )
            members.append(
                {
                    "id": load.uid(),
                    "case_id": case_id,
                    "user_id": staff.coordinator,
                    "role": "coordinator",
                    "added_by_id": staff.coordinator,
                    "added_at": opened,
                }
            )
            # An escalation shares the student's data with the office: it needs both
            # consents too (DESIGN.md §4), recorded before it is sent.
            if status in ("active", "monitoring", "closed") or escalated:
                for subject in ("student", "guardian"):
                    consents.append(
                        {
                            "id": load.uid(),
                            "case_id": case_id,
                            "subject": subject,
                            "guardian_name": "보호자" if subject == "guardian" else "",
                            "relation": "모" if subject == "guardian" else "",
                            "purposes": ["support", "share_with_office", "share_with_partners"],
                            "recipients": [],
                            "method": "written",
                            "given_on": (opened + timedelta(days=7)).date(),
                            "recorded_by_id": staff.coordinator,
                            "created_at": opened + timedelta(days=7),
                        }
                    )
                    if subject == "guardian":
                        summaries[-1]["_consent"] = consents[-1]["id"]
            for k in range(t.notes_per_case if is_open else 2):
                when = opened + timedelta(days=3 * (k + 1))
                notes.append(
                    {
                        "id": load.uid(),
                        "case_id": case_id,
                        "author_id": staff.coordinator,
                        "kind": load.rng.choice(["observation", "call", "counselling"]),
                        "body": "학생 상황 관찰 및 보호자 통화 기록",
                        "occurred_at": when,
                        "created_at": when,
                        "confidentiality": "restricted" if k == 2 else "team",
                    }
                )
            if is_open:
                notifications.append(
                    {
                        "id": load.uid(),
                        "recipient_id": staff.coordinator,
                        "kind": "case_status",
                        "title": f"{row['number']}: {status}",
                        "case_id": case_id,
                        "created_at": load.at(load.rng.randint(0, 30)),
                        "email_status": "sent",
                        "read_at": None if load.rng.random() < 0.3 else load.now,
                    }
                )
            yield row

    def case_history(row):
        rows = [hist(row["created_at"], "+", "사례 개설", row["coordinator_id"])]
        rows.append(
            {
                **hist(
                    row["created_at"] + timedelta(days=14),
                    "~",
                    f"identified → {row['status']}",
                    row["coordinator_id"],
                )
            }
        )
        return rows

    n = load.copier.copy(Case, cases(), history=case_history)
    load.copier.copy(CaseParticipant, participants, history=lambda r: [hist(r["since"])])
    load.copier.copy(
        CaseMember, members, history=lambda r: [hist(r["added_at"], user=r["user_id"])]
    )
    load.copier.copy(
        Consent,
        consents,
        history=lambda r: [hist(r["created_at"], reason="동의 기록", user=r["recorded_by_id"])],
    )
    load.copier.copy(
        Note,
        notes,
        history=lambda r: [hist(r["created_at"], reason="기록 추가", user=r["author_id"])],
    )
    load.copier.copy(Notification, notifications)
    # A few fresh concerns per school wait in each coordinator's queue.
    for school in schools:
        for _k in range(3):
            if not pools[school.pk]:
                break
            sid, _name, _grade = pools[school.pk].pop()
            when = load.at(load.rng.randint(0, 5))
            concerns.append(
                {
                    "id": load.uid(),
                    "student_id": sid,
                    "school_id": school.pk,
                    "raised_by_id": people.staff[school.pk].teachers[0]
                    if people.staff[school.pk].teachers
                    else people.staff[school.pk].coordinator,
                    "difficulties": load.rng.choice(DIFFICULTIES),
                    "description": "수업 중 관찰",
                    "created_at": when,
                }
            )
    load.copier.copy(
        Concern, concerns, history=lambda r: [hist(r["created_at"], user=r["raised_by_id"])]
    )
    load.progress(f"cases: {n} ({t.open_cases} open), {len(notes)} notes")
    return summaries
