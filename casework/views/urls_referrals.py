"""Pages of referrals and transfers."""

from django.urls import path

from . import referrals, work

urlpatterns = [
    path("cases/<uuid:pk>/refer/", referrals.referral_new, name="referral_new"),
    path(
        "cases/<uuid:pk>/consents/<uuid:consent_pk>/withdraw/",
        work.consent_withdraw,
        name="consent_withdraw",
    ),
    path("cases/<uuid:pk>/transfer/", work.transfer_request, name="transfer_request"),
    path("referrals/", referrals.referral_list, name="referral_list"),
    path("referrals/badge/", referrals.referral_badge, name="referral_badge"),
    path("referrals/<uuid:pk>/", referrals.referral_detail, name="referral_detail"),
    path(
        "referrals/<uuid:pk>/do/<slug:action>/",
        referrals.referral_action,
        name="referral_action",
    ),
    path("transfers/", referrals.transfer_list, name="transfer_list"),
    path(
        "transfers/<uuid:pk>/do/<slug:action>/",
        referrals.transfer_action,
        name="transfer_action",
    ),
    path("transfers/claim/", referrals.transfer_claim, name="transfer_claim"),
    path(
        "transfers/claims/<uuid:pk>/do/<slug:action>/",
        referrals.transfer_claim_action,
        name="transfer_claim_action",
    ),
]
