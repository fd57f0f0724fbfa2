"""The isolation matrix's table: every route of the URL conf × anonymous and a set of roles →
status. test_isolation_matrix.py runs it; tests/test_bad_input.py and test_agreement.py walk the
same routes.

The route list is generated from the URL conf, so a new route without an entry in ROUTES fails
`test_every_route_has_an_entry`. An entry says which method to use, how to fill the route's
parameters (objects of a *foreign* organisation where the route shows data: the `school_objects`
fixture of tests/conftest.py) and the expected status per role ("*" for every role not named).
Case content must answer 404 to whoever may not see it (DESIGN.md §5); routes whose content is
public to every signed-in user say so.
"""

import uuid

from django.urls import URLPattern, URLResolver, get_resolver, reverse

from tests.access import (
    routes_alerts,
    routes_auditlog,
    routes_breakglass,
    routes_discovery,
    routes_exports,
    routes_mfa,
    routes_reports,
    routes_retention,
    routes_review,
    routes_subject,
)
from tests.access.routes_base import NON_STAFF, ROLES, Route, api_signed_in, signed_in
from tests.conftest import World

__all__ = ["ROLES", "ROUTES", "ROUTE_KEYS", "build_path", "entry_for", "iter_routes", "route_keys"]

ADMIN_DEFAULT = Route(
    expect={"anonymous": 302, **dict.fromkeys(NON_STAFF, 302)},
    skip_roles=("admin",),
    note="Django admin: everyone but staff is sent to the admin login. The system "
    "administrator's own pages are covered in tests/partners/test_admin.py.",
)

ROUTES: dict[str, Route] = {
    # --- Django admin (namespace default above; exceptions here) ----------------------------
    "admin:index": Route(expect={"anonymous": 302, **dict.fromkeys(NON_STAFF, 302), "admin": 200}),
    "admin:login": Route(expect={"*": 200, "admin": 302}, note="staff are sent on to the index"),
    "admin:logout": Route(
        expect={"anonymous": 302, **dict.fromkeys(NON_STAFF, 302), "admin": 405},
        note="logout is POST only",
    ),
    "admin:view_on_site": Route(
        expect={"anonymous": 302, **dict.fromkeys(NON_STAFF, 302), "admin": 404},
        kwargs=lambda w: {"content_type_id": 999999, "object_id": "x"},
        note="content-type shortcut; no object behind a bogus id",
    ),
    # --- Sign-in, home, directory (organisation data: every signed-in user) --------------------
    "login": Route(expect={"anonymous": 200, "*": 302}, note="signed-in users go home"),
    "logout": Route(method="post", expect={"*": 302}),
    "home": Route(expect=signed_in(200)),
    "directory": Route(expect=signed_in(200)),
    "health": Route(expect={"*": 200}),
    "favicon.ico": Route(expect={"*": 301}),  # to the static icon, for everyone
    # --- API: auth and directory -------------------------------------------------------------
    "api-token": Route(
        method="post",
        data={"username": "nobody", "password": "wrong"},
        expect={"*": (401, 429)},
        note="credential exchange: a wrong password is 401 whoever asks, 429 once the "
        "repeated attempts in this loop lock the username",
    ),
    "api-me": Route(expect=api_signed_in()),
    "organization-list": Route(expect=api_signed_in()),
    "organization-detail": Route(
        kwargs=lambda w: {"pk": w.other_partner_org.pk},
        expect=api_signed_in(),
        note="the directory is public to every signed-in user",
    ),
    "service-list": Route(expect=api_signed_in()),
    "service-detail": Route(
        kwargs=lambda w: {"pk": uuid.uuid4()},
        expect={"anonymous": 401, "*": 404},
        note="an unknown service",
    ),
    "service-hsds": Route(expect=api_signed_in()),
    "api-schema": Route(expect={"*": 200}),
    "api-docs": Route(expect={"*": 200}),
    # --- Casework API: every object belongs to 이음초등학교, foreign to the roles below ----------
    # The owner school's coordinator sees it; everyone else gets 404 (DESIGN.md §5).
    **{
        name: Route(
            kwargs=kwargs,
            method=method,
            data=data,
            expect={"anonymous": 401, "coordinator": ok, "*": 404, **(rest[0] if rest else {})},
        )
        for name, kwargs, method, data, ok, *rest in [
            # The school's teacher sees the roster (name, grade, class only).
            (
                "api-student",
                lambda w: {"pk": w.case.student_id},
                "get",
                None,
                200,
                {"teacher": 200},
            ),
            ("api-case", lambda w: {"pk": w.case.pk}, "get", None, 200),
            ("api-case-team", lambda w: {"pk": w.case.pk}, "get", None, 200),
            ("api-case-notes", lambda w: {"pk": w.case.pk}, "get", None, 200),
            ("api-case-assessments", lambda w: {"pk": w.case.pk}, "get", None, 200),
            ("api-case-consents", lambda w: {"pk": w.case.pk}, "get", None, 200),
            ("api-case-plans", lambda w: {"pk": w.case.pk}, "get", None, 200),
            ("api-case-history", lambda w: {"pk": w.case.pk}, "get", None, 200),
            ("api-case-timeline", lambda w: {"pk": w.case.pk}, "get", None, 200),
            ("api-case-transition", lambda w: {"pk": w.case.pk}, "post", {"to": "nowhere"}, 400),
            (
                "api-case-team-member",
                lambda w: {"pk": w.case.pk, "user_id": w.users["teacher"].pk},
                "delete",
                None,
                409,
            ),
            ("api-plan", lambda w: {"pk": w.plan.pk}, "patch", {"version": 0}, 409),
            ("api-plan-submit", lambda w: {"pk": w.plan.pk}, "post", {"version": 0}, 409),
            ("api-plan-approve", lambda w: {"pk": w.plan.pk}, "post", {"version": 0}, 403),
            ("api-plan-return", lambda w: {"pk": w.plan.pk}, "post", {"reason": "r"}, 403),
            ("api-plan-interventions", lambda w: {"pk": w.plan.pk}, "post", {}, 400),
            ("api-intervention-logs", lambda w: {"pk": w.intervention.pk}, "post", {}, 400),
            # The teacher raised this concern, so sees it; triage itself is the coordinator's.
            (
                "api-concern-triage",
                lambda w: {"pk": w.concern.pk},
                "post",
                {},
                400,
                {"teacher": 400},
            ),
        ]
    },
    # Lists answer 200 to every signed-in user, holding only what each may see (tested in
    # tests/casework/api: a foreign coordinator's list is empty).
    "api-students": Route(expect=api_signed_in()),
    "api-concerns": Route(expect=api_signed_in()),
    "api-cases": Route(expect=api_signed_in()),
    "api-meetings": Route(expect=api_signed_in()),
    "api-instruments": Route(expect=api_signed_in()),
    "api-student-import": Route(
        method="post",
        expect={"anonymous": 401, "*": 400},
        note="no file: 400 for everyone; who may import is tested in test_roster_import",
    ),
    "api-job": Route(
        kwargs=lambda w: {"pk": w.job.pk},
        expect={"anonymous": 401, "coordinator": 200, "*": 404},
        note="a job is its creator's only",
    ),
    # --- Referrals and transfers: a service referral of 이음초등학교 to 금천구청소년상담복지센터 and
    # a transfer request to 한빛초등학교 (coordinator2 is that school's coordinator). The
    # receiving partner, the other district and the old school after a transfer are covered in
    # tests/access/test_referral_isolation.py.
    "api-referrals": Route(expect=api_signed_in()),
    **{
        name: Route(
            kwargs=lambda w: {"pk": w.referral.pk},
            method=method,
            data=data,
            expect={"anonymous": 401, "coordinator": ok, "*": 404},
        )
        for name, method, data, ok in [
            ("api-referral", "get", None, 200),
            ("api-referral-messages", "get", None, 200),
            ("api-referral-send", "post", None, 409),
            ("api-referral-open", "post", None, 403),
            ("api-referral-accept", "post", None, 403),
            ("api-referral-decline", "post", {"reason": "r"}, 403),
            ("api-referral-start", "post", None, 403),
            ("api-referral-complete", "post", {"outcome": "o"}, 403),
            ("api-referral-cancel", "post", {"reason": ""}, 400),
            ("api-referral-assign", "post", {}, 400),
        ]
    },
    "api-consent-withdraw": Route(
        method="post",
        kwargs=lambda w: {"pk": w.consent.pk},
        expect={"anonymous": 401, "coordinator": 400, "*": 404},
        note="no reason: 400 for the school; invisible to everyone else",
    ),
    "api-transfers": Route(expect=api_signed_in()),
    "api-transfer-accept": Route(
        method="post",
        kwargs=lambda w: {"pk": w.transfer.pk},
        expect={"anonymous": 401, "coordinator": 403, "coordinator2": 200, "*": 404},
        note="only the new school's coordinator accepts",
    ),
    "api-transfer-decline": Route(
        method="post",
        kwargs=lambda w: {"pk": w.transfer.pk},
        data={"reason": "재학생 아님"},
        expect={"anonymous": 401, "coordinator": 403, "coordinator2": 200, "*": 404},
    ),
    "api-transfer-cancel": Route(
        method="post",
        kwargs=lambda w: {"pk": w.transfer.pk},
        expect={"anonymous": 401, "coordinator": 200, "coordinator2": 403, "*": 404},
        note="the old school cancels; the new school sees the request but may not cancel it",
    ),
    # A claim by 한빛초등학교 (coordinator2) naming the student of 이음초등학교's case: the old
    # school's coordinator decides it (confirming answers 409 while the request above is
    # pending); the claimant sees the claim but may not decide it, whether or not it matched.
    "api-transfer-claims": Route(expect=api_signed_in(), note="own claims and claims on own cases"),
    "api-transfer-claim-confirm": Route(
        method="post",
        kwargs=lambda w: {"pk": w.claim.pk},
        expect={"anonymous": 401, "coordinator": 409, "coordinator2": 403, "*": 404},
    ),
    "api-transfer-claim-decline": Route(
        method="post",
        kwargs=lambda w: {"pk": w.claim.pk},
        data={"reason": "재학생입니다"},
        expect={"anonymous": 401, "coordinator": 200, "coordinator2": 403, "*": 404},
    ),
    "api-notifications": Route(expect=api_signed_in()),
    "api-notification-read": Route(
        method="post",
        kwargs=lambda w: {"pk": w.notification.pk},
        expect={"anonymous": 401, "coordinator": 200, "*": 404},
        note="only the recipient's own notification",
    ),
    # --- Casework pages (objects of 이음초등학교: foreign to everyone but its coordinator) -------
    "casework:queue": Route(expect=signed_in(200), note="each sees only their own work"),
    "casework:concern_list": Route(expect=signed_in(200), note="own or own school's only"),
    "casework:concern_new": Route(
        expect={
            "anonymous": 302,
            "teacher": 200,
            "coordinator": 200,
            "coordinator2": 200,
            "*": 403,
        },
        note="school staff only",
    ),
    "casework:concern_detail": Route(
        kwargs=lambda w: {"pk": w.concern.pk},
        expect={"anonymous": 302, "teacher": 200, "coordinator": 200, "*": 404},
        note="the raising teacher and the school's coordinator see it; outsiders 404",
    ),
    "casework:concern_triage": Route(
        method="post",
        kwargs=lambda w: {"pk": w.concern.pk},
        expect={"anonymous": 302, "teacher": 403, "coordinator": 400, "*": 404},
        note="the raising teacher sees it but may not triage (403); an empty form is the "
        "concern page again with its errors (400); outsiders 404",
    ),
    "casework:case_list": Route(expect=signed_in(200), note="lists only visible cases"),
    "casework:case_new": Route(
        query=lambda w: f"?student={w.case.student_id}",
        expect={"anonymous": 302, "coordinator": 200, "teacher": 403, "*": 404},
        note="the teacher sees the roster student but may not open cases",
    ),
    "casework:case_detail": Route(
        kwargs=lambda w: {"pk": w.case.pk}, expect={"anonymous": 302, "coordinator": 200, "*": 404}
    ),
    "casework:case_action": Route(
        method="post",
        kwargs=lambda w: {"pk": w.case.pk, "action": "note"},
        expect={"anonymous": 302, "coordinator": 400, "*": 404},
        note="an empty note is refused: the case page comes back with the error beside the field",
    ),
    "casework:meeting_list": Route(expect=signed_in(200), note="own organisations' meetings only"),
    "casework:meeting_new": Route(
        expect={
            "anonymous": 302,
            "coordinator": 200,
            "coordinator2": 200,
            "casemanager2": 200,
            "*": 403,
        },
        note="meeting roles record meetings of their own organisation",
    ),
    "casework:student_list": Route(expect=signed_in(200), note="own rosters only"),
    "casework:student_detail": Route(
        kwargs=lambda w: {"pk": w.case.student_id},
        expect={"anonymous": 302, "coordinator": 200, "teacher": 200, "*": 404},
        note="the school's teacher sees roster fields only",
    ),
    "casework:roster_import": Route(
        expect={"anonymous": 302, "coordinator": 200, "coordinator2": 200, "*": 403}
    ),
    "casework:job_detail": Route(
        kwargs=lambda w: {"pk": w.job.pk}, expect={"anonymous": 302, "coordinator": 200, "*": 404}
    ),
    "casework:job_save": Route(
        method="post",
        kwargs=lambda w: {"pk": w.job.pk},
        expect={"anonymous": 302, "coordinator": 409, "*": 404},
        note="a job is its creator's only; the world's job is no clean dry run, so 409",
    ),
    "casework:approvals": Route(expect=signed_in(200), note="lists only plans the user approves"),
    "casework:plan_decide": Route(
        method="post",
        kwargs=lambda w: {"pk": w.plan.pk, "decision": "approve"},
        expect={"anonymous": 302, "coordinator": 403, "*": 404},
        note="the coordinator sees the plan but may not approve it",
    ),
    "casework:school_overview": Route(
        expect={"anonymous": 302, "*": 403}, note="principal and vice-principal only"
    ),
    "casework:referral_list": Route(expect=signed_in(200), note="own inbox and outbox only"),
    "casework:referral_badge": Route(expect=signed_in(200), note="a count of one's own inbox"),
    "casework:case_plans": Route(
        kwargs=lambda w: {"pk": w.case.pk},
        expect={"anonymous": 302, "coordinator": 200, "*": 404},
    ),
    "casework:case_timeline": Route(
        kwargs=lambda w: {"pk": w.case.pk},
        expect={"anonymous": 302, "coordinator": 200, "*": 404},
    ),
    "casework:referral_detail": Route(
        kwargs=lambda w: {"pk": w.referral.pk},
        expect={"anonymous": 302, "coordinator": 200, "*": 404},
    ),
    "casework:referral_action": Route(
        method="post",
        kwargs=lambda w: {"pk": w.referral.pk, "action": "open"},
        expect={"anonymous": 302, "coordinator": 403, "*": 404},
        note="the sender sees the referral but only the receiver opens it",
    ),
    "casework:referral_new": Route(
        kwargs=lambda w: {"pk": w.case.pk},
        expect={"anonymous": 302, "coordinator": 200, "*": 404},
    ),
    "casework:consent_withdraw": Route(
        method="post",
        kwargs=lambda w: {"pk": w.case.pk, "consent_pk": w.consent.pk},
        expect={"anonymous": 302, "coordinator": 302, "*": 404},
    ),
    "casework:transfer_request": Route(
        method="post",
        kwargs=lambda w: {"pk": w.case.pk},
        expect={"anonymous": 302, "coordinator": 400, "*": 404},
        note="an empty request is refused: the case page comes back with the errors beside the fields",
    ),
    "casework:transfer_list": Route(expect=signed_in(200), note="own schools' transfers only"),
    "casework:transfer_action": Route(
        method="post",
        kwargs=lambda w: {"pk": w.transfer.pk, "action": "accept"},
        expect={"anonymous": 302, "coordinator": 403, "coordinator2": 302, "*": 404},
    ),
    "casework:transfer_claim": Route(
        method="post",
        expect={"anonymous": 302, "coordinator": 302, "coordinator2": 302, "*": 403},
        note="a school's coordinator claims for their school (an empty form: back to the list)",
    ),
    "casework:transfer_claim_action": Route(
        method="post",
        kwargs=lambda w: {"pk": w.claim.pk, "action": "confirm"},
        expect={"anonymous": 302, "coordinator": 302, "coordinator2": 403, "*": 404},
    ),
    "casework:district_dashboard": Route(
        expect={"anonymous": 302, "casemanager2": 200, "*": 403},
        note="district office staff only, each their own office's counts",
    ),
    "casework:notifications": Route(expect=signed_in(200)),
    "casework:notification_open": Route(
        method="post",
        kwargs=lambda w: {"pk": w.notification.pk},
        expect={"anonymous": 302, "coordinator": 302, "*": 404},
    ),
    "casework:notifications_read_all": Route(method="post", expect={"*": 302}),
    "casework:notification_badge": Route(expect=signed_in(200)),
    # --- Language switch ----------------------------------------------------------------------
    "set_language": Route(method="post", data={"language": "en", "next": "/"}, expect={"*": 302}),
}

# The tables of later areas, one module each so that each stays readable.
for _area in (
    routes_auditlog.ROUTES,
    routes_review.ROUTES,
    routes_breakglass.ROUTES,
    routes_retention.ROUTES,
    routes_mfa.ROUTES,
    routes_subject.ROUTES,
    routes_reports.ROUTES,
    routes_exports.ROUTES,
    routes_alerts.ROUTES,
    routes_discovery.ROUTES,
):
    assert not set(_area) & set(ROUTES), set(_area) & set(ROUTES)
    ROUTES.update(_area)


def iter_routes(patterns=None, prefix: str = "", namespace: str | None = None):
    """Yield (key, pattern, URLPattern) for every endpoint of the URL conf."""
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace
            full_ns = f"{namespace}:{ns}" if namespace and ns else (ns or namespace)
            yield from iter_routes(entry.url_patterns, prefix + str(entry.pattern), full_ns)
        elif isinstance(entry, URLPattern):
            name = entry.name
            key = (f"{namespace}:{name}" if namespace else name) if name else None
            yield key or prefix + str(entry.pattern), prefix + str(entry.pattern), entry


def route_keys() -> list[str]:
    return sorted({key for key, _pattern, _entry in iter_routes()})


def entry_for(key: str) -> Route | None:
    if key in ROUTES:
        return ROUTES[key]
    if key.startswith("admin:") or key.startswith("admin/"):
        return ADMIN_DEFAULT
    return None


GENERIC_KWARGS = {
    "app_label": "auth",  # registered whatever else the admin shows
    "object_id": str(uuid.uuid4()),
    "url": "nothing-here/",
    "content_type_id": 999999,
    "pk": uuid.uuid4(),
    "id": uuid.uuid4(),
}


def build_path(key: str, route: Route, world: World) -> str:
    pattern, entry = ROUTE_TABLE[key]
    query = route.query(world) if callable(route.query) else route.query
    wanted = set(entry.pattern.converters) | set(entry.pattern.regex.groupindex)
    kwargs = route.kwargs(world) if route.kwargs else {}
    for name in wanted - set(kwargs):
        kwargs[name] = GENERIC_KWARGS.get(name, "x")
    positional = entry.pattern.regex.groups - len(entry.pattern.regex.groupindex)
    if entry.name and positional:
        return reverse(key, args=["x"] * positional) + query
    if entry.name:
        return reverse(key, kwargs=kwargs) + query
    path = "/" + pattern.lstrip("^").rstrip("$")
    for name, value in kwargs.items():
        path = path.replace(f"<uuid:{name}>", str(value)).replace(f"<{name}>", str(value))
    return path + query


ROUTE_TABLE = {key: (pattern, entry) for key, pattern, entry in iter_routes()}


ROUTE_KEYS = [key for key in route_keys() if entry_for(key) is not None]
