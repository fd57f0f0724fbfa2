"""The demo casework: every status, guards respected, idempotent."""

import pytest

from casework.demo import seed_demo_casework
from casework.models import Case, Concern, Notification, Student, SupportPlan
from casework.workflows.lifecycle import missing_for_activation

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

    counts = (Student.objects.count(), Case.objects.count(), Case.history.count())
    assert seed_demo_casework() is False
    assert (Student.objects.count(), Case.objects.count(), Case.history.count()) == counts
