"""Synthetic data at scale (`manage.py seed_scale`, DESIGN.md §8), loaded with PostgreSQL COPY.

On top of the real network (`seed_network`) it builds fictional schools, staff, partners,
students, open and several years of closed cases, referrals in every state, notes, consents,
concerns, notifications, history rows and hash-chained access events — with the grants the
workflows would have written (through the access package's bulk grants). Deterministic: the
same tier and seed give the same data. Rows go in through `COPY … FROM STDIN` in chunks; small
tables (groups, role groups, organisations) through the ORM.

One builder per kind of row, in the order they depend on each other: `network` (schools,
partners, services, agreements), `people` (role groups, accounts, memberships), `students`,
`cases` (with participants, team, consents, notes, notifications, concerns), `referrals`,
`access` (grants) and `log` (the access log).

The bench accounts are named `<organisation code>.<role>[.<n>]` and share BENCH_PASSWORD.
"""

import time

from django.db import connection, transaction

from partners.models import Organization

from .access import grant_access
from .base import Load
from .cases import build_cases
from .log import build_access_events
from .network import build_network, first_school_code
from .people import build_people
from .referrals import build_referrals
from .students import build_students
from .tiers import TIERS, Result, Tier

__all__ = ["TIERS", "Result", "ScaleSeeder", "Tier", "already_seeded", "seed"]


class ScaleSeeder:
    def __init__(self, tier: Tier, *, seed: int = 2026, password: str, progress=None):
        self.load = Load(tier, seed=seed, password=password, progress=progress)

    def run(self) -> Result:
        load = self.load
        started = time.perf_counter()
        with transaction.atomic():
            net = build_network(load)
            people = build_people(load, net)
            students = build_students(load, net)
            cases = build_cases(load, net, people, students)
            sent = build_referrals(load, net, people, cases)
            grant_access(load, cases, sent)
            build_access_events(load, cases)
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
        return Result(
            load.tier.name,
            dict(load.copier.counts),
            time.perf_counter() - started,
            load.copier.seconds,
        )


def already_seeded(tier: Tier) -> bool:
    return Organization.objects.filter(code=first_school_code(tier)).exists()


def seed(tier_name: str, *, seed: int = 2026, password: str, progress=None) -> Result:
    return ScaleSeeder(TIERS[tier_name], seed=seed, password=password, progress=progress).run()
