"""Who may see and do what: the one home of access in Ieum (DESIGN.md §5, docs/access.md).

- `roles` — every role table: what each role holds, who acts, who is told, what the menu shows.
- `sql` — the grant subqueries over guardian's direct-FK tables joined to *current* memberships.
- `visibility` — one selector and one `get_visible_<kind>_or_404` per kind of object.
- `capabilities` — "may this user do this" for workflows and pages.
- `grants` — the grant and revoke writes, the only caller of guardian, used by workflows only
  (and, in bulk, by the scale seeder).
- `checker` — the per-request permission cache.
- `exports` — whose files an export makes and who fetches them again.
- `reports` — who reads aggregate reports, over which schools.
- `alerts` — who alerts schools about a child, and who sends on what the match could not place.
- `discovery` — who imports indicators, sets thresholds and reads screening levels.

Callers write `from casework import access` and use the names below; nothing outside this
package names a role or builds a visibility filter.
"""

from .alerts import (
    alert_candidate_students,
    alert_offices,
    alert_route_schools,
    alert_sending_organization,
    alerts_to_route,
    get_alert_to_route_or_404,
    may_route_alert,
    may_route_alerts,
    may_send_alert,
    sent_alerts,
)
from .break_glass import (
    break_glass_in_force,
    break_glasses_in_force,
    find_break_glass_case,
    forget_break_glasses,
    get_break_glass_case_or_404,
    get_own_break_glass_or_404,
    may_hold_break_glass,
    read_logged_as,
)
from .capabilities import (
    acting_membership,
    acts_for_referral_sender,
    audience,
    current_roles,
    decider_roles,
    district_offices,
    has_case_perm,
    has_referral_perm,
    heads_a_school,
    holds_role,
    is_member_of,
    is_owner_staff,
    is_referral_sender,
    keeps_roster,
    may_assign_referral,
    may_confirm_claim,
    may_decide_referral,
    may_open_case,
    may_receive_referrals,
    may_receive_transfer,
    may_record_meeting,
    may_request_transfer,
    may_send_from,
    may_triage,
    menu,
    organizations_seeing_cases,
    organizations_where,
    organizations_where_triaging,
    receiver_roles,
    receiving_people,
    roster_schools,
    schools_worked_at,
    sending_organization,
    team_candidates,
    team_role_fits,
    works_at_district,
    works_at_school,
)
from .checker import AccessChecker
from .discovery import (
    indicator_schools,
    keeps_indicators,
    reads_screening_levels,
    screening_level_shown,
)
from .exports import (
    export_organization,
    get_downloadable_export_or_404,
    get_visible_export_job_or_404,
    may_download_export,
    visible_export_jobs,
)
from .grants import (
    bulk_grant_cases,
    bulk_grant_referrals,
    ended_memberships_holding_grants,
    grant_case_to_lead_office,
    grant_case_to_owner_school,
    grant_referral_to_receiver,
    grant_to_role,
    grant_to_user,
    revoke_case_from_lead_office,
    revoke_case_from_organization,
    revoke_from_organization,
    revoke_from_role,
    revoke_from_user,
    revoke_membership_grants,
    revoke_referral_from_receiver,
    team_grants,
)
from .oversight import (
    access_events_about,
    break_glass_membership,
    get_overseen_finding_or_404,
    get_own_finding_or_404,
    get_visible_review_or_404,
    is_privacy_officer,
    may_break_glass,
    may_break_glass_somewhere,
    may_oversee,
    may_read_access_log,
    office_overseeing,
    open_findings,
    organizations_under,
    outside_caseload,
    overseen_break_glasses,
    overseen_organization_ids,
    oversees_organization,
    privacy_offices,
    visible_access_events,
    visible_destructions,
    visible_reviews,
)
from .reports import (
    committee_offices,
    committee_requester_organization,
    committee_schools,
    may_read_reports,
    may_request_committee_report,
    report_scope,
)
from .roles import (
    ACT_ON_REFERRAL,
    APPROVE_PLAN,
    CASE_PERMISSIONS,
    CHANGE_CASE,
    MANAGE_CASE,
    REFERRAL_PERMISSIONS,
    VIEW_CASE,
    VIEW_REFERRAL,
    VIEW_RESTRICTED_NOTES,
)
from .sql import current_memberships
from .subject_access import (
    get_subject_access_student_or_404,
    keeps_student_records,
    may_answer_subject_access,
    subject_access_notes,
)
from .visibility import (
    full_student_ids,
    get_visible_case_or_404,
    get_visible_claim_or_404,
    get_visible_concern_or_404,
    get_visible_intervention_or_404,
    get_visible_job_or_404,
    get_visible_meeting_or_404,
    get_visible_notification_or_404,
    get_visible_plan_or_404,
    get_visible_referral_or_404,
    get_visible_student_or_404,
    get_visible_transfer_or_404,
    has_current_membership,
    hidden_note_ids,
    is_roster_only,
    meeting_organizations,
    received_referrals,
    restricted_note_readable,
    sees_full_student,
    sent_referrals,
    transfer_receiving_schools,
    triage_concerns,
    visible_case_ids,
    visible_cases,
    visible_claims,
    visible_concerns,
    visible_interventions,
    visible_jobs,
    visible_meetings,
    visible_notes,
    visible_notifications,
    visible_plans,
    visible_referrals,
    visible_students,
    visible_transfers,
)
