"""A coordinator adds a passkey in a real browser (Chromium's virtual authenticator stands in
for the laptop's fingerprint reader), signs out, and signs in again with the password and the
passkey; the recovery codes are shown once when the passkey is the first second factor."""

import pytest

from partners.models import Passkey, SecondFactorEvent
from tests.e2e.axe import AXE, RUN_AXE, WIDTHS

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]


def axe_on_both_widths(page):
    """axe-core on the page as it stands, on a desktop and a phone screen."""
    found = []
    for width, viewport in WIDTHS.items():
        page.set_viewport_size(viewport)
        page.add_script_tag(path=str(AXE))
        found += [f"{page.url} {width}: {v}" for v in page.evaluate(RUN_AXE)]
    page.set_viewport_size(WIDTHS["desktop"])
    return found


@pytest.fixture
def authenticator(page):
    """A platform authenticator with user verification, attached to this page's browser."""
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    found = cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
                "automaticPresenceSimulation": True,
            }
        },
    )
    yield cdp, found["authenticatorId"]


def test_coordinator_adds_a_passkey_and_signs_in_with_it(
    transactional_db, world, live_server, page, sign_in, authenticator
):
    from tests.factories import PASSWORD

    cdp, authenticator_id = authenticator
    assert live_server.url.startswith("http://localhost:")  # an IP address is no RP ID
    sign_in("coordinator")
    page.goto(f"{live_server.url}/account/mfa/")
    page.get_by_label("새 패스키 이름").fill("업무용 노트북")
    page.get_by_role("button", name="패스키 추가").click()

    # The first second factor brings the recovery codes, shown once.
    page.wait_for_url("**/account/mfa/recovery-codes/new/")
    assert page.get_by_role("heading", name="복구 코드").first.is_visible()
    coordinator = world["coordinator"]
    key = Passkey.objects.get(user=coordinator)
    assert key.name == "업무용 노트북"
    registered_count = key.sign_count
    assert SecondFactorEvent.objects.filter(
        user=coordinator, kind=SecondFactorEvent.Kind.PASSKEY_ADDED
    ).exists()
    credentials = cdp.send("WebAuthn.getCredentials", {"authenticatorId": authenticator_id})
    assert len(credentials["credentials"]) == 1

    violations = axe_on_both_widths(page)  # the recovery codes
    page.goto(f"{live_server.url}/account/mfa/")
    violations += axe_on_both_widths(page)  # the passkey table and the add form
    page.goto(f"{live_server.url}/account/mfa/setup/")
    violations += axe_on_both_widths(page)  # "또는 패스키 등록" beside the app
    page.goto(f"{live_server.url}/account/mfa/")
    assert (
        page.locator("#mfa-passkeys")
        .get_by_role("cell", name="업무용 노트북", exact=True)
        .is_visible()
    )

    # Sign out, then in: the password alone is not enough, the passkey finishes it.
    page.get_by_role("button", name="로그아웃").first.click()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("아이디").fill("coordinator")
    page.get_by_label("비밀번호").fill(PASSWORD)
    page.get_by_role("button", name="로그인").click()
    button = page.get_by_role("button", name="패스키로 확인")
    button.wait_for()
    violations += axe_on_both_widths(page)  # the code step with its passkey button
    assert not violations, violations
    button.click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_role("heading", name="내 소속과 개인정보 취급승인").is_visible()
    key.refresh_from_db()
    assert key.last_used_at is not None and key.sign_count > registered_count


def test_the_same_device_twice_is_refused_in_korean(
    transactional_db, world, live_server, page, sign_in, authenticator
):
    sign_in("coordinator")
    page.goto(f"{live_server.url}/account/mfa/")
    page.get_by_role("button", name="패스키 추가").click()
    page.wait_for_url("**/account/mfa/recovery-codes/new/")
    page.goto(f"{live_server.url}/account/mfa/")
    page.get_by_role("button", name="패스키 추가").click()
    status = page.locator("#passkey-status")
    status.wait_for()
    assert status.inner_text() == "이 기기에는 이미 패스키가 등록되어 있습니다."
    assert Passkey.objects.filter(user=world["coordinator"]).count() == 1
    page.get_by_role("button", name="패스키 추가").wait_for()  # usable again
    assert page.get_by_role("button", name="패스키 추가").is_enabled()
