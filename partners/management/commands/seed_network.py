from django.core.management.base import BaseCommand

from partners.seeding import load_network


class Command(BaseCommand):
    help = "Load the real structure of education offices and boroughs (partners/data/network.yaml)."

    def handle(self, *args, **options):
        tally = load_network()
        self.stdout.write(self.style.SUCCESS(f"network: {tally}"))
