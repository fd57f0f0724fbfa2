"""The shared layout as people see it: a compact header with a menu button on a phone, list
tables that stay inside the page, links that look like links, readable chosen values in selects
and Django messages shown as KRDS alerts."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.contrib.messages import constants
from django.contrib.messages.storage.fallback import FallbackStorage
from django.template.loader import render_to_string
from django.urls import reverse

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 390, "height": 844}

# WCAG relative luminance contrast of two computed CSS colours ("rgb(r, g, b)").
CONTRAST = """([a, b]) => {
  const lum = (c) => {
    const [r, g, bl] = c.match(/[\\d.]+/g).slice(0, 3).map(Number).map((v) => {
      v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; });
    return 0.2126 * r + 0.7152 * g + 0.0722 * bl;
  };
  const [hi, lo] = [lum(a), lum(b)].sort((x, y) => y - x);
  return (hi + 0.05) / (lo + 0.05);
}"""


def fits(page):
    return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")


def test_phone_header_menu_and_tables(transactional_db, school_objects, live_server, sign_in_as):
    page = sign_in_as("coordinator")
    page.set_viewport_size(PHONE)
    page.goto(live_server.url + reverse("casework:referral_list") + "?box=outbox")
    header = page.locator("#krds-header")
    assert header.bounding_box()["height"] <= 90
    nav = page.get_by_role("navigation", name="주 메뉴")
    assert not nav.is_visible()
    button = page.get_by_role("button", name="메뉴")
    assert button.get_attribute("aria-expanded") == "false"
    button.focus()
    page.keyboard.press("Enter")
    assert button.get_attribute("aria-expanded") == "true"
    assert nav.get_by_role("link", name="사례").is_visible()
    assert page.get_by_role("button", name="로그아웃").is_visible()
    page.keyboard.press("Escape")
    assert not nav.is_visible()

    # The referral list and the case list stay inside the page; their tables scroll in a box
    # that the keyboard can reach, and the numbers stay on one line.
    assert page.get_by_role("link", name=school_objects.referral.number).is_visible()
    assert fits(page)
    for url in (reverse("casework:case_list"), reverse("casework:referral_list")):
        page.goto(live_server.url + url)
        assert fits(page), url
    number = page.locator("table.tbl td:first-child a").first
    assert number.evaluate("a => getComputedStyle(a).whiteSpace") == "nowrap"
    box = page.locator(".ieum-table-scroll").first
    if box.evaluate("b => b.scrollWidth > b.clientWidth"):
        assert box.get_attribute("tabindex") == "0" and box.get_attribute("role") == "region"

    # Desktop: the whole menu shows and there is no menu button.
    page.set_viewport_size({"width": 1280, "height": 900})
    assert nav.is_visible() and not button.is_visible()


def test_links_tables_selects_and_alerts(transactional_db, school_objects, live_server, sign_in_as):
    page = sign_in_as("coordinator")
    page.goto(live_server.url + reverse("casework:case_list"))
    link = page.locator("table.tbl td a").first
    style = link.evaluate(
        """a => { const s = getComputedStyle(a), b = getComputedStyle(document.body);
           return {color: s.color, body: b.color, line: s.textDecorationLine}; }"""
    )
    assert style["color"] != style["body"]
    assert "underline" in style["line"]
    head = page.locator("table.tbl thead th").first
    assert head.evaluate("th => getComputedStyle(th).backgroundColor") not in (
        "rgba(0, 0, 0, 0)",
        "rgb(255, 255, 255)",
    )
    # Buttons in the content keep the KRDS button look.
    button = page.locator(".ieum-main a.krds-btn").first
    if button.count():
        assert "underline" not in button.evaluate("a => getComputedStyle(a).textDecorationLine")

    page.goto(live_server.url + reverse("casework:referral_list"))
    select = page.locator(".ieum-main select.krds-form-select").first
    colours = select.evaluate(
        """s => { let n = s, bg = 'rgba(0, 0, 0, 0)';
           while (n && (bg === 'rgba(0, 0, 0, 0)' || bg === 'transparent')) {
             bg = getComputedStyle(n).backgroundColor; n = n.parentElement; }
           return [getComputedStyle(s).color, bg.startsWith('rgba(0, 0, 0, 0)') ? 'rgb(255, 255, 255)' : bg]; }"""
    )
    assert page.evaluate(CONTRAST, colours) >= 4.5

    # A failed action shows a KRDS alert that assistive technology announces at once.
    page.goto(
        live_server.url + reverse("casework:referral_detail", args=[school_objects.referral.pk])
    )
    token = next(c["value"] for c in page.context.cookies() if c["name"] == "csrftoken")
    page.request.post(
        live_server.url
        + reverse("casework:referral_action", args=[school_objects.referral.pk, "message"]),
        form={"body": ""},
        headers={"X-CSRFToken": token},
        max_redirects=0,
    )
    page.reload()
    alert = page.locator(".ieum-messages [role=alert]")
    assert alert.locator(".critical-badge").inner_text() == "오류"
    assert "메시지 내용을 적어 주세요." in alert.inner_text()
    assert not page.locator(".ieum-main p.krds-badge").count()


@pytest.mark.parametrize(
    "level, role, badge",
    [
        (constants.SUCCESS, "status", "완료"),
        (constants.INFO, "status", "안내"),
        (constants.WARNING, "alert", "주의"),
        (constants.ERROR, "alert", "오류"),
    ],
)
def test_message_levels_render_as_krds_alerts(level, role, badge, rf):
    request = rf.get("/")
    request.session = {}
    request._messages = FallbackStorage(request)
    request._messages.add(level, "알림 문장")
    request.user = AnonymousUser()
    html = render_to_string("base.html", request=request)
    assert 'class="krds-critical-alerts ieum-messages"' in html
    assert f'role="{role}"' in html and f">{badge}</span>" in html and "알림 문장" in html
