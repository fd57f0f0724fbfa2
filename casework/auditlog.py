"""The access-log search of the privacy officer (DESIGN.md §9, API.md: GET /api/v1/audit/access/).

The officer reads the events `access.visible_access_events` gives them, narrowed by the filters
of `AccessLogFilterForm`, newest first. Pages carry no total count (a month of Seoul holds
millions of rows, and counting them all would cost more than the page) and are found by a
cursor, the last row shown, so that the rows written meanwhile shift nothing.
A CSV download takes at most `EXPORT_MAX` rows, states its reason and is logged as a download.
"""

import csv
import io
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta

from django.db.models import Q, QuerySet
from django.http import StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

from casework import access
from casework.models import AccessEvent
from core import exportfiles
from core.exportfiles import neutralised
from core.params import BadParameter
from partners.models import User

PAGE_SIZE = 50
PAGE_MAX_SIZE = 200
EXPORT_MAX = 10_000


def _uuid(text: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(text)
    except (ValueError, AttributeError, TypeError):
        return None


def _day_start(day) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def search(user: User, filters: dict) -> QuerySet[AccessEvent]:
    """The events the officer may read matching `filters` (the cleaned data of
    AccessLogFilterForm), newest first, with what a row shows."""
    rows = access.visible_access_events(user)
    case = (filters.get("case") or "").strip()
    if case:
        pk = _uuid(case)
        rows = rows.filter(case_id=pk) if pk else rows.filter(case__number=case)
    if filters.get("student"):
        rows = rows.filter(student_id=filters["student"])
    who = (filters.get("user") or "").strip()
    if who:
        pk = _uuid(who)
        rows = rows.filter(user_id=pk) if pk else rows.filter(user__username=who)
    if filters.get("action"):
        rows = rows.filter(action=filters["action"])
    if filters.get("since"):
        rows = rows.filter(occurred_at__gte=_day_start(filters["since"]))
    if filters.get("until"):
        rows = rows.filter(occurred_at__lt=_day_start(filters["until"] + timedelta(days=1)))
    return rows.select_related("user", "membership__organization", "case", "student").order_by(
        "-occurred_at", "-id"
    )


@dataclass
class Page:
    rows: list[AccessEvent]
    cursor: str | None  # where the next page starts; None on the last page
    first: bool


def cursor_of(event: AccessEvent) -> str:
    moment = int(event.occurred_at.timestamp() * 1_000_000)
    return f"{moment}.{event.id}"


def oldest_first(rows: QuerySet[AccessEvent]) -> QuerySet[AccessEvent]:
    """`rows` (a search) from the oldest event on, for the page sorted that way."""
    return rows.order_by("occurred_at", "id")


def after_cursor(
    rows: QuerySet[AccessEvent], cursor: str | None, *, newest_first: bool = True
) -> QuerySet[AccessEvent]:
    """The rows older than the cursor's row (newer, when the rows go oldest first). A page is
    found by where it starts, not by an offset: the log grows while it is read (reading it
    writes a row), and an offset would show rows twice."""
    if not cursor:
        return rows
    try:
        moment_text, id_text = cursor.split(".")
        moment = datetime.fromtimestamp(int(moment_text) / 1_000_000, tz=UTC)
        pk = int(id_text)
    except (ValueError, OverflowError, OSError):
        raise BadParameter(
            "cursor", _("쪽 위치가 올바르지 않습니다. 처음부터 다시 찾으세요.")
        ) from None
    if not newest_first:
        return rows.filter(Q(occurred_at__gt=moment) | Q(occurred_at=moment, id__gt=pk))
    return rows.filter(Q(occurred_at__lt=moment) | Q(occurred_at=moment, id__lt=pk))


def page_of(
    rows: QuerySet[AccessEvent],
    cursor: str | None,
    size: int = PAGE_SIZE,
    *,
    newest_first: bool = True,
) -> Page:
    """One page of `rows` from `cursor`, and the next page's cursor, from one query of
    size + 1 rows; `newest_first=False` for rows ordered by `oldest_first`."""
    found = list(after_cursor(rows, cursor, newest_first=newest_first)[: size + 1])
    shown = found[:size]
    more = len(found) > size
    return Page(rows=shown, cursor=cursor_of(shown[-1]) if more else None, first=not cursor)


def organization_of(event: AccessEvent):
    return event.membership.organization if event.membership_id else None


def as_json(event: AccessEvent) -> dict:
    """One event as API.md lists it."""
    organization = organization_of(event)
    return {
        "id": event.id,
        "occurred_at": timezone.localtime(event.occurred_at).isoformat(),
        "user": {"id": str(event.user_id), "name": str(event.user)},
        "organization": (
            {"id": str(organization.pk), "name": organization.name} if organization else None
        ),
        "action": event.action,
        "object_type": event.object_type,
        "case": str(event.case_id) if event.case_id else None,
        "case_number": event.case.number if event.case_id else None,
        "student": str(event.student_id) if event.student_id else None,
        "object_count": len(event.object_ids or []),
        "reason": event.reason,
        "ip": event.ip_address,
    }


def csv_header() -> list[str]:
    return [
        _("번호"),
        _("일시"),
        _("사용자"),
        _("아이디"),
        _("소속"),
        _("행위"),
        _("대상 종류"),
        _("대상 수"),
        _("사례 번호"),
        _("학생 ID"),
        _("사유"),
        _("IP 주소"),
        _("경로"),
    ]


def csv_row(event: AccessEvent) -> list[str]:
    organization = organization_of(event)
    when = timezone.localtime(event.occurred_at).strftime("%Y-%m-%d %H:%M:%S")
    return [
        neutralised(value)
        for value in (
            event.id,
            when,
            event.user,
            event.user.username,
            organization.name if organization else "",
            event.get_action_display(),
            event.object_type,
            len(event.object_ids or []),
            event.case.number if event.case_id else "",
            event.student_id or "",
            event.reason,
            event.ip_address or "",
            event.path,
        )
    ]


def csv_lines(events: Iterable[AccessEvent], watermark: str) -> Iterator[str]:
    """The CSV, line by line (UTF-8 with a byte-order mark, so that Excel reads Korean): a
    first line saying who downloaded it, when and why, then the header and the rows."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)

    def line(values) -> str:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(values)
        return buffer.getvalue()

    yield "\ufeff" + line([neutralised(watermark)])
    yield line(csv_header())
    for event in events:
        yield line(csv_row(event))


def watermark(user: User, reason: str) -> str:
    organization = ", ".join(o.name for o in access.privacy_offices(user))
    return exportfiles.watermark(str(user), organization, timezone.now(), reason)


def export_rows(rows: QuerySet[AccessEvent]) -> list[AccessEvent]:
    """At most EXPORT_MAX rows of a download, newest first."""
    return list(rows[:EXPORT_MAX])


def filename() -> str:
    return f"access-log-{timezone.localdate():%Y%m%d}.csv"


def download_response(user: User, events: list[AccessEvent], reason: str) -> StreamingHttpResponse:
    """The CSV of `events` as a download that no cache keeps."""
    response = StreamingHttpResponse(
        csv_lines(events, watermark(user, reason)), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename()}"'
    response["Cache-Control"] = "no-store"
    return response
