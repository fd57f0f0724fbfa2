"""The access log and the case's past (DESIGN.md §6).

- `access_log`: access events (every read of personal data) and their keyed hash chain;
- `anchors`: each month's head published outside the database, and the chain's verification;
- `history`: field-level changes of a case and its records;
- `timeline`: history, referral events and reads in one chronology, paged in SQL.
"""

from .access_log import (
    GENESIS,
    content,
    content_digest,
    content_mac,
    digest,
    legacy_digest,
    record_access,
)
from .anchors import (
    ANCHOR_MARK,
    KEEP_MONTHS,
    Anchor,
    AnchorError,
    AnchorRun,
    ChainProblem,
    anchor_files,
    anchors_unreadable,
    expire_month,
    load_anchors,
    parse_anchors,
    publish_anchors,
    verify_chain,
)
from .history import Change, HistoryEntry, case_history
from .timeline import Timeline, TimelineEntry, case_timeline

__all__ = [
    "ANCHOR_MARK",
    "GENESIS",
    "KEEP_MONTHS",
    "Anchor",
    "AnchorError",
    "AnchorRun",
    "ChainProblem",
    "Change",
    "HistoryEntry",
    "Timeline",
    "TimelineEntry",
    "anchor_files",
    "anchors_unreadable",
    "case_history",
    "case_timeline",
    "content",
    "content_digest",
    "content_mac",
    "digest",
    "expire_month",
    "legacy_digest",
    "load_anchors",
    "parse_anchors",
    "publish_anchors",
    "record_access",
    "verify_chain",
]
