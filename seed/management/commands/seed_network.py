from django.core.management.base import BaseCommand

from seed.network import load_network


class Command(BaseCommand):
    help = "Load the real structure of education offices and boroughs (seed/data/network.yaml)."

    def handle(self, *args, **options):
        tally = load_network()
        self.stdout.write(self.style.SUCCESS(f"network: {tally}"))
