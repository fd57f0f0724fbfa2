from django.core.management import call_command
from django.core.management.base import BaseCommand

from seed.network import demo_password, load_demo, run_demo_steps


class Command(BaseCommand):
    help = (
        "Build the demo network of DEMO.md (loads the real structure first when missing). "
        "Idempotent: a second run changes nothing. Accounts use $DEMO_PASSWORD."
    )

    def handle(self, *args, **options):
        tally = load_demo()
        self.stdout.write(f"demo network: {tally}")
        run_demo_steps(stdout=self.stdout)
        call_command("refresh_report_facts", "--rebuild", stdout=self.stdout)
        shown = "$DEMO_PASSWORD" if demo_password() != "ieum-demo-2026" else "ieum-demo-2026"
        self.stdout.write(self.style.SUCCESS(f"demo ready; accounts of DEMO.md, password {shown}"))
