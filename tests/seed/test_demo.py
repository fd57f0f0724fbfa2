"""The demo casework: every status, guards respected, idempotent; the demo referrals."""

from io import StringIO

import pytest
from django.core.management import call_command

from casework.models import (
    AccessReview,
    Alert,
    BreakGlass,
    Case,
    Concern,
    Notification,
    Referral,
    ReferralStatus,
    Student,
    SupportPlan,
    Transfer,
)
from casework.workflows.lifecycle import missing_for_activation
from casework.workflows.sharing import consents_covering
from seed.demo import seed_demo_casework

pytestmark = pytest.mark.django_db


def test_demo_casework_covers_every_status_and_is_idempotent(world):
    assert seed_demo_casework() is True
    statuses = set(Case.objects.values_list("status", flat=True))
    assert statuses == {
        "identified",
        "reviewing",
        "selected",
        "not_selected",
        "active",
        "monitoring",
        "closed",
    }
    assert Case.objects.count() == 40
    for case in Case.objects.filter(status__in=["active", "monitoring"]):
        assert missing_for_activation(case) == [], case.number
    assert SupportPlan.objects.filter(status="submitted").exists()  # the principal's queue
    assert Concern.objects.filter(status="open").count() >= 4  # the coordinator's queue
    assert Notification.objects.filter(recipient=world["principal"]).exists()
    # A fortnight's news, not the whole back-story: a teacher has a handful, the principal a
    # few tens, and each of the teacher's names its student.
    teachers = Notification.objects.filter(recipient=world["teacher"])
    assert 1 <= teachers.count() <= 8
    assert Notification.objects.filter(recipient=world["principal"]).count() <= 40
    for row in teachers:
        assert row.case is not None and row.case.student.name in row.title, row.title

    counts = (Student.objects.count(), Case.objects.count(), Case.history.count())
    assert seed_demo_casework() is False
    assert (Student.objects.count(), Case.objects.count(), Case.history.count()) == counts


def test_demo_referrals_in_every_state_with_overdue_work_and_transfers():
    """The demo on its own network (seed/data/demo.yaml): referrals in every state of
    DESIGN.md §4, a few overdue, a transfer waiting and one done, every guard respected."""
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "demo referrals skipped" not in out.getvalue()
    referrals = Referral.objects.select_related("to_organization", "from_organization")
    assert set(referrals.values_list("status", flat=True)) == set(ReferralStatus.values)
    assert set(referrals.values_list("kind", flat=True)) == {"escalation", "service"}
    overdue = [r for r in referrals if r.is_overdue()]
    assert len(overdue) >= 2 and {r.kind for r in overdue} == {"escalation", "service"}
    # Every referral that left on the consent basis names its consent, escalations included,
    # and that consent covers its receiver (DESIGN.md §4).
    for referral in referrals.filter(legal_basis="consent").exclude(
        status__in=["draft", "cancelled"]
    ):
        assert referral.consent_id, referral.number
        assert (
            referral.consent in consents_covering(referral.case, referral.to_organization).values()
        )
    for referral in referrals.filter(kind="escalation").exclude(status__in=["draft", "sent"]):
        assert referral.decision_reasons, referral.number  # Art. 10⑤: the reasons go back
    assert (
        referrals.filter(kind="escalation", status="accepted").get().case.lead.code == "B10-NAMBU"
    )
    onward = referrals.filter(from_organization__code="B10-NAMBU").get()
    assert onward.status == "in_progress" and onward.to_organization.code == "P-GC-MENTAL"
    completed = referrals.get(status="completed")
    assert completed.outcome and completed.started_at  # completed only after starting
    assert referrals.filter(legal_basis="child_protection", privacy_review=True).exists()
    transfers = Transfer.objects.select_related("case", "to_school")
    assert set(transfers.values_list("status", flat=True)) == {"requested", "accepted"}
    moved = transfers.get(status="accepted")
    assert moved.case.owner == moved.to_school == moved.case.student.school
    assert Notification.objects.filter(recipient__username="centrehead").exists()
    assert Notification.objects.filter(recipient__username="partner").exists()


def test_the_demo_review_shows_findings_when_privacy_logs_in():
    """DEMO.md: a month of varied reads, so that `privacy` finds last month's review built with
    every kind of finding the demo stages, and the coordinator a question to answer."""
    call_command("seed_demo", stdout=StringIO())
    review = AccessReview.objects.select_related("office").get()
    assert review.office.code == "B10" and review.status == "built"
    found = {(f.kind, f.user.username) for f in review.findings.select_related("user")}
    assert {
        ("after_hours", "coordinator"),
        ("export", "coordinator"),
        ("volume", "casemanager"),
        ("after_membership_end", "former-teacher"),
        ("break_glass", "privacy"),
    } <= found
    assert not any(kind == "unapproved_handler" for kind, _user in found)
    asked = review.findings.get(status="asked")
    assert asked.user.username == "coordinator"
    assert Notification.objects.filter(recipient__username="coordinator", kind="finding_asked")
    assert BreakGlass.objects.filter(user__username="privacy", ended_at__isnull=False).exists()
    call_command("seed_demo", stdout=StringIO())
    assert AccessReview.objects.count() == 1


def test_demo_alert_from_police_is_routed_to_the_school():
    """DEMO.md: one alert from `police` already routed to 이음초등학교, a concern there."""
    call_command("seed_demo", stdout=StringIO())
    [alert] = Alert.objects.select_related("concern__school", "sender_organization")
    assert alert.sender.username == "police" and alert.sender_organization.name == "금천경찰서"
    assert alert.status == "routed" and alert.office is None
    assert alert.concern.school.code == "S0001" and alert.concern.source == "external"
    assert alert.concern.status == "open"
    assert Notification.objects.filter(
        recipient__username="coordinator", kind="alert_concern"
    ).exists()
    assert not Notification.objects.filter(recipient__username="police").exists()
