"""Which rows a user may see, for every kind of object that carries personal data.

One selector per kind (`visible_<kind>s`) and one entry that answers a single object or 404
(`get_visible_<kind>_or_404`), shared by the pages and the API. An object the user may not see
is a 404, never a 403 (DESIGN.md §5). Every selector starts from the user's *current*
memberships (casework/access/sql.py), so a lapsed approval, an ended membership or lapsed
security training shows nothing.
"""

from django.core.exceptions import ObjectDoesNotExist, ValidationError
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.expressions import RawSQL
from django.http import Http404

from casework.choices import TeamRole
from casework.models import (
    Case,
    CaseMember,
    Concern,
    Intervention,
    Job,
    Meeting,
    Note,
    Notification,
    Referral,
    Student,
    SupportPlan,
    Transfer,
    TransferClaim,
)
from partners.choices import OrganizationKind
from partners.models import Organization, User

from . import roles as r
from .sql import (
    among,
    column,
    current_memberships,
    grants_sql,
    membership_sql,
    membership_value_set,
    membership_values,
    signed_in,
    union,
    visible,
)


def _or_404(rows: QuerySet, pk):
    """The row of `rows` with primary key `pk`, or 404 (a malformed id names no visible row)."""
    try:
        return rows.get(pk=pk)
    except (ObjectDoesNotExist, ValidationError, ValueError, TypeError):
        raise Http404 from None


# --- Cases -----------------------------------------------------------------------------------


def visible_cases(user: User, perm: str = r.VIEW_CASE) -> QuerySet[Case]:
    """Cases on which `user` holds `perm` today."""
    return visible(Case, user, perm)


def get_visible_case_or_404(user: User, pk, perm: str = r.VIEW_CASE) -> Case:
    return _or_404(
        visible_cases(user, perm).select_related("student", "owner", "lead", "coordinator"), pk
    )


def visible_case_ids(user: User, ids) -> set:
    """Of `ids`, the cases the user may view (a decision row, a notification's case)."""
    ids = [i for i in ids if i is not None]
    if not ids:
        return set()
    return set(visible_cases(user).filter(pk__in=ids).values_list("pk", flat=True))


def visible_plans(user: User) -> QuerySet[SupportPlan]:
    return SupportPlan.objects.filter(among("case_id", grants_sql(Case, user, r.VIEW_CASE)))


def get_visible_plan_or_404(user: User, pk) -> SupportPlan:
    return _or_404(visible_plans(user).select_related("case"), pk)


def visible_interventions(user: User) -> QuerySet[Intervention]:
    return Intervention.objects.filter(among("plan__case_id", grants_sql(Case, user, r.VIEW_CASE)))


def get_visible_intervention_or_404(user: User, pk) -> Intervention:
    return _or_404(visible_interventions(user).select_related("plan__case"), pk)


# --- Notes -----------------------------------------------------------------------------------


def restricted_note_readable(user: User) -> Q:
    """The condition on a note's case under which `user` reads its restricted notes: the
    owner school's coordinator (the role's grant), or a team member whose case role is
    counsellor and who is staff of the owner school today — never the lead office, never a
    principal or vice-principal by role (DESIGN.md §3 Note). The author is added by callers."""
    staff = membership_sql(user, None, "organization_id", roles=r.RESTRICTED_NOTE_STAFF_ROLES)
    if staff is None:
        return Q(pk__in=[])
    at_owner = Q(case__owner_id__in=RawSQL(*staff))
    counsellor = Exists(
        CaseMember.objects.filter(
            case_id=OuterRef("case_id"),
            user=user,
            role=TeamRole.COUNSELLOR,
            removed_at__isnull=True,
        )
    )
    coordinator = among("case_id", grants_sql(Case, user, r.VIEW_RESTRICTED_NOTES))
    return at_owner & (coordinator | Q(counsellor))


def visible_notes(user: User, case: Case | None = None) -> QuerySet[Note]:
    """Notes of cases the user may view: team notes, plus the restricted notes the user wrote
    or may read (`restricted_note_readable`)."""
    if not signed_in(user):
        return Note.objects.none()
    notes = Note.objects.filter(among("case_id", grants_sql(Case, user, r.VIEW_CASE)))
    if case is not None:
        notes = notes.filter(case=case)
    return notes.filter(
        Q(confidentiality=Note.Confidentiality.TEAM)
        | Q(author=user)
        | restricted_note_readable(user)
    )


def hidden_note_ids(user: User, case: Case) -> set:
    """The ids of the case's notes the user may not read: what history, timeline and errors
    must never mention."""
    readable = visible_notes(user, case).values("pk")
    return set(Note.objects.filter(case=case).exclude(pk__in=readable).values_list("pk", flat=True))


# --- Referrals -------------------------------------------------------------------------------


def visible_referrals(user: User, perm: str = r.VIEW_REFERRAL) -> QuerySet[Referral]:
    """Referrals `user` may see today: the receiving side through its grant on the referral
    (`act_on_referral` for actions), the sending side through the case (whoever may view a case
    sees its referrals, so a transfer or a lost approval ends both at once)."""
    if perm != r.VIEW_REFERRAL:
        return visible(Referral, user, perm)
    if not signed_in(user):
        return Referral.objects.none()
    cases = grants_sql(Case, user, r.VIEW_CASE)
    of_cases = None
    if cases is not None:
        of_cases = (
            f"SELECT x.id FROM {Referral._meta.db_table} x "
            f"WHERE x.{column(Referral, 'case_id')} IN ({cases[0]})",
            cases[1],
        )
    return Referral.objects.filter(among("pk", union(grants_sql(Referral, user, perm), of_cases)))


def get_visible_referral_or_404(user: User, pk, perm: str = r.VIEW_REFERRAL) -> Referral:
    return _or_404(visible_referrals(user, perm), pk)


def received_referrals(user: User) -> QuerySet[Referral]:
    """Referrals addressed to the user's organisations that the user may act on: the inbox.
    The receiving organisation is named as well as the grant (which only its roles hold), so
    that PostgreSQL reads the inbox through the (to_organization, status, created_at) index."""
    if not signed_in(user):
        return Referral.objects.none()
    orgs = membership_values(user, None, "organization_id")
    return (
        visible(Referral, user, r.ACT_ON_REFERRAL)
        .filter(to_organization_id__in=orgs)
        .exclude(status="draft")
    )


def sent_referrals(user: User) -> QuerySet[Referral]:
    """Referrals of cases the user may view, sent by one of the user's organisations: the outbox."""
    if not signed_in(user):
        return Referral.objects.none()
    orgs = membership_values(user, None, "organization_id")
    return Referral.objects.filter(
        among("case_id", grants_sql(Case, user, r.VIEW_CASE)), from_organization_id__in=orgs
    )


# --- Students --------------------------------------------------------------------------------


def visible_students(user: User) -> QuerySet[Student]:
    """Students on the rosters of the user's schools, and students of cases the user may view."""
    if not signed_in(user):
        return Student.objects.none()
    on_roster = of_cases = None
    schools = membership_sql(user, None, "organization_id", roles=r.ROSTER_ROLES)
    if schools is not None:
        on_roster = (
            f"SELECT s.id FROM {Student._meta.db_table} s "
            f"WHERE s.{column(Student, 'school_id')} IN ({schools[0]})",
            schools[1],
        )
    cases = grants_sql(Case, user, r.VIEW_CASE)
    if cases is not None:
        of_cases = (
            f"SELECT c.{column(Case, 'student_id')} FROM {Case._meta.db_table} c "
            f"WHERE c.id IN ({cases[0]})",
            cases[1],
        )
    return Student.objects.filter(among("pk", union(on_roster, of_cases)))


def get_visible_student_or_404(user: User, pk) -> Student:
    return _or_404(visible_students(user), pk)


def full_student_schools(user: User) -> set:
    """The schools whose students the user sees in full (not the roster line)."""
    return membership_value_set(user, "organization_id", roles=r.FULL_STUDENT_ROLES)


def full_student_ids(user: User, students) -> set:
    """Of `students` (visible ones), those the user sees in full: at a school where the user
    sees every student in full, or with a case the user may view."""
    students = list(students)
    schools = full_student_schools(user)
    full = {st.pk for st in students if st.school_id in schools}
    rest = [st.pk for st in students if st.pk not in full]
    if rest:
        full |= set(
            visible_cases(user).filter(student__in=rest).values_list("student_id", flat=True)
        )
    return full


def sees_full_student(user: User, student: Student) -> bool:
    """A teacher sees name, grade and class only (DESIGN.md §2) unless a case opens more."""
    return student.pk in full_student_ids(user, [student])


def is_roster_only(user: User, student: Student) -> bool:
    return not sees_full_student(user, student)


# --- Concerns --------------------------------------------------------------------------------


def visible_concerns(user: User) -> QuerySet[Concern]:
    """A teacher's own concerns (while still at the school); all concerns of the schools where
    the user oversees them."""
    if not signed_in(user):
        return Concern.objects.none()
    schools = membership_values(user, None, "organization_id", roles=r.CONCERN_OVERSEER_ROLES)
    mine = Q(raised_by=user) & Q(school_id__in=membership_values(user, None, "organization_id"))
    return Concern.objects.filter(mine | Q(school_id__in=schools))


def get_visible_concern_or_404(user: User, pk) -> Concern:
    return _or_404(visible_concerns(user).select_related("student", "raised_by", "case"), pk)


def triage_concerns(user: User) -> QuerySet[Concern]:
    """Concerns of the schools where the user triages (the work queue's first list)."""
    schools = membership_values(user, None, "organization_id", roles=r.TRIAGE_ROLES)
    return Concern.objects.filter(school_id__in=schools)


# --- Meetings --------------------------------------------------------------------------------


def visible_meetings(user: User) -> QuerySet[Meeting]:
    """Minutes are for the attendees and, at the meeting's organisation, its coordinator,
    vice-principal and principal (a district office: its centre head and case managers),
    while the user is a current member there (DESIGN.md §5)."""
    if not signed_in(user):
        return Meeting.objects.none()
    readers = membership_values(user, None, "organization_id", roles=r.MINUTES_READER_ROLES)
    members = membership_values(user, None, "organization_id")
    attended = Meeting.attendees.through.objects.filter(meeting_id=OuterRef("pk"), user=user)
    return Meeting.objects.filter(
        Q(organization_id__in=readers) | (Q(organization_id__in=members) & Exists(attended))
    )


def get_visible_meeting_or_404(user: User, pk) -> Meeting:
    return _or_404(visible_meetings(user), pk)


def meeting_organizations(user: User) -> QuerySet[Organization]:
    """The organisations where the user may record a meeting."""
    return Organization.objects.filter(
        pk__in=membership_values(user, None, "organization_id", roles=r.MEETING_ROLES)
    )


# --- Transfers and claims --------------------------------------------------------------------


def transfer_receiving_schools(user: User) -> list[Organization]:
    """The schools where the user accepts hand-overs and makes claims (their coordinator)."""
    return [
        m.organization
        for m in current_memberships(user)
        .filter(role__in=r.TRANSFER_RECEIVER_ROLES, organization__kind=OrganizationKind.SCHOOL)
        .select_related("organization")
        .order_by("organization__name")
    ]


def visible_transfers(user: User) -> QuerySet[Transfer]:
    """Transfers of cases the user may manage, and those addressed to a school where the user
    is the coordinator (who sees only what the request says until accepting)."""
    if not signed_in(user):
        return Transfer.objects.none()
    cases = visible_cases(user, r.MANAGE_CASE).filter(pk=OuterRef("case_id"))
    schools = membership_values(user, None, "organization_id", roles=r.TRANSFER_RECEIVER_ROLES)
    return Transfer.objects.filter(Q(Exists(cases)) | Q(to_school_id__in=schools))


def get_visible_transfer_or_404(user: User, pk) -> Transfer:
    return _or_404(visible_transfers(user), pk)


def visible_claims(user: User) -> QuerySet[TransferClaim]:
    """Claims the user made for their school, and claims on cases the user may hand over."""
    if not signed_in(user):
        return TransferClaim.objects.none()
    schools = membership_values(user, None, "organization_id", roles=r.TRANSFER_RECEIVER_ROLES)
    held = membership_values(user, None, "organization_id", roles=r.TRANSFER_REQUEST_ROLES)
    cases = visible_cases(user, r.MANAGE_CASE).filter(owner_id__in=held)
    return TransferClaim.objects.filter(
        Q(to_school_id__in=schools) | Q(case__in=cases.values("pk"))
    )


def get_visible_claim_or_404(user: User, pk) -> TransferClaim:
    return _or_404(visible_claims(user), pk)


# --- Notifications and jobs ------------------------------------------------------------------


def visible_notifications(user: User) -> QuerySet[Notification]:
    """The user's own notifications, which carry names, concern text and outcomes: only while
    the user holds a current membership, like every other read of personal data."""
    if not signed_in(user) or not has_current_membership(user):
        return Notification.objects.none()
    return Notification.objects.filter(recipient=user)


def get_visible_notification_or_404(user: User, pk) -> Notification:
    return _or_404(visible_notifications(user), pk)


def visible_jobs(user: User) -> QuerySet[Job]:
    """The user's own jobs at organisations where the user still keeps the roster (a job's
    row errors quote roster data); their exports wherever they still hold a membership."""
    if not signed_in(user):
        return Job.objects.none()
    orgs = membership_values(user, None, "organization_id", roles=r.ROSTER_KEEPER_ROLES)
    own = Job.objects.filter(created_by=user)
    exports = own.filter(
        kind=Job.Kind.EXPORT, organization_id__in=membership_values(user, None, "organization_id")
    )
    return own.filter(organization_id__in=orgs).exclude(kind=Job.Kind.EXPORT) | exports


def get_visible_job_or_404(user: User, pk) -> Job:
    return _or_404(visible_jobs(user), pk)


def has_current_membership(user: User) -> bool:
    if not signed_in(user):
        return False
    return bool(membership_value_set(user, "organization_id"))
