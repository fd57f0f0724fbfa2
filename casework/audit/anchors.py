"""Each month's head published outside the database (ACCESS_LOG_ANCHORS), so that a cut tail
shows too, and the verification of the chain against its heads and anchors (DESIGN.md §6,
docs/operations.md: access log)."""

import datetime
import fcntl
import json
import logging
import os
import socket
from collections import defaultdict
from collections.abc import Iterable
from contextlib import ExitStack
from dataclasses import dataclass, field
from itertools import groupby
from operator import attrgetter
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from casework.models import AccessChainHead, AccessEvent

from .access_log import GENESIS, KEYED, LEGACY, hash_level

logger = logging.getLogger(__name__)


@dataclass
class ChainProblem:
    partition: str
    event_id: int | None
    problem: str
    # Only a month hashed before the key with no anchor yet: `anchor_access_log --seal-legacy`
    # vouches for it once, at the switch-over.
    sealable: bool = False

    def __str__(self):
        where = f" event {self.event_id}" if self.event_id else ""
        return f"{self.partition}{where}: {self.problem}"


UNANCHORED = "rows hashed without ACCESS_LOG_KEY and not anchored"


def _check_month(partition, rows, head, anchors, expired, key) -> tuple[int, list[ChainProblem]]:
    """Walk one month's rows (in id order) against its head and its anchors."""
    problems = []
    live = [] if expired else sorted({(a.count, a.digest) for a in anchors if not a.expired})
    wanted = {count for count, _digest in live} | ({head.count} if head else set())
    hashes, ids = {}, {}  # of the rows at the anchored positions, and of those just after
    prev, count, top, keyed = GENESIS, 0, LEGACY, False
    for event in rows:
        count += 1
        if event.prev_hash != prev:
            problems.append(ChainProblem(partition, event.id, "link broken"))
        level = hash_level(event, key)
        if level is None or level < top:
            problems.append(ChainProblem(partition, event.id, "content altered"))
        else:
            top, keyed = level, keyed or level == KEYED
        prev = event.hash
        if count in wanted:
            hashes[count] = event.hash
        if count - 1 in wanted or count == 1:
            ids[count] = event.id

    anchored = 0  # rows an anchor vouches for
    if live:
        most = live[-1][0]
        if count == 0:
            problems.append(
                ChainProblem(
                    partition, None, f"all rows gone: the anchor of this month counted {most} rows"
                )
            )
        elif count < most:
            problems.append(
                ChainProblem(
                    partition,
                    None,
                    f"rows missing: the anchor of this month counted {most} rows, {count} are left",
                )
            )
        for anchor_count, digest in live:
            if anchor_count > count:
                break
            if hashes.get(anchor_count) != digest:
                problems.append(
                    ChainProblem(
                        partition,
                        None,
                        f"rows rewritten: row {anchor_count} is not the one the anchor of this "
                        "month counted",
                    )
                )
                break
            anchored = anchor_count
    if count > anchored and not keyed and top < KEYED and count > 0:
        unvouched = ids.get(anchored + 1)
        if not any(p.event_id == unvouched for p in problems):
            problems.append(ChainProblem(partition, unvouched, UNANCHORED, sealable=True))

    if head is None:
        if count:
            problems.append(ChainProblem(partition, None, "rows without a chain head"))
    elif count < head.count:
        problems.append(ChainProblem(partition, None, "rows missing at the end"))
    elif hashes.get(head.count, GENESIS) != head.last_hash:
        # More rows than the head counted are appends after the head was read.
        problems.append(ChainProblem(partition, None, "chain head does not match its rows"))
    return count, problems


def _verify(partition, anchors, heads=None) -> tuple[int, list[ChainProblem]]:
    key = settings.ACCESS_LOG_KEY.encode()
    by_month, expired = defaultdict(list), set()
    for anchor in anchors:
        if partition is None or anchor.month == partition:
            by_month[anchor.month].append(anchor)
            if anchor.expired:
                expired.add(anchor.month)
    if heads is None:  # read before the rows: rows appended meanwhile only add to the walk
        found = AccessChainHead.objects.all()
        if partition:
            found = found.filter(partition=partition)
        heads = {head.partition: head for head in found}
    rows = AccessEvent.objects.order_by("partition", "id")
    if partition:
        rows = rows.filter(partition=partition)
    checked, problems, walked = 0, [], set()
    for month, group in groupby(rows.iterator(chunk_size=2000), key=attrgetter("partition")):
        walked.add(month)
        args = (heads.get(month), by_month[month], month in expired, key)
        count, found = _check_month(month, group, *args)
        checked += count
        problems += found
    for month in sorted((set(heads) | set(by_month)) - walked):
        problems += _check_month(
            month, (), heads.get(month), by_month[month], month in expired, key
        )[1]
    problems.sort(key=attrgetter("partition"))
    return checked, problems


def verify_chain(
    partition: str | None = None, anchors: list["Anchor"] | None = None
) -> tuple[int, list[ChainProblem]]:
    """Walk every month that has rows, a head or an anchor (or only `partition`), and report
    rows whose keyed hash or link does not hold, heads that do not match their rows, months with
    rows and no head, and months shorter than, or different from, what their anchors published
    (a cut tail, a rewritten one, both tables emptied). `anchors` defaults to the readable
    stores of ACCESS_LOG_ANCHORS. Returns (rows checked, problems)."""
    return _verify(partition, load_anchors() if anchors is None else anchors)


# --- Anchors: each month's head published outside the database -------------------------------

ANCHOR_MARK = "ieum-access-log-anchor "
KEEP_MONTHS = 24  # PIPA: access logs kept at least two years (DESIGN.md §6)


class AnchorError(Exception):
    """The anchor store is missing, unreadable or refuses the request."""


@dataclass(frozen=True)
class Anchor:
    month: str
    count: int = 0
    digest: str = ""
    at: str = ""
    expired: bool = False

    def line(self) -> str:
        if self.expired:
            data = {"month": self.month, "expired": True, "at": self.at}
        else:
            data = {"month": self.month, "count": self.count, "digest": self.digest, "at": self.at}
        return ANCHOR_MARK + json.dumps(data, sort_keys=True)


@dataclass
class AnchorRun:
    published: list[Anchor] = field(default_factory=list)
    unchanged: int = 0
    refused: list[ChainProblem] = field(default_factory=list)


def _destinations() -> list[str]:
    return [d.strip() for d in (settings.ACCESS_LOG_ANCHORS or "").split(",") if d.strip()]


def _is_syslog(destination: str) -> bool:
    return destination == "syslog" or destination.startswith("syslog:")


def anchor_files() -> list[Path]:
    """The file stores of ACCESS_LOG_ANCHORS (a relative path is under the checkout)."""
    paths = []
    for destination in _destinations():
        if not _is_syslog(destination):
            path = Path(destination)
            paths.append(path if path.is_absolute() else Path(settings.BASE_DIR) / path)
    return paths


def anchors_unreadable() -> bool:
    """True when anchors go only to syslog, which the verification cannot read back."""
    return bool(_destinations()) and not anchor_files()


def parse_anchors(lines: Iterable[str], source: str = "") -> list[Anchor]:
    """Anchor records from a store's lines (or an export of the syslog lines), oldest first."""
    anchors = []
    for number, line in enumerate(lines, 1):
        if ANCHOR_MARK not in line:
            continue
        try:
            data = json.loads(line.split(ANCHOR_MARK, 1)[1])
            anchors.append(
                Anchor(
                    month=str(data["month"]),
                    count=int(data.get("count", 0)),
                    digest=str(data.get("digest", "")),
                    at=str(data.get("at", "")),
                    expired=bool(data.get("expired", False)),
                )
            )
        except (ValueError, KeyError, TypeError) as error:
            raise AnchorError(f"{source or 'anchors'} line {number}: unreadable anchor") from error
    return anchors


def load_anchors(paths: Iterable[Path] | None = None) -> list[Anchor]:
    """Every anchor of the file stores (or of `paths`); a store not written yet has none."""
    anchors = []
    for path in anchor_files() if paths is None else paths:
        try:
            with open(path, encoding="utf-8") as store:
                anchors += parse_anchors(store, str(path))
        except FileNotFoundError:
            continue
        except OSError as error:
            raise AnchorError(f"{path}: {error}") from error
    return anchors


def _open_stores(stack: ExitStack, paths: list[Path]) -> list:
    """Open each file store for appending only, locked against a concurrent run."""
    handles = []
    for path in paths:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o640)
        handle = stack.enter_context(os.fdopen(descriptor, "a", encoding="utf-8"))
        fcntl.flock(handle, fcntl.LOCK_EX)
        handles.append(handle)
    return handles


def _syslog_send(destination: str, lines: list[str]) -> None:
    """Send each line to syslog (facility authpriv): `syslog` is the local socket /dev/log,
    `syslog:/path` another local socket, `syslog:host[:port]` a remote one over UDP."""
    target = destination.partition(":")[2] or "/dev/log"
    priority = 10 * 8 + 6  # authpriv.info
    messages = [f"<{priority}>ieum: {line}".encode() for line in lines]
    if target.startswith("/"):
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
                sock.connect(target)
                for message in messages:
                    sock.send(message)
        except OSError as error:
            if error.errno != 91:  # EPROTOTYPE: a stream socket
                raise AnchorError(f"{destination}: {error}") from error
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
                sock.connect(target)
                sock.sendall(b"".join(m + b"\0" for m in messages))
        return
    host, _sep, port = target.rpartition(":") if ":" in target else (target, "", "514")
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for message in messages:
                sock.sendto(message, (host, int(port)))
    except (OSError, ValueError) as error:
        raise AnchorError(f"{destination}: {error}") from error


def _publish(stores, destinations, anchors: list[Anchor]) -> None:
    lines = [anchor.line() for anchor in anchors]
    if not lines:
        return
    for handle in stores:
        handle.write("".join(line + "\n" for line in lines))
        handle.flush()
        os.fsync(handle.fileno())
    for destination in destinations:
        if _is_syslog(destination):
            _syslog_send(destination, lines)


def publish_anchors(*, seal_legacy: bool = False) -> AnchorRun:
    """Publish each month's head (month, count, digest) to ACCESS_LOG_ANCHORS, appending.

    A month whose head equals its latest anchor in a file store is skipped, so a second run with
    nothing new writes nothing (syslog cannot be read back: with syslog alone, every month is
    sent each run). A month is anchored only once it verifies: the anchor never vouches for a
    broken chain. `seal_legacy` (once, at the switch-over to the key) anchors months hashed
    before the key, whose only problem is that nothing vouches for them yet."""
    destinations = _destinations()
    if not destinations:
        raise AnchorError("ACCESS_LOG_ANCHORS is empty: nowhere to publish the heads")
    run = AnchorRun()
    with ExitStack() as stack:
        stores = _open_stores(stack, anchor_files())
        known = load_anchors()
        latest = {anchor.month: anchor for anchor in known}
        at = timezone.localtime().isoformat(timespec="seconds")
        for head in AccessChainHead.objects.filter(count__gt=0).order_by("partition"):
            last = latest.get(head.partition)
            if last and (last.count, last.digest, last.expired) == (
                head.count,
                head.last_hash,
                False,
            ):
                run.unchanged += 1
                continue
            _checked, problems = _verify(head.partition, known, {head.partition: head})
            blocking = [p for p in problems if not (seal_legacy and p.sealable)]
            if blocking:
                run.refused += blocking
                continue
            run.published.append(Anchor(head.partition, head.count, head.last_hash, at))
        _publish(stores, destinations, run.published)
    for problem in run.refused:
        logger.error("access log not anchored: %s", problem)
    return run


def expire_month(month: str, today: datetime.date | None = None) -> Anchor:
    """Record in the anchor stores that a month's rows are dropped at expiry, so that their
    absence is no longer a truncation. Refused for a month still within the keeping period."""
    try:
        year, number = (int(part) for part in month.split("-"))
        datetime.date(year, number, 1)
    except ValueError as error:
        raise AnchorError(f"{month}: not a month (YYYY-MM)") from error
    today = today or timezone.localdate()
    age = (today.year * 12 + today.month) - (year * 12 + number)
    if age <= KEEP_MONTHS:
        raise AnchorError(f"{month}: access logs are kept {KEEP_MONTHS} months after their month")
    destinations = _destinations()
    if not destinations:
        raise AnchorError("ACCESS_LOG_ANCHORS is empty: nowhere to record the expiry")
    anchor = Anchor(month, at=timezone.localtime().isoformat(timespec="seconds"), expired=True)
    with ExitStack() as stack:
        _publish(_open_stores(stack, anchor_files()), destinations, [anchor])
    return anchor
