"""Open Referral HSDS 3.0 export of the service directory.

Each Ieum Service becomes an HSDS `service` with its `organization`, `phones`, `languages` and
`service_areas` (one per borough served, identified by its 행정표준코드). Fields HSDS has no place
for are kept as `x_ieum_*` extension properties, which HSDS allows.
"""

from partners.models import Service

HSDS_VERSION = "3.0"


def service_to_hsds(service: Service) -> dict:
    org = service.organization
    sid = str(service.id)
    return {
        "id": sid,
        "organization_id": str(org.id),
        "name": service.name,
        "description": service.description,
        "url": service.url or None,
        "email": service.contact_email or None,
        "status": "active" if service.active else "inactive",
        "eligibility_description": service.eligibility or None,
        "minimum_age": service.min_age,
        "maximum_age": service.max_age,
        "fees_description": service.cost or None,
        "organization": {
            "id": str(org.id),
            "name": org.name,
            "email": org.email or None,
            "website": org.website or None,
            "x_ieum_kind": org.kind,
            "x_ieum_agency_type": org.agency_type or None,
            "x_ieum_code": org.code,
        },
        "phones": (
            [{"id": f"{sid}-phone", "service_id": sid, "number": service.contact_phone}]
            if service.contact_phone
            else []
        ),
        "languages": [
            {"id": f"{sid}-lang-{code}", "service_id": sid, "code": code}
            for code in service.languages
        ],
        "service_areas": [
            {
                "id": f"{sid}-area-{b.region_code}",
                "service_id": sid,
                "name": b.name,
                "extent_type": "other",
                "extent": b.region_code,
                "description": "행정표준코드(시군구)",
            }
            for b in service.boroughs.all()
        ],
        "x_ieum_domains": service.domains,
        "x_ieum_support_types": service.support_types,
        "x_ieum_school_levels": service.school_levels,
        "x_ieum_intake_status": service.intake_status,
    }


def export(services) -> dict:
    return {"hsds_version": HSDS_VERSION, "services": [service_to_hsds(s) for s in services]}
