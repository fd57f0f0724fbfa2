"""Organisations: fictional schools under the real district offices, and partners serving each
borough, each with a service and an agreement with the provincial office."""

from dataclasses import dataclass
from datetime import timedelta

from simple_history.utils import bulk_create_with_history

from partners.catalogue import non_sensitive_field_codes
from partners.choices import OrganizationKind
from partners.models import Agreement, Organization, Service

from .base import Load
from .tiers import PARTNER_TYPES, SEOUL_DISTRICTS, Tier


@dataclass
class Network:
    province: Organization
    districts: list[Organization]
    schools: list[Organization]
    partners_by_borough: dict[str, list[Organization]]  # by region code
    borough_by_code: dict[str, Organization]

    @property
    def partners(self) -> list[Organization]:
        return [p for ps in self.partners_by_borough.values() for p in ps]


def first_school_code(tier: Tier) -> str:
    """The code of the tier's first school: a tier is loaded when it exists."""
    return f"SC-{tier.name[:1].upper()}00000"


def build_network(load: Load) -> Network:
    t = load.tier
    # One district office's share is 남부 (금천·구로·영등포); the Seoul tier takes all eleven.
    codes = ("B10-NAMBU",) if t.districts == 1 else SEOUL_DISTRICTS[: t.districts]
    districts = list(Organization.objects.filter(code__in=codes).order_by("code"))
    if len(districts) < len(codes):
        raise RuntimeError("the real network is missing: run `manage.py seed_network` first")
    province = Organization.objects.get(code="B10")
    boroughs = {d.pk: list(d.covers.all()) for d in districts}
    load.progress(f"network: {len(districts)} district offices")
    # Schools, spread over the districts and their boroughs.
    schools = []
    for i in range(t.schools):
        district = districts[i % len(districts)]
        borough = boroughs[district.pk][i % len(boroughs[district.pk])]
        level = ["elementary", "elementary", "middle", "high"][i % 4]
        schools.append(
            Organization(
                id=load.uid(),
                code=f"SC-{t.name[:1].upper()}{i:05d}",
                name=f"가상{borough.name}{i:05d}{'초등학교' if level == 'elementary' else '중학교' if level == 'middle' else '고등학교'}",
                kind=OrganizationKind.SCHOOL,
                parent=district,
                region_code=borough.region_code,
                school_level=level,
            )
        )
    # Partners serving each borough, each with a service and an agreement.
    partners, services, agreements = [], [], []
    all_boroughs = [b for bs in boroughs.values() for b in bs]
    for borough in all_boroughs:
        for j in range(t.partners_per_borough):
            agency = PARTNER_TYPES[j % len(PARTNER_TYPES)]
            org = Organization(
                id=load.uid(),
                code=f"SP-{t.name[:1].upper()}{borough.region_code}-{j}",
                name=f"가상{borough.name}{agency}센터",
                kind=OrganizationKind.PARTNER_AGENCY,
                agency_type=agency,
                region_code=borough.region_code,
            )
            partners.append((org, borough))
    bulk_create_with_history(
        schools + [p for p, _b in partners],
        Organization,
        batch_size=2000,
        default_change_reason="seed_scale",
    )
    for org, borough in partners:
        org.serves.add(borough)
        services.append(
            Service(
                id=load.uid(),
                organization=org,
                name=f"{org.name} 사례관리",
                domains=["counselling", "welfare"],
                support_types=["counselling"],
            )
        )
        agreements.append(
            Agreement(
                office=province,
                partner=org,
                valid_from=load.today - timedelta(days=400),
                security_officer_name="정보보호책임자",
                allowed_fields=non_sensitive_field_codes(),
            )
        )
    bulk_create_with_history(services, Service, default_change_reason="seed_scale")
    bulk_create_with_history(agreements, Agreement, default_change_reason="seed_scale")
    for service, (_org, borough) in zip(services, partners, strict=True):
        service.boroughs.add(borough)
    partners_by_borough: dict[str, list[Organization]] = {}
    for org, borough in partners:
        partners_by_borough.setdefault(borough.region_code, []).append(org)
    load.progress(f"organisations: {len(schools)} schools, {len(partners)} partners")
    return Network(
        province=province,
        districts=districts,
        schools=schools,
        partners_by_borough=partners_by_borough,
        borough_by_code={b.region_code: b for b in all_boroughs},
    )
