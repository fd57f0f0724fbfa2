"""Passkeys (WebAuthn, W3C Level 3) as a second factor beside the authenticator app (DESIGN.md
§9), with py_webauthn doing the cryptography.

Two ceremonies, each a challenge Ieum makes and the browser's authenticator signs:

- registration: a signed-in person adds a passkey (their phone, laptop or security key); Ieum
  keeps its public key. A first factor comes with recovery codes, as the app does.
- authentication: at the login's second step (or to verify an older session) the browser signs
  a challenge with one of the person's passkeys, allowed by credential id.

A challenge lives in the session, for one ceremony of one person, for MFA_LOGIN_SECONDS, and is
taken out as it is checked: it cannot be answered twice. The relying party is the site's own
host unless WEBAUTHN_RP_ID and WEBAUTHN_ORIGINS say otherwise (behind a proxy, or one RP ID for
several hosts).
"""

import ipaddress
import json
import time
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from . import second_factor
from .models import Passkey, SecondFactorEvent, User

SESSION_CHALLENGE = "_passkey_challenge"
NAME_MAX = 64
REGISTER = "register"
AUTHENTICATE = "authenticate"
# What a credential that fails to parse may raise besides py_webauthn's own errors: bad base64,
# a missing key, a value of the wrong type.
MALFORMED = (WebAuthnException, ValueError, KeyError, TypeError, AttributeError)


class PasskeyError(Exception):
    """A ceremony that did not succeed, with the message for the person."""


@dataclass(frozen=True)
class RelyingParty:
    id: str
    origins: list[str]


def _rp_id(request) -> str:
    if settings.WEBAUTHN_RP_ID:
        return settings.WEBAUTHN_RP_ID
    host = request.get_host()
    return host[1:].split("]", 1)[0] if host.startswith("[") else host.rsplit(":", 1)[0]


def unavailable(request) -> str:
    """Why passkeys cannot work at this address ("" when they can): browsers give passkeys only
    to a domain name, never to an IP address (docs/operations.md: WEBAUTHN_RP_ID)."""
    try:
        ipaddress.ip_address(_rp_id(request))
    except ValueError:
        return ""
    return _(
        "이 주소(IP 주소)에서는 패스키를 쓸 수 없습니다. 도메인 이름(예: localhost)으로 접속하세요."
    )


def relying_party(request) -> RelyingParty:
    reason = unavailable(request)
    if reason:
        raise PasskeyError(reason)
    origins = settings.WEBAUTHN_ORIGINS or [f"{request.scheme}://{request.get_host()}"]
    return RelyingParty(id=_rp_id(request), origins=list(origins))


def _keep_challenge(request, purpose: str, user: User, challenge: bytes) -> None:
    request.session[SESSION_CHALLENGE] = {
        "purpose": purpose,
        "user": str(user.pk),
        "challenge": bytes_to_base64url(challenge),
        "until": int(time.time()) + settings.MFA_LOGIN_SECONDS,
    }


def _take_challenge(request, purpose: str, user: User) -> bytes:
    kept = request.session.pop(SESSION_CHALLENGE, None)
    if (
        not isinstance(kept, dict)
        or kept.get("purpose") != purpose
        or kept.get("user") != str(user.pk)
        or int(kept.get("until", 0)) < time.time()
    ):
        raise PasskeyError(_("패스키 확인 시간이 지났습니다. 다시 시도하세요."))
    return base64url_to_bytes(kept["challenge"])


def _descriptors(user: User) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(id=bytes(p.credential_id))
        for p in second_factor.passkeys_of(user)
    ]


def _display_name(user: User) -> str:
    return user.get_full_name() or user.get_username()


# --- Registration -----------------------------------------------------------------------------


def registration_options(request, user: User) -> str:
    """The options of `navigator.credentials.create()`, as JSON, for a new passkey of `user`;
    passkeys they have are excluded, so one authenticator is not registered twice."""
    rp = relying_party(request)
    options = generate_registration_options(
        rp_id=rp.id,
        rp_name=settings.WEBAUTHN_RP_NAME,
        user_id=user.pk.bytes,
        user_name=user.get_username(),
        user_display_name=_display_name(user),
        exclude_credentials=_descriptors(user),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
        timeout=settings.MFA_LOGIN_SECONDS * 1000,
    )
    _keep_challenge(request, REGISTER, user, options.challenge)
    return options_to_json(options)


def clean_name(name: str) -> str:
    name = " ".join((name or "").split())
    if not name:
        return _("패스키")
    if len(name) > NAME_MAX:
        raise PasskeyError(_("패스키 이름은 %(max)d자 이내로 쓰세요.") % {"max": NAME_MAX})
    return name


def register(request, user: User, credential, name: str) -> tuple[Passkey, list[str]]:
    """Check the authenticator's answer to the registration challenge and keep the passkey.
    Returns it with the recovery codes issued when it is the person's first factor (else [])."""
    name = clean_name(name)
    challenge = _take_challenge(request, REGISTER, user)
    rp = relying_party(request)
    try:
        verified = verify_registration_response(
            credential=credential,
            expected_challenge=challenge,
            expected_rp_id=rp.id,
            expected_origin=rp.origins,
        )
    except MALFORMED as error:
        raise PasskeyError(_("패스키를 확인하지 못했습니다. 다시 등록하세요.")) from error
    transports = _transports(credential)
    with transaction.atomic():
        User.objects.select_for_update().filter(pk=user.pk).first()  # one enrolment at a time
        first = not second_factor.has_second_factor(user)
        if Passkey.objects.filter(credential_id=verified.credential_id).exists():
            raise PasskeyError(_("이미 등록된 패스키입니다."))
        passkey = Passkey.objects.create(
            user=user,
            name=name,
            confirmed=True,
            credential_id=verified.credential_id,
            public_key=verified.credential_public_key,
            sign_count=verified.sign_count,
            transports=transports,
            backed_up=verified.credential_backed_up,
        )
        second_factor.record(user, SecondFactorEvent.Kind.PASSKEY_ADDED, by=user, reason=name)
        codes = second_factor.issue_recovery_codes(user, by=user) if first else []
    return passkey, codes


def _transports(credential) -> list[str]:
    """The transports the browser reported (usb, nfc, internal, hybrid…), kept to hint later."""
    if isinstance(credential, str):
        try:
            credential = json.loads(credential)
        except ValueError:
            return []
    response = credential.get("response") if isinstance(credential, dict) else None
    transports = response.get("transports") if isinstance(response, dict) else None
    if not isinstance(transports, list):
        return []
    return [str(t)[:16] for t in transports if isinstance(t, str)][:8]


@transaction.atomic
def remove(user: User, passkey_id, *, by: User) -> bool:
    """Remove one passkey of `user`. With no factor left, the recovery codes go too. False when
    the person has no such passkey."""
    passkey = second_factor.passkeys_of(user).select_for_update().filter(pk=passkey_id).first()
    if passkey is None:
        return False
    name = passkey.name
    passkey.delete()
    second_factor.record(user, SecondFactorEvent.Kind.PASSKEY_REMOVED, by=by, reason=name)
    second_factor.end_if_no_factor_left(user, by=by)
    return True


# --- Authentication ---------------------------------------------------------------------------


def authentication_options(request, user: User) -> str:
    """The options of `navigator.credentials.get()`, as JSON: a challenge for one of `user`'s
    passkeys."""
    rp = relying_party(request)
    options = generate_authentication_options(
        rp_id=rp.id,
        allow_credentials=_descriptors(user),
        user_verification=UserVerificationRequirement.PREFERRED,
        timeout=settings.MFA_LOGIN_SECONDS * 1000,
    )
    _keep_challenge(request, AUTHENTICATE, user, options.challenge)
    return options_to_json(options)


def authenticate(request, user: User, credential) -> Passkey | None:
    """The passkey of `user` that signed the challenge, or None: a signature that does not
    verify, an unknown credential, or a signature counter that went back (a cloned key).

    The passkey row is locked while it is checked, so one answer cannot be counted twice."""
    challenge = _take_challenge(request, AUTHENTICATE, user)
    rp = relying_party(request)
    try:
        raw_id = _raw_id(credential)
    except MALFORMED:
        return None
    with transaction.atomic():
        passkey = (
            second_factor.passkeys_of(user).select_for_update().filter(credential_id=raw_id).first()
        )
        if passkey is None:
            return None
        try:
            verified = verify_authentication_response(
                credential=credential,
                expected_challenge=challenge,
                expected_rp_id=rp.id,
                expected_origin=rp.origins,
                credential_public_key=bytes(passkey.public_key),
                credential_current_sign_count=passkey.sign_count,
            )
        except MALFORMED:
            return None
        passkey.sign_count = verified.new_sign_count
        passkey.backed_up = verified.credential_backed_up
        passkey.last_used_at = timezone.now()
        passkey.save(update_fields=["sign_count", "backed_up", "last_used_at"])
    return passkey


def _raw_id(credential) -> bytes:
    if isinstance(credential, str):
        credential = json.loads(credential)
    return base64url_to_bytes(credential["rawId"])
