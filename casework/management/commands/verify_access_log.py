from django.core.management.base import BaseCommand, CommandError

from casework.audit import verify_chain


class Command(BaseCommand):
    help = "Verify the hash chain of the access log (all months, or --month YYYY-MM)."

    def add_arguments(self, parser):
        parser.add_argument("--month", help="only this month's chain, e.g. 2026-11")

    def handle(self, *args, month=None, **options):
        checked, problems = verify_chain(month)
        for problem in problems:
            self.stderr.write(str(problem))
        if problems:
            raise CommandError(
                f"access log chain broken: {len(problems)} problem(s) in {checked} rows"
            )
        self.stdout.write(self.style.SUCCESS(f"access log chain intact: {checked} rows"))
