"""Reads that need policy: each starts from a casework/access/ selector, then shapes the rows.

Views and the API call these; none of them builds a permission filter of its own.
"""

from collections import defaultdict
from dataclasses import dataclass
from datetime import timedelta

from django.core.exceptions import ValidationError
from django.db.models import Case as Cases
from django.db.models import (
    Count,
    Exists,
    F,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
    Window,
)
from django.utils import timezone
from django.utils.translation import gettext as _

from core import params
from partners.choices import PARTNER_KINDS, Domain
from partners.models import Organization, Service, User

from . import access, deadlines
from .choices import ConsentPurpose, ConsentSubject, Urgency
from .models import (
    Assessment,
    Case,
    CaseMember,
    CaseStatus,
    Concern,
    Consent,
    Intervention,
    Meeting,
    Notification,
    Referral,
    ReferralKind,
    ReferralStatus,
    SupportPlan,
    Transfer,
)
from .models.referrals import AWAITING_RESPONSE, OPEN_STATUSES
from .workflows import sharing

# What a list row shows of each related record. A page of 50 rows loads its relations with the
# rows (select_related) but only these columns: building every column of five related records
# per row cost more than the query itself. A list that shows more adds it here; showing a
# column not loaded would cost a query per row, which tests/test_hot_paths.py would catch.
REF_COLUMNS = {
    "organization": ("id", "code", "name"),
    "user": ("id", "name", "username"),
    "service": ("id", "name"),
    "student": ("id", "name", "grade", "class_no", "number"),
    "case": ("id", "number", "student"),
}


def list_rows(rows: QuerySet, **related: str) -> QuerySet:
    """`rows` with the relations named (path=REF_COLUMNS kind), each loaded with the row's own
    columns and only its REF_COLUMNS."""
    own = [f.name for f in rows.model._meta.concrete_fields]
    refs = [f"{path}__{column}" for path, kind in related.items() for column in REF_COLUMNS[kind]]
    return rows.select_related(*related).only(*own, *refs)


def case_list(
    user: User,
    *,
    status: str | None = None,
    risk_level: str | None = None,
    difficulty: str | None = None,
    q: str | None = None,
    school=None,
    mine: bool = False,
) -> QuerySet[Case]:
    cases = list_rows(
        access.visible_cases(user),
        student="student",
        owner="organization",
        lead="organization",
        coordinator="user",
    )
    if status:
        cases = cases.filter(status__in=status.split(","))
    if risk_level:
        cases = cases.filter(risk_level__in=risk_level.split(","))
    if difficulty:
        cases = cases.filter(difficulties__contains=[difficulty])
    if q:
        q = q.strip()
        cases = cases.filter(Q(number__icontains=q) | Q(student__name__icontains=q))
    if school:
        cases = cases.filter(owner_id=school)
    if mine:
        cases = cases.filter(
            Exists(
                CaseMember.objects.filter(
                    case_id=OuterRef("pk"), user=user, removed_at__isnull=True
                )
            )
        )
    return cases


def notifications_by_case(user: User) -> QuerySet[Notification]:
    """The user's notifications, case by case: the case heard of last first, each case's
    newest first; those of no case are a group of their own (the notifications page)."""
    latest = Window(Max("created_at"), partition_by=[F("case_id")])
    return (
        access.visible_notifications(user)
        .annotate(group_latest=latest)
        .select_related("case", "case__student")
        .order_by("-group_latest", "case_id", "-created_at")
    )


def visible_concerns(user: User) -> QuerySet[Concern]:
    """The concerns the user may see (access decides) with what their rows show."""
    return access.visible_concerns(user).select_related("student", "raised_by", "case")


def plans_awaiting_approval(user: User) -> QuerySet[SupportPlan]:
    approvable = access.visible_cases(user, access.APPROVE_PLAN).filter(pk=OuterRef("case_id"))
    return (
        SupportPlan.objects.filter(status=SupportPlan.Status.SUBMITTED)
        .filter(Exists(approvable))
        .select_related("case", "case__student", "created_by")
        .order_by("submitted_at")
    )


def _valid_support_consent(subject: str):
    today = timezone.localdate()
    return Exists(
        Consent.objects.filter(
            case_id=OuterRef("pk"),
            subject=subject,
            withdrawn_on__isnull=True,
            given_on__lte=today,
            purposes__contains=[ConsentPurpose.SUPPORT],
        ).filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today))
    )


@dataclass
class WorkQueue:
    new_concerns: list[Concern]
    consents_missing: list[Case]
    plans_awaiting_approval: list[SupportPlan]
    reviews_due: list[Case]

    @property
    def total(self) -> int:
        return (
            len(self.new_concerns)
            + len(self.consents_missing)
            + len(self.plans_awaiting_approval)
            + len(self.reviews_due)
        )


# Most urgent first: the codes do not sort by what they mean ("urgent" < "normal" < "high").
URGENCY_RANK = Cases(
    When(urgency=Urgency.URGENT, then=Value(2)),
    When(urgency=Urgency.HIGH, then=Value(1)),
    default=Value(0),
)


def work_queue(user: User, *, limit: int = 50) -> WorkQueue:
    """The coordinator's day: concerns to triage, consents to collect, plans waiting for the
    principal, and reviews falling due within a week. A fixed number of queries."""
    new_concerns = list(
        list_rows(
            access.triage_concerns(user).filter(status=Concern.Status.OPEN),
            student="student",
            raised_by="user",
        ).order_by(URGENCY_RANK.desc(), "created_at")[:limit]
    )
    manageable = list_rows(access.visible_cases(user, access.MANAGE_CASE), student="student")
    consents_missing = list(
        manageable.filter(status=CaseStatus.SELECTED)
        .annotate(
            has_student=_valid_support_consent(ConsentSubject.STUDENT),
            has_guardian=_valid_support_consent(ConsentSubject.GUARDIAN),
        )
        .filter(Q(has_student=False) | Q(has_guardian=False))
        .order_by("updated_at")[:limit]
    )
    soon = timezone.localdate() + timedelta(days=7)
    reviews_due = list(
        manageable.filter(
            status__in=(CaseStatus.ACTIVE, CaseStatus.MONITORING), review_due_on__lte=soon
        ).order_by("review_due_on")[:limit]
    )
    # Plans waiting for the principal: theirs to approve, or the coordinator's to chase.
    involved = access.visible_cases(user, access.MANAGE_CASE).filter(pk=OuterRef("case_id"))
    approvable = access.visible_cases(user, access.APPROVE_PLAN).filter(pk=OuterRef("case_id"))
    awaiting = list(
        list_rows(
            SupportPlan.objects.filter(status=SupportPlan.Status.SUBMITTED).filter(
                Q(Exists(involved)) | Q(Exists(approvable))
            ),
            case="case",
            case__student="student",
        ).order_by("submitted_at")[:limit]
    )
    return WorkQueue(new_concerns, consents_missing, awaiting, reviews_due)


def case_detail(user: User, pk) -> Case:
    """One visible case with what its page shows, or Case.DoesNotExist (→ 404). Plans and the
    history are sections of their own (`case_plans`, `audit.case_timeline`)."""
    pending = Transfer.objects.filter(case=OuterRef("pk"), status=Transfer.Status.REQUESTED)
    members = list_rows(CaseMember.objects.filter(removed_at__isnull=True), user="user")
    return (
        list_rows(
            access.visible_cases(user),
            student="student",
            owner="organization",
            lead="organization",
            coordinator="user",
        )
        .annotate(
            pending_transfer_to=Subquery(pending.values("to_school__name")[:1]),
            has_approved_plan=Exists(
                SupportPlan.objects.filter(case=OuterRef("pk"), status=SupportPlan.Status.APPROVED)
            ),
        )
        .prefetch_related(
            Prefetch("members", queryset=members),
            "consents",
            Prefetch("assessments", queryset=list_rows(Assessment.objects, assessed_by="user")),
        )
        .get(pk=pk)
    )


def case_plans(user: User, pk) -> Case:
    """A visible case with its plans, their interventions and sessions (three queries)."""
    interventions = Intervention.objects.select_related(
        "service", "provider_organization", "responsible"
    ).prefetch_related("logs")
    return (
        access.visible_cases(user)
        .select_related("student")
        .prefetch_related(
            Prefetch(
                "plans",
                queryset=SupportPlan.objects.select_related(
                    "approved_by", "created_by"
                ).prefetch_related(Prefetch("interventions", queryset=interventions)),
            )
        )
        .get(pk=pk)
    )


def school_overview(user: User) -> dict:
    """Counts per status and risk level of the cases the user may see (heads of school)."""
    cases = access.visible_cases(user)
    by_status = dict(cases.values_list("status").annotate(n=Count("pk")).order_by())
    by_risk = dict(
        cases.exclude(status__in=(CaseStatus.CLOSED, CaseStatus.NOT_SELECTED))
        .values_list("risk_level")
        .annotate(n=Count("pk"))
        .order_by()
    )
    return {
        "by_status": [(s, by_status.get(s.value, 0)) for s in CaseStatus],
        "by_risk": by_risk,
        "open_concerns": visible_concerns(user).filter(status=Concern.Status.OPEN).count(),
    }


def roster(user: User, *, school=None, q: str | None = None, grade=None, class_no=None):
    students = access.visible_students(user).select_related("school")
    if school:
        students = students.filter(school_id=school)
    grade = params.integer(grade, "grade", label=_("학년"))
    if grade is not None:
        students = students.filter(grade=grade)
    class_no = params.integer(class_no, "class_no", label=_("반"))
    if class_no is not None:
        students = students.filter(class_no=class_no)
    if q:
        students = students.filter(name__icontains=q.strip())
    return students.order_by("school__name", "grade", "class_no", "number")


# --- Meetings --------------------------------------------------------------------------------


def meeting_list(user: User, *, decision_cases: bool = False) -> QuerySet[Meeting]:
    """The minutes the user may read, newest first, with attendees and decisions loaded (and
    the decisions' cases, for a list that names them)."""
    decisions = "decisions__case" if decision_cases else "decisions"
    return (
        access.visible_meetings(user)
        .prefetch_related("attendees", decisions)
        .order_by("-held_on", "-created_at")
    )


def decision_case_ids(user: User, meetings) -> set:
    """Of the cases these meetings decided on, those the user may view: a decision row shows
    to whoever may view its case (DESIGN.md §5)."""
    return access.visible_case_ids(user, {d.case_id for m in meetings for d in m.decisions.all()})


# --- Referrals -------------------------------------------------------------------------------

REFERRAL_BOXES = ("inbox", "outbox")
REFERRAL_ORDERINGS = ("created_at", "respond_by", "sent_at", "status")
# What every referral row shows of its relations; a list showing more names the extra paths.
REFERRAL_ROW = {
    "case": "case",
    "from_organization": "organization",
    "to_organization": "organization",
    "service": "service",
    "assignee": "user",
}
REFERRAL_EXTRAS = {"case__student": "student", "created_by": "user"}


def late_referrals(today=None) -> Q:
    """Referrals waiting for an answer past their respond-by date."""
    return Q(status__in=AWAITING_RESPONSE, respond_by__lt=today or deadlines.today())


def referral_box(user: User, box: str | None) -> QuerySet[Referral]:
    """The referrals the user received ("inbox"), sent ("outbox"), or may see at all (None)."""
    if box == "inbox":
        return access.received_referrals(user)
    if box == "outbox":
        return access.sent_referrals(user)
    if box is None:
        return access.visible_referrals(user)
    raise ValidationError({"box": [_("inbox 또는 outbox만 쓸 수 있습니다.")]})


def _shown(*, statuses=None, kind=None, case=None, overdue=False, today=None) -> Q:
    shown = Q()
    if statuses:
        shown &= Q(status__in=statuses)
    if kind:
        shown &= Q(kind=kind)
    if case:
        shown &= Q(case_id=case)
    if overdue:
        shown &= late_referrals(today)
    return shown


def referral_list(
    user: User,
    *,
    box: str | None = None,
    statuses=None,
    kind: str | None = None,
    case=None,
    overdue: bool = False,
    ordering: str = "-created_at",
    shows: tuple[str, ...] = (),
    today=None,
) -> QuerySet[Referral]:
    """The referrals of a box with the filters of the lists (statuses, kind, case, overdue),
    newest first or by `ordering`, each row with REFERRAL_ROW and the `shows` extras loaded."""
    rows = referral_box(user, box).filter(
        _shown(statuses=statuses, kind=kind, case=case, overdue=overdue, today=today)
    )
    if ordering.lstrip("-") not in REFERRAL_ORDERINGS:
        raise ValidationError({"ordering": [_("정렬할 수 없는 항목입니다.")]})
    related = {**REFERRAL_ROW, **{path: REFERRAL_EXTRAS[path] for path in shows}}
    return list_rows(rows, **related).order_by(ordering, "-pk")


@dataclass
class ReferralListing:
    rows: QuerySet[Referral]
    count: int | None  # the rows' number when the same pass gave it, else the paginator counts
    overdue: int  # the user's received referrals past their respond-by date
    today: object


def referral_listing(
    user: User, *, box: str, statuses=None, kind=None, overdue=False, shows=()
) -> ReferralListing:
    """A box's rows for the list page, with its count and the inbox's overdue count: one
    grouped pass over the inbox when the inbox is shown, one count otherwise."""
    today = deadlines.today()
    filters = {"statuses": statuses, "kind": kind, "overdue": overdue, "today": today}
    inbox = access.received_referrals(user)
    late = late_referrals(today)
    if box == "inbox":
        counts = inbox.aggregate(
            shown=Count("pk", filter=_shown(**filters)), late=Count("pk", filter=late)
        )
        count, overdue_count = counts["shown"], counts["late"]
    else:
        count, overdue_count = None, inbox.filter(late).count()
    rows = referral_list(user, box=box, shows=shows, **filters)
    return ReferralListing(rows, count, overdue_count, today)


def default_referral_box(user: User) -> str:
    """The inbox for those who receive referrals, the outbox for everyone else."""
    return "inbox" if access.received_referrals(user).exists() else "outbox"


def overdue_received_count(user: User) -> int:
    """How many received referrals are past their respond-by date (the menu's badge)."""
    return access.received_referrals(user).filter(late_referrals()).count()


# --- The directory a referral or escalation is addressed from ---------------------------------


def directory_targets(case: Case, sender: Organization, domains: list[str]):
    """Partners and services for this student: serving the student's home borough (else the
    school's borough), marked when no agreement covers them. With needed domains chosen, the
    same filter holds for both kinds of row: a service that offers one of them, and an
    organisation (referred to as a whole) that has such a service there. Returns (choices,
    rows, borough code) where rows describe each choice for the page."""
    borough_code = (
        case.student.home_borough.region_code
        if case.student.home_borough_id
        else case.owner.region_code
    )
    services = list(
        Service.objects.filter(active=True, organization__active=True)
        .filter(boroughs__region_code=borough_code)
        .select_related("organization")
        .order_by("organization__name", "name")
        .distinct()
    )
    wanted = set(domains or [])
    matching = [s for s in services if not wanted or wanted & set(s.domains or [])]
    offered: dict = {}
    for service in matching:
        offered.setdefault(service.organization_id, set()).update(service.domains or [])
    orgs = (
        Organization.objects.filter(active=True, kind__in=PARTNER_KINDS)
        .filter(serves__region_code=borough_code)
        .order_by("name")
        .distinct()
    )
    if wanted:
        orgs = orgs.filter(pk__in=list(offered))
    rows = []
    agreements = {}

    def covered(org):
        if org.pk not in agreements:
            agreements[org.pk] = sharing.agreement_for(sender, org) is not None
        return agreements[org.pk]

    for service in matching:
        rows.append(
            {
                "value": f"svc:{service.pk}",
                "label": f"{service.organization.name} · {service.name}",
                "organization": service.organization,
                "service": service,
                "domains": service.domains,
                "intake": service.get_intake_status_display(),
                "agreement": covered(service.organization),
            }
        )
    domain_order = list(Domain.values)
    for org in orgs:
        rows.append(
            {
                "value": f"org:{org.pk}",
                "label": org.name,
                "organization": org,
                "service": None,
                "domains": sorted(offered.get(org.pk, ()), key=domain_order.index),
                "intake": "",
                "agreement": covered(org),
            }
        )
    choices = [(r["value"], r["label"]) for r in rows]
    return choices, rows, borough_code


def receiving_organization(pk) -> Organization | None:
    """The active organisation `pk` names, to address a referral to, or None."""
    try:
        return Organization.objects.filter(pk=pk, active=True).first()
    except (ValueError, ValidationError):
        return None


def directory_target(value: str):
    """(organisation, service) of a directory choice: "svc:<id>" an active service and its
    organisation, "org:<id>" an active organisation as a whole; (None, None) for anything else."""
    kind, _sep, pk = (value or "").partition(":")
    if kind == "svc":
        try:
            service = Service.objects.select_related("organization").filter(pk=pk, active=True)
            service = service.first()
        except (ValueError, ValidationError):
            service = None
        return (service.organization, service) if service else (None, None)
    if kind == "org":
        return receiving_organization(pk), None
    return None, None


# --- The district office's overview ----------------------------------------------------------


def district_overview(user: User, office: Organization) -> dict:
    """What the office's dashboard counts (교육지원청 통합지원센터): the cases it leads per
    status and per school, its escalations per status, what is overdue, its onward referrals
    and the escalations waiting longest. A few grouped queries, the same number whatever the
    size of the district."""
    today = deadlines.today()
    # The cases the office leads, per school and status, in one pass: the counts per status and
    # the schools with the most open cases both come from it.
    by_status, open_by_school = defaultdict(int), defaultdict(int)
    month_start, closed_this_month = today.replace(day=1), 0
    for school, status, n, closed_now in (
        access.visible_cases(user)
        .filter(lead=office)
        .values_list("owner__name", "status")
        .annotate(n=Count("id"), closed_now=Count("id", filter=Q(closed_on__gte=month_start)))
        .order_by()
    ):
        by_status[status] += n
        if status == CaseStatus.CLOSED:
            closed_this_month += closed_now
        if status not in (CaseStatus.CLOSED, CaseStatus.NOT_SELECTED):
            open_by_school[school] += n
    by_school = [
        {"owner__name": name, "n": n}
        for name, n in sorted(open_by_school.items(), key=lambda item: (-item[1], item[0]))[:10]
    ]
    inbox = access.received_referrals(user).filter(to_organization=office)
    # Escalations per status and what is overdue, in one pass over the inbox.
    escalations, overdue = {}, 0
    for status, n, late in (
        inbox.values_list("status")
        .annotate(
            n=Count("id", filter=Q(kind=ReferralKind.ESCALATION)),
            late=Count("id", filter=late_referrals(today)),
        )
        .order_by()
    ):
        escalations[status], overdue = n, overdue + late
    onward = dict(
        access.sent_referrals(user)
        .filter(from_organization=office)
        .values_list("status")
        .annotate(n=Count("id"))
        .order_by()
    )
    waiting = list(
        inbox.filter(kind=ReferralKind.ESCALATION, status__in=AWAITING_RESPONSE)
        .select_related("from_organization")
        .order_by("respond_by", "created_at")[:10]
    )
    closed = (CaseStatus.CLOSED, CaseStatus.NOT_SELECTED)
    return {
        "by_status": [(s, by_status.get(s.value, 0)) for s in CaseStatus],
        "open_led": sum(n for s, n in by_status.items() if s not in closed),
        "escalations": [
            (s, escalations.get(s.value, 0)) for s in ReferralStatus if s != ReferralStatus.DRAFT
        ],
        "overdue": overdue,
        "closed_this_month": closed_this_month,
        "awaiting": sum(escalations.get(s, 0) for s in AWAITING_RESPONSE),
        "onward": [(s, onward.get(s.value, 0)) for s in ReferralStatus],
        "onward_open": sum(onward.get(s, 0) for s in OPEN_STATUSES),
        "by_school": by_school,
        "waiting": waiting,
        "today": today,
    }
