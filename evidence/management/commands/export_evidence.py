"""Export the knowledge base as an interchange document: `manage.py export_evidence [-o FILE]`."""

from django.core.management.base import BaseCommand, CommandError

from evidence.interchange import dumps, export_document


class Command(BaseCommand):
    help = "Write every goal, tier, compound, rating, study, article and vendor as JSON."

    def add_arguments(self, parser):
        parser.add_argument("-o", "--output", help="Write to this file instead of stdout.")

    def handle(self, *args, output=None, **options):
        text = dumps(export_document())
        if not output or output == "-":
            self.stdout.write(text, ending="")
            return
        try:
            with open(output, "w", encoding="utf-8") as f:
                f.write(text)
        except OSError as exc:
            raise CommandError(f"cannot write {output}: {exc.strerror or exc}") from exc
        self.stderr.write(f"Wrote {output}")
