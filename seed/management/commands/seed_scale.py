"""`manage.py seed_scale --tier district|seoul`: synthetic data at scale (seed/scale/)."""

import os

from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from partners.models import Organization
from seed import scale


class Command(BaseCommand):
    help = "Load deterministic synthetic data at the district or Seoul tier (PostgreSQL COPY)."

    def add_arguments(self, parser):
        parser.add_argument("--tier", choices=sorted(scale.TIERS), default="district")
        parser.add_argument("--seed", type=int, default=2026)

    def handle(self, *args, tier, seed, **options):
        if not Organization.objects.filter(code="B10").exists():
            call_command("seed_network", stdout=self.stdout)
        if scale.already_seeded(scale.TIERS[tier]):
            self.stdout.write(f"tier {tier} is already loaded; nothing to do")
            call_command("refresh_report_facts", stdout=self.stdout)  # made the first time
            return
        password = os.environ.get("BENCH_PASSWORD", "bench-ieum-2026")
        try:
            result = scale.seed(
                tier, seed=seed, password=password, progress=lambda m: self.stdout.write(f"  {m}")
            )
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        rate = result.rows / result.seconds if result.seconds else 0
        self.stdout.write(
            self.style.SUCCESS(
                f"tier {tier}: {result.rows:,} rows in {result.seconds:.1f} s "
                f"({rate:,.0f} rows/s; COPY {result.copy_seconds:.1f} s)"
            )
        )
        for table, count in sorted(result.counts.items()):
            self.stdout.write(f"  {table:45} {count:>10,}")
        call_command("refresh_report_facts", "--rebuild", stdout=self.stdout)
