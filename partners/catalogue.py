"""The packet field catalogue, loaded once from partners/data/packet_fields.yaml."""

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml
from django.utils.translation import get_language

DATA_FILE = Path(__file__).parent / "data" / "packet_fields.yaml"


@dataclass(frozen=True)
class PacketField:
    code: str
    ko: str
    en: str
    sensitive: bool

    @property
    def label(self) -> str:
        return self.en if (get_language() or "ko").startswith("en") else self.ko


@cache
def packet_fields() -> dict[str, PacketField]:
    with DATA_FILE.open(encoding="utf-8") as fh:
        rows = yaml.safe_load(fh)["fields"]
    return {row["code"]: PacketField(**row) for row in rows}


def field_codes() -> list[str]:
    return list(packet_fields())


def sensitive_field_codes() -> set[str]:
    return {code for code, field in packet_fields().items() if field.sensitive}


def non_sensitive_field_codes() -> list[str]:
    return [code for code, field in packet_fields().items() if not field.sensitive]
