from django.core.management.base import BaseCommand, CommandError

from casework.audit import AnchorError, expire_month, publish_anchors


class Command(BaseCommand):
    help = (
        "Publish each month's access-log head (month, row count, digest) to ACCESS_LOG_ANCHORS, "
        "appending; months unchanged since their last anchor are skipped. Celery beat runs it "
        "daily (casework.tasks.anchor_access_log)."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--seal-legacy",
            action="store_true",
            help="once, at the switch-over to ACCESS_LOG_KEY: anchor the months hashed before it",
        )
        parser.add_argument(
            "--expire",
            metavar="YYYY-MM",
            help="record that this month (older than the 24 months kept) is dropped at expiry",
        )

    def handle(self, *args, seal_legacy=False, expire=None, **options):
        try:
            if expire:
                expire_month(expire)
                self.stdout.write(f"{expire}: expiry recorded in the anchors")
                return
            run = publish_anchors(seal_legacy=seal_legacy)
        except AnchorError as error:
            raise CommandError(str(error)) from error
        for anchor in run.published:
            self.stdout.write(f"{anchor.month}: anchored {anchor.count} rows, {anchor.digest}")
        for problem in run.refused:
            self.stderr.write(str(problem))
        if run.refused:
            months = sorted({p.partition for p in run.refused})
            raise CommandError(
                f"not anchored, the chain does not verify: {', '.join(months)} "
                "(see verify_access_log)"
            )
        self.stdout.write(
            self.style.SUCCESS(
                f"access log anchors: {len(run.published)} published, {run.unchanged} unchanged"
            )
        )
