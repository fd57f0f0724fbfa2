from django import forms
from django.contrib.auth.forms import AuthenticationForm
from django.utils.translation import gettext_lazy as _

from .authentication import login_with_lockout
from .choices import Domain, OrganizationKind
from .models import Organization


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
