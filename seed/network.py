"""Loading the network (network.yaml) and the demo (demo.yaml).

Every write compares first and saves only what differs, so running a command twice writes no row
and no history. History rows written here carry a change reason naming the command.
"""

import os
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path

import yaml
from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string

from partners import second_factor
from partners.catalogue import field_codes, non_sensitive_field_codes
from partners.choices import OrganizationKind
from partners.models import Agreement, Membership, Organization, Service, User

DATA_DIR = Path(__file__).parent / "data"
DEFAULT_DEMO_PASSWORD = "ieum-demo-2026"

DEMO_APPROVED_DAYS_AGO = 70


@dataclass
class Tally:
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    notes: list[str] = field(default_factory=list)

    def count(self, created: bool, changed: bool) -> None:
        if created:
            self.created += 1
        elif changed:
            self.updated += 1
        else:
            self.unchanged += 1

    def __str__(self):
        return f"{self.created} created, {self.updated} updated, {self.unchanged} unchanged"


def upsert(model, lookup: dict, values: dict, *, reason: str, tally: Tally | None = None):
    """Create or update one row, saving only when a value differs."""
    obj = model.objects.filter(**lookup).first()
    created = obj is None
    if created:
        obj = model(**lookup)
    changed = created
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    if changed:
        obj._change_reason = reason
        obj.save()
    if tally is not None:
        tally.count(created, changed)
    return obj


def set_m2m(manager, objects, *, reason: str) -> bool:
    wanted = {o.pk for o in objects}
    if set(manager.values_list("pk", flat=True)) == wanted:
        return False
    instance = manager.instance
    instance._change_reason = reason
    manager.set(list(objects))
    return True


def _load(name: str) -> dict:
    with (DATA_DIR / name).open(encoding="utf-8") as fh:
        return yaml.safe_load(fh)


def _borough(entry: dict, reason: str, tally: Tally) -> Organization:
    return upsert(
        Organization,
        {"code": f"LG-{entry['code']}"},
        {
            "name": entry["name"],
            "kind": OrganizationKind.LOCAL_GOVERNMENT,
            "region_code": entry["code"],
        },
        reason=reason,
        tally=tally,
    )


@transaction.atomic
def load_network(path: str = "network.yaml") -> Tally:
    """The real structure: ministry, provincial and district offices, boroughs and coverage."""
    reason = "seed_network"
    data = _load(path)
    tally = Tally()
    ministry = upsert(
        Organization,
        {"code": data["ministry"]["code"]},
        {"name": data["ministry"]["name"], "kind": OrganizationKind.MINISTRY},
        reason=reason,
        tally=tally,
    )
    for province in data["provinces"]:
        office = upsert(
            Organization,
            {"code": province["code"]},
            {
                "name": province["name"],
                "kind": OrganizationKind.PROVINCIAL_OFFICE,
                "parent": ministry,
            },
            reason=reason,
            tally=tally,
        )
        own = [_borough(b, reason, tally) for b in province.get("covers", [])]
        set_m2m(office.covers, own, reason=reason)
        for district in province["district_offices"]:
            boroughs = [_borough(b, reason, tally) for b in district["covers"]]
            district_office = upsert(
                Organization,
                {"code": district["code"]},
                {
                    "name": district["name"],
                    "kind": OrganizationKind.DISTRICT_OFFICE,
                    "parent": office,
                },
                reason=reason,
                tally=tally,
            )
            set_m2m(district_office.covers, boroughs, reason=reason)
    return tally


def demo_password() -> str:
    return os.environ.get("DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD


def _org(code: str) -> Organization:
    return Organization.objects.get(code=code)


def _boroughs(codes) -> list[Organization]:
    return list(Organization.objects.filter(region_code__in=codes, kind="local_government"))


@transaction.atomic
def load_demo(path: str = "demo.yaml") -> Tally:
    """DEMO.md's organisations, services, agreements and accounts (exactly those accounts)."""
    reason = "seed_demo"
    if not Organization.objects.filter(code="B10-NAMBU").exists():
        load_network()
    data = _load(path)
    tally = Tally()
    today = timezone.localdate()

    for school in data["schools"]:
        upsert(
            Organization,
            {"code": school["code"]},
            {
                "name": school["name"],
                "kind": OrganizationKind.SCHOOL,
                "school_level": school["level"],
                "region_code": school["region"],
                "parent": _org(school["parent"]),
                "address": school.get("address", ""),
                "phone": school.get("phone", ""),
            },
            reason=reason,
            tally=tally,
        )

    for entry in data["partners"]:
        if entry.get("borough"):
            org = _org(entry["code"])
            upsert(
                Organization,
                {"pk": org.pk},
                {"phone": entry.get("phone", ""), "address": entry.get("address", "")},
                reason=reason,
                tally=tally,
            )
        else:
            org = upsert(
                Organization,
                {"code": entry["code"]},
                {
                    "name": entry["name"],
                    "kind": entry["kind"],
                    "agency_type": entry.get("agency_type", ""),
                    "region_code": entry.get("region", ""),
                    "parent": _org(entry["parent"]) if entry.get("parent") else None,
                    "phone": entry.get("phone", ""),
                },
                reason=reason,
                tally=tally,
            )
            set_m2m(org.serves, _boroughs(entry.get("serves", [])), reason=reason)
        for item in entry.get("services", []):
            ages = item.get("ages") or [None, None]
            service = upsert(
                Service,
                {"organization": org, "name": item["name"]},
                {
                    "description": item.get("description", ""),
                    "domains": item.get("domains", []),
                    "support_types": item.get("support_types", []),
                    "eligibility": item.get("eligibility", ""),
                    "school_levels": item.get("school_levels", []),
                    "min_age": ages[0],
                    "max_age": ages[1],
                    "intake_status": item.get("intake", "accepting"),
                    "contact_phone": entry.get("phone", ""),
                    "languages": item.get("languages", ["ko"]),
                },
                reason=reason,
                tally=tally,
            )
            set_m2m(
                service.boroughs,
                _boroughs(entry.get("serves") or [org.region_code]),
                reason=reason,
            )

    terms = data["agreements"]
    office = _org(terms["office"])
    for code, scope in terms["partners"].items():
        partner = _org(code)
        existing = Agreement.objects.filter(office=office, partner=partner).first()
        # Keep a live agreement as it is; renew one that has run out (the demo never goes stale).
        if existing and existing.is_active(today):
            tally.count(False, False)
            continue
        upsert(
            Agreement,
            {"office": office, "partner": partner},
            {
                "title": f"{office.name}–{partner.name} 정보공유 협약",
                "valid_from": today - timedelta(days=terms["valid_from_days_ago"]),
                "valid_until": today + timedelta(days=terms["valid_for_days"]),
                "security_officer_name": f"{partner.name} {terms['security_officer']}",
                "allowed_fields": field_codes() if scope == "all" else non_sensitive_field_codes(),
                "retention_days": terms["retention_days"],
            },
            reason=reason,
            tally=tally,
        )

    password = demo_password()
    users = {}
    for account in data["accounts"]:
        user = upsert(
            User,
            {"username": account["username"]},
            {
                "name": account["name"],
                "email": f"{account['username']}@demo.ieum.kr",
                "is_staff": bool(account.get("superuser")),
                "is_superuser": bool(account.get("superuser")),
                "is_active": True,
            },
            reason=reason,
            tally=tally,
        )
        if not user.check_password(password):
            user.set_password(password)
            user._change_reason = reason
            user.save()
        users[account["username"]] = user

    for account in data["accounts"]:
        if account.get("superuser"):
            continue
        # Nobody approves their own membership: every approval names another demo account.
        approver = users.get(account.get("approver"))
        if approver is None or account.get("approver") == account["username"]:
            raise ValueError(f"demo account {account['username']} needs another person as approver")
        membership = Membership.objects.filter(
            user=users[account["username"]], organization=_org(account["org"]), role=account["role"]
        ).first()
        values = {"title": account.get("title", ""), "active": True, "ended_on": None}
        # Renew the approval only when it is missing, given by someone else than demo.yaml says or
        # about to lapse, so a second run is a no-op.
        if (
            membership is None
            or membership.approved_by_id != approver.pk
            or not membership.is_current(today + timedelta(days=30))
        ):
            # Approved and trained two months back, so that the demo's month of past reads
            # (seed/oversight.py) was made by approved, trained handlers.
            values.update(
                approved_by=approver,
                approved_on=today - timedelta(days=DEMO_APPROVED_DAYS_AGO),
                approval_expires_on=today + timedelta(days=365),
                training_completed_on=today - timedelta(days=DEMO_APPROVED_DAYS_AGO),
            )
        upsert(
            Membership,
            {
                "user": users[account["username"]],
                "organization": _org(account["org"]),
                "role": account["role"],
            },
            values,
            reason=reason,
            tally=tally,
        )

    for account in data["accounts"]:
        if account.get("totp_secret"):
            enrolled = second_factor.enrol_known_secret(
                users[account["username"]],
                second_factor.key_from_base32(account["totp_secret"]),
                by=None,
                reason=reason,
            )
            tally.count(enrolled, False)
    return tally


def run_demo_steps(stdout=None) -> None:
    """Further demo steps named in settings.DEMO_SEED_STEPS (dotted paths), e.g. the demo
    casework (`seed.demo.seed_demo_casework`): a setting, so that a test can build the demo
    network alone."""
    for dotted in getattr(settings, "DEMO_SEED_STEPS", []):
        import_string(dotted)(stdout=stdout)
