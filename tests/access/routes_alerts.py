"""The isolation matrix's entries for the alert routes (merged into matrix.ROUTES): a partner's,
행정복지센터's or police member's alerts are sent and listed by them alone (of the matrix's roles,
`partner2`); every other role signed in is refused (403). The alerts routed to a district office
are its centre staff's: the foreign office's case manager (`casemanager2`) sees its own list and
404 for 남부's alert, like everyone else. tests/casework/alerts/ covers the rest."""

from casework.models import Alert, AlertStatus
from tests.access.routes_base import Route
from tests.conftest import World


def routed_alert(w: World) -> Alert:
    """An alert of 금천구정신건강복지센터 routed to 남부 to send on (built once per world)."""
    if getattr(w, "routed_alert", None) is None:
        w.routed_alert = Alert.objects.create(
            sender=w["partner2"],
            sender_organization=w.other_partner_org,
            name="김알림",
            birth_date="2016-04-01",
            description="밤늦게 혼자 있었음",
            status=AlertStatus.ROUTED,
            office=w.nambu,
        )
    return w.routed_alert


SENDER_ONLY = {"partner2": 200, "*": 403}

ROUTES: dict[str, Route] = {
    "api-alerts": Route(
        method="post",
        data={
            "name": "김알림",
            "birth_date": "2016-04-01",
            "description": "밤늦게 혼자 있었음",
            "urgency": "normal",
        },
        expect={"anonymous": 401, "partner2": 201, "*": 403},
        note="the answer is the id and status only; GET lists the sender's own",
    ),
    "casework:alert_new": Route(expect={"anonymous": 302, **SENDER_ONLY}),
    "casework:alert_list": Route(
        expect={"anonymous": 302, **SENDER_ONLY}, note="the user's own alerts, status only"
    ),
    "casework:alert_route_list": Route(
        expect={"anonymous": 302, "casemanager2": 200, "*": 403},
        note="the alerts routed to the user's own office",
    ),
    "casework:alert_route": Route(
        kwargs=lambda w: {"pk": routed_alert(w).pk},
        expect={"anonymous": 302, "*": 404},
        note="남부's alert: foreign to every role of the matrix",
    ),
}
