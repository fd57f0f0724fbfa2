"""Ieum benchmark: hot paths under concurrent load against gunicorn and PostgreSQL.

    make bench                      # BENCH_TIER=district by default
    BENCH_TIER=seoul make bench     # the full Seoul tier (loads it first if missing: minutes)

Steps: make sure the tier's database exists and is loaded (`seed_scale`), count the SQL queries
of each hot path in-process, time the one SQL query that returns the same rows (the floor),
start gunicorn on loopback, drive every path with BENCH_CLIENTS concurrent clients for at most
BENCH_REQUESTS requests or BENCH_SECONDS seconds, then time a 10,000-row roster import against
COPY of the same rows and a case update with and without history and access logging. Prints a
table and writes bench/results/<tier>.json. Nothing here asserts: budgets are read from the
figures (docs/performance.md).
"""

import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import threading
import time
import urllib.request
from http.client import HTTPConnection
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TIER = os.environ.get("BENCH_TIER", "district")
CLIENTS = int(os.environ.get("BENCH_CLIENTS", "16"))
# 1,000 requests a path (about ten seconds at these rates): a few seconds' sample let a passing
# slowdown of the machine decide a path's p95.
REQUESTS = int(os.environ.get("BENCH_REQUESTS", "1000"))
WARM_UP = min(REQUESTS, 100)
SECONDS = float(os.environ.get("BENCH_SECONDS", "20"))
# BENCH_ONLY=report_dashboard,api_reports_province measures those paths alone (and skips the
# import, audit and review figures): for a quick look at one change; results go to
# bench/results/<tier>-only.json so that the full run's stay.
ONLY = [name for name in os.environ.get("BENCH_ONLY", "").split(",") if name]
PORT = int(os.environ.get("BENCH_PORT", "8765"))
# One sync worker per core: on a machine shared with PostgreSQL more workers only contend for
# the cores (docs/performance.md has the figures for 2, 3, 5 and 8 workers on 2 cores).
WORKERS = int(os.environ.get("BENCH_WORKERS", str(os.cpu_count() or 1)))
DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", f"postgres://postgres@127.0.0.1:5432/ieum_bench_{TIER}"
)
SERVER_ENV = {
    "DATABASE_URL": DATABASE_URL,
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "SECRET_KEY": os.environ.get("SECRET_KEY", "bench-only-secret-key-not-for-production"),
    "ACCESS_LOG_KEY": os.environ.get(
        "ACCESS_LOG_KEY", "bench-only-access-log-key-not-for-production"
    ),
    "DEBUG": "0",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "SECURE_SSL_REDIRECT": "0",
    "SESSION_COOKIE_SECURE": "0",
    "CSRF_COOKIE_SECURE": "0",
    "CELERY_BROKER_URL": "",
    "LOG_LEVEL": "WARNING",
    # The paths are measured for signed-in sessions and tokens; the second factor is the
    # login's concern, not theirs.
    "MFA_REQUIRED": "0",
}
os.environ.update(SERVER_ENV)


def ensure_database() -> None:
    import psycopg2
    from psycopg2.extensions import parse_dsn

    name = DATABASE_URL.rsplit("/", 1)[1]
    dsn = parse_dsn(DATABASE_URL.replace(f"/{name}", "/postgres"))
    conn = psycopg2.connect(**dsn)
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
        if cursor.fetchone() is None:
            print(f"creating database {name}")
            cursor.execute(f'CREATE DATABASE "{name}"')
    conn.close()


def vacuum() -> float:
    """VACUUM (ANALYZE) the tier's database before measuring: what autovacuum does on a
    production server (this machine's PostgreSQL runs with it off), so that the figures are
    not taken on stale statistics and the dead rows of earlier, rolled-back runs."""
    import psycopg2
    from psycopg2.extensions import parse_dsn

    started = time.perf_counter()
    conn = psycopg2.connect(**parse_dsn(DATABASE_URL))
    conn.autocommit = True
    with conn.cursor() as cursor:
        cursor.execute("VACUUM (ANALYZE)")
    conn.close()
    return time.perf_counter() - started


def setup_django():
    """Migrate and load the tier in processes of their own (a Seoul load leaves gigabytes of
    objects behind that would slow the import and update figures measured here), then set up
    Django in this one."""
    manage = [sys.executable, str(ROOT / "manage.py")]
    env = {**os.environ, **SERVER_ENV}
    subprocess.run([*manage, "migrate", "--verbosity", "0"], cwd=ROOT, env=env, check=True)
    started = time.perf_counter()
    subprocess.run([*manage, "seed_scale", "--tier", TIER], cwd=ROOT, env=env, check=True)
    seconds = time.perf_counter() - started
    import django

    django.setup()
    return seconds


# --- The hot paths ----------------------------------------------------------------------------


def actors():
    """Who drives each path: the busiest school's coordinator, the district's centre head, the
    partner worker with the fullest inbox, the province's analyst."""
    from django.db.models import Count

    from casework.models import Case, Referral
    from partners.models import Membership, User

    school_id = (
        Case.objects.filter(owner__code__startswith="SC-")
        .exclude(status__in=["closed", "not_selected"])
        .values("owner")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()["owner"]
    )
    coordinator = Membership.objects.get(organization_id=school_id, role="coordinator").user
    centre = User.objects.get(username="b10-nambu.centre_head")
    partner_org = (
        Referral.objects.filter(kind="service", status__in=["sent", "received"])
        .values("to_organization")
        .annotate(n=Count("id"))
        .order_by("-n")
        .first()["to_organization"]
    )
    partner = (
        Membership.objects.filter(organization_id=partner_org, role="partner_worker")
        .order_by("user__username")
        .first()
        .user
    )
    case = (
        Case.objects.filter(owner_id=school_id, status="active")
        .annotate(n=Count("referrals"))
        .order_by("-n", "number")
        .first()
    )
    analyst = User.objects.get(username="b10.analyst")
    people = {"coordinator": coordinator, "centre": centre, "partner": partner}
    return {**people, "analyst": analyst}, case


def hot_paths(people, case):
    """(name, actor, path, floor queryset factory)."""
    from casework import access

    def first_page(qs, n=25):
        return qs[:n]

    from casework.reports import summary

    coordinator, centre, partner = people["coordinator"], people["centre"], people["partner"]
    analyst = people["analyst"]
    inbox = lambda user: access.received_referrals(user)  # noqa: E731

    def report(user, group):  # the report's two statements over the reader's schools
        period = summary.default_period(datetime.date.today())
        schools = summary.school_ids(access.report_scope(user))
        cells = summary.cells_for(schools, period, summary.ANY)
        return lambda: summary.queries(group, schools, period, cells=cells)

    return [
        (
            "work_queue",
            coordinator,
            "/casework/",
            lambda: first_page(access.visible_cases(coordinator).order_by("-created_at")),
        ),
        (
            "case_list",
            coordinator,
            "/casework/cases/",
            lambda: first_page(access.visible_cases(coordinator).order_by("-created_at")),
        ),
        (
            "case_page",
            coordinator,
            f"/casework/cases/{case.pk}/",
            lambda: access.visible_cases(coordinator).filter(pk=case.pk),
        ),
        (
            "case_timeline",
            coordinator,
            f"/api/v1/cases/{case.pk}/timeline/",
            lambda: case.history.order_by("-history_date")[:50],
        ),
        (
            "escalation_inbox",
            centre,
            "/casework/referrals/?box=inbox&kind=escalation",
            lambda: first_page(inbox(centre).filter(kind="escalation").order_by("-created_at")),
        ),
        (
            "partner_inbox",
            partner,
            "/casework/referrals/?box=inbox",
            lambda: first_page(inbox(partner).order_by("-created_at")),
        ),
        (
            "district_dashboard",
            centre,
            "/casework/district/",
            lambda: access.visible_cases(centre).filter(lead__code="B10-NAMBU").values("status"),
        ),
        (
            "api_cases",
            coordinator,
            "/api/v1/cases/",
            lambda: access.visible_cases(coordinator).order_by("-created_at")[:50],
        ),
        (
            "api_case",
            coordinator,
            f"/api/v1/cases/{case.pk}/",
            lambda: access.visible_cases(coordinator).filter(pk=case.pk),
        ),
        (
            "api_escalation_inbox",
            centre,
            "/api/v1/referrals/?box=inbox&kind=escalation",
            lambda: inbox(centre).filter(kind="escalation").order_by("-created_at")[:50],
        ),
        (
            "api_partner_inbox",
            partner,
            "/api/v1/referrals/?box=inbox",
            lambda: inbox(partner).order_by("-created_at")[:50],
        ),
        (
            "api_reports_office",
            centre,
            "/api/v1/reports/summary/?group_by=school",
            report(centre, "school"),
        ),
        (
            "api_reports_province",
            analyst,
            "/api/v1/reports/summary/?group_by=school",
            report(analyst, "school"),
        ),
        (
            "api_reports_month",
            analyst,
            "/api/v1/reports/summary/?group_by=month",
            report(analyst, "month"),
        ),
        (
            "report_dashboard",
            analyst,
            "/casework/reports/",
            lambda: (
                [
                    q
                    for group in ("month", "domain", "difficulty", "district")
                    for q in report(analyst, group)()[:1]
                ]
                + report(analyst, "district")()[1:]
            ),
        ),
    ]


def count_queries(user, path) -> tuple[int, int]:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    client = Client()
    client.force_login(user)
    client.get(path)  # warm caches the way a signed-in user's second page would
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(path)
    return len(ctx.captured_queries), response.status_code


def floor_ms(factory) -> float:
    """Median of 7 timings of the one SQL statement that returns the path's rows (a queryset),
    or of the statements a report is made of (a list of SQL and parameters)."""
    from django.db import connection

    made = factory()
    statements = [made.query.sql_with_params()] if hasattr(made, "query") else made
    timings = []
    with connection.cursor() as cursor:
        for _ in range(7):
            started = time.perf_counter()
            for sql, params in statements:
                cursor.execute(sql, params)
                cursor.fetchall()
            timings.append((time.perf_counter() - started) * 1000)
    return round(statistics.median(timings), 2)


def session_cookie(user) -> str:
    from django.test import Client

    client = Client()
    client.force_login(user)
    return f"sessionid={client.cookies['sessionid'].value}"


def api_token(user) -> str:
    from partners.models import ApiToken

    _token, key = ApiToken.issue(user)
    return key


# --- Load -------------------------------------------------------------------------------------


def start_server() -> subprocess.Popen:
    command = [
        sys.executable,
        "-m",
        "gunicorn",
        "config.wsgi",
        "--bind",
        f"127.0.0.1:{PORT}",
        "--workers",
        str(WORKERS),
        "--log-level",
        "warning",
    ]
    server = subprocess.Popen(command, cwd=ROOT, env={**os.environ, **SERVER_ENV})
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{PORT}/health/", timeout=1)
            return server
        except Exception:
            time.sleep(0.2)
    server.terminate()
    raise RuntimeError("gunicorn did not start")


def drive(path: str, headers: dict, requests: int = 0) -> dict:
    latencies: list[float] = []
    errors = 0
    lock = threading.Lock()
    deadline = time.perf_counter() + SECONDS
    issued = 0

    def worker():
        nonlocal issued, errors
        while True:
            with lock:
                if issued >= (requests or REQUESTS) or time.perf_counter() > deadline:
                    return
                issued += 1
            conn = HTTPConnection("127.0.0.1", PORT, timeout=30)
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except Exception:
                ok = False
            elapsed = (time.perf_counter() - started) * 1000
            conn.close()
            with lock:
                if ok:
                    latencies.append(elapsed)
                else:
                    errors += 1

    began = time.perf_counter()
    threads = [threading.Thread(target=worker) for _ in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    wall = time.perf_counter() - began
    latencies.sort()

    def pct(p):
        if not latencies:
            return None
        return round(latencies[min(len(latencies) - 1, int(len(latencies) * p))], 1)

    return {
        "requests": len(latencies),
        "errors": errors,
        "p50_ms": pct(0.50),
        "p95_ms": pct(0.95),
        "p99_ms": pct(0.99),
        "rps": round(len(latencies) / wall, 1) if wall else 0,
    }


# --- Import and audit overhead ----------------------------------------------------------------


class Rollback(Exception):
    pass


def import_figures() -> dict:
    """A 10,000-row roster import (parse, validate, write with history) against COPY of the
    same rows; both rolled back."""
    import csv
    import io

    from django.db import connection, transaction

    from casework import imports
    from casework.models import Student
    from partners.models import Organization

    school = Organization.objects.filter(code__startswith="SC-").order_by("code").last()
    rows = 10_000
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(["학년", "반", "번호", "성명", "생년월일", "성별", "학생개인번호"])
    for i in range(rows):
        grade = i % 6 + 1
        writer.writerow(
            [
                grade,
                i // 30 % 20 + 1,
                i % 30 + 1,
                f"벤치{i:05d}",
                f"{2019 - grade}-03-0{i % 9 + 1}",
                "남" if i % 2 else "여",
                f"BENCH{i:06d}",
            ]
        )
    payload = out.getvalue().encode("utf-8")

    def timed_import() -> float:
        started = time.perf_counter()
        try:
            with transaction.atomic():
                parsed = imports.parse(payload, "bench.csv", school=school)
                assert not parsed.errors, parsed.errors[:3]
                plan = imports.apply_import(parsed, school=school, by=None)
                assert not plan.errors, plan.errors[:3]
                elapsed = time.perf_counter() - started
                raise Rollback
        except Rollback:
            pass
        return elapsed

    # COPY of the same rows (no validation, no history).
    import uuid
    from datetime import date

    buf = io.StringIO()
    for i in range(rows):
        grade = i % 6 + 1
        buf.write(
            f"{uuid.uuid4()}\t{school.pk}\t벤치{i:05d}\t{date(2019 - grade, 3, i % 9 + 1)}\t"
            f"{'male' if i % 2 else 'female'}\t{grade}\t{i // 30 % 20 + 1}\t{i % 30 + 1}\tBENCH{i:06d}\t"
            f"enrolled\tf\tf\tf\tf\t\t\t\\N\tnow()\tnow()\n"
        )
    columns = [f.column for f in Student._meta.concrete_fields]

    def timed_copy() -> float:
        started = time.perf_counter()
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                buf.seek(0)
                cursor.cursor.copy_expert(
                    f"COPY casework_student ({', '.join(columns)}) FROM STDIN", buf
                )
                elapsed = time.perf_counter() - started
                raise Rollback
        except Rollback:
            pass
        return elapsed

    # Three rounds, interleaved, after a warm-up of each: one 0.3 s run is at the mercy of
    # whatever else the machine does; the medians are reported, every round is kept.
    timed_import(), timed_copy()
    rounds = [(timed_import(), timed_copy()) for _ in range(3)]
    import_rate = rows / statistics.median(i for i, _c in rounds)
    copy_rate = rows / statistics.median(c for _i, c in rounds)
    return {
        "rows": rows,
        "rows_per_s": round(import_rate),
        "copy_rows_per_s": round(copy_rate),
        "ratio": round(import_rate / copy_rate, 3),
        "rounds_s": [[round(i, 3), round(c, 3)] for i, c in rounds],
    }


def audit_overhead(user, case, n: int = 200) -> dict:
    """A case update through its workflow (permission check, row lock, optimistic version),
    with its history row and an access event, against the same workflow update with history
    switched off and no access event; both rolled back."""
    from unittest import mock

    from django.db import transaction

    from casework import audit
    from casework.models import Case
    from casework.workflows import common, records

    levels = ["watch", "caution", "crisis", "urgent"]

    def timed(fn) -> float:
        started = time.perf_counter()
        try:
            with transaction.atomic():
                for i in range(n):
                    fn(i)
                elapsed = time.perf_counter() - started
                raise Rollback
        except Rollback:
            pass
        return elapsed / n * 1000

    def update(i):
        fresh = Case.objects.get(pk=case.pk)
        return records.update_case(fresh, by=user, version=fresh.version, risk_level=levels[i % 4])

    # In a request the acting membership comes from the memberships the request already read
    # (partners.context_processors.active_memberships); here it is looked up once, likewise.
    from partners.models import Membership

    membership = Membership.objects.current().filter(user=user).first()

    def with_audit(i):
        updated = update(i)
        audit.record_access(user, "view", "case", [updated], case=updated, membership=membership)

    def save_without_history(obj, by, reason="", *, bump=False):
        obj.skip_history_when_saving = True
        try:
            common.save(obj, by, reason, bump=bump)
        finally:
            del obj.skip_history_when_saving

    def timed_without() -> float:
        with mock.patch.object(records, "save", save_without_history):
            return timed(update)

    # A warm-up of each, then three interleaved rounds; the medians are reported.
    timed(with_audit), timed_without()
    rounds = [(timed(with_audit), timed_without()) for _ in range(3)]
    with_ms = statistics.median(w for w, _o in rounds)
    without_ms = statistics.median(o for _w, o in rounds)
    return {
        "with_ms": round(with_ms, 2),
        "without_ms": round(without_ms, 2),
        "ratio": round(with_ms / without_ms, 2),
        "rounds_ms": [[round(w, 2), round(o, 2)] for w, o in rounds],
    }


# --- Main -------------------------------------------------------------------------------------


class _RolledBack(Exception):
    pass


def review_figures() -> dict:
    """The monthly access-log review of last month for the tier's provincial office (PIPA 8조):
    built as the beat job builds it, timed, then rolled back so the tier stays as loaded."""
    from django.db import transaction
    from django.utils import timezone

    from casework.workflows import reviews
    from partners.models import Organization

    office = Organization.objects.filter(kind="provincial_office").order_by("code").first()
    month = reviews.previous_month(timezone.localdate())
    figures = {"office": office.code if office else None, "month": month.strftime("%Y-%m")}
    if office is None:
        return figures
    started = time.perf_counter()
    try:
        with transaction.atomic():
            review = reviews.build_review(office, month)
            figures["events"] = review.event_count
            figures["findings"] = review.findings.count()
            figures["seconds"] = round(time.perf_counter() - started, 1)
            raise _RolledBack
    except _RolledBack:
        pass
    return figures


def main() -> None:
    ensure_database()
    seed_seconds = setup_django()
    print(f"VACUUM (ANALYZE): {vacuum():.1f} s")
    from django.db import connection

    from casework.models import Case, Referral, Student

    people, case = actors()
    sizes = {
        "students": Student.objects.count(),
        "cases": Case.objects.count(),
        "referrals": Referral.objects.count(),
    }
    print(f"tier {TIER}: {sizes}; {CLIENTS} clients, {WORKERS} gunicorn workers")
    paths = hot_paths(people, case)
    if ONLY:
        paths = [p for p in paths if p[0] in ONLY]
        if not paths:
            raise SystemExit(f"BENCH_ONLY names no path: {', '.join(ONLY)}")
    measured = {}
    for name, user, path, factory in paths:
        queries, status = count_queries(user, path)
        measured[name] = {"queries": queries, "status": status, "floor_ms": floor_ms(factory)}
    cookies = {p[1].pk: session_cookie(p[1]) for p in paths}
    tokens = {p[1].pk: api_token(p[1]) for p in paths}
    connection.close()
    server = start_server()
    try:
        for name, user, path, _factory in paths:
            headers = (
                {"Authorization": f"Bearer {tokens[user.pk]}"}
                if path.startswith("/api/")
                else {"Cookie": cookies[user.pk]}
            )
            drive(path, headers, WARM_UP)  # warm the workers
            measured[name].update(drive(path, headers))
    finally:
        server.terminate()
        server.wait(timeout=10)
    results = {
        "tier": TIER,
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
            "postgres": connection.cursor().connection.server_version,
        },
        "sizes": sizes,
        "clients": CLIENTS,
        "workers": WORKERS,
        "seed_seconds": round(seed_seconds, 1),
        "paths": measured,
    }
    if not ONLY:
        results["import"] = import_figures()
        overhead = audit_overhead(people["coordinator"], case)
        results["audit_overhead"] = overhead["ratio"]
        results["audit_detail"] = overhead
        results["review"] = review_figures()
    out = ROOT / "bench" / "results" / (f"{TIER}-only.json" if ONLY else f"{TIER}.json")
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print_table(results)
    print(f"written to {out.relative_to(ROOT)}")


def print_table(results: dict) -> None:
    header = f"{'path':22} {'p50':>7} {'p95':>7} {'p99':>7} {'rps':>7} {'queries':>7} {'floor':>7} {'ratio':>6} {'errors':>6}"
    print(header)
    print("-" * len(header))
    for name, r in results["paths"].items():
        ratio = (r["p50_ms"] / r["floor_ms"]) if r.get("p50_ms") and r["floor_ms"] else 0
        print(
            f"{name:22} {r['p50_ms']:>7} {r['p95_ms']:>7} {r['p99_ms']:>7} {r['rps']:>7} "
            f"{r['queries']:>7} {r['floor_ms']:>7} {ratio:>6.1f} {r['errors']:>6}"
        )
    if "import" not in results:  # BENCH_ONLY
        return
    imp = results["import"]
    print(
        f"roster import: {imp['rows_per_s']:,} rows/s; COPY {imp['copy_rows_per_s']:,} rows/s "
        f"({imp['ratio']:.0%} of COPY)"
    )
    detail = results["audit_detail"]
    print(
        f"case update: {detail['with_ms']} ms with history and access log, "
        f"{detail['without_ms']} ms without (x{detail['ratio']})"
    )
    review = results.get("review") or {}
    if "seconds" in review:
        print(
            f"monthly review {review['month']} ({review['office']}): {review['events']:,} events, "
            f"{review['findings']} findings in {review['seconds']} s (budget: 120 s)"
        )


if __name__ == "__main__":
    main()
