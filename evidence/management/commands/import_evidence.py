"""Import an interchange document: `manage.py import_evidence FILE` (FILE may be - for stdin)."""

import sys

from django.core.management.base import BaseCommand, CommandError

from evidence.interchange import ValidationFailed, import_document, loads


class Command(BaseCommand):
    help = (
        "Validate an evidence-stack-builder JSON document and upsert it in one transaction. "
        "On any problem, print every error and write nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("file", help="Path to the JSON document, or - to read stdin.")

    def handle(self, *args, file, **options):
        text = read_text(file)
        try:
            report = import_document(loads(text))
        except ValidationFailed as exc:
            for error in exc.errors:
                self.stderr.write(error)
            count = len(exc.errors)
            raise CommandError(
                f"{file}: {count} problem{'s' if count != 1 else ''} found; nothing was imported."
            ) from exc
        self.stdout.write(report.summary())


def read_text(file: str) -> str:
    if file == "-":
        return sys.stdin.read()
    try:
        with open(file, encoding="utf-8") as f:
            return f.read()
    except OSError as exc:
        raise CommandError(f"cannot read {file}: {exc.strerror or exc}") from exc
    except UnicodeDecodeError as exc:
        raise CommandError(f"cannot read {file}: not UTF-8 text ({exc.reason})") from exc
