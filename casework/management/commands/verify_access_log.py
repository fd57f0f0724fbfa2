from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from casework.audit import AnchorError, anchors_unreadable, load_anchors, verify_chain


class Command(BaseCommand):
    help = (
        "Verify the access log: every month's keyed hash chain, its head, and what the anchors "
        "outside the database (ACCESS_LOG_ANCHORS) published. Exits non-zero on any problem."
    )

    def add_arguments(self, parser):
        parser.add_argument("--month", help="only this month's chain, e.g. 2026-11")
        parser.add_argument(
            "--anchors",
            action="append",
            metavar="FILE",
            help="compare with the anchors in FILE (e.g. an export of the syslog lines) "
            "instead of the file stores of ACCESS_LOG_ANCHORS; may be repeated",
        )

    def handle(self, *args, month=None, anchors=None, **options):
        try:
            found = load_anchors([Path(p) for p in anchors] if anchors else None)
        except AnchorError as error:
            raise CommandError(f"access log chain broken: anchors unreadable: {error}") from error
        if anchors and not found:
            raise CommandError(f"no anchors in {', '.join(anchors)}")
        checked, problems = verify_chain(month, anchors=found)
        for problem in problems:
            self.stderr.write(str(problem))
        if problems:
            raise CommandError(
                f"access log chain broken: {len(problems)} problem(s) in {checked} rows"
            )
        if found:
            months = len({a.month for a in found})
            against = f"checked against {len(found)} anchor(s) of {months} month(s)"
        elif anchors_unreadable():
            against = (
                "anchors not compared: ACCESS_LOG_ANCHORS is syslog only; pass --anchors FILE "
                "with an export of its lines"
            )
        else:
            against = "no anchors yet (manage.py anchor_access_log publishes them)"
        self.stdout.write(self.style.SUCCESS(f"access log chain intact: {checked} rows, {against}"))
