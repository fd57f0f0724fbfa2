"""The real network structure and the demo contract of DEMO.md."""

import pytest
from django.core.management import call_command
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice

from partners.authentication import verify_code_with_lockout
from partners.catalogue import field_codes, non_sensitive_field_codes
from partners.models import Agreement, Membership, Organization, SecondFactorEvent, User

pytestmark = pytest.mark.django_db

SEOUL = {
    "서울특별시동부교육지원청": {"11230", "11260"},
    "서울특별시서부교육지원청": {"11410", "11440", "11380"},
    "서울특별시남부교육지원청": {"11560", "11530", "11545"},
    "서울특별시북부교육지원청": {"11320", "11350"},
    "서울특별시중부교육지원청": {"11110", "11140", "11170"},
    "서울특별시강남서초교육지원청": {"11680", "11650"},
    "서울특별시강동송파교육지원청": {"11740", "11710"},
    "서울특별시강서양천교육지원청": {"11500", "11470"},
    "서울특별시동작관악교육지원청": {"11590", "11620"},
    "서울특별시성동광진교육지원청": {"11200", "11215"},
    "서울특별시성북강북교육지원청": {"11290", "11305"},
}
GWANGJU = {
    "광주광역시동부교육지원청": {"29110", "29170"},
    "광주광역시서부교육지원청": {"29140", "29155", "29200"},
}
DEMO_ACCOUNTS = {
    "teacher": ("이음초등학교", "teacher"),
    "counselor": ("이음초등학교", "team_member"),
    "coordinator": ("이음초등학교", "coordinator"),
    "vice": ("이음초등학교", "vice_principal"),
    "principal": ("이음초등학교", "principal"),
    "coordinator2": ("한빛초등학교", "coordinator"),
    "casemanager": ("서울특별시남부교육지원청", "case_manager"),
    "centrehead": ("서울특별시남부교육지원청", "centre_head"),
    "casemanager2": ("서울특별시북부교육지원청", "case_manager"),
    "partner": ("금천구청소년상담복지센터", "partner_worker"),
    "partner2": ("금천구정신건강복지센터", "partner_worker"),
    "analyst": ("서울특별시교육청", "analyst"),
    "privacy": ("서울특별시교육청", "privacy_officer"),
    "mfa": ("이음초등학교", "team_member"),
    "police": ("금천경찰서", "partner_worker"),
}


def coverage(province_code):
    offices = Organization.objects.filter(kind="district_office", parent__code=province_code)
    return {o.name: set(o.covers.values_list("region_code", flat=True)) for o in offices}


def snapshot():
    models = [Organization, Agreement, Membership, User]
    counts = [m.objects.count() for m in models] + [m.history.count() for m in models]
    return [*counts, Organization.covers.through.objects.count()]


def test_seed_network_loads_seoul_gwangju_and_sejong():
    call_command("seed_network")
    assert coverage("B10") == SEOUL
    assert (
        Organization.objects.filter(kind="local_government", region_code__startswith="11").count()
        == 25
    )
    assert coverage("F10") == GWANGJU
    assert (
        Organization.objects.filter(region_code__startswith="29", kind="local_government").count()
        == 5
    )
    sejong = Organization.objects.get(code="I10")
    assert sejong.kind == "provincial_office" and not sejong.children.exists()
    assert set(sejong.covers.values_list("region_code", flat=True)) == {"36110"}
    gumcheon = Organization.objects.get(region_code="11545", kind="local_government")
    assert gumcheon.name == "금천구" and gumcheon.code == "LG-11545"


def test_seed_network_is_idempotent():
    call_command("seed_network")
    before = snapshot()
    call_command("seed_network")
    assert snapshot() == before


def test_seed_demo_creates_exactly_the_demo_accounts(monkeypatch, settings):
    settings.DEMO_SEED_STEPS = []
    monkeypatch.setenv("DEMO_PASSWORD", "another-demo-pass")
    call_command("seed_demo")
    assert set(User.objects.values_list("username", flat=True)) == {*DEMO_ACCOUNTS, "admin"}
    for username, (org_name, role) in DEMO_ACCOUNTS.items():
        membership = Membership.objects.current().get(user__username=username)
        assert (membership.organization.name, membership.role) == (org_name, role), username
        assert User.objects.get(username=username).check_password("another-demo-pass")
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and not admin.memberships.exists()


def test_seed_demo_twice_changes_nothing(settings):
    settings.DEMO_SEED_STEPS = []
    call_command("seed_demo")
    before = snapshot()
    call_command("seed_demo")
    assert snapshot() == before


def test_demo_mfa_account_has_the_published_totp_secret_and_no_one_else_a_device(settings):
    """DEMO.md: `mfa` signs in with codes made from JBSWY3DPEHPK3PXP (30 s, 6 digits, SHA-1);
    every other demo login stays single-factor; a second run enrols nothing again."""
    settings.DEMO_SEED_STEPS = []
    call_command("seed_demo")
    device = TOTPDevice.objects.get()
    assert device.user.username == "mfa" and device.confirmed
    assert bytes.fromhex(device.key) == b"Hello!\xde\xad\xbe\xef"  # base32 JBSWY3DPEHPK3PXP
    assert (device.step, device.digits, device.t0) == (30, 6, 0)
    code = f"{totp(device.bin_key, step=30, digits=6):06d}"
    assert verify_code_with_lockout(device.user, code).device == device
    events = SecondFactorEvent.objects.count()
    assert events and SecondFactorEvent.objects.filter(user=device.user, kind="enrolled").exists()
    call_command("seed_demo")
    assert SecondFactorEvent.objects.count() == events
    assert TOTPDevice.objects.get().pk == device.pk


def test_demo_schools_partners_and_agreements(settings):
    settings.DEMO_SEED_STEPS = []
    call_command("seed_demo")
    parents = dict(Organization.objects.filter(kind="school").values_list("code", "parent__code"))
    assert parents == {
        "S0001": "B10-NAMBU",
        "S0002": "B10-NAMBU",
        "S0003": "B10-BUKBU",
        "S0004": "B10-SEOBU",
        "S0005": "F10-DONGBU",
        "S0006": "I10",
    }
    gumcheon_partners = Organization.objects.filter(serves__region_code="11545")
    assert {o.name for o in gumcheon_partners} >= {
        "금천구청소년상담복지센터",
        "금천구정신건강복지센터",
        "서울남부아동보호전문기관",
        "금천구 드림스타트",
        "가산동 행정복지센터",
    }
    child = Organization.objects.get(name="서울남부아동보호전문기관")
    assert set(child.serves.values_list("region_code", flat=True)) == {"11545", "11530", "11560"}
    for agreement in Agreement.objects.active_on().select_related("partner"):
        expected = field_codes() if agreement.partner == child else non_sensitive_field_codes()
        assert agreement.allowed_fields == expected, agreement.partner.name
    assert Agreement.objects.active_on().count() == 6
    for org in Organization.objects.filter(agreements_as_partner__isnull=False):
        assert org.services.exists(), org.name
