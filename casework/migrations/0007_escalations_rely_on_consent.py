"""An escalation on the consent basis names its consent, as every other referral does (DESIGN.md
§4: only the agreement is waived inside the education system; Act Art. 11③).

Escalations sent before this rule named none. Each gets the consent that covered sharing with
the office on the day it was sent — the student's and the guardian's, both with the
`share_with_office` purpose; the guardian's is named, as `send_referral` does — with a history
row. An escalation for which no such consents were ever recorded left without a legal basis on
record; no migration can supply one, so the migration stops and lists them: record the consents
(or let the privacy officer settle the basis) and migrate again. A demo or benchmark database is
rebuilt instead. Reversing restores the old, looser constraint and keeps the links."""

from django.db import migrations, models
from django.utils import timezone

EDUCATION_OFFICES = ("provincial_office", "district_office")


def history_row(historical, obj, reason):
    """The history row a workflow save would have written (no request: no acting user)."""
    values = {
        f.attname: getattr(obj, f.attname)
        for f in historical._meta.concrete_fields
        if not f.name.startswith("history_")
    }
    historical.objects.create(
        **values,
        history_date=timezone.now(),
        history_type="~",
        history_change_reason=reason,
        history_user_id=None,
    )


def covering(consents, referral):
    """The consent per subject that allowed sharing with the receiver on the day of sending."""
    receiver = referral.to_organization
    purpose = (
        "share_with_office" if receiver.kind in EDUCATION_OFFICES else "share_with_partners"
    )
    names = {str(receiver.pk), receiver.code, receiver.kind, receiver.agency_type or "-"}
    day = timezone.localdate(referral.sent_at) if referral.sent_at else timezone.localdate()
    found = {}
    for consent in consents:
        if consent.given_on > day or (consent.expires_on and consent.expires_on < day):
            continue
        if consent.withdrawn_on and consent.withdrawn_on <= day:
            continue
        if purpose not in (consent.purposes or []):
            continue
        recipients = {str(r) for r in consent.recipients or []}
        if recipients and not recipients & names:
            continue
        found.setdefault(consent.subject, consent)
    return found


def name_the_consents(apps, schema_editor):
    referral_model = apps.get_model("casework", "Referral")
    consent_model = apps.get_model("casework", "Consent")
    historical = apps.get_model("casework", "HistoricalReferral")
    rows = (
        referral_model.objects.filter(legal_basis="consent", consent__isnull=True)
        .exclude(status__in=("draft", "cancelled"))
        .select_related("to_organization")
        .order_by("number")
    )
    unresolved = []
    for referral in rows.iterator():
        consents = consent_model.objects.filter(case_id=referral.case_id).order_by("-given_on")
        found = covering(list(consents), referral)
        if "student" not in found or "guardian" not in found:
            unresolved.append(referral.number or str(referral.pk))
            continue
        referral.consent_id = found["guardian"].pk
        referral.save(update_fields=["consent"])
        history_row(historical, referral, "근거 동의 기록 (교육지원청 요청도 동의 필요)")
    # The new consent_id values queue deferred foreign-key checks, and PostgreSQL will not alter
    # a table with checks pending: run them now, before the constraint is added.
    schema_editor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    if unresolved:
        raise RuntimeError(
            f"{len(unresolved)} referral(s) left on the consent basis without any consent that "
            "covered sharing with the receiver, so no legal basis can be named for them: "
            f"{', '.join(unresolved[:20])}{' …' if len(unresolved) > 20 else ''}. Record the "
            "student's and the guardian's consents (purpose share_with_office) on those cases, "
            "or have the privacy officer settle the basis, then migrate again. A demo or "
            "benchmark database is rebuilt instead (drop it, migrate, seed_demo / seed_scale)."
        )


class Migration(migrations.Migration):
    dependencies = [("casework", "0006_retention_destruction_record")]

    operations = [
        migrations.RemoveConstraint(
            model_name="referral",
            name="referral_sent_on_consent_names_it",
        ),
        migrations.RunPython(name_the_consents, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="referral",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("legal_basis", "consent"), _negated=True),
                    ("consent__isnull", False),
                    ("status", "draft"),
                    ("status", "cancelled"),
                    _connector="OR",
                ),
                name="referral_sent_on_consent_names_it",
            ),
        ),
    ]
