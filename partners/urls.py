from django.contrib.auth import views as auth_views
from django.urls import path

from . import views

urlpatterns = [
    path("", views.home, name="home"),
    path("login/", views.LoginView.as_view(), name="login"),
    path("login/code/", views.LoginCodeView.as_view(), name="login_code"),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/mfa/", views.mfa_overview, name="mfa"),
    path("account/mfa/setup/", views.mfa_setup, name="mfa_setup"),
    path("account/mfa/remove/", views.mfa_remove, name="mfa_remove"),
    path("account/mfa/recovery-codes/", views.mfa_recovery_codes, name="mfa_recovery_codes"),
    path("directory/", views.directory, name="directory"),
]
