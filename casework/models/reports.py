"""The report facts (DESIGN.md §10): one narrow row per case and per sent referral, with what
the reports count already worked out (when a case ended, when it was selected, the first
concern; where a referral stands). The summary report and the dashboards aggregate these
instead of working the same things out from every case on every request.

They are derived data, rebuilt from tables that keep their own history
(`casework.reports.facts`): no history of their own, no personal data (ids, dates, codes)."""

from django.contrib.postgres.fields import ArrayField
from django.db import models


class ReportCase(models.Model):
    """A case as the reports count it. `id` is the case's id."""

    id = models.UUIDField(primary_key=True)
    owner_id = models.UUIDField()  # the school
    district_id = models.UUIDField(null=True)  # the school's district office
    borough_id = models.UUIDField(null=True)  # the student's home borough
    status = models.CharField(max_length=20)
    opened_on = models.DateField()
    ended_on = models.DateField(null=True)  # closed, or decided not selected
    selected_at = models.DateTimeField(null=True)
    concern_at = models.DateTimeField(null=True)  # the first concern, or the case's opening
    domains = models.JSONField(default=list)
    difficulties = models.JSONField(default=list)

    class Meta:
        indexes = [models.Index(fields=["owner_id", "opened_on"], name="reportcase_owner_opened")]

    def __str__(self):
        return f"case {self.id}"


class ReportReferral(models.Model):
    """A sent referral as the reports count it. `id` is the referral's id."""

    id = models.UUIDField(primary_key=True)
    case_id = models.UUIDField(db_index=True)
    kind = models.CharField(max_length=20)
    status = models.CharField(max_length=20)
    sent_on = models.DateField()
    closed_on = models.DateField(null=True)
    days = models.FloatField(null=True)  # from sending to closing

    def __str__(self):
        return f"referral {self.id}"


class ReportMonth(models.Model):
    """A month of a school's cases as the reports add them up, for one grouping (school,
    borough, status, domain or difficulty) and one key of it: how many cases were opened and
    ended in the month, selected, referrals and escalations sent (by where they are now), the
    referrals and escalations sent or closed in it (`touched`), service referrals completed;
    and the days to selection and to completion of those selected and completed in it, for
    the medians. Made from the report facts (`casework.reports.facts`).

    A row with no school adds up the schools of one district office and school level (a
    report over whole offices reads these: a few rows a month instead of one a school)."""

    grouping = models.CharField(max_length=12)
    gkey = models.CharField(max_length=40, blank=True)
    school_id = models.UUIDField(null=True)
    district_id = models.UUIDField(null=True)
    school_level = models.CharField(max_length=20, blank=True)
    month = models.DateField()
    opened = models.PositiveIntegerField(default=0)
    ended = models.PositiveIntegerField(default=0)
    selected = models.PositiveIntegerField(default=0)
    touched = models.PositiveIntegerField(default=0)
    escalations = models.PositiveIntegerField(default=0)
    escalations_waiting = models.PositiveIntegerField(default=0)
    escalations_accepted = models.PositiveIntegerField(default=0)
    escalations_completed = models.PositiveIntegerField(default=0)
    escalations_declined = models.PositiveIntegerField(default=0)
    escalations_cancelled = models.PositiveIntegerField(default=0)
    referrals = models.PositiveIntegerField(default=0)
    referrals_waiting = models.PositiveIntegerField(default=0)
    referrals_accepted = models.PositiveIntegerField(default=0)
    referrals_completed = models.PositiveIntegerField(default=0)
    referrals_declined = models.PositiveIntegerField(default=0)
    referrals_cancelled = models.PositiveIntegerField(default=0)
    completed = models.PositiveIntegerField(default=0)
    selection_days = ArrayField(models.FloatField(), default=list)
    completion_days = ArrayField(models.FloatField(), default=list)

    class Meta:
        indexes = [
            models.Index(fields=["grouping", "school_id", "month"], name="reportmonth_lookup"),
            models.Index(
                fields=["grouping", "district_id", "school_level", "month"],
                name="reportmonth_cells",
            ),
        ]

    def __str__(self):
        return f"{self.grouping} {self.gkey} {self.school_id} {self.month}"


class ReportFacts(models.Model):
    """The one row that says how far the facts are: every change recorded in history before
    `through` is in them. `refreshed_at` is when they were last refreshed, `rebuilt_at` when
    last rebuilt from scratch."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    through = models.DateTimeField(null=True)
    refreshed_at = models.DateTimeField(null=True)
    rebuilt_at = models.DateTimeField(null=True)

    def __str__(self):
        return f"report facts through {self.through}"
