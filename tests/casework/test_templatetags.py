"""Template helpers of the casework pages."""

from django.utils import translation

from casework.models import Case, Referral
from casework.templatetags.casework_tags import label_of


def test_label_of_is_the_display_value_in_the_active_language():
    referral = Referral(status="in_progress", kind="escalation", urgency="urgent")
    case = Case(status="not_selected", risk_level="crisis")
    for language in ("ko", "en"):
        with translation.override(language):
            for obj, field in [(referral, "status"), (referral, "kind"), (case, "risk_level")]:
                expected = getattr(obj, f"get_{field}_display")()
                assert label_of(obj, field) == expected, (language, field)
    with translation.override("en"):
        assert label_of(case, "status") == "Not selected"
    with translation.override("ko"):
        assert label_of(case, "status") == "미선정"
    assert label_of(Case(status="no-such-code"), "status") == "no-such-code"
