from django.core.management.base import BaseCommand

from casework.reports import facts


class Command(BaseCommand):
    help = (
        "Bring the report facts up to date with what changed since their last refresh (all of "
        "them the first time); --rebuild redoes every row. Celery beat runs both "
        "(casework.tasks.refresh_report_facts every minute, rebuild_report_facts nightly)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--rebuild", action="store_true", help="redo every fact row")

    def handle(self, *args, rebuild=False, **options):
        done = facts.rebuild() if rebuild else facts.refresh()
        if done is None:
            self.stdout.write("another refresh is running; nothing done")
        else:
            self.stdout.write(f"report facts: {done}")
