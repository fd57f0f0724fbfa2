"""Django admin for the network. The system administrator manages organisations, agreements,
services and people here and sees no case content (casework models are not registered)."""

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import UserChangeForm, UserCreationForm
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from .models import (
    Agreement,
    ApiToken,
    LoginThrottle,
    Membership,
    Organization,
    RoleGroup,
    Service,
    User,
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


class MembershipInline(admin.TabularInline):
    model = Membership
    fk_name = "user"
    extra = 0
    autocomplete_fields = ("organization", "approved_by")
    fields = (
        "organization",
        "role",
        "title",
        "active",
        "started_on",
        "ended_on",
        "approved_by",
        "approved_on",
        "approval_expires_on",
        "training_completed_on",
    )


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


@admin.register(Membership)
class MembershipAdmin(SimpleHistoryAdmin):
    list_display = ("user", "organization", "role", "active", "approval_expires_on")
    list_filter = ("role", "active", "organization__kind")
    search_fields = ("user__username", "user__name", "organization__name")
    autocomplete_fields = ("user", "organization", "approved_by")


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
