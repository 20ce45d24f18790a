"""Delete the personal data the site keeps only for a while (README, Deploy: run it daily).

    python manage.py purge_personal_data --days 30

* django-axes' login records older than N days: attempts, failures and the access log
  (usernames as typed, sometimes a password typed into the username field, addresses,
  user agents). N must exceed AXES_COOLOFF_TIME, or a lockout would end early.
* expired sessions (Django's `clearsessions`).
"""

from datetime import timedelta

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils import timezone


class Command(BaseCommand):
    help = "Delete login records older than --days and expired sessions."

    def add_arguments(self, parser):
        parser.add_argument("--days", type=int, default=30, help="keep this many days (30)")

    def handle(self, *args, days: int, **options):
        if days < 1 or timedelta(days=days) <= settings.AXES_COOLOFF_TIME:
            raise CommandError("--days must be at least 1 day and longer than the lockout")
        before = timezone.now() - timedelta(days=days)
        with transaction.atomic():
            for model in (AccessAttempt, AccessFailureLog, AccessLog):
                deleted, _ = model.objects.filter(attempt_time__lt=before).delete()
                self.stdout.write(f"{model._meta.verbose_name_plural}: {deleted} deleted")
        call_command("clearsessions")
        self.stdout.write("expired sessions deleted")
