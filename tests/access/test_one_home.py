"""Access has one home (casework/access/), and the holes found in review stay closed:
restricted notes (hole 1), meeting minutes (hole 2), membership dates (hole 4) and security
training (hole 9). Each test here failed before access moved into its package."""

import ast
import re
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.exceptions import ValidationError
from django.test import override_settings
from django.utils import timezone
from rest_framework.test import APIClient

from casework import access
from casework.models import CaseParticipant, Note
from casework.workflows import lifecycle, records, team
from core.memo import request_memo
from partners.choices import Role
from partners.models import Membership
from tests.factories import CaseFactory, MembershipFactory, UserFactory

pytestmark = pytest.mark.django_db
ROOT = Path(__file__).resolve().parents[2]


def api(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


@pytest.fixture
def escalated_with_note(world):
    """A case of 이음초 that 남부교육지원청 leads after an accepted escalation, with one
    restricted note by the coordinator."""
    case = CaseFactory(owner=world.school, lead=world.nambu)
    CaseParticipant.objects.create(case=case, organization=world.school, role="owner")
    CaseParticipant.objects.create(case=case, organization=world.nambu, role="lead")
    access.grant_case_to_owner_school(case)
    access.grant_case_to_lead_office(case, world.nambu)
    note = records.add_note(
        case,
        by=world["coordinator"],
        kind="counselling",
        body="보호자 상담 내용: 민감",
        confidentiality=Note.Confidentiality.RESTRICTED,
    )
    return case, note


def restricted_readers(case, users):
    return {
        name
        for name, user in users.items()
        if access.visible_notes(user, case).filter(confidentiality="restricted").exists()
    }


# --- Hole 1: restricted notes never reach the lead office or the heads by role ---------------


def test_lead_office_cannot_join_as_counsellor_and_read_restricted_notes(
    world, escalated_with_note
):
    case, _note = escalated_with_note
    for username in ("casemanager", "centrehead"):
        response = api(world["casemanager"]).post(
            f"/api/v1/cases/{case.pk}/team/",
            {"user": str(world[username].pk), "role": "counsellor"},
            format="json",
        )
        assert response.status_code == 400, response.content
        assert "role" in response.json()
    assert (
        not access.visible_notes(world["casemanager"], case)
        .filter(confidentiality="restricted")
        .exists()
    )


def test_lead_office_member_joins_as_case_manager_without_restricted_notes(
    world, escalated_with_note
):
    case, _note = escalated_with_note
    response = api(world["casemanager"]).post(
        f"/api/v1/cases/{case.pk}/team/",
        {"user": str(world["centrehead"].pk), "role": "case_manager"},
        format="json",
    )
    assert response.status_code == 201, response.content
    assert "centrehead" not in restricted_readers(case, world.users)


def test_principal_cannot_make_themself_a_counsellor(world, escalated_with_note):
    case, _note = escalated_with_note
    response = api(world["principal"]).post(
        f"/api/v1/cases/{case.pk}/team/",
        {"user": str(world["principal"].pk), "role": "counsellor"},
        format="json",
    )
    assert response.status_code == 400
    assert "principal" not in restricted_readers(case, world.users)


def test_restricted_notes_readers_are_exactly_the_rule(world, escalated_with_note):
    case, _note = escalated_with_note
    team.add_team_member(case, by=world["coordinator"], user=world["counselor"], role="counsellor")
    team.add_team_member(
        case, by=world["coordinator"], user=world["teacher"], role="homeroom_teacher"
    )
    assert restricted_readers(case, world.users) == {"coordinator", "counselor"}


def test_a_stale_counsellor_grant_on_a_head_reads_nothing(world, escalated_with_note):
    """Grants written before the rule (a principal added as counsellor) read nothing now: the
    rule is checked when notes are read, not only when the grant is written."""
    case, _note = escalated_with_note
    from casework.models import CaseMember

    CaseMember.objects.create(
        case=case, user=world["principal"], role="counsellor", added_by=world["coordinator"]
    )
    access.grant_to_user(case, world["principal"], [access.VIEW_RESTRICTED_NOTES])
    CaseMember.objects.create(
        case=case, user=world["casemanager"], role="counsellor", added_by=world["coordinator"]
    )
    access.grant_to_user(case, world["casemanager"], [access.VIEW_RESTRICTED_NOTES])
    assert restricted_readers(case, world.users) == {"coordinator"}


def test_the_author_keeps_reading_their_restricted_note(world, escalated_with_note):
    case, _note = escalated_with_note
    records.add_note(
        case,
        by=world["casemanager"],
        kind="call",
        body="센터 통화",
        confidentiality=Note.Confidentiality.RESTRICTED,
    )
    mine = access.visible_notes(world["casemanager"], case).filter(confidentiality="restricted")
    assert [n.author for n in mine] == [world["casemanager"]]


def test_team_role_must_fit_the_organisation(world, escalated_with_note):
    case, _note = escalated_with_note
    with pytest.raises(ValidationError):
        team.add_team_member(
            case, by=world["coordinator"], user=world["counselor"], role="case_manager"
        )


# --- Hole 2: meeting minutes ------------------------------------------------------------------


@pytest.fixture
def meeting(world):
    case = CaseFactory(owner=world.school)
    access.grant_case_to_owner_school(case)
    return lifecycle.record_meeting(
        by=world["coordinator"],
        organization=world.school,
        kind="school_team",
        held_on=timezone.localdate(),
        attendees=[world["coordinator"], world["counselor"]],
        guests=[],
        minutes="학생 A의 가정 상황 논의",
        decisions=[],
    )


def test_minutes_reach_attendees_and_heads_only(world, meeting):
    readers = {name for name, user in world.users.items() if access.visible_meetings(user)}
    assert readers == {"coordinator", "counselor", "vice", "principal"}


def test_teacher_who_attended_nothing_reads_no_minutes(world, meeting):
    response = api(world["teacher"]).get("/api/v1/meetings/")
    assert response.status_code == 200
    assert response.json()["count"] == 0
    from django.test import Client

    client = Client()
    client.force_login(world["teacher"])
    page = client.get("/casework/meetings/")
    assert "가정 상황" not in page.content.decode()


def test_attendee_who_left_the_school_reads_no_minutes(world, meeting):
    Membership.objects.filter(user=world["counselor"]).update(active=False)
    assert not access.visible_meetings(world["counselor"]).exists()


# --- Hole 4: a membership counts only between its dates ---------------------------------------


def _coordinator_membership(world) -> Membership:
    return Membership.objects.get(user=world["coordinator"], organization=world.school)


@pytest.mark.parametrize("memo", [False, True])
def test_a_membership_past_its_end_date_grants_nothing(world, granted_case, memo):
    m = _coordinator_membership(world)
    m.ended_on = timezone.localdate() - timedelta(days=1)
    m.save()
    if memo:
        with request_memo():
            assert not access.visible_cases(world["coordinator"]).exists()
    else:
        assert not access.visible_cases(world["coordinator"]).exists()
    assert not access.visible_students(world["coordinator"]).exists()


@pytest.mark.parametrize("memo", [False, True])
def test_a_membership_before_its_start_date_grants_nothing(world, granted_case, memo):
    m = _coordinator_membership(world)
    m.started_on = timezone.localdate() + timedelta(days=3)
    m.save()
    if memo:
        with request_memo():
            assert not access.visible_cases(world["coordinator"]).exists()
    else:
        assert not access.visible_cases(world["coordinator"]).exists()


def test_a_membership_ending_today_still_counts(world, granted_case):
    m = _coordinator_membership(world)
    m.ended_on = timezone.localdate()
    m.save()
    assert list(access.visible_cases(world["coordinator"])) == [granted_case]


# --- Hole 9: security training gates access --------------------------------------------------


@pytest.mark.parametrize("memo", [False, True])
def test_training_older_than_a_year_grants_nothing(world, granted_case, memo):
    m = _coordinator_membership(world)
    m.training_completed_on = timezone.localdate() - timedelta(days=366)
    m.save()
    if memo:
        with request_memo():
            assert not access.visible_cases(world["coordinator"]).exists()
    else:
        assert not access.visible_cases(world["coordinator"]).exists()


def test_missing_training_grants_nothing(world, granted_case):
    m = _coordinator_membership(world)
    m.training_completed_on = None
    m.save()
    assert not access.visible_cases(world["coordinator"]).exists()
    assert api(world["coordinator"]).get(f"/api/v1/cases/{granted_case.pk}/").status_code == 404


@override_settings(SECURITY_TRAINING_DAYS=0)
def test_training_check_can_be_switched_off(world, granted_case):
    m = _coordinator_membership(world)
    m.training_completed_on = None
    m.save()
    assert list(access.visible_cases(world["coordinator"])) == [granted_case]


def test_home_warns_thirty_days_before_training_lapses(world, client):
    m = _coordinator_membership(world)
    m.training_completed_on = timezone.localdate() - timedelta(days=350)
    m.save()
    client.force_login(world["coordinator"])
    html = client.get("/").content.decode()
    assert 'id="training-alerts"' in html
    assert "15일 남음" in html
    m.training_completed_on = timezone.localdate() - timedelta(days=400)
    m.save()
    html = client.get("/").content.decode()
    assert 'id="training-lapsed"' in html
    assert "보안 교육 필요" in html


def test_demo_accounts_are_trained_and_current():
    from seed.network import load_demo, load_network

    load_network()
    load_demo()
    memberships = list(Membership.objects.filter(active=True))
    assert memberships
    assert [str(m) for m in memberships if not m.is_current()] == []


@pytest.mark.parametrize(
    "change",
    [
        {"active": False},
        {"ended_on": -1},
        {"ended_on": 0},
        {"started_on": 1},
        {"training_completed_on": -366},
        {"training_completed_on": None},
        {"approval_expires_on": -1},
        {},
    ],
)
def test_three_definitions_of_a_current_membership_agree(world, granted_case, change):
    """Membership.objects.current(), Membership.is_current() and the access SQL say the same."""
    m = _coordinator_membership(world)
    today = timezone.localdate()
    for field, value in change.items():
        if isinstance(value, int) and field != "active":
            value = today + timedelta(days=value)
        setattr(m, field, value)
    m.save()
    by_queryset = Membership.objects.current().filter(pk=m.pk).exists()
    by_python = m.is_current()
    by_sql = access.visible_cases(world["coordinator"]).exists()
    with request_memo():
        by_memo = access.visible_cases(world["coordinator"]).exists()
    assert by_queryset == by_python == by_sql == by_memo


# --- One home: nobody else names a role ---------------------------------------------------------

CHECKED = ("casework", "partners/views.py", "partners/api", "config", "core", "seed")
# The home of access itself, and the migrations (the schema as it was).
HOME = {"casework/access", "casework/migrations"}
# Role names are data for a seeder: the synthetic tiers create role groups and memberships by
# role. It still grants through the access package, never through guardian (checked below).
ROLE_DATA = {"seed"}
# guardian's direct-FK permission tables are declared with the models (DESIGN.md §5).
PERMISSION_TABLES = {"casework/models"}


def _python_files(allowed):
    for place in CHECKED:
        path = ROOT / place
        files = [path] if path.suffix == ".py" else path.rglob("*.py")
        for file in files:
            rel = file.relative_to(ROOT).as_posix()
            if any(rel == a or rel.startswith(a + "/") for a in allowed):
                continue
            yield rel, file


def test_no_module_outside_access_names_a_role():
    """`Role.X` and role-table names appear only in casework/access/ (DESIGN.md §5)."""
    offenders = []
    for rel, file in _python_files(HOME | ROLE_DATA):
        tree = ast.parse(file.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "Role"
                and node.attr not in ("choices", "values", "labels")  # a model's own choices
            ):
                offenders.append(f"{rel}:{node.lineno} Role.{node.attr}")
            if (
                isinstance(node, ast.keyword)
                and node.arg in ("role", "role__in")
                and isinstance(node.value, ast.Constant | ast.Tuple | ast.List)
            ):
                offenders.append(f"{rel}:{node.lineno} {node.arg}=")
            if isinstance(node, ast.Name) and node.id.endswith("_ROLES"):
                offenders.append(f"{rel}:{node.lineno} {node.id}")
    assert offenders == []


GUARDIAN = re.compile(r"\b(from|import) guardian\b|\w*ObjectPermission\b")


def test_only_access_calls_guardian():
    """Nobody else grants, revokes or writes guardian's tables; the seeders neither (their bulk
    grants go through the access package)."""
    offenders = []
    for rel, file in _python_files(HOME):
        text = file.read_text(encoding="utf-8")
        if "guardian" in text and ("assign_perm" in text or "remove_perm" in text):
            offenders.append(rel)
        if "ObjectPermission.objects" in text:
            offenders.append(rel)
        if not any(rel.startswith(a + "/") for a in PERMISSION_TABLES) and GUARDIAN.search(text):
            offenders.append(rel)
    assert offenders == []


def test_templates_name_no_role():
    offenders = []
    for file in (ROOT / "templates").rglob("*.html"):
        text = file.read_text(encoding="utf-8")
        for role in Role.values:
            for pattern in (f".role == '{role}'", f'.role == "{role}"', f"role == '{role}'"):
                if pattern in text:
                    offenders.append(f"{file.name}: {pattern}")
    assert offenders == []


def test_access_package_is_the_front_door():
    """Every selector and capability used by callers is reachable as `access.<name>`."""
    for name in (
        "visible_cases",
        "visible_meetings",
        "visible_notifications",
        "visible_jobs",
        "visible_transfers",
        "visible_claims",
        "get_visible_case_or_404",
        "menu",
        "sending_organization",
        "team_role_fits",
    ):
        assert callable(getattr(access, name)), name


def test_users_without_memberships_see_nothing(world, escalated_with_note):
    nobody = UserFactory()
    MembershipFactory(
        user=nobody,
        organization=world.school,
        role=Role.COORDINATOR,
        approved_on=None,
        approval_expires_on=None,
    )
    for selector in (
        access.visible_cases,
        access.visible_students,
        access.visible_meetings,
        access.visible_concerns,
        access.visible_notifications,
        access.visible_jobs,
        access.visible_transfers,
        access.visible_claims,
        access.visible_referrals,
    ):
        assert not selector(nobody).exists(), selector.__name__
