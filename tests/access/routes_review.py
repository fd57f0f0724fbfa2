"""The isolation matrix's entries for the review routes of oversight (merged into matrix.ROUTES):
reviews and findings are the privacy officer's; the person a finding is about reads it only
once asked, and only they answer it."""

from django.utils import timezone

from casework.models import AccessReview, ReviewFinding
from tests.access.routes_base import Route

OFFICER = {"privacy": 200}


def _review(w):
    review, _created = AccessReview.objects.get_or_create(
        office=w.province, month=timezone.localdate().replace(day=1), defaults={"status": "built"}
    )
    return review


def _finding(w, status="asked"):
    """A finding about the coordinator that the officer has asked them to explain (`answered`:
    and that they have answered)."""
    finding = ReviewFinding.objects.filter(review=_review(w), user=w["coordinator"]).first()
    if finding is None:
        finding = ReviewFinding.objects.create(
            review=_review(w),
            kind="after_hours",
            user=w["coordinator"],
            count=1,
            status=status,
            question="밤 11시 열람 사유를 알려 주세요.",
            answer="야간 상담" if status == "answered" else "",
        )
    return finding


ROUTES: dict[str, Route] = {
    "api-audit-reviews": Route(expect={"anonymous": 401, **OFFICER, "*": 403}),
    "api-audit-review": Route(
        kwargs=lambda w: {"pk": _review(w).pk}, expect={"anonymous": 401, **OFFICER, "*": 403}
    ),
    "api-audit-finding-ask": Route(
        method="post",
        kwargs=lambda w: {"pk": _finding(w, "answered").pk},
        data={"question": "다시 설명해 주세요."},
        expect={"anonymous": 401, "privacy": 200, "*": 404},
    ),
    "api-audit-finding-answer": Route(
        method="post",
        kwargs=lambda w: {"pk": _finding(w).pk},
        data={"answer": "야간 긴급 상담이었습니다."},
        expect={"anonymous": 401, "coordinator": 200, "*": 404},
    ),
    "api-audit-finding-close": Route(
        method="post",
        kwargs=lambda w: {"pk": _finding(w).pk},
        data={"resolution": "확인함"},
        expect={"anonymous": 401, "privacy": 200, "*": 404},
    ),
    "casework:oversight": Route(expect={"anonymous": 302, **OFFICER, "*": 403}),
    "casework:review_list": Route(expect={"anonymous": 302, **OFFICER, "*": 403}),
    "casework:review_detail": Route(
        kwargs=lambda w: {"pk": _review(w).pk}, expect={"anonymous": 302, **OFFICER, "*": 403}
    ),
    "casework:review_complete": Route(
        method="post",
        kwargs=lambda w: {"pk": _review(w).pk},
        expect={"anonymous": 302, "privacy": 302, "*": 403},
    ),
    "casework:finding_detail": Route(
        kwargs=lambda w: {"pk": _finding(w).pk}, expect={"anonymous": 302, **OFFICER, "*": 403}
    ),
    "casework:finding_answer": Route(
        kwargs=lambda w: {"pk": _finding(w).pk},
        expect={"anonymous": 302, "coordinator": 200, "*": 404},
    ),
}
