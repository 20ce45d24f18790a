"""`manage.py generate_synthetic`: synthetic data for benchmarks (see evidence/synthetic.py)."""

import sys
import time

from django.core.management import call_command, get_commands
from django.core.management.base import BaseCommand, CommandError

from evidence import synthetic


class Command(BaseCommand):
    help = (
        "Fill the database with reproducible synthetic data at catalogue scale, clearly marked "
        "as such (every name says Synthetic). Never touches other rows."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--preset",
            choices=sorted(synthetic.PRESETS),
            help="small (100 compounds), medium (1,000) or large (10,000); default small",
        )
        for name in ("compounds", "goals", "studies", "findings", "offers"):
            parser.add_argument(f"--{name}", type=int, help=f"number of {name}")
        parser.add_argument("--seed", type=int, default=synthetic.DEFAULT_SEED)
        parser.add_argument("--batch-size", type=int, default=synthetic.DEFAULT_BATCH_SIZE)
        parser.add_argument(
            "--replace", action="store_true", help="delete earlier synthetic rows first"
        )
        parser.add_argument("--delete", action="store_true", help="only delete the synthetic rows")
        parser.add_argument(
            "--no-rescore",
            action="store_true",
            help="skip `manage.py rescore` (the bulk load bypasses the signals that keep "
            "precomputed scores current, so rankings stay empty until it runs)",
        )

    def handle(self, *args, **options):
        if options["delete"] or options["replace"]:
            deleted = synthetic.delete_synthetic()
            summary = ", ".join(f"{n:,} {label}" for label, n in deleted.items()) or "nothing"
            self.stdout.write(f"Deleted synthetic rows: {summary}.")
            if options["delete"]:
                return
        elif synthetic.synthetic_data_exists():
            raise CommandError(
                "Synthetic data already exists. Use --replace to regenerate it "
                "or --delete to remove it."
            )
        sizes = self.sizes(options)
        progress = synthetic.ProgressBar(sys.stderr)
        try:
            report = synthetic.generate(
                sizes,
                seed=options["seed"],
                progress=progress,
                batch_size=options["batch_size"],
                analyze_after=False,
            )
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(f"Generated synthetic data: {report.summary()}.")
        # The bulk load bypassed the signals that keep the precomputed scores current.
        if "rescore" in get_commands() and not options["no_rescore"]:
            started = time.monotonic()
            call_command("rescore", verbosity=options["verbosity"], stdout=self.stdout)
            self.stdout.write(f"Precomputed scores in {time.monotonic() - started:.1f} s.")
        synthetic.analyze(progress)

    def sizes(self, options) -> synthetic.Sizes:
        """The preset, with any explicit count overriding it.

        Without a preset, findings default to three per study and offers to three per compound.
        """
        base = synthetic.PRESETS[options["preset"] or "small"]
        counts = {
            name: options[name] if options[name] is not None else getattr(base, name)
            for name in ("compounds", "goals", "studies", "findings", "offers")
        }
        if options["preset"] is None:
            if options["findings"] is None:
                counts["findings"] = 3 * counts["studies"]
            if options["offers"] is None:
                counts["offers"] = 3 * counts["compounds"]
        try:
            sizes = synthetic.Sizes(**counts)
            sizes.check()
        except ValueError as exc:
            raise CommandError(str(exc)) from exc
        return sizes
