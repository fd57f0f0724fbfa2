"""The report dashboard (통계 현황, DESIGN.md §10; docs/reports.md): the analyst's province, a
centre head's office, a principal's school, as charts with the same figures in a table beside
each, small cells suppressed. Filters: half-year, district office, school level, domain,
difficulty. Counts only: no person is shown, so the page writes no access event."""

import datetime

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from casework import access
from casework.choices import Difficulty, Domain
from casework.reports import filters, summary
from partners.choices import SchoolLevel

SELECT = {"class": "krds-form-select"}


class ReportFilters(forms.Form):
    half = forms.ChoiceField(label=gettext_lazy("반기"), required=False)
    district = forms.ChoiceField(label=gettext_lazy("교육지원청"), required=False)
    school_level = forms.ChoiceField(label=gettext_lazy("학교급"), required=False)
    domain = forms.ChoiceField(label=gettext_lazy("지원 영역"), required=False)
    difficulty = forms.ChoiceField(label=gettext_lazy("어려움 유형"), required=False)

    def __init__(self, data, *, halves, districts):
        super().__init__(data)
        everything = [("", _("전체"))]
        self.fields["half"].choices = [(h, half_label(h)) for h in halves]
        self.fields["district"].choices = everything + [(str(d.pk), d.name) for d in districts]
        self.fields["school_level"].choices = everything + list(SchoolLevel.choices)
        self.fields["domain"].choices = everything + list(Domain.choices)
        self.fields["difficulty"].choices = everything + list(Difficulty.choices)
        if len(districts) < 2:
            del self.fields["district"]
        for field in self.fields.values():
            field.widget.attrs.update(SELECT)


def half_label(half: str) -> str:
    if half.endswith("H1"):
        return _("%(year)s년 상반기") % {"year": half[:4]}
    return _("%(year)s년 하반기") % {"year": half[:4]}


def _series(report: dict, name: str) -> list:
    """A figure of each row for a chart: suppressed cells as None (no bar; the table says why)."""
    return [row[name] if isinstance(row[name], int) else None for row in report["rows"]]


def month_label(key: str) -> str:
    return _("%(year)s년 %(month)d월") % {"year": key[:4], "month": int(key[5:7])}


def _as_of(stamp: str | None):
    """The time of the figures, in the reader's time zone."""
    return timezone.localtime(datetime.datetime.fromisoformat(stamp)) if stamp else None


def _chart(key: str, title: str, report: dict, names: dict[str, str], *, horizontal=False):
    """A chart's figures twice: for the script that draws it (`data`, read from a JSON script
    element) and for the table beside it (`rows`, suppressed cells as shown)."""
    label = month_label if key == "month" else str
    return {
        "key": key,
        "id": f"chart-{key}-data",
        "title": title,
        "columns": list(names.values()),
        "rows": [
            {"label": label(row["label"]), "values": [row[n] for n in names]}
            for row in report["rows"]
        ],
        "data": {
            "labels": [label(row["label"]) for row in report["rows"]],
            "series": [{"label": label, "data": _series(report, n)} for n, label in names.items()],
            "horizontal": horizontal,
        },
    }


@login_required
def report_dashboard(request):
    scope = access.report_scope(request.user)
    if scope is None:
        raise PermissionDenied(_("통계 현황을 볼 권한이 없습니다."))
    today = timezone.localdate()
    halves = filters.recent_halves(today)
    districts = filters.districts(scope)
    params = request.GET.copy()
    params.setdefault("half", halves[0])
    form = ReportFilters(params, halves=halves, districts=districts)
    offices = access.committee_offices(request.user)
    context = {
        "form": form,
        "districts": districts,
        "halves": [(h, half_label(h)) for h in halves],
        # The committee report's offices, the province (시·도위원회) first.
        "committee_offices": sorted(offices, key=lambda o: (o.parent_id is not None, o.name))
        if offices is not None
        else [],
    }
    if not form.is_valid():
        return render(request, "casework/report_dashboard.html", context, status=400)
    try:
        asked = filters.read(form.cleaned_data, scope, today)
    except ValidationError as error:
        for field, messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, messages)
        return render(request, "casework/report_dashboard.html", context, status=400)
    # By district where the reader spans several and none is chosen, else by school.
    place = "district" if len(districts) > 1 and asked.district is None else "school"
    reports = summary.summaries(
        asked.schools, ("month", "domain", "difficulty", place), asked.period, asked.only
    )
    flow = {"opened": _("개설"), "closed": _("종결")}
    context.update(
        {
            "asked": asked,
            "half_label": half_label(asked.half or halves[0]),
            "total": reports["month"]["total"],
            "month": reports["month"],
            "domain": reports["domain"],
            "difficulty": reports["difficulty"],
            "place": reports[place],
            "place_label": _("교육지원청") if place == "district" else _("학교"),
            "charts": [
                _chart("month", _("월별 개설·종결 사례"), reports["month"], flow),
                _chart(
                    "domain",
                    _("지원 영역별 사례"),
                    reports["domain"],
                    {"cases": _("사례")},
                    horizontal=True,
                ),
                _chart(
                    "difficulty",
                    _("어려움 유형별 사례"),
                    reports["difficulty"],
                    {"cases": _("사례")},
                    horizontal=True,
                ),
            ],
            "suppressed": any(r["suppressed"] for r in reports.values()),
            "schools": len(asked.schools),
            "as_of": _as_of(reports["month"]["as_of"]),
        }
    )
    return render(request, "casework/report_dashboard.html", context)
