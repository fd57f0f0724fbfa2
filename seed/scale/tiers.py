"""The tiers of DESIGN.md §8 and the mixes the synthetic data is drawn from."""

import random
from dataclasses import dataclass

SEOUL_DISTRICTS = (
    "B10-DONGBU",
    "B10-SEOBU",
    "B10-NAMBU",
    "B10-BUKBU",
    "B10-JUNGBU",
    "B10-GANGNAMSEOCHO",
    "B10-GANGDONGSONGPA",
    "B10-GANGSEOYANGCHEON",
    "B10-DONGJAKGWANAK",
    "B10-SEONGDONGGWANGJIN",
    "B10-SEONGBUKGANGBUK",
)


@dataclass(frozen=True)
class Tier:
    name: str
    districts: int  # how many of Seoul's district offices take part
    schools: int
    students: int
    open_cases: int
    closed_cases: int  # closed over the previous three years
    referrals: int  # one year's worth
    access_events: int
    teachers_per_school: int = 10
    case_managers_per_district: int = 6
    partners_per_borough: int = 4
    notes_per_case: int = 3


TIERS = {
    "tiny": Tier("tiny", 1, 4, 400, 40, 30, 60, 400, teachers_per_school=2, partners_per_borough=2),
    "district": Tier("district", 1, 120, 75_000, 7_000, 10_500, 13_000, 100_000),
    "seoul": Tier("seoul", 11, 1_350, 830_000, 80_000, 120_000, 150_000, 1_000_000),
}

SURNAMES = "김이박최정강조윤장임한오서신권황안송류홍전고문양손배백허유남심노하곽성차주우구민"
DIFFICULTIES = [
    ["basic_learning"],
    ["economic", "care_safety"],
    ["psychological"],
    ["school_violence", "psychological"],
    ["borderline_intelligence", "basic_learning"],
    ["health"],
    ["dropout_risk", "psychological"],
    ["migrant_background", "basic_learning"],
    ["child_abuse", "care_safety"],
]
OPEN_STATUS_MIX = [
    ("identified", 10),
    ("reviewing", 15),
    ("selected", 15),
    ("active", 40),
    ("monitoring", 20),
]
REFERRAL_MIX = [
    ("draft", 3),
    ("sent", 8),
    ("received", 7),
    ("accepted", 10),
    ("in_progress", 22),
    ("completed", 40),
    ("declined", 5),
    ("cancelled", 5),
]
PARTNER_TYPES = [
    "youth_counselling",
    "mental_health",
    "child_protection",
    "dream_start",
    "community_child",
    "welfare_center",
]
CLOSED = ("completed", "declined", "cancelled")


def weighted(rng: random.Random, mix) -> str:
    return rng.choices([k for k, _w in mix], weights=[w for _k, w in mix])[0]


@dataclass
class Result:
    tier: str
    counts: dict[str, int]
    seconds: float
    copy_seconds: float

    @property
    def rows(self) -> int:
        return sum(self.counts.values())
