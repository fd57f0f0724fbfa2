"""The referral inbox and outbox pages: what they count."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from casework.models import Referral
from casework.workflows import referrals as wf
from tests.builders import as_user, service_referral

pytestmark = pytest.mark.django_db


def test_inbox_counts_what_it_lists_and_what_is_overdue(client, directory_net, referable_case):
    sent = [
        wf.send_referral(
            service_referral(directory_net, referable_case, reason=f"사유 {i}"),
            by=directory_net["coordinator"],
        )
        for i in range(3)
    ]
    late, done = sent[0], sent[2]
    Referral.objects.filter(pk=late.pk).update(respond_by=timezone.localdate() - timedelta(days=3))
    Referral.objects.filter(pk=done.pk).update(status="completed", outcome="종결")
    as_user(client, directory_net, "partner")
    url = reverse("casework:referral_list")

    def counts(query):
        context = client.get(url + query).context
        return context["page"].paginator.count, context["overdue_count"]

    assert counts("?box=inbox") == (2, 1)  # open ones; one is past its respond-by date
    assert counts("?box=inbox&status=all") == (3, 1)
    assert counts("?box=inbox&overdue=1") == (1, 1)
    assert counts("?box=inbox&status=completed") == (1, 1)
    page = client.get(url + "?box=inbox&overdue=1").content.decode()
    assert late.number in page and sent[1].number not in page

    as_user(client, directory_net, "coordinator")
    assert counts("?box=outbox") == (2, 0)  # the school receives nothing
