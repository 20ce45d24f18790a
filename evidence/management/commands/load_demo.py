"""The quick start's demo content: `manage.py load_demo` (run by `make run` after migrate).

Then builds the public download /data/ offers (build_data_export). Two parts of content,
each marked with where it came from: the research deep dive's Thymosin alpha-1
content (demo/thymosin-alpha-1.json) and the open dataset Supplements Open Facts (CC BY 4.0),
from the project's pinned snapshot in data/supplements-open-facts/ (docs/open-data.md).
"""

import os

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

from evidence.interchange import ValidationFailed, import_document, loads
from evidence.models import Compound, Source
from evidence.sources import supplements_open_facts

DEMO_FILE = settings.BASE_DIR / "demo" / "thymosin-alpha-1.json"
OPEN_DATA = settings.BASE_DIR / "data" / "supplements-open-facts"
# `make run` serves on PORT (default 8000); say the address the visitor will really use.
ADMIN_URL = f"http://127.0.0.1:{os.environ.get('PORT') or 8000}/admin/"
DEMO_USERNAME = "admin"
DEMO_PASSWORD = "admin"


class Command(BaseCommand):
    help = (
        "Import the Thymosin alpha-1 demo data into an empty database, then the pinned "
        "Supplements Open Facts snapshot (or update an earlier import of it to the pinned "
        "version) and, with DEBUG on, create the demo superuser admin/admin."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--deep-dive-only",
            action="store_true",
            help="Load only the Thymosin alpha-1 demo, not the open dataset (quick; for tests).",
        )

    def handle(self, *args, deep_dive_only=False, **options):
        loaded = self.load_data()
        if not deep_dive_only:
            self.load_open_data(just_loaded=loaded)
        # The public download (/data/) of what was just loaded.
        call_command("build_data_export", stdout=self.stdout, stderr=self.stderr)
        self.ensure_demo_admin()

    def load_data(self) -> bool:
        if Compound.objects.exists():
            self.stdout.write("The database already holds compounds: demo data not loaded.")
            return False
        try:
            report = import_document(loads(DEMO_FILE.read_text(encoding="utf-8")))
        except ValidationFailed as exc:
            for error in exc.errors:
                self.stderr.write(error)
            raise CommandError(f"{DEMO_FILE} is not valid; nothing was imported.") from exc
        self.stdout.write(f"Loaded the demo data from {DEMO_FILE.name}: {report.summary()}")
        return True

    def load_open_data(self, just_loaded: bool) -> None:
        """Into the fresh demo database, or to bring an earlier import up to the pinned
        snapshot; never into a database of other content."""
        source = Source.objects.filter(slug=supplements_open_facts.SLUG).first()
        if source is None and not just_loaded:
            return
        try:
            commit, _ = supplements_open_facts.read_notice(OPEN_DATA)
        except supplements_open_facts.SnapshotError as exc:
            raise CommandError(f"The open dataset cannot be loaded: {exc}") from exc
        if source is not None and source.version == commit:
            self.stdout.write(f"{source.name} is already imported at commit {commit[:7]}.")
            return
        self.stdout.write(f"Importing {supplements_open_facts.NAME} from {OPEN_DATA} ...")
        try:
            report = supplements_open_facts.import_snapshot(OPEN_DATA)
        except supplements_open_facts.SnapshotError as exc:
            raise CommandError(f"The open dataset cannot be loaded: {exc}") from exc
        except ValidationFailed as exc:
            for error in exc.errors:
                self.stderr.write(error)
            raise CommandError(f"{OPEN_DATA} is not valid; nothing was imported.") from exc
        self.stdout.write(report.lines()[0])
        self.stdout.write("The full report: manage.py import_source supplements-open-facts")

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
