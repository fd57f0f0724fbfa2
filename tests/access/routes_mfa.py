"""The isolation matrix's entries for the mfa routes (merged into matrix.ROUTES).

The second factor's pages are each person's own: none takes an object id, so there is nothing
foreign to reach. The login's code step sends everyone back (no password was given in this
session; a signed-in user goes home). Removing a factor or replacing its recovery codes sends
anyone without a factor (every role here) to the overview.

Passkeys: the registration options are a challenge for the signed-in person themselves; an
answer without a challenge is refused (400); the login's passkey step refuses anyone without a
password step or a passkey (403); removing a passkey that is not one's own finds nothing."""

from tests.access.routes_base import Route, signed_in

ROUTES: dict[str, Route] = {
    "login_code": Route(expect={"*": 302}, note="no password step in this session: back to login"),
    "mfa": Route(expect=signed_in(200)),
    "mfa_setup": Route(expect=signed_in(200), note="a new secret for whoever has no factor"),
    "mfa_remove": Route(expect={"*": 302}, note="no factor to remove: to the overview"),
    "mfa_recovery_codes": Route(
        method="post", data={"code": "000000"}, expect={"*": 302}, note="no factor: to the overview"
    ),
    "mfa_new_codes": Route(
        expect={"*": 302}, note="no codes kept in this session: to the overview"
    ),
    "passkey_register_options": Route(
        method="post", expect=signed_in(200), note="a challenge for oneself"
    ),
    "passkey_register": Route(
        method="post", expect=signed_in(400), note="no challenge was asked for"
    ),
    "passkey_remove": Route(
        method="post",
        kwargs=lambda w: {"passkey_id": 1},
        expect={"*": 302},
        note="nobody's passkey here: nothing removed, to the overview",
    ),
    "passkey_login_options": Route(
        method="post", expect={"*": 403}, note="no password step and no passkey"
    ),
    "passkey_login": Route(
        method="post",
        expect={"anonymous": 403, "*": 400},
        note="no password step (403); a session without a challenge is refused (400)",
    ),
}
