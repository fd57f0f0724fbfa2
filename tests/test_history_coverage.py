"""DESIGN.md §6: simple-history on every model of casework and partners, with named exceptions."""

from django.apps import apps

# The access log is itself the audit record (append-only, hash-chained): history of it would be
# a copy of a copy. The login-failure counter is operational and resets itself.
# The access-rights register is itself the record of membership changes (append-only).
# The report facts are derived from tables that keep history, rebuilt whenever they change.
WITHOUT_HISTORY = {
    "AccessEvent",
    "AccessChainHead",
    "LoginThrottle",
    "AccessRightRecord",
    "ReportCase",
    "ReportReferral",
    "ReportFacts",
    "ReportMonth",
}
# guardian's permission tables are written only through casework/access.py by workflows whose
# own history rows say what was granted and why.
PERMISSION_TABLES = {
    "CaseUserObjectPermission",
    "CaseGroupObjectPermission",
    "ReferralUserObjectPermission",
    "ReferralGroupObjectPermission",
}


def test_every_model_keeps_history():
    missing = []
    for app in ("partners", "casework"):
        for model in apps.get_app_config(app).get_models():
            name = model.__name__
            if name.startswith("Historical") or name in WITHOUT_HISTORY | PERMISSION_TABLES:
                continue
            if model.__name__.endswith("_covers") or model._meta.auto_created:
                continue
            if not hasattr(model, "history"):
                missing.append(f"{app}.{name}")
    assert not missing, f"models without history: {missing}"
