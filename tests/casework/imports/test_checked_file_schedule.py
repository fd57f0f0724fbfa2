"""The kept file of a clean dry run is dropped on a schedule, not only when someone asks."""

import pytest
from django.conf import settings

from casework.tasks import drop_expired_checked_files


def test_dropping_expired_checked_files_is_scheduled():
    schedule = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert "casework.tasks.drop_expired_checked_files" in schedule


@pytest.mark.django_db
def test_the_task_runs_the_workflow():
    assert drop_expired_checked_files() == 0
