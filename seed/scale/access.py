"""The grants the workflows would have written for the loaded cases and referrals, through the
access package's bulk grants (one COPY per table, never a guardian call per grant)."""

from casework import access

from .base import Load


def grant_access(load: Load, cases: list[dict], sent_referrals: list[tuple]) -> None:
    """The owner school's roles on every case, the lead office's on an escalated one, the
    receiver's on every referral that was sent."""
    on_cases = access.bulk_grant_cases(
        [(c["id"], c["owner_id"], c["lead_id"] if c["_escalated"] else None) for c in cases],
        copier=load.copier,
    )
    on_referrals = access.bulk_grant_referrals(sent_referrals, copier=load.copier)
    load.progress(f"grants: {on_cases} on cases, {on_referrals} on referrals")
