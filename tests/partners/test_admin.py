"""The system administrator's admin pages work, show history, and expose no case content."""

import pytest
from django.contrib import admin
from django.urls import reverse

from partners.models import Organization
from tests.factories import AgreementFactory, MembershipFactory, ServiceFactory

pytestmark = pytest.mark.django_db


def test_changelists_and_change_pages(admin_client):
    membership = MembershipFactory()
    objects = [
        membership,
        membership.user,
        membership.organization,
        AgreementFactory(),
        ServiceFactory(),
    ]
    for model in admin.site._registry:
        meta = model._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist")
        assert admin_client.get(url).status_code == 200, url
    for obj in objects:
        meta = obj._meta
        url = reverse(f"admin:{meta.app_label}_{meta.model_name}_change", args=[obj.pk])
        assert admin_client.get(url).status_code == 200, url
    history = reverse("admin:partners_organization_history", args=[membership.organization.pk])
    assert admin_client.get(history).status_code == 200
    assert admin_client.get(reverse("admin:partners_user_add")).status_code == 200


def test_admin_registers_no_case_content():
    assert not [m for m in admin.site._registry if m._meta.app_label == "casework"]


def test_non_staff_are_sent_to_login(client, django_user_model):
    user = MembershipFactory().user
    client.force_login(user)
    response = client.get(reverse("admin:partners_organization_changelist"))
    assert response.status_code == 302 and "/admin/login/" in response["Location"]
    assert Organization.objects.exists()
