"""Forms of the casework pages. They parse input; workflows decide."""

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from partners.choices import Domain

from .choices import (
    ConsentMethod,
    ConsentPurpose,
    ConsentSubject,
    Difficulty,
    LegalBasis,
    RiskLevel,
    TeamRole,
    Urgency,
)
from .models import (
    AccessEvent,
    CaseStatus,
    ClosureReason,
    Concern,
    Decision,
    DestructionRecord,
    Meeting,
    Note,
)


class KrdsCheckboxes(forms.CheckboxSelectMultiple):
    """KRDS shows a check box only in its `krds-form-check` markup (input, then its label)."""

    template_name = "casework/widgets/krds_choices.html"


class KrdsRadios(forms.RadioSelect):
    template_name = "casework/widgets/krds_choices.html"


def krds(form: forms.Form) -> forms.Form:
    """KRDS classes on every widget, so templates can render fields plainly."""
    for field in form.fields.values():
        widget = field.widget
        if isinstance(widget, forms.CheckboxSelectMultiple | forms.RadioSelect):
            continue
        if isinstance(widget, forms.Select):
            widget.template_name = "casework/widgets/krds_select.html"
        css = "krds-form-select" if isinstance(widget, forms.Select) else "krds-input"
        if isinstance(widget, forms.Textarea):
            css = "krds-input textarea"
        widget.attrs.setdefault("class", css)
    return form


class KrdsForm(forms.Form):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        krds(self)


class ConcernForm(KrdsForm):
    student = forms.UUIDField(widget=forms.HiddenInput)
    difficulties = forms.MultipleChoiceField(
        label=_("어려움 유형"), choices=Difficulty.choices, widget=KrdsCheckboxes
    )
    urgency = forms.ChoiceField(
        label=_("긴급도"), choices=Urgency.choices, initial=Urgency.NORMAL, widget=KrdsRadios
    )
    description = forms.CharField(
        label=_("관찰한 내용"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class TriageForm(KrdsForm):
    decision = forms.ChoiceField(label=_("검토 결과"), choices=Concern.Triage.choices)
    reason = forms.CharField(label=_("사유"), required=False)


class CaseOpenForm(KrdsForm):
    difficulties = forms.MultipleChoiceField(
        label=_("어려움 유형"), choices=Difficulty.choices, widget=KrdsCheckboxes
    )
    domains = forms.MultipleChoiceField(
        label=_("지원 영역"),
        choices=Domain.choices,
        required=False,
        widget=KrdsCheckboxes,
    )
    risk_level = forms.ChoiceField(label=_("위기 수준"), choices=RiskLevel.choices)
    summary = forms.CharField(
        label=_("사례 요약"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


class TransitionForm(KrdsForm):
    to = forms.ChoiceField(choices=CaseStatus.choices, widget=forms.HiddenInput)
    version = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label=_("사유"), required=False)
    closure_reason = forms.ChoiceField(
        label=_("종결 사유"), required=False, choices=[("", "-"), *ClosureReason.choices]
    )


class NoteForm(KrdsForm):
    kind = forms.ChoiceField(label=_("종류"), choices=Note.Kind.choices)
    confidentiality = forms.ChoiceField(label=_("공개 범위"), choices=Note.Confidentiality.choices)
    body = forms.CharField(label=_("내용"), widget=forms.Textarea(attrs={"rows": 3}))
    amends = forms.UUIDField(required=False, widget=forms.HiddenInput)


class ConsentForm(KrdsForm):
    subject = forms.ChoiceField(label=_("동의 주체"), choices=ConsentSubject.choices)
    guardian_name = forms.CharField(label=_("보호자 이름"), required=False)
    relation = forms.CharField(label=_("관계"), required=False)
    purposes = forms.MultipleChoiceField(
        label=_("동의 목적"),
        choices=ConsentPurpose.choices,
        initial=[ConsentPurpose.SUPPORT],
        widget=KrdsCheckboxes,
        help_text=_(
            "협력기관에 의뢰하려면 '협력기관 정보 제공', 교육지원청에 지원을 요청하려면 "
            "'교육지원청 정보 제공' 목적이 담긴 동의가 있어야 합니다."
        ),
    )
    recipients = forms.CharField(
        label=_("제공받는 기관 (기관 코드, 쉼표로 구분)"),
        required=False,
        help_text=_("비워 두면 동의 목적에 맞는 모든 기관에 제공할 수 있습니다."),
    )
    method = forms.ChoiceField(label=_("동의 방법"), choices=ConsentMethod.choices)
    given_on = forms.DateField(
        label=_("동의일"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    expires_on = forms.DateField(
        label=_("만료일"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
        help_text=_("비워 두면 철회할 때까지 유효합니다."),
    )

    def clean_recipients(self):
        return [name.strip() for name in self.cleaned_data["recipients"].split(",") if name.strip()]


class PlanForm(KrdsForm):
    goals = forms.CharField(
        label=_("목표 (한 줄에 하나)"), widget=forms.Textarea(attrs={"rows": 3})
    )
    starts_on = forms.DateField(
        label=_("시작일"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    ends_on = forms.DateField(
        label=_("종료일"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    review_on = forms.DateField(label=_("점검일"), widget=forms.DateInput(attrs={"type": "date"}))

    def clean_goals(self):
        return [line.strip() for line in self.cleaned_data["goals"].splitlines() if line.strip()]


class TeamForm(KrdsForm):
    user = forms.ChoiceField(label=_("사람"))
    role = forms.ChoiceField(label=_("팀 역할"), choices=TeamRole.choices)


class MeetingForm(KrdsForm):
    kind = forms.ChoiceField(label=_("회의 종류"), choices=Meeting.Kind.choices)
    held_on = forms.DateField(
        label=_("회의일"),
        initial=timezone.localdate,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    attendees = forms.MultipleChoiceField(label=_("참석자"), required=False, widget=KrdsCheckboxes)
    guests = forms.CharField(label=_("외부 참석자 (쉼표로 구분)"), required=False)
    minutes = forms.CharField(
        label=_("회의록"), required=False, widget=forms.Textarea(attrs={"rows": 4})
    )
    case = forms.ChoiceField(label=_("결정할 사례"), required=False)
    decision = forms.ChoiceField(
        label=_("결정"), required=False, choices=[("", "-"), *Decision.Kind.choices]
    )
    reasons = forms.CharField(label=_("결정 사유"), required=False)
    closure_reason = forms.ChoiceField(
        label=_("종결 사유"), required=False, choices=[("", "-"), *ClosureReason.choices]
    )


class ImportForm(KrdsForm):
    """A roster file is checked first (a dry run) and saved from the check's page; `save_now`
    skips the check. The template writes the check box in KRDS markup itself."""

    file = forms.FileField(
        label=_("명부 파일 (CSV 또는 XLSX)"),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )
    save_now = forms.BooleanField(label=_("검사 없이 바로 저장하기"), required=False)


class ReasonForm(KrdsForm):
    reason = forms.CharField(label=_("사유"))
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class SubjectAccessForm(KrdsForm):
    """A subject-access request (PIPA 35조): the stated reason is logged and printed on the file."""

    reason = forms.CharField(
        label=_("열람 사유"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_(
            "예: 보호자의 개인정보 열람 청구(2026. 12. 1. 접수). 파일마다 사유가 찍히고 점검에 나옵니다."
        ),
    )
    format = forms.ChoiceField(
        label=_("파일 형식"),
        choices=[("pdf", _("PDF (사람이 읽는 문서)")), ("json", _("JSON (기계가 읽는 자료)"))],
        initial="pdf",
        widget=KrdsRadios,
    )


class SubjectSearchForm(KrdsForm):
    """The privacy officer finds a student of a school they oversee by name and birth date."""

    name = forms.CharField(label=_("학생 이름"), max_length=100)
    birth_date = forms.DateField(
        label=_("생년월일"), widget=forms.DateInput(attrs={"type": "date"})
    )


class BreakGlassSearchForm(KrdsForm):
    """Break-glass (긴급 열람): the case is found by its number alone."""

    number = forms.CharField(
        label=_("사례 번호"), max_length=40, help_text=_("예: 2026-S0001-0012")
    )


class BreakGlassForm(KrdsForm):
    """The written reason a break-glass opening needs; it goes to the owner school's
    coordinator and into the monthly review."""

    reason = forms.CharField(
        label=_("긴급 열람 사유"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=_(
            "왜 지금 이 사례를 보아야 하는지 구체적으로 적으세요. 학교의 담당자에게 알려지고 "
            "월간 점검에 나옵니다."
        ),
    )


class AccessLogFilterForm(KrdsForm):
    """The access-log search of the privacy officer (API.md: GET /api/v1/audit/access/): the
    page and the API parse their filters with this one form. `case` takes a case's id or its
    number, `user` a user's id or username; dates are the Korean calendar days they name."""

    case = forms.CharField(
        label=_("사례"), required=False, max_length=60, help_text=_("사례 번호 또는 ID")
    )
    student = forms.UUIDField(label=_("학생 ID"), required=False)
    user = forms.CharField(
        label=_("사용자"), required=False, max_length=150, help_text=_("아이디 또는 ID")
    )
    action = forms.ChoiceField(label=_("행위"), required=False)
    since = forms.DateField(
        label=_("시작일"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    until = forms.DateField(
        label=_("종료일"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["action"].choices = [("", _("전체")), *AccessEvent.Action.choices]

    def clean(self):
        data = super().clean()
        since, until = data.get("since"), data.get("until")
        if since and until and since > until:
            self.add_error("until", _("종료일은 시작일과 같거나 뒤여야 합니다."))
        return data


class DownloadReasonForm(KrdsForm):
    """Every download states its reason (PIPA safeguards 8조), which the monthly review checks."""

    reason = forms.CharField(
        label=_("내려받는 사유"),
        max_length=500,
        help_text=_("예: 2026년 11월 접속 기록 점검 보고. 사유는 접속 기록에 남습니다."),
    )


class ExportForm(KrdsForm):
    """What a file is taken out for (DESIGN.md §10): printed on every page or sheet of it and
    written into the access event of every download."""

    reason = forms.CharField(
        label=_("내보내는 사유"),
        max_length=500,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": _("내보내는 사유를 적으세요.")},
        help_text=_(
            "예: 12월 4일 사례 회의 자료. 사유는 파일의 모든 쪽과 접속 기록에 남고 점검에 나옵니다."
        ),
    )


class ReviewBuildForm(KrdsForm):
    """The officer builds the review of a month now (the beat job does it on the first business
    day of each month)."""

    month = forms.CharField(
        label=_("점검할 달"),
        max_length=7,
        widget=forms.DateInput(attrs={"type": "month"}),
        help_text=_("예: 2026-11"),
    )


class FindingQuestionForm(KrdsForm):
    question = forms.CharField(
        label=_("소명 요청 내용"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("무엇을 설명해야 하는지 구체적으로 적으세요. 당사자의 알림으로 갑니다."),
    )


class FindingAnswerForm(KrdsForm):
    answer = forms.CharField(
        label=_("소명 내용"), max_length=2000, widget=forms.Textarea(attrs={"rows": 5})
    )


class FindingResolutionForm(KrdsForm):
    resolution = forms.CharField(
        label=_("처리 결과"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("예: 야간 긴급 상담 대응으로 확인됨. 조치 없음."),
    )


class DestructionFilterForm(KrdsForm):
    """The register of destruction (API.md: GET /api/v1/audit/destructions/?since=&rule=)."""

    since = forms.DateField(
        label=_("시작일"), required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    rule = forms.ChoiceField(label=_("근거 규칙"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["rule"].choices = [("", _("전체")), *DestructionRecord.Rule.choices]


# --- Referrals and transfers ----------------------------------------------------------------


class ReferralForm(KrdsForm):
    """The coordinator's referral from the case page. `target` is "org:<id>" or "svc:<id>",
    chosen from the directory the view offers (the student's borough, the needed domain)."""

    kind = forms.ChoiceField(
        label=_("의뢰 종류"),
        choices=[("service", _("협력기관 의뢰")), ("escalation", _("교육지원청에 지원 요청"))],
        initial="service",
        widget=KrdsRadios,
    )
    requested_domains = forms.MultipleChoiceField(
        label=_("필요한 지원 영역"), choices=Domain.choices, required=False, widget=KrdsCheckboxes
    )
    target = forms.ChoiceField(label=_("받는 기관·서비스"), required=False, widget=KrdsRadios)
    reason = forms.CharField(label=_("의뢰 사유"), widget=forms.Textarea(attrs={"rows": 3}))
    requested_support = forms.CharField(
        label=_("요청하는 지원"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    shared_fields = forms.MultipleChoiceField(
        label=_("공유할 정보"), required=False, widget=KrdsCheckboxes
    )
    notes_excerpt = forms.CharField(
        label=_("상담 기록 발췌 (공유할 때만)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    legal_basis = forms.ChoiceField(
        label=_("제공 근거"),
        choices=LegalBasis.choices,
        initial=LegalBasis.CONSENT,
        widget=KrdsRadios,
    )
    justification = forms.CharField(
        label=_("동의 없이 제공하는 근거 (아동보호·긴급일 때)"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    urgency = forms.ChoiceField(
        label=_("긴급도"), choices=Urgency.choices, initial=Urgency.NORMAL, widget=KrdsRadios
    )
    respond_by = forms.DateField(
        label=_("회신 기한 (비우면 영업일 기준 자동)"),
        required=False,
        widget=forms.DateInput(attrs={"type": "date"}),
    )

    def __init__(self, *args, targets=(), **kwargs):
        from partners.catalogue import packet_fields

        super().__init__(*args, **kwargs)
        self.fields["target"].choices = list(targets)
        self.fields["shared_fields"].choices = [
            (code, f"{f.label} ({_('민감')})" if f.sensitive else f.label)
            for code, f in packet_fields().items()
        ]


class ReferralDecisionForm(KrdsForm):
    text = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))
    version = forms.IntegerField(required=False, widget=forms.HiddenInput)


class MessageForm(KrdsForm):
    body = forms.CharField(label=_("메시지"), widget=forms.Textarea(attrs={"rows": 2}))


class TransferForm(KrdsForm):
    to_school = forms.CharField(
        label=_("전학 간 학교 (학교 코드 또는 정확한 학교 이름)"), max_length=200
    )
    reason = forms.CharField(label=_("사유"), widget=forms.Textarea(attrs={"rows": 2}))

    def clean_to_school(self):
        from django.db.models import Q

        from partners.choices import OrganizationKind
        from partners.models import Organization

        value = self.cleaned_data["to_school"].strip()
        found = list(
            Organization.objects.filter(kind=OrganizationKind.SCHOOL, active=True).filter(
                Q(code__iexact=value) | Q(name=value)
            )[:2]
        )
        if len(found) != 1:
            raise forms.ValidationError(
                _("학교를 찾을 수 없습니다. 학교 코드나 정확한 이름을 적어 주세요.")
                if not found
                else _("같은 이름의 학교가 여럿입니다. 학교 코드를 적어 주세요.")
            )
        return found[0]


class AlertForm(KrdsForm):
    """학교에 알리기: what the sender knows of the child. The workflow checks every value and
    names what is wrong beside its field (casework/workflows/alerts.py)."""

    name = forms.CharField(label=_("학생 이름"), required=False, max_length=200)
    birth_date = forms.CharField(
        label=_("생년월일"),
        required=False,
        max_length=40,
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    school = forms.ChoiceField(
        label=_("학교"),
        required=False,
        help_text=_("아는 경우에만 고르세요."),
    )
    borough = forms.ChoiceField(
        label=_("거주 자치구"),
        required=False,
        help_text=_("학교를 모르면 학생이 사는 자치구를 고르세요."),
    )
    description = forms.CharField(
        label=_("있었던 일"),
        required=False,
        max_length=4000,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("언제, 어디서, 무엇을 보았거나 들었는지 적어 주세요."),
    )
    urgency = forms.ChoiceField(
        label=_("긴급도"), choices=Urgency.choices, initial=Urgency.NORMAL, widget=KrdsRadios
    )

    def __init__(self, *args, schools=(), boroughs=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].choices = [("", _("모름")), *[(str(s.pk), s.name) for s in schools]]
        self.fields["borough"].choices = [
            ("", _("모름")),
            *[(b.region_code, b.name) for b in boroughs],
        ]


class AlertRouteForm(KrdsForm):
    """학교로 보내기: the school and the student there the alert is about."""

    school = forms.ChoiceField(label=_("학교"))
    student = forms.ChoiceField(label=_("학생"), widget=KrdsRadios)

    def __init__(self, *args, schools=(), students=(), **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["school"].choices = [("", "-"), *[(str(s.pk), s.name) for s in schools]]
        self.fields["student"].choices = [
            (
                str(st.pk),
                f"{st.name} · {st.birth_date:%Y-%m-%d} · {st.grade}-{st.class_no}",
            )
            for st in students
        ]
