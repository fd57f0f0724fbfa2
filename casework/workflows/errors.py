"""What a workflow refuses, and how the HTTP layer answers it (API.md "Errors").

- `django.core.exceptions.PermissionDenied` → 403: a forbidden action on a visible object.
- `django.core.exceptions.ValidationError` → 400: bad or missing input.
- `GuardFailed` → 409: the state does not allow the change (with the reason).
- `StaleVersion` → 409: someone else changed the object since it was read.
Objects the caller may not see never reach a workflow: selectors answer 404 first.
"""


class WorkflowError(Exception):
    def __init__(self, message):
        super().__init__(message)
        self.message = message


class GuardFailed(WorkflowError):
    pass


class StaleVersion(WorkflowError):
    pass
