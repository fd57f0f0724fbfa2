"""Django admin for the network. The system administrator manages organisations, agreements,
services and people here and sees no case content (casework models are not registered)."""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import RelatedOnlyFieldListFilter
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext, ngettext
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice
from simple_history.admin import SimpleHistoryAdmin

from . import passkeys
from .approvals import approve_membership, check_expiry, default_expiry
from .models import (
    AccessRightRecord,
    Agreement,
    ApiToken,
    LoginThrottle,
    Membership,
    Organization,
    Passkey,
    RoleGroup,
    SecondFactorEvent,
    Service,
    User,
)
from .second_factor import remove_second_factor

SELF_MEMBERSHIP = _("자기 자신의 소속은 만들거나 고칠 수 없습니다. 다른 관리자에게 요청하세요.")
FIXED_IDENTITY = _("소속의 사용자와 기관은 바꿀 수 없습니다. 이 소속을 끝내고 새 소속을 만드세요.")
# The data-handling approval is given through its own step (MembershipAdmin.approve_view),
# which records the acting person as the approver: it is never typed into a form.
APPROVAL_FIELDS = ("approved_by", "approved_on", "approval_expires_on")
RETENTION_NOTE = _(
    "소속과 개인정보 취급승인의 부여·변경·말소 기록입니다. 3년 이상 보관하며, 누구도 고치거나 "
    "지울 수 없습니다."
)


@admin.register(Organization)
class OrganizationAdmin(SimpleHistoryAdmin):
    list_display = ("name", "code", "kind", "agency_type", "region_code", "parent", "active")
    list_filter = ("kind", "agency_type", "school_level", "active")
    search_fields = ("name", "code", "region_code")
    filter_horizontal = ("covers", "serves")
    autocomplete_fields = ("parent",)
    ordering = ("kind", "name")


@admin.register(Agreement)
class AgreementAdmin(SimpleHistoryAdmin):
    list_display = ("office", "partner", "valid_from", "valid_until", "retention_days")
    list_filter = ("office",)
    search_fields = ("partner__name", "office__name", "title")
    autocomplete_fields = ("office", "partner")


@admin.register(Service)
class ServiceAdmin(SimpleHistoryAdmin):
    list_display = ("name", "organization", "intake_status", "active")
    list_filter = ("intake_status", "active")
    search_fields = ("name", "organization__name", "description")
    autocomplete_fields = ("organization",)
    filter_horizontal = ("boroughs",)


class MembershipAdminForm(forms.ModelForm):
    """A membership form that refuses the acting person's own membership: nobody grants
    themselves access (the admin binds `acting_user` per request)."""

    acting_user = None

    def clean(self):
        cleaned = super().clean()
        if not self.has_changed() or cleaned.get("DELETE"):
            return cleaned  # an untouched row, or one being removed, grants nothing
        moved = {"user", "organization"} & set(self.changed_data)
        if moved and not self.instance._state.adding:
            # The approval was given for this person at this organisation: it never moves.
            raise ValidationError(FIXED_IDENTITY)
        user = cleaned.get("user")
        user_id = user.pk if user is not None else self.instance.user_id
        if self.acting_user is not None and user_id == self.acting_user.pk:
            raise ValidationError(SELF_MEMBERSHIP)
        return cleaned


def bound_to(form_class, request):
    return type(form_class.__name__, (form_class,), {"acting_user": request.user})


class MembershipInline(admin.TabularInline):
    model = Membership
    form = MembershipAdminForm
    fk_name = "user"
    extra = 0
    autocomplete_fields = ("organization",)
    fields = (
        "organization",
        "role",
        "title",
        "active",
        "started_on",
        "ended_on",
        "training_completed_on",
        *APPROVAL_FIELDS,
    )
    readonly_fields = APPROVAL_FIELDS

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.form = bound_to(formset.form, request)
        return formset


class IeumUserCreationForm(UserCreationForm):
    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "name", "email")


class IeumUserChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"


@admin.register(User)
class UserAdmin(SimpleHistoryAdmin, DjangoUserAdmin):
    form = IeumUserChangeForm
    add_form = IeumUserCreationForm
    list_display = ("username", "name", "email", "is_active", "is_staff")
    search_fields = ("username", "name", "email")
    ordering = ("username",)
    inlines = [MembershipInline]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("개인 정보"), {"fields": ("name", "email", "phone")}),
        (_("권한"), {"fields": ("is_active", "is_staff", "is_superuser")}),
        (_("기록"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "name", "email", "password1", "password2"),
            },
        ),
    )

    # Users are deactivated, never deleted (DESIGN.md §6).
    def has_delete_permission(self, request, obj=None):
        return False


class ApprovalForm(forms.Form):
    approval_expires_on = forms.DateField(
        label=_("취급 승인 만료일"), help_text=_("오늘부터 최대 1년")
    )

    def clean_approval_expires_on(self):
        expires_on = self.cleaned_data["approval_expires_on"]
        try:
            check_expiry(expires_on)
        except ValidationError as error:
            raise ValidationError(error.message_dict["approval_expires_on"]) from error
        return expires_on


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    form = MembershipAdminForm
    list_display = ("user", "organization", "role", "active", "approved_by", "approval_expires_on")
    list_filter = ("role", "active", "organization__kind")
    search_fields = ("user__username", "user__name", "organization__name")
    autocomplete_fields = ("user", "organization")
    readonly_fields = (*APPROVAL_FIELDS, "approval_step")
    actions = ["approve_for_a_year"]

    def get_form(self, request, obj=None, **kwargs):
        return bound_to(super().get_form(request, obj, **kwargs), request)

    @admin.display(description=_("취급 승인"))
    def approval_step(self, obj):
        if obj is None or obj.pk is None:
            return gettext("소속을 저장한 뒤 다른 사람이 승인합니다.")
        url = reverse("admin:partners_membership_approve", args=[obj.pk])
        return format_html('<a class="button" href="{}">{}</a>', url, gettext("취급 승인·갱신"))

    def get_urls(self):
        approve = self.admin_site.admin_view(self.approve_view)
        return [
            path("<uuid:pk>/approve/", approve, name="partners_membership_approve"),
            *super().get_urls(),
        ]

    def approve_view(self, request, pk):
        """Give or renew the data-handling approval as the signed-in person, never for their
        own membership."""
        membership = get_object_or_404(Membership.objects.select_related("user"), pk=pk)
        if not self.has_change_permission(request, membership):
            raise PermissionDenied
        form = ApprovalForm(request.POST or None, initial={"approval_expires_on": default_expiry()})
        if request.method == "POST" and form.is_valid():
            try:
                approve_membership(
                    membership,
                    by=request.user,
                    expires_on=form.cleaned_data["approval_expires_on"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                self.message_user(request, gettext("취급 승인을 기록했습니다."), messages.SUCCESS)
                return redirect("admin:partners_membership_change", membership.pk)
        context = {
            **self.admin_site.each_context(request),
            "title": gettext("개인정보 취급 승인"),
            "opts": self.model._meta,
            "original": membership,
            "form": form,
            "own": membership.user_id == request.user.pk,
        }
        return TemplateResponse(request, "admin/partners/membership/approve.html", context)

    @admin.action(description=_("선택한 소속의 개인정보 취급을 1년간 승인"))
    def approve_for_a_year(self, request, queryset):
        approved = 0
        for membership in queryset:
            try:
                approve_membership(membership, by=request.user)
            except ValidationError as error:
                self.message_user(
                    request, f"{membership}: {' '.join(error.messages)}", messages.ERROR
                )
            else:
                approved += 1
        if approved:
            self.message_user(
                request,
                ngettext(
                    "소속 %(count)d건의 취급 승인을 기록했습니다.",
                    "소속 %(count)d건의 취급 승인을 기록했습니다.",
                    approved,
                )
                % {"count": approved},
                messages.SUCCESS,
            )


@admin.register(AccessRightRecord)
class AccessRightRecordAdmin(admin.ModelAdmin):
    """접근권한 관리대장 (PIPA 안전성 확보조치 기준 제5조): read-only, kept at least three years;
    nobody, not even a superuser, adds, changes or deletes a row."""

    list_display = ("at", "kind", "user", "organization", "role", "by", "reason")
    list_filter = (
        "kind",
        ("organization", RelatedOnlyFieldListFilter),
        ("user", RelatedOnlyFieldListFilter),
        ("by", RelatedOnlyFieldListFilter),
        "at",
    )
    date_hierarchy = "at"
    search_fields = ("user__username", "user__name", "organization__name", "by__name")
    list_select_related = ("user", "organization", "by")
    fields = (
        "at",
        "kind",
        "membership_id",
        "user",
        "organization",
        "role",
        "by",
        "changes",
        "reason",
    )
    readonly_fields = fields

    def changelist_view(self, request, extra_context=None):
        extra_context = {"subtitle": RETENTION_NOTE, **(extra_context or {})}
        return super().changelist_view(request, extra_context)

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RoleGroup)
class RoleGroupAdmin(admin.ModelAdmin):
    list_display = ("group", "organization", "role")
    search_fields = ("organization__name", "group__name")
    readonly_fields = ("group", "organization", "role")

    def has_add_permission(self, request):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Tokens are read-only here: only a hash is stored, and revoking is done by the user."""

    list_display = ("prefix", "user", "created_at", "expires_at", "revoked_at", "last_used_at")
    search_fields = ("user__username",)
    readonly_fields = ("user", "prefix", "created_at", "expires_at", "revoked_at", "last_used_at")
    exclude = ("key_hash",)

    def has_add_permission(self, request):
        return False


@admin.register(LoginThrottle)
class LoginThrottleAdmin(admin.ModelAdmin):
    list_display = ("username", "failures", "last_failure_at", "locked_until")
    search_fields = ("username",)


# django-otp's own admin pages would add devices and recovery codes, or delete them, without the
# record that enrolment and removal leave (SecondFactorEvent), and show the secrets.
for _otp_model in (TOTPDevice, StaticDevice):
    if admin.site.is_registered(_otp_model):
        admin.site.unregister(_otp_model)


@admin.register(TOTPDevice)
class TOTPDeviceAdmin(admin.ModelAdmin):
    """People's authenticator apps. The system administrator only removes one, for someone
    who lost both the phone and the recovery codes; removal is recorded like the person's own."""

    list_display = ("user", "name", "confirmed", "created_at", "last_used_at")
    list_filter = ("confirmed",)
    search_fields = ("user__username", "user__name")
    list_select_related = ("user",)
    fields = ("user", "name", "confirmed", "created_at", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        remove_second_factor(obj.user, by=request.user, reason=gettext("관리자가 해제"))

    def delete_queryset(self, request, queryset):
        for device in queryset.select_related("user"):
            self.delete_model(request, device)


@admin.register(Passkey)
class PasskeyAdmin(admin.ModelAdmin):
    """People's passkeys. Like authenticator apps, the system administrator only removes one
    (a lost security key, a laptop given back); removal is recorded like the person's own."""

    list_display = ("user", "name", "backed_up", "created_at", "last_used_at")
    list_filter = ("backed_up",)
    search_fields = ("user__username", "user__name", "name")
    list_select_related = ("user",)
    fields = ("user", "name", "backed_up", "sign_count", "created_at", "last_used_at")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def delete_model(self, request, obj):
        passkeys.remove(obj.user, obj.pk, by=request.user)

    def delete_queryset(self, request, queryset):
        for passkey in queryset.select_related("user"):
            self.delete_model(request, passkey)


@admin.register(SecondFactorEvent)
class SecondFactorEventAdmin(admin.ModelAdmin):
    """Enrolment and removal of second factors: read-only, kept like the access-rights register."""

    list_display = ("at", "kind", "user", "by", "reason")
    list_filter = ("kind", "at")
    date_hierarchy = "at"
    search_fields = ("user__username", "user__name", "by__name")
    list_select_related = ("user", "by")
    fields = ("at", "kind", "user", "by", "reason")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
