"""The register of destruction as a page (DESIGN.md §9): what went, under which rule, when and
by whom, and what the next runs of the daily job will destroy."""

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import render

from casework import access, destructions
from casework.audit import partitions
from casework.forms import DestructionFilterForm
from casework.workflows import erasure


@login_required
def destruction_register(request):
    if not access.may_read_access_log(request.user):
        raise PermissionDenied
    filters = DestructionFilterForm(request.GET)
    rows, status = [], 200
    if filters.is_valid():
        rows = list(
            destructions.register(request.user, filters.cleaned_data)[: destructions.REGISTER_MAX]
        )
    else:
        status = 400
    return render(
        request,
        "casework/destruction_register.html",
        {
            "filters": filters,
            "rows": rows,
            "limit": destructions.REGISTER_MAX,
            "forecast": erasure.forecast(),
            "expiry": partitions.next_expiry(),
        },
        status=status,
    )
