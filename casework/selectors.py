"""Reads that need policy: each starts from a casework/access.py selector, then shapes the rows.

Views and the API call these; none of them builds a permission filter of its own.
"""

from dataclasses import dataclass
from datetime import timedelta

from django.db.models import Count, Exists, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.translation import gettext as _

from partners import params
from partners.models import User

from . import access
from .choices import ConsentPurpose, ConsentSubject
from .models import (
    Assessment,
    Case,
    CaseMember,
    CaseStatus,
    Concern,
    Consent,
    Intervention,
    SupportPlan,
    Transfer,
)

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
        # Portable JSON-list membership (SQLite has no JSON contains); codes are [a-z_] only.
        cases = cases.filter(difficulties__icontains=f'"{difficulty}"')
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
            purposes__icontains=f'"{ConsentPurpose.SUPPORT}"',
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


def work_queue(user: User, *, limit: int = 50) -> WorkQueue:
    """The coordinator's day: concerns to triage, consents to collect, plans waiting for the
    principal, and reviews falling due within a week. A fixed number of queries."""
    new_concerns = list(
        list_rows(
            access.triage_concerns(user).filter(status=Concern.Status.OPEN),
            student="student",
            raised_by="user",
        ).order_by("-urgency", "created_at")[:limit]
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
