"""Build the public download /data/ offers: `manage.py build_data_export`.

Run it after content changes (a deploy step or a cron job, e.g. hourly); load_demo runs it.
"""

from django.core.management.base import BaseCommand, CommandError

from evidence import data_export


class Command(BaseCommand):
    help = (
        "Write the published knowledge base (interchange format) and its manifest into "
        "DATA_EXPORT_ROOT, for the /data/ page to offer."
    )

    def handle(self, *args, **options):
        try:
            manifest = data_export.build()
        except OSError as exc:
            raise CommandError(
                f"cannot write the export into {data_export.export_root()}: {exc.strerror or exc}"
            ) from exc
        self.stdout.write(
            f"Built {manifest.path} ({manifest.bytes:,} bytes, sha256 {manifest.sha256[:12]}, "
            f"content version {manifest.content_version}): "
            + ", ".join(f"{n} {section}" for section, n in manifest.counts.items())
        )
