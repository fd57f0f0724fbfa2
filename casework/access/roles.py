"""Every role table of Ieum, in one module (DESIGN.md §2 roles table, §4 who acts, §5).

Nothing outside `casework/access/` names a role: views, the API, selectors, workflows and
templates ask the capabilities and selectors of this package, which read these tables. A new
rule about who may do or see something is a new entry here and a function beside the others.
"""

from casework.choices import TeamRole
from partners.choices import OrganizationKind, Role

# --- Permission codenames (the guardian object permissions of casework/models/permissions.py) --
VIEW_CASE = "view_case"
CHANGE_CASE = "change_case"
MANAGE_CASE = "manage_case"
VIEW_RESTRICTED_NOTES = "view_restricted_notes"
APPROVE_PLAN = "approve_plan"
CASE_PERMISSIONS = (VIEW_CASE, CHANGE_CASE, MANAGE_CASE, VIEW_RESTRICTED_NOTES, APPROVE_PLAN)

VIEW_REFERRAL = "view_referral"
ACT_ON_REFERRAL = "act_on_referral"
REFERRAL_PERMISSIONS = (VIEW_REFERRAL, ACT_ON_REFERRAL)

# --- What roles hold on a case ---------------------------------------------------------------
# The owner school's roles on the school's cases. The coordinator reads restricted notes; the
# principal and vice-principal never do by role (DESIGN.md §3 Note).
OWNER_SCHOOL_GRANTS: dict[str, tuple[str, ...]] = {
    Role.COORDINATOR: (VIEW_CASE, CHANGE_CASE, MANAGE_CASE, VIEW_RESTRICTED_NOTES),
    Role.PRINCIPAL: (VIEW_CASE, MANAGE_CASE, APPROVE_PLAN),  # may send escalations
    Role.VICE_PRINCIPAL: (VIEW_CASE,),
}
# The lead district office once it accepts an escalation: never restricted notes.
LEAD_OFFICE_GRANTS: dict[str, tuple[str, ...]] = {
    Role.CASE_MANAGER: (VIEW_CASE, CHANGE_CASE, MANAGE_CASE),
    Role.CENTRE_HEAD: (VIEW_CASE,),
}

# Roles whose work is every case of their organisation: their reads of its cases are never
# "outside their caseload" in the monthly review (DESIGN.md §9); anyone else's caseload is the
# cases whose team they are on, that they coordinate, or whose referral they were assigned.
CASELOAD_WIDE_ROLES = frozenset(
    {Role.COORDINATOR, Role.PRINCIPAL, Role.VICE_PRINCIPAL, Role.CENTRE_HEAD}
)

# --- The case team ---------------------------------------------------------------------------
# What a team member holds by case role. Only a counsellor who is staff of the owner school
# reads restricted notes; the permission is granted only then (`team_grants`).
TEAM_GRANTS: dict[str, tuple[str, ...]] = {
    TeamRole.COUNSELLOR: (VIEW_CASE, CHANGE_CASE, VIEW_RESTRICTED_NOTES),
}
DEFAULT_TEAM_GRANTS = (VIEW_CASE, CHANGE_CASE)
# The case roles a person may take, by the side of the case their organisation is on: the
# owner school's staff take the school's roles; a lead office's members join as case manager.
OWNER_TEAM_ROLES = frozenset(
    {
        TeamRole.COORDINATOR,
        TeamRole.HOMEROOM_TEACHER,
        TeamRole.COUNSELLOR,
        TeamRole.NURSE,
        TeamRole.WELFARE_WORKER,
        TeamRole.OTHER,
    }
)
LEAD_OFFICE_TEAM_ROLES = frozenset({TeamRole.CASE_MANAGER})
# Team members of the owner school whose membership role may read restricted notes as a
# counsellor: school staff, never the heads by role.
RESTRICTED_NOTE_STAFF_ROLES = frozenset({Role.TEAM_MEMBER, Role.COORDINATOR, Role.TEACHER})

# --- School rosters and students -------------------------------------------------------------
# School roles that work from the school's roster (a teacher sees name, grade and class only).
ROSTER_ROLES = (
    Role.TEACHER,
    Role.TEAM_MEMBER,
    Role.COORDINATOR,
    Role.VICE_PRINCIPAL,
    Role.PRINCIPAL,
)
# Who sees every student of the school in full (the others see the roster line unless a case
# they may view opens more).
FULL_STUDENT_ROLES = (Role.COORDINATOR, Role.VICE_PRINCIPAL, Role.PRINCIPAL)
# Who keeps the school's roster: registers students and imports rosters.
ROSTER_KEEPER_ROLES = (Role.COORDINATOR,)

# --- Concerns and cases at a school ----------------------------------------------------------
# Who sees all of a school's concerns: the coordinator triages; the heads oversee.
CONCERN_OVERSEER_ROLES = (Role.COORDINATOR, Role.VICE_PRINCIPAL, Role.PRINCIPAL)
TRIAGE_ROLES = (Role.COORDINATOR,)
OPEN_CASE_ROLES = (Role.COORDINATOR,)
# The heads of a school (the school overview page).
SCHOOL_HEAD_ROLES = (Role.PRINCIPAL, Role.VICE_PRINCIPAL)

# --- Meetings --------------------------------------------------------------------------------
# Who records a meeting at their organisation.
MEETING_ROLES = (Role.COORDINATOR, Role.VICE_PRINCIPAL, Role.PRINCIPAL, Role.CASE_MANAGER)
# Who reads the minutes of every meeting of their organisation (DESIGN.md §5); attendees read
# their own meetings' minutes whatever their role.
MINUTES_READER_ROLES = (
    Role.COORDINATOR,
    Role.VICE_PRINCIPAL,
    Role.PRINCIPAL,
    Role.CENTRE_HEAD,
    Role.CASE_MANAGER,
)

# --- Referrals -------------------------------------------------------------------------------
# The sender's case staff (DESIGN.md §4): the school's coordinator and principal, a lead
# office's case managers. They draft, send and cancel; a vice-principal only follows the case.
REFERRAL_SENDER_ROLES = (Role.COORDINATOR, Role.PRINCIPAL, Role.CASE_MANAGER)
# The receiving side's casework roles: they see, open and act on what is addressed to them.
RECEIVER_ROLES_EDUCATION = (Role.CASE_MANAGER, Role.CENTRE_HEAD)
RECEIVER_ROLES_PARTNER = (Role.PARTNER_WORKER, Role.PARTNER_LEAD)
# Who decides an escalation at the district office (Art. 10⑤).
ESCALATION_DECIDER_ROLES = (Role.CENTRE_HEAD,)
# Who assigns a received referral to a colleague.
ASSIGNER_ROLES = (Role.PARTNER_LEAD, Role.CENTRE_HEAD)

# --- Transfers -------------------------------------------------------------------------------
# Who hands a case over for the old school: its coordinator or principal.
TRANSFER_REQUEST_ROLES = (Role.COORDINATOR, Role.PRINCIPAL)
# Who accepts a hand-over for the new school, or claims one for it.
TRANSFER_RECEIVER_ROLES = (Role.COORDINATOR,)

# --- District office -------------------------------------------------------------------------
DISTRICT_ROLES = (Role.CENTRE_HEAD, Role.CASE_MANAGER)

# --- Oversight (DESIGN.md §9) ------------------------------------------------------------------
# Who reads the access log, builds the monthly review and keeps the destruction register, for
# the organisations under their provincial office (`access.oversight`).
PRIVACY_OFFICER_ROLES = (Role.PRIVACY_OFFICER,)
# Besides the privacy officer, who answers a subject-access request (PIPA 35조) for a student:
# the coordinator of the student's school, who keeps its records.
SUBJECT_ACCESS_ROLES = (Role.COORDINATOR,)
# Besides the privacy officer, who may open a case outside their grants (break-glass): the centre
# head of the office the case's school belongs to.
BREAK_GLASS_HEAD_ROLES = (Role.CENTRE_HEAD,)
# Everyone who may hold a break-glass opening: it reads only while the membership it was opened
# through is current in one of these roles (`access.break_glass`).
BREAK_GLASS_ROLES = (*PRIVACY_OFFICER_ROLES, *BREAK_GLASS_HEAD_ROLES)
# The kinds of organisation outside the education system a provincial office oversees when they
# sit in, or serve, a borough its district offices cover.
OVERSEEN_PARTNER_KINDS = (
    OrganizationKind.PARTNER_AGENCY,
    OrganizationKind.CONTRACTED_AGENCY,
    OrganizationKind.COMMUNITY_CENTER,
    OrganizationKind.LOCAL_GOVERNMENT,
)

# --- Reports (DESIGN.md §10) ------------------------------------------------------------------
# Who reads aggregate reports, and over which schools (`access.reports`): an analyst the schools
# of their provincial office, a centre head those of their office, a principal their own school.
# Nobody sees a person in a report; reading one is not a read of personal data.
REPORT_PROVINCE_ROLES = (Role.ANALYST,)
REPORT_OFFICE_ROLES = (Role.CENTRE_HEAD,)
REPORT_SCHOOL_ROLES = (Role.PRINCIPAL,)
REPORT_ROLES = (*REPORT_PROVINCE_ROLES, *REPORT_OFFICE_ROLES, *REPORT_SCHOOL_ROLES)

# --- Alerts from partners (DESIGN.md §11) -----------------------------------------------------
# Who alerts a school about a child they met: the workers and leads of an organisation outside
# the education system (a partner agency, police included; a 행정복지센터; the borough).
ALERT_SENDER_ROLES = (Role.PARTNER_WORKER, Role.PARTNER_LEAD)
ALERT_SENDER_KINDS = (
    OrganizationKind.PARTNER_AGENCY,
    OrganizationKind.CONTRACTED_AGENCY,
    OrganizationKind.COMMUNITY_CENTER,
    OrganizationKind.LOCAL_GOVERNMENT,
)
# Who sends an alert the match could not place on to a school: the district centre's staff.
ALERT_ROUTER_ROLES = DISTRICT_ROLES

# --- Who is told (notification audiences, by event) ------------------------------------------
AUDIENCES: dict[str, tuple[str, ...]] = {
    "concern_raised": TRIAGE_ROLES,
    "case_opened": SCHOOL_HEAD_ROLES,
    "case_transition": (Role.PRINCIPAL,),
    "plan_submitted": (Role.PRINCIPAL,),
    "transfer_requested": TRANSFER_RECEIVER_ROLES,
    "transfer_decided": (Role.COORDINATOR,),
    "referral_sender": (Role.COORDINATOR,),
    "referral_sender_head": (Role.PRINCIPAL, Role.CENTRE_HEAD),
    "lead_office_revoked": DISTRICT_ROLES,
    # The owner school is told when someone breaks the glass on one of its cases.
    "break_glass_opened": (Role.COORDINATOR,),
    # A provincial office's privacy officers are told when a monthly review is built.
    "access_review_built": PRIVACY_OFFICER_ROLES,
    # An alert from a partner: the school's coordinator gets its concern; a district office's
    # centre staff get the alerts they must send on by hand.
    "alert_concern": TRIAGE_ROLES,
    "alert_to_route": ALERT_ROUTER_ROLES,
}

# --- The menu: which entries a user's roles call for -----------------------------------------
SCHOOL_ROLES = frozenset(ROSTER_ROLES)
MENU: dict[str, frozenset[str]] = {
    "school": SCHOOL_ROLES,
    "coordinator": frozenset({Role.COORDINATOR}),
    "cases": SCHOOL_ROLES | {Role.CASE_MANAGER, Role.CENTRE_HEAD},
    "heads": frozenset(SCHOOL_HEAD_ROLES),
    "meetings": frozenset(MINUTES_READER_ROLES),
    "referrals": frozenset(
        {
            Role.COORDINATOR,
            Role.PRINCIPAL,
            Role.CASE_MANAGER,
            Role.CENTRE_HEAD,
            Role.PARTNER_WORKER,
            Role.PARTNER_LEAD,
        }
    ),
    "district": frozenset(DISTRICT_ROLES),
    "oversight": frozenset(PRIVACY_OFFICER_ROLES),
    "break_glass": frozenset({*PRIVACY_OFFICER_ROLES, *BREAK_GLASS_HEAD_ROLES}),
    "reports": frozenset(REPORT_ROLES),
    "alerts": frozenset(ALERT_SENDER_ROLES),
    "alert_routing": frozenset(ALERT_ROUTER_ROLES),
}
