from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/code/", views.LoginCodeView.as_view(), name="login_code"),
    path("login/passkey/options/", views.passkey_login_options, name="passkey_login_options"),
    path("login/passkey/", views.passkey_login, name="passkey_login"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/mfa/", views.mfa_overview, name="mfa"),
    path("account/mfa/setup/", views.mfa_setup, name="mfa_setup"),
    path("account/mfa/remove/", views.mfa_remove, name="mfa_remove"),
    path("account/mfa/recovery-codes/", views.mfa_recovery_codes, name="mfa_recovery_codes"),
    path("account/mfa/recovery-codes/new/", views.mfa_new_codes, name="mfa_new_codes"),
    path(
        "account/mfa/passkeys/options/",
        views.passkey_register_options,
        name="passkey_register_options",
    ),
    path("account/mfa/passkeys/", views.passkey_register, name="passkey_register"),
    path(
        "account/mfa/passkeys/<int:passkey_id>/remove/",
        views.passkey_remove,
        name="passkey_remove",
    ),
    path("directory/", views.directory, name="directory"),
]
