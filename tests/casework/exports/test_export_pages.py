"""The export pages: the "내보내기" control of the case list, a referral list and the case page,
the small form that asks for the reason (its error beside the field, what was typed kept), the
job's page with its progress and, once ready, the download and its expiry in Korean."""

import re

import pytest
from django.urls import reverse

from casework.models import AccessEvent, Job

from .conftest import REASON

pytestmark = pytest.mark.django_db


def new_url(query: str) -> str:
    return reverse("casework:export_new") + "?" + query


def test_the_case_list_offers_an_export_of_what_it_shows(web, noted_case):
    page = web("coordinator").get(reverse("casework:case_list"), {"status": "reviewing"})
    link = re.search(r'id="case-list-export" href="([^"]+)"', page.content.decode())
    assert link, "no export control on the case list"
    assert "kind=case_list" in link.group(1) and "status=reviewing" in link.group(1)


def test_the_referral_list_and_the_case_page_offer_an_export(web, noted_case):
    client = web("coordinator")
    referrals = client.get(reverse("casework:referral_list"), {"box": "outbox"}).content.decode()
    assert 'id="referral-list-export"' in referrals and "kind=referral_list" in referrals
    case = client.get(reverse("casework:case_detail", args=[noted_case.pk])).content.decode()
    assert 'id="case-export"' in case and f"case={noted_case.pk}" in case


def test_the_form_needs_a_reason_beside_the_field(web, noted_case):
    client = web("coordinator")
    url = new_url(f"kind=case_summary&case={noted_case.pk}")
    assert client.get(url).status_code == 200
    answer = client.post(url, {"reason": "   "})
    assert answer.status_code == 400
    text = answer.content.decode()
    assert 'id="id_reason_error"' in text and "사유를 적으세요" in text
    assert 'aria-invalid="true"' in text
    assert not Job.objects.filter(kind=Job.Kind.EXPORT).exists()


def test_what_was_typed_is_kept_beside_the_error(web, noted_case):
    typed = "회의 자료 " + "가" * 500
    answer = web("coordinator").post(new_url("kind=case_list"), {"reason": typed})
    assert answer.status_code == 400
    text = answer.content.decode()
    assert 'id="id_reason_error"' in text
    assert typed in text


def test_an_unknown_kind_is_not_found(web):
    assert web("coordinator").get(new_url("kind=everything")).status_code == 404


def test_the_committee_report_form_is_for_its_readers_only(web, world):
    asked = f"kind=report&office={world.nambu.pk}&half=2026H1&format=xlsx"
    assert web("coordinator").get(new_url(asked)).status_code == 403
    answer = web("centrehead").get(new_url(asked))
    assert answer.status_code == 200
    assert "서울특별시남부교육지원청" in answer.content.decode()  # the office by its name


def test_another_schools_case_is_not_found(web, noted_case):
    url = new_url(f"kind=case_summary&case={noted_case.pk}")
    assert web("coordinator2").get(url).status_code == 404


def test_the_job_page_shows_progress_while_it_runs(world, web):
    job = Job.objects.create(
        kind=Job.Kind.EXPORT,
        created_by=world["coordinator"],
        organization=world.school,
        reason=REASON,
        result={"export": "case_list", "params": {}},
    )
    url = reverse("casework:export_detail", args=[job.pk])
    text = web("coordinator").get(url).content.decode()
    assert 'id="export-progress"' in text and f'hx-get="{url}"' in text
    partial = web("coordinator").get(url, headers={"HX-Request": "true"}).content.decode()
    assert partial.lstrip().startswith('<div id="export-status"')
    roster_page = web("coordinator").get(reverse("casework:job_detail", args=[job.pk]))
    assert roster_page.status_code == 302 and roster_page["Location"] == url


def test_asking_leads_to_the_download_and_its_korean_expiry(
    web, noted_case, django_capture_on_commit_callbacks
):
    client = web("coordinator")
    with django_capture_on_commit_callbacks(execute=True):
        answer = client.post(new_url("kind=case_list"), {"reason": REASON})
    job = Job.objects.get(kind=Job.Kind.EXPORT)
    assert answer.status_code == 302
    assert answer["Location"] == reverse("casework:export_detail", args=[job.pk])
    text = client.get(answer["Location"]).content.decode()
    assert 'id="export-download"' in text and 'id="export-progress"' not in text
    expiry = re.search(r'id="export-expiry">([^<]+)', text).group(1)
    assert re.search(r"\d+년 \d+월 \d+일 (오전|오후) \d{1,2}:\d{2}까지", expiry), expiry
    file = client.get(reverse("casework:export_download", args=[job.pk]))
    assert file.status_code == 200 and file["Content-Disposition"].startswith("attachment;")
    assert AccessEvent.objects.get(action="download").reason == REASON
    listed = client.get(reverse("casework:export_list")).content.decode()
    assert str(job.pk) in listed and REASON in listed


def test_the_download_page_answers_410_after_expiry(web, made):
    from casework.workflows import exports

    job = made("coordinator", "case_list")
    Job.objects.filter(pk=job.pk).update(expires_at=job.created_at)
    exports.expire_exports()
    answer = web("coordinator").get(reverse("casework:export_download", args=[job.pk]))
    assert answer.status_code == 410
    assert "파기" in answer.content.decode()


def test_another_users_export_page_is_not_found(web, made):
    job = made("coordinator", "case_list")
    for name in ("export_detail", "export_download"):
        assert web("vice").get(reverse(f"casework:{name}", args=[job.pk])).status_code == 404
