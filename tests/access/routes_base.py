"""What an entry of the isolation matrix is (tests/access/matrix.py holds the table; the
route tables of later areas, routes_*.py, use the same entries and are merged into it)."""

from collections.abc import Callable
from dataclasses import dataclass, field

from tests.conftest import World

ROLES = (
    "anonymous",
    "teacher",
    "coordinator",
    "coordinator2",
    "casemanager2",
    "partner2",
    "analyst",
    "privacy",
    "admin",
)
NON_STAFF = tuple(r for r in ROLES if r not in {"anonymous", "admin"})


@dataclass
class Route:
    expect: dict[str, int | tuple[int, ...]]
    method: str = "get"
    kwargs: Callable[[World], dict] | None = None
    data: dict | None = None
    skip_roles: tuple[str, ...] = ()
    note: str = ""
    query: str | Callable[[World], str] = ""
    extra: dict = field(default_factory=dict)

    def expected(self, role: str):
        return self.expect.get(role, self.expect.get("*"))


def signed_in(status: int, anonymous: int = 302) -> dict:
    """A page every signed-in user may open (organisation data, their own data)."""
    return {"anonymous": anonymous, "*": status}


def api_signed_in(status: int = 200) -> dict:
    return {"anonymous": 401, "*": status}
