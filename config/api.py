"""The API's error mapping (API.md "Errors"), shared by every app's API views.

Workflows raise Django's own exceptions and the casework guard errors; this turns them into the
documented answers: 400 for bad input, 403 for a forbidden action on a visible object, 409 for a
failed guard or a stale version. Objects the caller may not see are 404 before any of this.
"""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from casework.workflows.errors import GuardFailed, StaleVersion


def _validation_detail(exc: DjangoValidationError):
    if hasattr(exc, "error_dict"):
        return {
            field: [str(m) for e in errors for m in e.messages]
            for field, errors in exc.error_dict.items()
        }
    return {"detail": " ".join(str(m) for m in exc.messages)}


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        return Response(_validation_detail(exc), status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied(str(exc) or None)
    if isinstance(exc, StaleVersion):
        return Response(
            {"detail": exc.message, "code": "stale_version"}, status=status.HTTP_409_CONFLICT
        )
    if isinstance(exc, GuardFailed):
        return Response({"detail": exc.message, "code": "guard"}, status=status.HTTP_409_CONFLICT)
    return drf_exception_handler(exc, context)
