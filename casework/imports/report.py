"""What a job shows of an import: the first rows as read, and its errors capped."""

from django.utils.translation import gettext as _

from .parse import Parsed
from .plan import Plan

# A broken export can produce an error per cell; the first ones are enough to fix the file.
MAX_ERRORS = 1_000
PREVIEW_ROWS = 20


def preview(parsed: Parsed, plan: Plan, limit: int = PREVIEW_ROWS) -> list[dict]:
    """The first rows as read, for the user to check the columns were understood. Guardian
    phone numbers are left out: the preview stays on the job after the file is gone."""
    return [
        {
            "row": row.row,
            "action": plan.actions.get(row.row, ""),
            "name": row.name,
            "grade": row.grade,
            "class_no": row.class_no,
            "number": row.number,
            "birth_date": row.birth_date.isoformat() if row.birth_date else None,
            "sex": row.sex,
            "neis_id": row.neis_id,
            "home_borough": row.home_borough.name if row.home_borough else "",
            "guardian_name": row.guardian_name,
            "guardian_relation": row.guardian_relation,
        }
        for row in parsed.rows[:limit]
    ]


def capped(errors: list[dict], limit: int = MAX_ERRORS) -> list[dict]:
    if len(errors) <= limit:
        return errors
    rest = errors[limit]
    return [
        *errors[:limit],
        {
            "row": rest["row"],
            "field": "",
            "message": str(
                _("오류가 너무 많아 처음 %(shown)d건만 보여 줍니다 (모두 %(total)d건).")
                % {"shown": limit, "total": len(errors)}
            ),
        },
    ]
