from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from . import second_factor
from .authentication import login_with_lockout, verify_code_with_lockout
from .choices import Domain, OrganizationKind
from .models import Organization

CODE_FORMAT = _("인증 코드는 인증 앱에 표시된 6자리 숫자나 8자리 복구 코드입니다.")


class LockoutAuthenticationForm(AuthenticationForm):
    """The login form, counting failures with the same lockout as the API token endpoint."""

    username = forms.CharField(
        label=_("아이디"),
        max_length=150,
        widget=forms.TextInput(
            attrs={"autofocus": True, "autocomplete": "username", "class": "krds-input"}
        ),
    )
    password = forms.CharField(
        label=_("비밀번호"),
        strip=False,
        widget=forms.PasswordInput(
            attrs={"autocomplete": "current-password", "class": "krds-input"}
        ),
    )

    def clean(self):
        username = self.cleaned_data.get("username")
        password = self.cleaned_data.get("password")
        if username is not None and password:
            result = login_with_lockout(self.request, username, password)
            if result.user is None:
                raise forms.ValidationError(
                    result.message, code="locked" if result.locked else "invalid_login"
                )
            self.confirm_login_allowed(result.user)
            self.user_cache = result.user
        return self.cleaned_data


def code_field(help_text) -> forms.CharField:
    return forms.CharField(
        label=_("인증 코드"),
        max_length=32,
        help_text=help_text,
        widget=forms.TextInput(
            attrs={
                "autofocus": True,
                "autocomplete": "one-time-code",
                "autocapitalize": "off",
                "spellcheck": "false",
                "class": "krds-input",
            }
        ),
    )


class SecondFactorCodeForm(forms.Form):
    """A code of the user's second factor: at the login's second step, to verify a session,
    and before removing the factor or replacing its recovery codes. A wrong code counts toward
    the login lockout, like a wrong password."""

    code = code_field(
        _(
            "인증 앱에 표시된 6자리 숫자를 입력하세요. 휴대전화를 쓸 수 없으면 복구 코드를 입력하세요."
        )
    )

    def __init__(self, user, *args, **kwargs):
        self.user = user
        self.device = None
        super().__init__(*args, **kwargs)

    def clean_code(self):
        code = self.cleaned_data["code"]
        if not second_factor.is_code_shaped(code):
            raise forms.ValidationError(CODE_FORMAT, code="format")
        result = verify_code_with_lockout(self.user, code)
        if result.device is None:
            raise forms.ValidationError(
                result.message, code="locked" if result.locked else "invalid_code"
            )
        self.device = result.device
        return code


class EnrolmentForm(forms.Form):
    """The first code of a new authenticator entry: it shows the app holds the secret before
    the device counts."""

    code = code_field(_("인증 앱에 새로 추가한 항목의 6자리 숫자를 입력하세요."))

    def __init__(self, device, *args, **kwargs):
        self.device = device
        super().__init__(*args, **kwargs)

    def clean_code(self):
        code = self.cleaned_data["code"]
        if not second_factor.code_matches_secret(self.device, code):
            raise forms.ValidationError(
                _(
                    "인증 코드가 올바르지 않습니다. 휴대전화의 시각이 맞는지 확인하고 지금 표시된 코드를 입력하세요."
                ),
                code="invalid_code",
            )
        return code


class DirectoryFilterForm(forms.Form):
    q = forms.CharField(label=_("검색어"), required=False, max_length=100)
    kind = forms.ChoiceField(
        label=_("기관 유형"),
        required=False,
        choices=[("", _("전체"))]
        + [(k.value, k.label) for k in OrganizationKind if k != "ministry"],
    )
    borough = forms.ChoiceField(label=_("자치구"), required=False)
    domain = forms.ChoiceField(
        label=_("지원 영역"), required=False, choices=[("", _("전체")), *Domain.choices]
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        boroughs = (
            Organization.objects.boroughs()
            .order_by("region_code")
            .values_list("region_code", "name")
        )
        self.fields["borough"].choices = [("", _("전체")), *boroughs]
        for field in self.fields.values():
            css = "krds-form-select" if isinstance(field, forms.ChoiceField) else "krds-input"
            field.widget.attrs.setdefault("class", css)
