"""The second factor (DESIGN.md §9): TOTP at login, recovery codes, enrolment and removal with
their record, MFA_REQUIRED for everyone who handles personal data, and the token endpoint's otp."""

import time

import pytest
from django.core.exceptions import ValidationError
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.oath import totp
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from rest_framework.test import APIClient

from partners import mfa, second_factor
from partners.models import LoginThrottle, SecondFactorEvent
from tests.factories import PASSWORD, UserFactory

pytestmark = pytest.mark.django_db
TOKEN_URL = "/api/v1/auth/token/"
WRONG = "000000"


def enrol(user) -> tuple[TOTPDevice, list[str]]:
    device = second_factor.provisioning_device(user, second_factor.new_secret())
    return second_factor.enrol_device(device, by=user)


def code_of(device: TOTPDevice) -> str:
    """The device's current code, usable once more: a code is refused in a step already used."""
    TOTPDevice.objects.filter(pk=device.pk).update(last_t=-1)
    device.refresh_from_db()
    return f"{totp(device.bin_key, step=device.step, digits=device.digits):06d}"


def wrong_code(device: TOTPDevice) -> str:
    right = {f"{totp(device.bin_key, drift=d):06d}" for d in (-1, 0, 1)}
    return next(c for c in (WRONG, "111111", "222222") if c not in right)


def login(client, username, password=PASSWORD, **extra):
    return client.post("/login/", {"username": username, "password": password, **extra})


def give_code(client, code):
    return client.post("/login/code/", {"code": code})


def sign_in_with_code(client, username, device):
    login(client, username)
    assert give_code(client, code_of(device)).status_code == 302


# --- Login ------------------------------------------------------------------------------------


def test_login_without_a_device_signs_in_at_once(client, world):
    response = login(client, "coordinator")
    assert response.status_code == 302 and response["Location"] == "/"
    assert "_auth_user_id" in client.session


def test_login_with_a_device_asks_for_the_code_before_signing_in(client, world):
    device, _codes = enrol(world["coordinator"])
    response = login(client, "coordinator", next="/directory/")
    assert response.status_code == 302 and response["Location"] == "/login/code/"
    assert "_auth_user_id" not in client.session  # the password alone signs no one in
    assert client.get("/").status_code == 302
    page = client.get("/login/code/")
    assert page.status_code == 200 and "인증 코드" in page.content.decode()

    response = give_code(client, code_of(device))
    assert response.status_code == 302 and response["Location"] == "/directory/"
    assert client.session["_auth_user_id"] == str(world["coordinator"].pk)
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    assert client.get("/").status_code == 200


def test_wrong_code_is_refused_in_korean_beside_the_field(client, world):
    device, _codes = enrol(world["teacher"])
    login(client, "teacher")
    response = give_code(client, wrong_code(device))
    body = response.content.decode()
    assert response.status_code == 400
    assert "인증 코드가 올바르지 않습니다." in body
    assert 'class="form-hint-invalid"' in body and 'aria-invalid="true"' in body
    assert "_auth_user_id" not in client.session
    assert LoginThrottle.objects.get(username="teacher").failures == 1


def test_wrong_codes_lock_out_after_the_limit_like_passwords(client, world, settings):
    device, _codes = enrol(world["teacher"])
    login(client, "teacher")
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        response = give_code(client, wrong_code(device))
    assert "계정이 잠겼습니다" in response.content.decode()
    # Locked: the right code is refused, and so is the right password.
    assert "계정이 잠겼습니다" in give_code(client, code_of(device)).content.decode()
    assert "_auth_user_id" not in client.session
    assert "계정이 잠겼습니다" in login(client, "teacher").content.decode()


def test_retyping_the_password_does_not_restart_the_count_of_wrong_codes(client, world, settings):
    device, _codes = enrol(world["teacher"])
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        login(client, "teacher")
        give_code(client, wrong_code(device))
    login(client, "teacher")  # the right password
    assert "계정이 잠겼습니다" in give_code(client, wrong_code(device)).content.decode()


def test_right_code_clears_the_failures(client, world):
    device, _codes = enrol(world["teacher"])
    login(client, "teacher")
    give_code(client, wrong_code(device))
    give_code(client, code_of(device))
    assert not LoginThrottle.objects.filter(username="teacher").exists()


def test_code_step_runs_out(client, world):
    enrol(world["teacher"])
    login(client, "teacher")
    session = client.session
    session[mfa.SESSION_PENDING] = {**session[mfa.SESSION_PENDING], "until": int(time.time()) - 1}
    session.save()
    response = client.get("/login/code/")
    assert response.status_code == 302 and response["Location"] == "/login/"


def test_code_step_without_a_password_is_sent_to_login(client, world):
    response = give_code(client, WRONG)
    assert response.status_code == 302 and response["Location"] == "/login/"


def test_recovery_code_works_once(client, world):
    _device, codes = enrol(world["teacher"])
    login(client, "teacher")
    response = give_code(client, codes[0].upper()[:4] + "-" + codes[0][4:])  # as typed from paper
    assert response.status_code == 302 and "_auth_user_id" in client.session
    assert SecondFactorEvent.objects.filter(
        user=world["teacher"], kind=SecondFactorEvent.Kind.RECOVERY_CODE_USED
    ).exists()
    client.post("/logout/")
    login(client, "teacher")
    response = give_code(client, codes[0])
    assert response.status_code == 400 and "_auth_user_id" not in client.session
    assert StaticToken.objects.filter(device__user=world["teacher"]).count() == 9


def test_recovery_codes_alone_are_no_second_factor(world):
    user = world["teacher"]
    codes = second_factor.issue_recovery_codes(user, by=user)
    assert not second_factor.has_second_factor(user)
    assert second_factor.verify_code(user, codes[0]) is None


# --- Enrolment, removal, recovery codes ---------------------------------------------------------


def setup_key(client) -> str:
    return client.session["_second_factor_setup_key"]


def test_enrolment_shows_the_secret_and_a_qr_code_and_counts_only_once_confirmed(client, world):
    user = world["counselor"]
    client.force_login(user)
    page = client.get("/account/mfa/setup/")
    body = page.content.decode()
    key = setup_key(client)
    assert page.status_code == 200
    assert second_factor.base32_secret(key) in body and "<svg" in body
    assert not TOTPDevice.objects.filter(user=user).exists()  # nothing counts before a code

    bin_key = bytes.fromhex(key)
    right = {f"{totp(bin_key, drift=d):06d}" for d in (-1, 0, 1)}
    wrong = next(c for c in (WRONG, "111111") if c not in right)
    refused = client.post("/account/mfa/setup/", {"code": wrong})
    assert (
        refused.status_code == 400 and "인증 코드가 올바르지 않습니다" in refused.content.decode()
    )
    assert not TOTPDevice.objects.filter(user=user).exists()

    done = client.post("/account/mfa/setup/", {"code": f"{totp(bin_key):06d}"})
    body = done.content.decode()
    device = TOTPDevice.objects.get(user=user)
    assert done.status_code == 200 and device.confirmed and device.key == key
    codes = list(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert len(codes) == second_factor.RECOVERY_CODE_COUNT
    assert all(code in body for code in codes)  # shown, once
    assert client.session[DEVICE_ID_SESSION_KEY] == device.persistent_id
    kinds = set(SecondFactorEvent.objects.filter(user=user, by=user).values_list("kind", flat=True))
    assert kinds == {"enrolled", "recovery_codes_issued"}
    assert "_second_factor_setup_key" not in client.session
    # Enrolled and verified: the setup page sends on to the overview, which shows no code.
    assert client.get("/account/mfa/setup/")["Location"] == "/account/mfa/"
    overview = client.get("/account/mfa/").content.decode()
    assert "사용 중" in overview and codes[0] not in overview


def test_removal_takes_a_current_code_and_is_recorded(client, world):
    user = world["counselor"]
    device, _codes = enrol(user)
    sign_in_with_code(client, "counselor", device)
    refused = client.post("/account/mfa/remove/", {"code": wrong_code(device)})
    assert refused.status_code == 400 and TOTPDevice.objects.filter(user=user).exists()
    assert LoginThrottle.objects.get(username="counselor").failures == 1

    response = client.post("/account/mfa/remove/", {"code": code_of(device)})
    assert response.status_code == 302 and response["Location"] == "/account/mfa/"
    assert not TOTPDevice.objects.filter(user=user).exists()
    assert not StaticDevice.objects.filter(user=user).exists()
    removed = SecondFactorEvent.objects.get(user=user, kind="removed")
    assert removed.by == user and removed.history.count() == 1
    assert login(APIClient(), "counselor").status_code == 302  # single-factor again
    assert not second_factor.has_second_factor(user)


def test_regenerated_recovery_codes_replace_the_old_ones(client, world):
    user = world["counselor"]
    device, old = enrol(user)
    sign_in_with_code(client, "counselor", device)
    refused = client.post("/account/mfa/recovery-codes/", {"code": wrong_code(device)})
    assert (
        refused.status_code == 400 and "인증 코드가 올바르지 않습니다" in refused.content.decode()
    )
    response = client.post("/account/mfa/recovery-codes/", {"code": code_of(device)})
    new = list(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert response.status_code == 200 and all(code in response.content.decode() for code in new)
    assert not set(old) & set(new)
    assert second_factor.verify_code(user, old[0]) is None
    assert second_factor.verify_code(user, new[0]) is not None


def test_second_factor_events_are_never_changed_or_deleted(world):
    enrol(world["teacher"])
    event = SecondFactorEvent.objects.filter(user=world["teacher"]).first()
    event.reason = "x"
    with pytest.raises(ValidationError):
        event.save()
    with pytest.raises(ValidationError):
        event.delete()


def test_the_administrator_removes_a_lost_factor_with_a_record(client, world):
    user = world["teacher"]
    device, _codes = enrol(user)
    admin_client = client
    admin_client.force_login(world["admin"])
    url = f"/admin/otp_totp/totpdevice/{device.pk}/delete/"
    page = admin_client.get(url)
    assert page.status_code == 200 and device.key not in page.content.decode()
    assert admin_client.post(url, {"post": "yes"}).status_code == 302
    assert not second_factor.has_second_factor(user)
    assert not StaticDevice.objects.filter(user=user).exists()
    removed = SecondFactorEvent.objects.get(user=user, kind="removed")
    assert removed.by.is_superuser and removed.reason


# --- MFA_REQUIRED -----------------------------------------------------------------------------


@pytest.mark.parametrize("username", ["coordinator", "partner2", "admin"])
def test_mfa_required_sends_personal_data_handlers_to_setup(client, world, settings, username):
    settings.MFA_REQUIRED = True
    client.force_login(world[username])
    response = client.get("/casework/cases/")
    assert response.status_code == 302
    assert response["Location"] == "/account/mfa/setup/?next=%2Fcasework%2Fcases%2F"
    assert client.get("/").status_code == 302
    page = client.get("/account/mfa/setup/")
    assert page.status_code == 200 and "등록해야" in page.content.decode()
    api = client.get("/api/v1/me/")
    assert api.status_code == 403
    assert api.json()["mfa_required"] is True and api.json()["detail"]


def test_mfa_required_lets_go_once_enrolled(client, world, settings):
    settings.MFA_REQUIRED = True
    login(client, "coordinator")
    assert client.get("/")["Location"].startswith("/account/mfa/setup/")
    client.get("/account/mfa/setup/?next=/casework/cases/")
    key = bytes.fromhex(setup_key(client))
    done = client.post(
        "/account/mfa/setup/", {"code": f"{totp(key):06d}", "next": "/casework/cases/"}
    )
    assert done.status_code == 200 and 'href="/casework/cases/"' in done.content.decode()
    assert client.get("/casework/cases/").status_code == 200
    assert client.get("/api/v1/me/").status_code == 200


def test_mfa_required_spares_accounts_without_personal_data(client, world, settings):
    settings.MFA_REQUIRED = True
    client.force_login(UserFactory(username="nomember"))
    assert client.get("/").status_code == 200


def test_mfa_required_off_lets_single_factor_logins_through(client, world, settings):
    settings.MFA_REQUIRED = False
    client.force_login(world["coordinator"])
    assert client.get("/casework/cases/").status_code == 200


def test_a_session_without_its_code_must_show_one(client, world):
    """A device holder signed in without the code step (the admin's login form, an older
    session) is held at the setup page, which asks for the code, whatever MFA_REQUIRED says."""
    device, _codes = enrol(world["coordinator"])
    client.force_login(world["coordinator"])
    response = client.get("/casework/cases/")
    assert response["Location"].startswith("/account/mfa/setup/")
    assert client.get("/api/v1/cases/").status_code == 403
    page = client.get("/account/mfa/setup/")
    assert (
        page.status_code == 200 and "아직 인증 코드를 확인하지 않았습니다" in page.content.decode()
    )
    verified = client.post(
        "/account/mfa/setup/", {"code": code_of(device), "next": "/casework/cases/"}
    )
    assert verified.status_code == 302 and verified["Location"] == "/casework/cases/"
    assert client.get("/casework/cases/").status_code == 200


def test_htmx_fragments_are_refused_not_redirected(client, world, settings):
    settings.MFA_REQUIRED = True
    client.force_login(world["coordinator"])
    response = client.get("/casework/notifications/badge/", HTTP_HX_REQUEST="true")
    assert response.status_code == 403


# --- The token endpoint -----------------------------------------------------------------------


def token(username, password=PASSWORD, **extra):
    return APIClient().post(TOKEN_URL, {"username": username, "password": password, **extra})


def test_token_needs_the_otp_of_an_account_with_a_device(world):
    device, _codes = enrol(world["partner"])
    missing = token("partner")
    assert missing.status_code == 401 and missing.json()["mfa_required"] is True
    assert missing["WWW-Authenticate"] == "Bearer"
    wrong = token("partner", otp=wrong_code(device))
    assert wrong.status_code == 401 and wrong.json() == {
        "mfa_required": True,
        "detail": "인증 코드가 올바르지 않습니다.",
    }
    assert LoginThrottle.objects.get(username="partner").failures == 1
    issued = token("partner", otp=code_of(device))
    assert issued.status_code == 201 and issued.json()["token"]
    assert not LoginThrottle.objects.filter(username="partner").exists()


def test_wrong_otps_lock_the_token_endpoint(world, settings):
    device, _codes = enrol(world["partner"])
    for _ in range(settings.LOGIN_FAILURE_LIMIT - 1):
        assert token("partner", otp=wrong_code(device)).status_code == 401
    locked = token("partner", otp=wrong_code(device))
    assert locked.status_code == 429 and "잠겼습니다" in locked.json()["detail"]
    assert token("partner", otp=code_of(device)).status_code == 429


def test_token_with_mfa_required_and_no_device_is_refused(world, settings):
    settings.MFA_REQUIRED = True
    response = token("partner", otp="123456")
    assert response.status_code == 401 and response.json()["mfa_required"] is True
    assert "등록" in response.json()["detail"]
    assert token("partner").status_code == 401
    UserFactory(username="nomember")
    assert token("nomember").status_code == 201  # no personal data: no second factor asked


def test_token_without_a_device_needs_no_otp_when_not_required(world, settings):
    settings.MFA_REQUIRED = False
    assert token("partner").status_code == 201


def test_schema_documents_the_otp_and_mfa_required(client):
    schema = client.get("/api/schema/").content.decode()
    assert "otp:" in schema and "mfa_required:" in schema and "SecondFactorRequired" in schema
