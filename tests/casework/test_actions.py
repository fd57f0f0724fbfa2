"""The one table of actions (casework/actions.py) and the reader's writes that left the views:
every entry names arguments its workflow takes and input classes that exist, the API's action
routes are the table's, and marking notifications read or revoking a token keeps its history."""

import inspect
import uuid

import pytest
from django import forms
from django.urls import reverse
from rest_framework import serializers

from casework import actions
from casework.api.common import input_of
from casework.models import Notification
from casework.workflows import intake
from casework.workflows.notifications import mark_all_read, mark_read
from partners.models import ApiToken
from partners.tokens import revoke_token
from tests.factories import StudentFactory

TABLES = {
    "case": actions.CASE,
    "plan": actions.PLAN,
    "intervention": actions.INTERVENTION,
    "referral": actions.REFERRAL,
    "transfer": actions.TRANSFER,
    "claim": actions.CLAIM,
}
ENTRIES = [(kind, name) for kind, table in TABLES.items() for name in table]


@pytest.mark.parametrize(("kind", "name"), ENTRIES, ids="-".join)
def test_each_action_names_what_its_workflow_takes(kind, name):
    action = TABLES[kind][name]
    parameters = inspect.signature(action.workflow).parameters
    assert "by" in parameters
    if action.takes is not actions.ALL:
        assert set(action.takes) <= set(parameters), (kind, name)
    if action.text:
        assert action.text in action.takes
    if action.form is not None:
        assert issubclass(action.form, forms.Form)
    if action.body is not None:
        assert issubclass(input_of(action), serializers.Serializer)


def test_the_api_action_routes_are_the_tables():
    pk = uuid.uuid4()
    for name in actions.REFERRAL:
        assert reverse(f"api-referral-{name}", kwargs={"pk": pk}).endswith(f"/{name}/")
    for name in actions.TRANSFER:
        assert reverse(f"api-transfer-{name}", kwargs={"pk": pk}).endswith(f"/{name}/")
    for name in actions.CLAIM:
        assert reverse(f"api-transfer-claim-{name}", kwargs={"pk": pk}).endswith(f"/{name}/")


@pytest.fixture
def concern_notifications(world):
    """Two concerns the coordinator is told of."""
    for _ in range(2):
        intake.raise_concern(
            by=world["teacher"],
            student=StudentFactory(school=world.school),
            difficulties=["health"],
        )
    return list(Notification.objects.filter(recipient=world["coordinator"]))


@pytest.mark.django_db
def test_marking_read_keeps_the_first_reading_with_history(world, concern_notifications):
    notification = concern_notifications[0]
    mark_read(notification, by=world["coordinator"])
    first = notification.read_at
    assert first is not None
    assert notification.history.latest().history_user == world["coordinator"]
    rows = notification.history.count()
    mark_read(notification, by=world["coordinator"])
    notification.refresh_from_db()
    assert notification.read_at == first
    assert notification.history.count() == rows


@pytest.mark.django_db
def test_marking_all_read_writes_a_history_row_each(world, concern_notifications):
    assert mark_all_read(by=world["coordinator"]) == len(concern_notifications) == 2
    for notification in concern_notifications:
        notification.refresh_from_db()
        latest = notification.history.latest()
        assert notification.read_at is not None
        assert (latest.history_user, latest.history_change_reason) == (world["coordinator"], "읽음")
    assert mark_all_read(by=world["coordinator"]) == 0


@pytest.mark.django_db
def test_a_revoked_token_is_no_longer_usable_and_its_history_names_who(world):
    token, _key = ApiToken.issue(world["teacher"])
    revoke_token(token, by=world["teacher"])
    assert not ApiToken.objects.usable().filter(pk=token.pk).exists()
    latest = token.history.latest()
    assert latest.revoked_at is not None and latest.history_user == world["teacher"]
