"""The access log and the case's past (DESIGN.md §6).

- `access_log`: access events (every read of personal data) and their keyed hash chain;
- `anchors`: each month's head published outside the database, and the chain's verification;
- `partitions`: the log's monthly tables, created ahead and dropped whole at expiry;
- `history`: field-level changes of a case and its records;
- `timeline`: history, referral events and reads in one chronology, paged in SQL.
"""

from . import partitions
from .access_log import (
    GENESIS,
    content,
    content_digest,
    content_mac,
    digest,
    ensure_partition,
    legacy_digest,
    partition_table,
    record_access,
    record_access_at,
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
    "ensure_partition",
    "expire_month",
    "legacy_digest",
    "load_anchors",
    "parse_anchors",
    "partition_table",
    "partitions",
    "publish_anchors",
    "record_access",
    "record_access_at",
    "verify_chain",
]
