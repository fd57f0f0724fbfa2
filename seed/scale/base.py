"""What every builder of a load shares: the tier, the seeded random streams, the clock and the
COPY writer. One random stream draws the data and another the ids, so a tier and a seed always
give the same rows."""

import random
import uuid
from datetime import UTC, datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from core.bulk import Copier
from seed.demo import GIVEN  # the same fictional given names as the demo

from .tiers import SURNAMES, Tier


class Load:
    def __init__(self, tier: Tier, *, seed: int = 2026, password: str, progress=None):
        self.tier = tier
        self.rng = random.Random(seed)
        self.today = timezone.localdate()
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.copier = Copier(self.now)
        self.password_hash = make_password(password)
        self.progress = progress or (lambda message: None)
        self.uuid_rng = random.Random(seed + 1)

    def uid(self) -> uuid.UUID:
        return uuid.UUID(int=self.uuid_rng.getrandbits(128), version=4)

    def name(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

    def at(self, days_ago: float) -> datetime:
        return self.now - timedelta(days=days_ago, seconds=self.rng.randint(0, 36_000))
