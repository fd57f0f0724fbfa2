"""The isolation matrix's entries for the mfa routes (merged into matrix.ROUTES).

The second factor's pages are each person's own: none takes an object id, so there is nothing
foreign to reach. The login's code step sends everyone back (no password was given in this
session; a signed-in user goes home). Removing a factor or replacing its recovery codes sends
anyone without a factor (every role here) to the overview."""

from tests.access.routes_base import Route, signed_in

ROUTES: dict[str, Route] = {
    "login_code": Route(expect={"*": 302}, note="no password step in this session: back to login"),
    "mfa": Route(expect=signed_in(200)),
    "mfa_setup": Route(expect=signed_in(200), note="a new secret for whoever has no factor"),
    "mfa_remove": Route(expect={"*": 302}, note="no factor to remove: to the overview"),
    "mfa_recovery_codes": Route(
        method="post", data={"code": "000000"}, expect={"*": 302}, note="no factor: to the overview"
    ),
}
