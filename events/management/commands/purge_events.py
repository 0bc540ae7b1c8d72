"""`manage.py purge_events`: drop events older than EVENT_RETENTION_DAYS (run it daily, e.g. from cron)."""

from django.core.management.base import BaseCommand

from events.services import events_purge


class Command(BaseCommand):
    help = "Delete events older than EVENT_RETENTION_DAYS."

    def handle(self, *args, **options):
        deleted = events_purge()
        self.stdout.write(f"{deleted} events purged")
