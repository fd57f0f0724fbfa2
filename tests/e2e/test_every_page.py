"""Every page of every demo role passes axe-core (WCAG 2.x A/AA and best practices, colour
contrast included) on a desktop and a phone screen, with content in its lists and detail
pages. Each page's full-page screenshot goes to test-results/screens/ for review."""

import os
import time
from datetime import timedelta
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from casework.models import AccessReview, ReviewFinding
from casework.workflows import lifecycle, planning
from tests import builders

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parents[2]
AXE = ROOT / "node_modules" / "axe-core" / "axe.min.js"
SCREENS = ROOT / "test-results" / "screens"
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "mobile": {"width": 390, "height": 844}}
ROLES = (
    "teacher",
    "counselor",
    "coordinator",
    "vice",
    "principal",
    "casemanager",
    "centrehead",
    "partner",
    "analyst",
    "privacy",
)

# Page name -> (URL name, arguments from the world). A role is shown the pages that answer
# 200 for it; which role may open which page is the isolation matrix's concern (tests/access).
PAGES = {
    "home": ("home", None),
    "directory": ("directory", None),
    "queue": ("casework:queue", None),
    "concerns": ("casework:concern_list", None),
    "concern-new": ("casework:concern_new", None),
    "cases": ("casework:case_list", None),
    "case-new": ("casework:case_new", None),
    "case": ("casework:case_detail", lambda w: [w.case.pk]),
    "case-timeline": ("casework:case_timeline", lambda w: [w.case.pk]),
    "case-plans": ("casework:case_plans", lambda w: [w.case.pk]),
    "referral-new": ("casework:referral_new", lambda w: [w.case.pk]),
    "referrals-inbox": ("casework:referral_list", "?box=inbox"),
    "referrals-outbox": ("casework:referral_list", "?box=outbox"),
    "referral": ("casework:referral_detail", lambda w: [w.referral.pk]),
    "escalation": ("casework:referral_detail", lambda w: [w.escalation.pk]),
    "transfers": ("casework:transfer_list", None),
    "meetings": ("casework:meeting_list", None),
    "meeting-new": ("casework:meeting_new", None),
    "students": ("casework:student_list", None),
    "student": ("casework:student_detail", lambda w: [w.case.student.pk]),
    "roster-import": ("casework:roster_import", None),
    "job": ("casework:job_detail", lambda w: [w.job.pk]),
    "export-new": ("casework:export_new", "?kind=case_list"),
    "exports": ("casework:export_list", None),
    "notifications": ("casework:notifications", None),
    "approvals": ("casework:approvals", None),
    "overview": ("casework:school_overview", None),
    "district": ("casework:district_dashboard", None),
    "reports": ("casework:report_dashboard", None),
    # Alerts from partners (DESIGN.md §11).
    "alerts": ("casework:alert_list", None),
    "alert-new": ("casework:alert_new", None),
    "alerts-to-route": ("casework:alert_route_list", None),
    # Oversight (DESIGN.md §9).
    "oversight": ("casework:oversight", None),
    "reviews": ("casework:review_list", None),
    "review": ("casework:review_detail", lambda w: [w.review.pk]),
    "finding": ("casework:finding_detail", lambda w: [w.finding.pk]),
    "finding-answer": ("casework:finding_answer", lambda w: [w.finding.pk]),
    "access-log": ("casework:access_log", None),
    "destructions": ("casework:destruction_register", None),
    "break-glass": ("casework:break_glass_search", "?number=2026-S0001-0001"),
    "subject-search": ("casework:subject_search", None),
    "subject-access": ("casework:subject_access", lambda w: [w.case.student.pk]),
}

# Violations accepted for a while, page -> reason: the role's test is then marked xfail with the
# reason. None today; an entry must name the template to fix and go with the fix.
KNOWN: dict[str, str] = {}

TIMES = {"axe": 0.0, "shot": 0.0}
# htmx has swapped in what the page loads by itself (badges, the case history).
SETTLED = "() => document.readyState === 'complete' && !document.querySelector('.htmx-request')"
RUN_AXE = """async () => {
  const r = await axe.run(document, {resultTypes: ["violations"]});
  return r.violations.map(v => `${v.id} (${v.impact}): ` +
    v.nodes.slice(0, 3).map(n => n.target.join(" ")).join(" | "));
}"""


def url_of(world, page):
    name, args = PAGES[page]
    if isinstance(args, str):
        return reverse(name) + args
    return reverse(name, args=args(world) if args else None)


@pytest.fixture
def full_world(school_objects):
    """school_objects plus a submitted plan, a school team meeting and an escalation to
    남부교육지원청 that it has received, so approvals, meetings and the district see content."""
    w = school_objects
    w.job.file_name = "명부.csv"
    w.job.save()
    planning.submit_plan(w.plan, by=w["coordinator"])
    lifecycle.record_meeting(
        by=w["vice"],
        organization=w.school,
        kind="school_team",
        held_on=timezone.localdate(),
        attendees=[w["vice"], w["coordinator"]],
        guests=["외부 위원"],
        minutes="회의록",
        decisions=[],
    )
    builders.office_consents(w, w.case)
    w.escalation = builders.wf.send_referral(
        builders.escalation(w, w.case, respond_by=timezone.localdate() + timedelta(days=7)),
        by=w["coordinator"],
    )
    # Last month's review with a finding about the coordinator, asked to explain.
    w.review = AccessReview.objects.create(
        office=w.province, month=timezone.localdate().replace(day=1), status="built"
    )
    w.finding = ReviewFinding.objects.create(
        review=w.review,
        kind="after_hours",
        user=w["coordinator"],
        organization=w.school,
        count=2,
        first_at=timezone.now(),
        last_at=timezone.now(),
        status="asked",
        question="밤 11시 열람 사유를 알려 주세요.",
        detail={"hours": "08:00-19:00"},
    )
    return w


def pages_for(world, username):
    client = Client()
    client.force_login(world[username])
    return [page for page in PAGES if client.get(url_of(world, page)).status_code == 200]


def check(page, url, shot):
    response = page.goto(url)
    assert response.ok, url
    page.wait_for_function(SETTLED)
    page.add_script_tag(path=str(AXE))
    started = time.monotonic()
    violations = page.evaluate(RUN_AXE)
    TIMES["axe"] += time.monotonic() - started
    started = time.monotonic()
    page.screenshot(path=str(shot))
    TIMES["shot"] += time.monotonic() - started
    return violations


@pytest.mark.parametrize("username", ROLES)
def test_every_page_of_the_role_passes_axe(
    transactional_db, full_world, live_server, sign_in_as, username
):
    SCREENS.mkdir(parents=True, exist_ok=True)
    pages = pages_for(full_world, username)
    assert "home" in pages and "notifications" in pages
    browser_page = sign_in_as(username)
    found = {}
    for width, viewport in WIDTHS.items():
        browser_page.set_viewport_size(viewport)
        for name in pages:
            shot = SCREENS / f"{username}-{name}-{width}.png"
            url = live_server.url + url_of(full_world, name)
            for violation in check(browser_page, url, shot):
                found.setdefault(name, set()).add(f"{width}: {violation}")
    unexpected = {name: sorted(v) for name, v in found.items() if name not in KNOWN}
    for name, violations in unexpected.items():
        print(f"AXE {username} {name}:", *violations, sep="\n  ")
    assert not unexpected, unexpected
    known = sorted(name for name in found if name in KNOWN)
    if known:
        pytest.xfail("; ".join(f"{name}: {KNOWN[name]}" for name in known))


def test_sign_in_and_error_pages_pass_axe(transactional_db, world, live_server, browser):
    SCREENS.mkdir(parents=True, exist_ok=True)
    context = browser.new_context(locale="ko-KR")
    page = context.new_page()
    found = {}
    for width, viewport in WIDTHS.items():
        page.set_viewport_size(viewport)
        page.goto(live_server.url + reverse("login"))
        page.add_script_tag(path=str(AXE))
        found[f"login {width}"] = page.evaluate(RUN_AXE)
        page.screenshot(path=str(SCREENS / f"anonymous-login-{width}.png"), full_page=True)
    page.goto(live_server.url + "/casework/no-such-page/")
    page.add_script_tag(path=str(AXE))
    found["404"] = page.evaluate(RUN_AXE)
    context.close()
    assert not any(found.values()), found


# The user guide's pictures (docs/img/): who, which page, file name. Refresh them with
# UPDATE_DOC_SCREENSHOTS=1 after a visible change of these pages.
DOC_SHOTS = (
    ("coordinator", "queue", "queue"),
    ("coordinator", "cases", "case-list"),
    ("coordinator", "concerns", "concern-list"),
    ("coordinator", "case", "case"),
    ("coordinator", "referral-new", "referral-new"),
    ("partner", "referrals-inbox", "partner-inbox"),
    ("principal", "approvals", "approvals"),
    ("centrehead", "district", "district"),
    ("analyst", "reports", "reports"),
)


@pytest.mark.skipif(
    not os.environ.get("UPDATE_DOC_SCREENSHOTS"),
    reason="writes docs/img/; set UPDATE_DOC_SCREENSHOTS=1 to refresh the guide's pictures",
)
def test_update_doc_screenshots(transactional_db, full_world, live_server, sign_in_as):
    target = ROOT / "docs" / "img"
    target.mkdir(parents=True, exist_ok=True)
    pages = {}
    for username, name, file in DOC_SHOTS:
        page = pages.get(username) or pages.setdefault(username, sign_in_as(username))
        for width, viewport in WIDTHS.items():
            page.set_viewport_size(viewport)
            page.goto(live_server.url + url_of(full_world, name))
            page.wait_for_load_state("networkidle")
            shot = target / f"{file}-{width}.png"
            page.screenshot(path=str(shot))
            assert shot.stat().st_size <= 200_000, shot
