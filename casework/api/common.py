"""What every casework API view uses: the access log of a read, the answer of a write that
shows personal data, the visible case of a URL, and the input of an action of the table
(casework/actions.py) parsed with the serializer the table names."""

from rest_framework import status
from rest_framework.response import Response

from casework import access, audit
from casework.actions import Action
from casework.models import Case

from . import serializers


def log_read(request, action, object_type, objects, *, case=None, student=None, reason=""):
    """One access event per request (DESIGN.md §6): a list logs the ids it returned, a
    download its stated reason. A read through break-glass is logged as one (DESIGN.md §5)."""
    action, reason = access.read_logged_as(
        request.user, action, case=case, student=student, reason=reason
    )
    audit.record_access(
        request.user,
        action,
        object_type,
        objects,
        case=case,
        student=student,
        request=request._request,
        reason=reason,
    )


def written(request, object_type, obj, data, *, case=None, student=None, code=status.HTTP_200_OK):
    """The answer of a write that shows personal data: what it shows is a read like any other,
    logged as one access event for the object returned (DESIGN.md §6). Every casework API write
    answering personal data answers through here (tests/access/test_side_paths.py holds the
    URL conf to it)."""
    log_read(request, "view", object_type, [obj], case=case, student=student)
    return Response(data, status=code)


def visible_case(request, pk) -> Case:
    return access.get_visible_case_or_404(request.user, pk)


def list_action(request) -> str:
    return "search" if request.query_params.get("q") else "list"


class PaginatedReadMixin:
    def paginated(
        self, request, queryset, serializer_class, *, object_type, case=None, context=None
    ):
        page = self.paginate_queryset(queryset)
        rows = list(page if page is not None else queryset)
        log_read(request, list_action(request), object_type, rows, case=case)
        data = serializer_class(rows, many=True, context=context or {}).data
        return self.get_paginated_response(data) if page is not None else Response(data)


def input_of(action: Action):
    """The serializer class the table names for the action's API input (None: no body)."""
    return getattr(serializers, action.body) if action.body else None


def parse(request, action: Action) -> dict:
    """The action's input, validated by its serializer (400 with the reasons otherwise)."""
    body_class = input_of(action)
    if body_class is None:
        return {}
    body = body_class(data=request.data)
    body.is_valid(raise_exception=True)
    return dict(body.validated_data)
