"""Import an open dataset with its provenance: `manage.py import_source SOURCE [PATH]`."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from evidence.interchange import ValidationFailed
from evidence.sources import supplements_open_facts

# Each importable source: its importer module and its pinned snapshot in the project.
SOURCES = {
    supplements_open_facts.SLUG: (
        supplements_open_facts,
        settings.BASE_DIR / "data" / "supplements-open-facts",
    ),
}


class Command(BaseCommand):
    help = (
        "Import a snapshot of an open dataset (all-or-nothing, idempotent; studies the snapshot "
        "no longer has are removed) and report every claim file: imported, flagged for review, "
        "or rejected, with the reason."
    )

    def add_arguments(self, parser):
        parser.add_argument("source", choices=sorted(SOURCES), help="Which dataset.")
        parser.add_argument(
            "path", nargs="?", help="The snapshot folder (default: the project's pinned copy)."
        )

    def handle(self, *args, source, path, **options):
        importer, pinned = SOURCES[source]
        folder = path or pinned
        try:
            report = importer.import_snapshot(folder)
        except importer.SnapshotError as exc:
            raise CommandError(str(exc)) from exc
        except ValidationFailed as exc:
            for error in exc.errors:
                self.stderr.write(error)
            raise CommandError(
                f"{folder}: the snapshot is not valid; nothing was imported."
            ) from exc
        self.stdout.write("\n".join(report.lines()))
