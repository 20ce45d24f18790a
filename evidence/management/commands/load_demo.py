"""The quick start's demo content: `manage.py load_demo` (run by `make run` after migrate)."""

import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from evidence.interchange import ValidationFailed, import_document, loads
from evidence.models import Compound

DEMO_FILE = settings.BASE_DIR / "demo" / "thymosin-alpha-1.json"
# `make run` serves on PORT (default 8000); say the address the visitor will really use.
ADMIN_URL = f"http://127.0.0.1:{os.environ.get('PORT') or 8000}/admin/"
DEMO_USERNAME = "admin"
DEMO_PASSWORD = "admin"


class Command(BaseCommand):
    help = (
        "Import the Thymosin alpha-1 demo data into an empty database and, with DEBUG on, "
        "create the demo superuser admin/admin."
    )

    def handle(self, *args, **options):
        self.load_data()
        self.ensure_demo_admin()

    def load_data(self):
        if Compound.objects.exists():
            self.stdout.write("The database already holds compounds: demo data not loaded.")
            return
        try:
            report = import_document(loads(DEMO_FILE.read_text(encoding="utf-8")))
        except ValidationFailed as exc:
            for error in exc.errors:
                self.stderr.write(error)
            raise CommandError(f"{DEMO_FILE} is not valid; nothing was imported.") from exc
        self.stdout.write(f"Loaded the demo data from {DEMO_FILE.name}: {report.summary()}")

    def ensure_demo_admin(self):
        if not settings.DEBUG:
            self.stdout.write(
                "DEBUG is off: not creating the demo superuser (admin/admin). "
                "Use `manage.py createsuperuser` for a real account."
            )
            return
        User = get_user_model()
        if User.objects.filter(username=DEMO_USERNAME).exists():
            self.stdout.write(
                f"A user named {DEMO_USERNAME} already exists (password left unchanged). "
                f"Admin: {ADMIN_URL}"
            )
            return
        User.objects.create_superuser(DEMO_USERNAME, email="", password=DEMO_PASSWORD)
        self.stdout.write(
            f"Demo superuser created. Admin: {ADMIN_URL} "
            f"(log in as {DEMO_USERNAME} / {DEMO_PASSWORD}; for local development only)"
        )
