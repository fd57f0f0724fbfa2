"""Casework API views (API.md). Thin: look objects up through the access selectors (invisible
means 404), parse with a serializer, run one workflow (an action of casework/actions.py for a
change to an existing object), log the read, answer."""

from django.db.models import Prefetch
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from casework import access, actions, audit, instruments, selectors
from casework.models import CaseMember
from casework.workflows import intake, lifecycle, roster, students
from casework.workflows.notifications import mark_read
from partners.models import Organization, User

from . import serializers as s
from .common import (
    PaginatedReadMixin,
    input_of,
    list_action,
    log_read,
    parse,
    visible_case,
    written,
)

CASE, PLAN, INTERVENTION = actions.CASE, actions.PLAN, actions.INTERVENTION


# --- Students ---------------------------------------------------------------------------------


def coordinator_school(request) -> Organization:
    """The school a coordinator acts for: their only one, or the one they name."""
    schools = Organization.objects.filter(
        pk__in=[s.pk for s in access.roster_schools(request.user)]
    )
    wanted = request.data.get("school") or request.query_params.get("school")
    if wanted:
        schools = schools.filter(pk=wanted)
    found = list(schools[:2])
    if not found:
        raise exceptions.PermissionDenied(_("학생은 학교의 담당자가 등록합니다."))
    if len(found) > 1:
        raise exceptions.ValidationError({"school": [_("학교를 지정해 주세요.")]})
    return found[0]


class StudentListCreate(PaginatedReadMixin, generics.GenericAPIView):
    serializer_class = s.StudentSerializer

    def get_queryset(self):
        params = self.request.query_params
        return selectors.roster(
            self.request.user,
            school=params.get("school"),
            q=params.get("q"),
            grade=params.get("grade"),
            class_no=params.get("class_no"),
        ).prefetch_related("guardians")

    @extend_schema(operation_id="students_list", responses=s.StudentSerializer(many=True))
    def get(self, request):
        students_qs = self.get_queryset()
        page = self.paginate_queryset(students_qs)
        full = access.full_student_ids(request.user, page)
        data = [
            (s.StudentSerializer if st.pk in full else s.RosterStudentSerializer)(st).data
            for st in page
        ]
        log_read(request, list_action(request), "student", page)
        return self.get_paginated_response(data)

    @extend_schema(request=s.StudentSerializer, responses={201: s.StudentSerializer})
    def post(self, request):
        body = s.StudentSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        school = coordinator_school(request)
        data = dict(body.validated_data)
        guardians = data.pop("guardians", [])
        student = students.create_student(
            by=request.user, school=school, guardians=guardians, **data
        )
        return written(
            request,
            "student",
            student,
            s.StudentSerializer(student).data,
            student=student,
            code=status.HTTP_201_CREATED,
        )


class StudentDetail(APIView):
    @extend_schema(responses=s.StudentSerializer)
    def get(self, request, pk):
        student = access.get_visible_student_or_404(request.user, pk)
        log_read(request, "view", "student", [student], student=student)
        if access.is_roster_only(request.user, student):
            return Response(s.RosterStudentSerializer(student).data)
        return Response(s.StudentSerializer(student).data)


class StudentImport(APIView):
    """POST a CSV or XLSX roster (`?dry_run=1` validates only) → 202 with the job to watch."""

    parser_classes = [MultiPartParser, FormParser]

    @extend_schema(request=s.ImportUploadSerializer, responses={202: dict})
    def post(self, request):
        body = s.ImportUploadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        upload = body.validated_data["file"]
        school = coordinator_school(request)
        job = roster.start_roster_import(
            by=request.user,
            school=school,
            file_name=upload.name,
            data=upload.read(roster.MAX_BYTES + 1),
            dry_run=request.query_params.get("dry_run") in ("1", "true"),
        )
        return Response({"job": str(job.pk)}, status=status.HTTP_202_ACCEPTED)


class JobDetail(APIView):
    """An import or export job of the caller's: status, progress and row errors; an export's
    `download` once its file is ready, until it expires."""

    @extend_schema(responses=s.JobSerializer)
    def get(self, request, pk):
        job = access.get_visible_job_or_404(request.user, pk)
        log_read(request, "view", "job", [job])
        return Response(s.JobSerializer(job, context={"request": request}).data)


# --- Concerns ---------------------------------------------------------------------------------


class ConcernListCreate(PaginatedReadMixin, generics.GenericAPIView):
    serializer_class = s.ConcernSerializer

    def get(self, request):
        concerns = selectors.visible_concerns(request.user).order_by("-created_at")
        if request.query_params.get("status"):
            concerns = concerns.filter(status=request.query_params["status"])
        return self.paginated(request, concerns, s.ConcernSerializer, object_type="concern")

    @extend_schema(request=s.ConcernCreateSerializer, responses={201: s.ConcernSerializer})
    def post(self, request):
        body = s.ConcernCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        student = access.visible_students(request.user).filter(pk=data["student"]).first()
        if student is None:
            raise exceptions.ValidationError({"student": [_("볼 수 있는 학생이 아닙니다.")]})
        concern = intake.raise_concern(
            by=request.user,
            student=student,
            difficulties=data["difficulties"],
            description=data["description"],
            urgency=data["urgency"],
        )
        return written(
            request,
            "concern",
            concern,
            s.ConcernSerializer(concern).data,
            student=student,
            code=status.HTTP_201_CREATED,
        )


class ConcernTriage(APIView):
    @extend_schema(request=s.TriageSerializer, responses=s.ConcernSerializer)
    def post(self, request, pk):
        concern = access.get_visible_concern_or_404(request.user, pk)
        body = s.TriageSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        case = None
        if body.validated_data.get("case"):
            case = visible_case(request, body.validated_data["case"])
        concern = intake.triage_concern(
            concern,
            by=request.user,
            decision=body.validated_data["decision"],
            case=case,
            reason=body.validated_data["reason"],
        )
        data = s.ConcernSerializer(concern).data
        return written(request, "concern", concern, data, student=concern.student)


# --- Cases ------------------------------------------------------------------------------------


def with_team(cases):
    members = selectors.list_rows(CaseMember.objects.filter(removed_at__isnull=True), user="user")
    return cases.prefetch_related(Prefetch("members", queryset=members, to_attr="active_members"))


class CaseListCreate(generics.GenericAPIView):
    serializer_class = s.CaseSerializer

    @extend_schema(operation_id="cases_list", responses=s.CaseSerializer(many=True))
    def get(self, request):
        params = request.query_params
        cases = with_team(
            selectors.case_list(
                request.user,
                status=params.get("status"),
                risk_level=params.get("risk_level"),
                difficulty=params.get("difficulty"),
                q=params.get("q"),
                school=params.get("school"),
                mine=params.get("mine") == "1",
            )
        )
        page = self.paginate_queryset(cases)
        checker = access.AccessChecker(request.user)
        checker.prefetch(page)
        log_read(request, list_action(request), "case", page)
        data = s.CaseSerializer(page, many=True, context={"checker": checker}).data
        return self.get_paginated_response(data)

    @extend_schema(request=s.CaseCreateSerializer, responses={201: s.CaseSerializer})
    def post(self, request):
        body = s.CaseCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        student = access.visible_students(request.user).filter(pk=data.pop("student")).first()
        if student is None:
            raise exceptions.ValidationError({"student": [_("볼 수 있는 학생이 아닙니다.")]})
        case = intake.open_case(by=request.user, student=student, **data)
        checker = access.AccessChecker(request.user)
        data = s.CaseSerializer(case, context={"checker": checker}).data
        return written(
            request, "case", case, data, case=case, student=student, code=status.HTTP_201_CREATED
        )


class CaseDetail(APIView):
    def _respond(self, request, case):
        checker = access.AccessChecker(request.user)
        data = s.CaseSerializer(case, context={"checker": checker}).data
        return written(request, "case", case, data, case=case, student=case.student)

    @extend_schema(responses=s.CaseSerializer)
    def get(self, request, pk):
        return self._respond(request, visible_case(request, pk))

    @extend_schema(request=input_of(CASE["update"]), responses=s.CaseSerializer)
    def patch(self, request, pk):
        case = CASE.find(request.user, pk)
        case = CASE["update"].run(case, by=request.user, **parse(request, CASE["update"]))
        return self._respond(request, case)


class CaseTransition(APIView):
    @extend_schema(request=input_of(CASE["transition"]), responses=s.CaseSerializer)
    def post(self, request, pk):
        case = CASE.find(request.user, pk)
        transition = CASE["transition"]
        case = transition.run(case, by=request.user, **parse(request, transition))
        checker = access.AccessChecker(request.user)
        data = s.CaseSerializer(case, context={"checker": checker}).data
        return written(request, "case", case, data, case=case, student=case.student)


class CaseTeam(APIView):
    @extend_schema(responses=s.TeamMemberSerializer(many=True))
    def get(self, request, pk):
        case = visible_case(request, pk)
        members = case.members.filter(removed_at__isnull=True).select_related("user")
        log_read(request, "list", "case_team", members, case=case)
        return Response(s.TeamMemberSerializer(members, many=True).data)

    @extend_schema(request=input_of(CASE["team_add"]), responses={201: s.TeamMemberSerializer})
    def post(self, request, pk):
        case = CASE.find(request.user, pk)
        data = parse(request, CASE["team_add"])
        user = User.objects.filter(pk=data["user"], is_active=True).first()
        if user is None:
            raise exceptions.ValidationError({"user": [_("알 수 없는 사용자입니다.")]})
        member = CASE["team_add"].run(case, by=request.user, user=user, role=data["role"])
        data = s.TeamMemberSerializer(member).data
        return written(request, "case_team", member, data, case=case, code=status.HTTP_201_CREATED)


class CaseTeamMember(APIView):
    @extend_schema(responses={204: None})
    def delete(self, request, pk, user_id):
        case = CASE.find(request.user, pk)
        user = get_object_or_404(User, pk=user_id)
        CASE["team_remove"].run(case, by=request.user, user=user)
        return Response(status=status.HTTP_204_NO_CONTENT)


class CaseNotes(PaginatedReadMixin, generics.GenericAPIView):
    serializer_class = s.NoteSerializer

    def get(self, request, pk):
        case = visible_case(request, pk)
        notes = access.visible_notes(request.user, case).select_related("author")
        return self.paginated(request, notes, s.NoteSerializer, object_type="note", case=case)

    @extend_schema(request=input_of(CASE["note"]), responses={201: s.NoteSerializer})
    def post(self, request, pk):
        case = CASE.find(request.user, pk)
        data = parse(request, CASE["note"])
        amends = data.pop("amends_id", None)
        if amends is not None:
            amends = access.visible_notes(request.user, case).filter(pk=amends).first()
            if amends is None:  # missing and not readable answer alike
                raise exceptions.ValidationError({"amends": [_("정정할 기록을 찾을 수 없습니다.")]})
        note = CASE["note"].run(case, by=request.user, amends=amends, **data)
        data = s.NoteSerializer(note).data
        return written(request, "note", note, data, case=case, code=status.HTTP_201_CREATED)


class CaseAssessments(PaginatedReadMixin, generics.GenericAPIView):
    serializer_class = s.AssessmentSerializer

    def get(self, request, pk):
        case = visible_case(request, pk)
        rows = case.assessments.select_related("assessed_by")
        return self.paginated(
            request, rows, s.AssessmentSerializer, object_type="assessment", case=case
        )

    @extend_schema(request=s.AssessmentSerializer, responses={201: s.AssessmentSerializer})
    def post(self, request, pk):
        case = CASE.find(request.user, pk)
        instrument = request.data.get("instrument")
        answers = request.data.get("answers")
        if not instrument or not isinstance(answers, dict):
            raise exceptions.ValidationError({"answers": [_("평가 도구와 응답을 보내 주세요.")]})
        assessment = CASE["assessment"].run(
            case, by=request.user, instrument=instrument, answers=answers
        )
        data = s.AssessmentSerializer(assessment).data
        return written(
            request, "assessment", assessment, data, case=case, code=status.HTTP_201_CREATED
        )


class InstrumentList(APIView):
    """Assessment instruments, so a client can render the checklist."""

    @extend_schema(responses={200: dict})
    def get(self, request):
        return Response(list(instruments.instruments().values()))


class CaseConsents(PaginatedReadMixin, generics.GenericAPIView):
    serializer_class = s.ConsentSerializer

    def get(self, request, pk):
        case = visible_case(request, pk)
        return self.paginated(
            request, case.consents.all(), s.ConsentSerializer, object_type="consent", case=case
        )

    @extend_schema(request=input_of(CASE["consent"]), responses={201: s.ConsentSerializer})
    def post(self, request, pk):
        case = CASE.find(request.user, pk)
        consent = CASE["consent"].run(case, by=request.user, **parse(request, CASE["consent"]))
        data = s.ConsentSerializer(consent).data
        return written(request, "consent", consent, data, case=case, code=status.HTTP_201_CREATED)


def plans_of(case):
    return case.plans.select_related("approved_by").prefetch_related("interventions__logs")


class CasePlans(PaginatedReadMixin, generics.GenericAPIView):
    serializer_class = s.PlanSerializer

    def get(self, request, pk):
        case = visible_case(request, pk)
        return self.paginated(
            request, plans_of(case), s.PlanSerializer, object_type="plan", case=case
        )

    @extend_schema(request=input_of(CASE["plan"]), responses={201: s.PlanSerializer})
    def post(self, request, pk):
        case = CASE.find(request.user, pk)
        plan = CASE["plan"].run(case, by=request.user, **parse(request, CASE["plan"]))
        return written_plan(request, plan, code=status.HTTP_201_CREATED)


def written_plan(request, plan, code=status.HTTP_200_OK):
    return written(request, "plan", plan, s.PlanSerializer(plan).data, case=plan.case, code=code)


class PlanDetail(APIView):
    @extend_schema(request=input_of(PLAN["update"]), responses=s.PlanSerializer)
    def patch(self, request, pk):
        plan = PLAN.find(request.user, pk)
        plan = PLAN["update"].run(plan, by=request.user, **parse(request, PLAN["update"]))
        return written_plan(request, plan)


class PlanAction(APIView):
    action = None  # "submit", "approve" or "return"

    @extend_schema(request=s.VersionSerializer, responses=s.PlanSerializer)
    def post(self, request, pk):
        plan = PLAN.find(request.user, pk)
        step = PLAN[self.action]
        plan = step.run(plan, by=request.user, **parse(request, step))
        return written_plan(request, plan)


class PlanInterventions(APIView):
    @extend_schema(
        request=input_of(PLAN["intervention"]), responses={201: s.InterventionSerializer}
    )
    def post(self, request, pk):
        plan = PLAN.find(request.user, pk)
        step = PLAN["intervention"]
        intervention = step.run(plan, by=request.user, **parse(request, step))
        data = s.InterventionSerializer(intervention).data
        return written(
            request,
            "intervention",
            intervention,
            data,
            case=plan.case,
            code=status.HTTP_201_CREATED,
        )


class InterventionLogs(APIView):
    @extend_schema(request=input_of(INTERVENTION["log"]), responses={201: s.ServiceLogSerializer})
    def post(self, request, pk):
        intervention = INTERVENTION.find(request.user, pk)
        step = INTERVENTION["log"]
        log = step.run(intervention, by=request.user, **parse(request, step))
        data = s.ServiceLogSerializer(log).data
        case = intervention.plan.case
        return written(request, "service_log", log, data, case=case, code=status.HTTP_201_CREATED)


# --- Meetings ---------------------------------------------------------------------------------


class MeetingListCreate(PaginatedReadMixin, generics.GenericAPIView):
    serializer_class = s.MeetingSerializer

    def get(self, request):
        page = self.paginate_queryset(selectors.meeting_list(request.user))
        visible = selectors.decision_case_ids(request.user, page)
        log_read(request, "list", "meeting", page)
        data = s.MeetingSerializer(page, many=True, context={"visible_case_ids": visible}).data
        return self.get_paginated_response(data)

    @extend_schema(request=s.MeetingCreateSerializer, responses={201: s.MeetingSerializer})
    def post(self, request):
        body = s.MeetingCreateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        organization = (
            access.meeting_organizations(request.user).filter(pk=data["organization"]).first()
        )
        if organization is None:
            raise exceptions.ValidationError(
                {"organization": [_("소속 기관의 회의만 기록할 수 있습니다.")]}
            )
        attendees = list(User.objects.filter(pk__in=data["attendees"]))
        decisions = []
        for item in data["decisions"]:
            decisions.append({**item, "case": visible_case(request, item["case"])})
        meeting = lifecycle.record_meeting(
            by=request.user,
            organization=organization,
            kind=data["kind"],
            held_on=data["held_on"],
            attendees=attendees,
            guests=data["guests"],
            minutes=data["minutes"],
            decisions=decisions,
        )
        visible = {d["case"].pk for d in decisions}
        data = s.MeetingSerializer(meeting, context={"visible_case_ids": visible}).data
        return written(request, "meeting", meeting, data, code=status.HTTP_201_CREATED)


# --- History, timeline, notifications ---------------------------------------------------------


class CaseHistory(APIView):
    @extend_schema(responses=s.HistoryEntrySerializer(many=True))
    def get(self, request, pk):
        case = visible_case(request, pk)
        log_read(request, "view", "case_history", [case], case=case)
        hidden = access.hidden_note_ids(request.user, case)
        entries = audit.case_history(case, hidden_notes=hidden)
        return Response(s.HistoryEntrySerializer(entries, many=True).data)


class CaseTimeline(generics.GenericAPIView):
    serializer_class = s.TimelineEntrySerializer

    def get(self, request, pk):
        case = visible_case(request, pk)
        log_read(request, "view", "case_timeline", [case], case=case)
        hidden = access.hidden_note_ids(request.user, case)
        page = self.paginate_queryset(audit.Timeline(case, hidden_notes=hidden))
        return self.get_paginated_response(s.TimelineEntrySerializer(page, many=True).data)


class NotificationList(PaginatedReadMixin, generics.GenericAPIView):
    """The caller's notifications (names, concern text, outcomes): none without a current
    membership, and every read logged."""

    serializer_class = s.NotificationSerializer

    @extend_schema(operation_id="notifications_list", responses=s.NotificationSerializer(many=True))
    def get(self, request):
        rows = access.visible_notifications(request.user)
        if request.query_params.get("unread") == "1":
            rows = rows.filter(read_at__isnull=True)
        rows = rows.order_by("-created_at")
        return self.paginated(request, rows, s.NotificationSerializer, object_type="notification")


class NotificationRead(APIView):
    @extend_schema(request=None, responses=s.NotificationSerializer)
    def post(self, request, pk):
        notification = access.get_visible_notification_or_404(request.user, pk)
        notification = mark_read(notification, by=request.user)
        data = s.NotificationSerializer(notification).data
        return written(request, "notification", notification, data)
