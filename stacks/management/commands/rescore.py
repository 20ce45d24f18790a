import sys
import time

from django.core.management.base import BaseCommand

from stacks.refresh import rescore_all


class Command(BaseCommand):
    help = "Rebuild the precomputed score and price tables (after bulk loads)."

    def handle(self, *args, **options):
        started = time.monotonic()

        def progress(done: int, total: int) -> None:
            width = 30
            filled = width * done // max(total, 1)
            sys.stderr.write(
                f"\rrescoring goals [{'#' * filled}{'.' * (width - filled)}] {done}/{total}"
            )
            sys.stderr.flush()

        rows = rescore_all(progress if options["verbosity"] > 0 else None)
        if options["verbosity"] > 0:
            sys.stderr.write("\n")
        self.stdout.write(
            f"Rescored {rows} compound-goal pairs in {time.monotonic() - started:.1f}s."
        )
