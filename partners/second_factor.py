"""The second factor (DESIGN.md §9): a TOTP device (RFC 6238) in an authenticator app and/or
passkeys (partners/passkeys.py), and ten single-use recovery codes, kept by django-otp.

Every enrolment, removal, issue of recovery codes and use of one is written here, with the
SecondFactorEvent that records it, in one transaction: the device rows are django-otp's and keep
no history of their own. Recovery codes stand in for the app or the passkeys only: a person with
recovery codes but neither has no second factor.
"""

import re
import time
from base64 import b32decode, b32encode
from binascii import unhexlify

from django.db import transaction
from django.utils.translation import gettext_lazy as _
from django_otp.models import Device
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice
from django_otp.util import random_hex

from .models import Passkey, SecondFactorEvent, User

Kind = SecondFactorEvent.Kind
RECOVERY_CODE_COUNT = 10
TOTP_DEVICE_NAME = _("인증 앱")
RECOVERY_DEVICE_NAME = _("복구 코드")
TOTP_CODE = re.compile(r"\d{6}")
# StaticToken.random_token(): eight characters of lower-case base32.
RECOVERY_CODE = re.compile(r"[a-z2-7]{8}")


def normalise_code(code: str) -> str:
    """What a person types, as the device compares it: spaces and hyphens (as codes are often
    copied, "abcd-efgh") dropped, letters lower-cased."""
    return re.sub(r"[\s-]", "", code or "").lower()


def is_code_shaped(code: str) -> bool:
    code = normalise_code(code)
    return bool(TOTP_CODE.fullmatch(code) or RECOVERY_CODE.fullmatch(code))


def totp_devices(user: User):
    return TOTPDevice.objects.devices_for_user(user, confirmed=True)


def passkeys_of(user: User):
    return Passkey.objects.devices_for_user(user, confirmed=True)


def has_second_factor(user: User) -> bool:
    if user is None or not getattr(user, "is_authenticated", False):
        return False
    return totp_devices(user).exists() or passkeys_of(user).exists()


def recovery_codes_left(user: User) -> int:
    return StaticToken.objects.filter(device__user=user, device__confirmed=True).count()


def record(user: User, kind: str, *, by: User | None, reason: str = "") -> SecondFactorEvent:
    event = SecondFactorEvent(user=user, kind=kind, by=by, reason=reason[:200])
    event._history_user = by
    event.save()
    return event


def verify_code(user: User, code: str) -> Device | None:
    """The device that accepts `code` (a TOTP code or an unused recovery code), or None.

    A TOTP code is accepted once, in its 30-second step or the next or previous one; a recovery
    code is deleted as it is used. Devices are locked while they verify, so two requests cannot
    both use one code."""
    code = normalise_code(code)
    with transaction.atomic():
        devices = list(totp_devices(user).select_for_update())
        if not devices and not passkeys_of(user).exists():
            return None
        if TOTP_CODE.fullmatch(code):
            return next((d for d in devices if d.verify_token(code)), None)
        if not RECOVERY_CODE.fullmatch(code):
            return None
        recovery = StaticDevice.objects.devices_for_user(user, confirmed=True).select_for_update()
        for device in recovery:
            if device.verify_token(code):
                record(user, Kind.RECOVERY_CODE_USED, by=user)
                return device
    return None


# --- Enrolment --------------------------------------------------------------------------------


def new_secret() -> str:
    """A fresh TOTP secret (hex, 20 bytes as RFC 6238's SHA-1 wants), held by the setup page
    until a code made from it confirms it."""
    return random_hex(20)


def base32_secret(key: str) -> str:
    """The secret as authenticator apps take it when typed: base32 without padding, in groups
    of four."""
    text = b32encode(unhexlify(key)).decode().rstrip("=")
    return " ".join(text[i : i + 4] for i in range(0, len(text), 4))


def key_from_base32(secret: str) -> str:
    """A base32 secret (as DEMO.md gives the demo's) as the hex key django-otp stores."""
    text = re.sub(r"\s", "", secret).upper()
    return b32decode(text + "=" * (-len(text) % 8)).hex()


def provisioning_device(user: User, key: str) -> TOTPDevice:
    """The device a confirmed setup will save, unsaved: its `config_url` is the otpauth:// URI
    of the QR code."""
    return TOTPDevice(user=user, key=key, name=str(TOTP_DEVICE_NAME), confirmed=True)


def code_matches_secret(device: TOTPDevice, code: str) -> bool:
    """Whether `code` is a current code of the unsaved device's secret; on success the device
    remembers the step, so the same code cannot sign in again once it is saved."""
    code = normalise_code(code)
    if not TOTP_CODE.fullmatch(code):
        return False
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    totp.time = time.time()
    if not totp.verify(int(code), device.tolerance):
        return False
    device.last_t = totp.t()
    return True


@transaction.atomic
def issue_recovery_codes(user: User, *, by: User | None, reason: str = "") -> list[str]:
    """Ten new single-use recovery codes, replacing any left: shown once, to be kept on paper."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=str(RECOVERY_DEVICE_NAME), confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODE_COUNT)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=c) for c in codes])
    record(user, Kind.RECOVERY_CODES_ISSUED, by=by, reason=reason)
    return codes


@transaction.atomic
def enrol_device(
    device: TOTPDevice, *, by: User | None, reason: str = ""
) -> tuple[TOTPDevice, list[str]]:
    """Save a confirmed TOTP device as the user's one authenticator app (an earlier one goes, and
    its replacement is a removal too) and issue new recovery codes. Passkeys stay."""
    user = device.user
    replaced = TOTPDevice.objects.filter(user=user)
    if replaced.exists():
        replaced.delete()
        record(user, Kind.REMOVED, by=by, reason=reason)
    device.confirmed = True
    device.save()
    record(user, Kind.ENROLLED, by=by, reason=reason)
    return device, issue_recovery_codes(user, by=by, reason=reason)


@transaction.atomic
def remove_second_factor(user: User, *, by: User | None, reason: str = "") -> bool:
    """End the user's second factor: the TOTP device, every passkey and the recovery codes.
    False when there was none."""
    had = has_second_factor(user)
    TOTPDevice.objects.filter(user=user).delete()
    Passkey.objects.filter(user=user).delete()
    StaticDevice.objects.filter(user=user).delete()
    if had:
        record(user, Kind.REMOVED, by=by, reason=reason)
    return had


def end_if_no_factor_left(user: User, *, by: User | None, reason: str = "") -> bool:
    """After a factor went: with neither the app nor a passkey left, the recovery codes go too
    and the second factor is ended (recorded). False when a factor remains."""
    if has_second_factor(user):
        return False
    StaticDevice.objects.filter(user=user).delete()
    record(user, Kind.REMOVED, by=by, reason=reason)
    return True


@transaction.atomic
def enrol_known_secret(user: User, key: str, *, by: User | None, reason: str) -> bool:
    """Give the user a confirmed TOTP device with this secret (the demo's published one),
    unless they have exactly that already: a second run writes nothing."""
    devices = list(totp_devices(user))
    if len(devices) == 1 and devices[0].key == key:
        return False
    enrol_device(provisioning_device(user, key), by=by, reason=reason)
    return True
