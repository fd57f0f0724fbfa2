"""Subject access (PIPA 35조) as pages: the coordinator from the student's page, the privacy
officer from a search over the schools they oversee. The file is made on the POST that states
the reason; nothing is kept."""

import json

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.serializers.json import DjangoJSONEncoder
from django.http import HttpResponse
from django.shortcuts import render

from casework import access, subject_access
from casework.forms import SubjectAccessForm, SubjectSearchForm
from casework.models import Student

from .common import log


@login_required
def subject_access_form(request, pk):
    student = access.get_subject_access_student_or_404(request.user, pk)
    form = SubjectAccessForm(request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        reason = form.cleaned_data["reason"]
        bundle = subject_access.gather(request.user, student, reason, request=request)
        if form.cleaned_data["format"] == "json":
            body = json.dumps(bundle.as_json(), cls=DjangoJSONEncoder, ensure_ascii=False, indent=2)
            response = HttpResponse(body, content_type="application/json; charset=utf-8")
            name = subject_access.filename(student, "json")
        else:
            organization = subject_access.requester_organization(request.user, student)
            response = HttpResponse(
                subject_access.pdf(bundle, organization), content_type="application/pdf"
            )
            name = subject_access.filename(student, "pdf")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        response["Cache-Control"] = "no-store"
        return response
    return render(
        request,
        "casework/subject_access.html",
        {"student": student, "form": form},
        status=400 if form.is_bound else 200,
    )


@login_required
def subject_search(request):
    """The privacy officer finds the student a request is about: name and birth date, among
    the schools of their provincial office. Only an exact match is shown."""
    if not access.is_privacy_officer(request.user):
        raise PermissionDenied
    form = SubjectSearchForm(request.GET or None)
    found = None
    if form.is_bound and form.is_valid():
        found = list(
            Student.objects.filter(
                school_id__in=access.overseen_organization_ids(request.user),
                name=form.cleaned_data["name"].strip(),
                birth_date=form.cleaned_data["birth_date"],
            ).select_related("school")[:20]
        )
        log(request, "search", "student", found)
    return render(
        request,
        "casework/subject_search.html",
        {"form": form, "found": found},
        status=400 if form.is_bound and not form.is_valid() else 200,
    )
