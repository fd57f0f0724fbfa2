"""Passkeys (WebAuthn) as a second factor (DESIGN.md §9): registration with its record and the
recovery codes of a first factor, the login's passkey step with the lockout, replayed, forged,
cloned and foreign answers refused, removal, MFA_REQUIRED satisfied by a passkey."""

import json
import time

import pytest
from django_otp import DEVICE_ID_SESSION_KEY
from django_otp.plugins.otp_static.models import StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from partners import passkeys, second_factor
from partners.models import LoginThrottle, Passkey, SecondFactorEvent
from tests.factories import PASSWORD
from tests.partners.softkey import SoftKey, b64

pytestmark = pytest.mark.django_db
Kind = SecondFactorEvent.Kind


def post_json(client, url, body=None):
    return client.post(url, json.dumps(body or {}), content_type="application/json")


def register(client, key: SoftKey, name="업무용 노트북", **answer):
    options = post_json(client, "/account/mfa/passkeys/options/")
    assert options.status_code == 200, options.content
    credential = key.register(options.json(), **answer)
    return post_json(client, "/account/mfa/passkeys/", {"credential": credential, "name": name})


def enrolled(client, user) -> SoftKey:
    """`user` with one passkey, registered through the pages, and then signed out."""
    key = SoftKey()
    client.force_login(user)
    assert register(client, key).status_code == 200
    client.logout()
    return key


def password_step(client, username):
    response = client.post("/login/", {"username": username, "password": PASSWORD})
    assert response.status_code == 302 and response["Location"] == "/login/code/"


def login_options(client) -> dict:
    response = post_json(client, "/login/passkey/options/")
    assert response.status_code == 200, response.content
    return response.json()


def answer(client, credential):
    return post_json(client, "/login/passkey/", {"credential": credential})


# --- Registration -------------------------------------------------------------------------------


def test_a_first_passkey_is_a_second_factor_with_recovery_codes(client, world):
    user = world["coordinator"]
    client.force_login(user)
    options = post_json(client, "/account/mfa/passkeys/options/").json()
    assert options["rp"] == {"id": "testserver", "name": "이음"}
    assert options["user"]["name"] == "coordinator" and options["excludeCredentials"] == []
    key = SoftKey()
    response = post_json(
        client,
        "/account/mfa/passkeys/",
        {"credential": key.register(options), "name": "  업무용   노트북 "},
    )
    assert response.status_code == 200 and response.json() == {
        "redirect": "/account/mfa/recovery-codes/new/"
    }
    passkey = Passkey.objects.get(user=user)
    assert passkey.name == "업무용 노트북" and bytes(passkey.credential_id) == key.credential_id
    assert passkey.transports == ["internal"]
    assert second_factor.has_second_factor(user)
    assert client.session[DEVICE_ID_SESSION_KEY] == passkey.persistent_id
    kinds = list(SecondFactorEvent.objects.filter(user=user).values_list("kind", flat=True))
    assert sorted(kinds) == sorted([Kind.PASSKEY_ADDED, Kind.RECOVERY_CODES_ISSUED])

    codes_page = client.get("/account/mfa/recovery-codes/new/")
    text = codes_page.content.decode()
    assert codes_page.status_code == 200 and "한 번만" in text
    codes = list(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    assert len(codes) == 10 and all(code in text for code in codes)
    # Shown once: the page does not show them again.
    assert client.get("/account/mfa/recovery-codes/new/")["Location"] == "/account/mfa/"

    overview = client.get("/account/mfa/").content.decode()
    assert "업무용 노트북" in overview and "패스키 추가" in overview


def test_a_second_passkey_brings_no_new_codes_and_excludes_the_first(client, world):
    user = world["coordinator"]
    client.force_login(user)
    first = SoftKey()
    register(client, first)
    codes = set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True))
    options = post_json(client, "/account/mfa/passkeys/options/").json()
    assert [d["id"] for d in options["excludeCredentials"]] == [b64(first.credential_id)]
    second = SoftKey()
    credential = second.register(options)
    response = post_json(client, "/account/mfa/passkeys/", {"credential": credential, "name": ""})
    assert response.status_code == 200 and response.json() == {"redirect": "/account/mfa/"}
    assert list(Passkey.objects.filter(user=user).values_list("name", flat=True)) == [
        "업무용 노트북",
        "패스키",
    ]
    assert (
        set(StaticToken.objects.filter(device__user=user).values_list("token", flat=True)) == codes
    )


def test_the_same_authenticator_is_not_registered_twice(client, world):
    client.force_login(world["coordinator"])
    key = SoftKey()
    register(client, key)
    response = register(client, key)
    assert response.status_code == 400 and "이미 등록된 패스키" in response.json()["detail"]
    assert Passkey.objects.count() == 1


@pytest.mark.parametrize(
    "change",
    [{"origin": "https://evil.example"}, {"rp_id": "evil.example"}],
    ids=["other-origin", "other-rp"],
)
def test_a_registration_for_another_site_is_refused(client, world, change):
    client.force_login(world["coordinator"])
    response = register(client, SoftKey(), **change)
    assert (
        response.status_code == 400 and "패스키를 확인하지 못했습니다" in response.json()["detail"]
    )
    assert not Passkey.objects.exists() and not SecondFactorEvent.objects.exists()


def test_registration_answers_bad_input_with_a_400(client, world):
    client.force_login(world["coordinator"])
    for body in (b"not json", b"[1, 2]", json.dumps({"credential": "x"}).encode()):
        response = client.post("/account/mfa/passkeys/", body, content_type="application/json")
        assert response.status_code == 400 and response.json()["detail"]
    # No challenge was asked for: nothing to answer.
    response = post_json(client, "/account/mfa/passkeys/", {"credential": {"id": "x"}})
    assert response.status_code == 400 and "다시 시도" in response.json()["detail"]
    big = b'{"credential": {"id": "' + b"a" * (70 * 1024) + b'"}}'
    response = client.post("/account/mfa/passkeys/", big, content_type="application/json")
    assert response.status_code == 400
    post_json(client, "/account/mfa/passkeys/options/")
    response = post_json(client, "/account/mfa/passkeys/", {"credential": {}, "name": "가" * 65})
    assert response.status_code == 400 and "64자" in response.json()["detail"]
    assert client.get("/account/mfa/passkeys/").status_code == 405


def test_adding_a_passkey_beside_a_factor_takes_a_verified_session(client, world):
    user = world["coordinator"]
    device = second_factor.provisioning_device(user, second_factor.new_secret())
    second_factor.enrol_device(device, by=user)
    client.force_login(user)  # signed in without its code
    response = post_json(client, "/account/mfa/passkeys/options/")
    assert response.status_code == 403 and "확인하세요" in response.json()["detail"]
    assert post_json(client, "/account/mfa/passkeys/", {"credential": {}}).status_code == 403


def test_registering_needs_a_signed_in_person(client, world):
    response = post_json(client, "/account/mfa/passkeys/options/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


# --- Login ------------------------------------------------------------------------------------


def test_login_with_a_passkey(client, world):
    user = world["partner"]
    key = enrolled(client, user)
    password_step(client, "partner")
    page = client.get("/login/code/").content.decode()
    assert "패스키로 확인" in page and "js/passkeys.js" in page
    options = login_options(client)
    assert [d["id"] for d in options["allowCredentials"]] == [b64(key.credential_id)]
    assert options["rpId"] == "testserver"

    response = answer(client, key.sign(options))
    assert response.status_code == 200 and response.json() == {"redirect": "/"}
    passkey = Passkey.objects.get(user=user)
    assert client.session["_auth_user_id"] == str(user.pk)
    assert client.session[DEVICE_ID_SESSION_KEY] == passkey.persistent_id
    assert passkey.sign_count == 1 and passkey.last_used_at is not None
    assert client.get("/").status_code == 200


def test_the_code_step_offers_no_passkey_to_an_app_only_account(client, world):
    user = world["partner"]
    device = second_factor.provisioning_device(user, second_factor.new_secret())
    second_factor.enrol_device(device, by=user)
    password_step(client, "partner")
    assert "패스키로 확인" not in client.get("/login/code/").content.decode()
    assert post_json(client, "/login/passkey/options/").status_code == 403


def test_an_answer_cannot_be_replayed(client, world):
    key = enrolled(client, world["partner"])
    password_step(client, "partner")
    credential = key.sign(login_options(client))
    assert answer(client, credential).status_code == 200
    client.logout()
    password_step(client, "partner")
    login_options(client)  # a new challenge: the old answer does not sign it
    response = answer(client, credential)
    assert response.status_code == 400 and "_auth_user_id" not in client.session


def test_a_forged_signature_counts_toward_the_lockout(client, world):
    key = enrolled(client, world["partner"])
    forger = SoftKey()
    forger.credential_id = key.credential_id  # the id is public; the private key is not
    password_step(client, "partner")
    response = answer(client, forger.sign(login_options(client)))
    assert (
        response.status_code == 400 and "패스키를 확인하지 못했습니다" in response.json()["detail"]
    )
    assert "_auth_user_id" not in client.session
    assert LoginThrottle.objects.get(username="partner").failures == 1


def test_a_counter_that_goes_back_is_a_cloned_key(client, world):
    key = enrolled(client, world["partner"])
    password_step(client, "partner")
    assert answer(client, key.sign(login_options(client), counter=5)).status_code == 200
    client.logout()
    password_step(client, "partner")
    response = answer(client, key.sign(login_options(client), counter=3))
    assert response.status_code == 400 and "_auth_user_id" not in client.session
    assert Passkey.objects.get(user=world["partner"]).sign_count == 5


def test_another_persons_passkey_does_not_sign_them_in(client, world):
    enrolled(client, world["partner"])
    other = enrolled(client, world["teacher"])
    password_step(client, "partner")
    response = answer(client, other.sign(login_options(client)))
    assert response.status_code == 400 and "_auth_user_id" not in client.session


def test_an_answer_from_another_origin_is_refused(client, world):
    key = enrolled(client, world["partner"])
    password_step(client, "partner")
    response = answer(client, key.sign(login_options(client), origin="https://evil.example"))
    assert response.status_code == 400 and "_auth_user_id" not in client.session


def test_a_locked_account_is_refused_even_the_right_passkey(client, world, settings):
    key = enrolled(client, world["partner"])
    password_step(client, "partner")
    LoginThrottle.objects.filter(username="partner").delete()
    for _ in range(settings.LOGIN_FAILURE_LIMIT):
        client.post("/login/code/", {"code": "000000"})
    response = answer(client, key.sign(login_options(client)))
    assert response.status_code == 400 and "잠겼습니다" in response.json()["detail"]
    assert "_auth_user_id" not in client.session


def test_a_challenge_runs_out_without_counting_as_a_guess(client, world, settings):
    key = enrolled(client, world["partner"])
    password_step(client, "partner")
    options = login_options(client)
    session = client.session
    session[passkeys.SESSION_CHALLENGE]["until"] = int(time.time()) - 1
    session.save()
    response = answer(client, key.sign(options))
    assert response.status_code == 400 and "시간이 지났습니다" in response.json()["detail"]
    assert not LoginThrottle.objects.filter(username="partner").exists()


def test_a_registration_challenge_does_not_sign_in(client, world):
    user = world["partner"]
    key = enrolled(client, user)
    password_step(client, "partner")
    options = {"challenge": b64(b"a registration challenge")}
    session = client.session
    session[passkeys.SESSION_CHALLENGE] = {
        "purpose": passkeys.REGISTER,
        "user": str(user.pk),
        "challenge": options["challenge"],
        "until": int(time.time()) + 60,
    }
    session.save()
    assert answer(client, key.sign(options)).status_code == 400


def test_the_passkey_step_needs_the_password_first(client, world):
    enrolled(client, world["partner"])
    assert post_json(client, "/login/passkey/options/").status_code == 403
    assert answer(client, {}).status_code == 403


def test_login_answers_bad_input_with_a_400(client, world):
    enrolled(client, world["partner"])
    password_step(client, "partner")
    login_options(client)
    response = client.post("/login/passkey/", b"{", content_type="application/json")
    assert response.status_code == 400
    login_options(client)
    assert answer(client, {"rawId": "!!!"}).status_code == 400


def test_a_recovery_code_stands_in_for_a_lost_passkey(client, world):
    user = world["partner"]
    client.force_login(user)
    register(client, SoftKey())
    code = StaticToken.objects.filter(device__user=user).first().token
    client.logout()
    password_step(client, "partner")
    response = client.post("/login/code/", {"code": code})
    assert response.status_code == 302 and client.session["_auth_user_id"] == str(user.pk)


def test_an_older_session_is_verified_with_a_passkey(client, world):
    user = world["partner"]
    key = enrolled(client, user)
    client.force_login(user)  # a session that never showed a factor
    assert client.get("/")["Location"].startswith("/account/mfa/setup/")
    page = client.get("/account/mfa/setup/").content.decode()
    assert "패스키로 확인" in page
    response = answer(client, key.sign(login_options(client)))
    assert response.status_code == 200
    assert client.get("/").status_code == 200


# --- Removal, MFA_REQUIRED ------------------------------------------------------------------------


def test_removing_the_last_passkey_ends_the_second_factor(client, world):
    user = world["coordinator"]
    client.force_login(user)
    register(client, SoftKey())
    passkey = Passkey.objects.get(user=user)
    response = client.post(f"/account/mfa/passkeys/{passkey.pk}/remove/")
    assert response.status_code == 302 and response["Location"] == "/account/mfa/"
    assert not Passkey.objects.exists() and not second_factor.has_second_factor(user)
    assert not StaticToken.objects.filter(device__user=user).exists()
    kinds = set(SecondFactorEvent.objects.filter(user=user).values_list("kind", flat=True))
    assert {Kind.PASSKEY_REMOVED, Kind.REMOVED} <= kinds


def test_removing_a_passkey_keeps_the_app_and_the_codes(client, world):
    user = world["coordinator"]
    device = second_factor.provisioning_device(user, second_factor.new_secret())
    device, codes = second_factor.enrol_device(device, by=user)
    client.force_login(user)
    session = client.session
    session[DEVICE_ID_SESSION_KEY] = device.persistent_id
    session.save()
    register(client, SoftKey())
    passkey = Passkey.objects.get(user=user)
    client.post(f"/account/mfa/passkeys/{passkey.pk}/remove/")
    assert TOTPDevice.objects.filter(user=user).exists()
    assert StaticToken.objects.filter(device__user=user).count() == len(codes)


def test_nobody_removes_another_persons_passkey(client, world):
    enrolled(client, world["teacher"])
    passkey = Passkey.objects.get(user=world["teacher"])
    client.force_login(world["coordinator"])
    response = client.post(f"/account/mfa/passkeys/{passkey.pk}/remove/")
    assert response.status_code == 302 and Passkey.objects.filter(pk=passkey.pk).exists()
    assert client.get(f"/account/mfa/passkeys/{passkey.pk}/remove/").status_code == 405


def test_turning_the_second_factor_off_removes_the_passkeys(client, world):
    user = world["coordinator"]
    client.force_login(user)
    register(client, SoftKey())
    code = StaticToken.objects.filter(device__user=user).first().token
    response = client.post("/account/mfa/remove/", {"code": code})
    assert response.status_code == 302
    assert not Passkey.objects.filter(user=user).exists()
    assert not second_factor.has_second_factor(user)


def test_mfa_required_is_met_by_a_passkey(client, world, settings):
    settings.MFA_REQUIRED = True
    user = world["coordinator"]
    client.force_login(user)
    assert client.get("/")["Location"].startswith("/account/mfa/setup/")
    setup = client.get("/account/mfa/setup/").content.decode()
    assert "패스키 등록" in setup
    assert register(client, SoftKey()).status_code == 200
    assert client.get("/").status_code == 200


def test_the_administrator_removes_a_lost_passkey_with_a_record(client, world):
    user = world["teacher"]
    enrolled(client, user)
    passkey = Passkey.objects.get(user=user)
    client.force_login(world["admin"])
    listing = client.get("/admin/partners/passkey/")
    assert listing.status_code == 200 and "업무용 노트북" in listing.content.decode()
    assert client.get("/admin/partners/passkey/add/").status_code == 403
    url = f"/admin/partners/passkey/{passkey.pk}/delete/"
    assert client.get(url).status_code == 200
    assert client.post(url, {"post": "yes"}).status_code == 302
    assert not second_factor.has_second_factor(user)
    removed = SecondFactorEvent.objects.get(user=user, kind=Kind.PASSKEY_REMOVED)
    assert removed.by == world["admin"] and removed.reason == "업무용 노트북"
    # The last factor gone, the recovery codes went with it.
    assert not StaticToken.objects.filter(device__user=user).exists()


def test_at_an_ip_address_passkeys_are_explained_not_offered(client, world, settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1", "testserver"]
    client.force_login(world["teacher"])
    page = client.get("/account/mfa/", HTTP_HOST="127.0.0.1:8000").content.decode()
    assert "IP 주소" in page and 'data-passkey="register"' not in page
    setup = client.get("/account/mfa/setup/", HTTP_HOST="127.0.0.1:8000").content.decode()
    assert "IP 주소" in setup and 'data-passkey="register"' not in setup
    response = client.post(
        "/account/mfa/passkeys/options/", "{}", "application/json", HTTP_HOST="127.0.0.1:8000"
    )
    assert response.status_code == 400 and "IP 주소" in response.json()["detail"]
    # By name the same page offers them.
    assert 'data-passkey="register"' in client.get("/account/mfa/").content.decode()
