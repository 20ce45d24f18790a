"""Reproducible synthetic data at catalogue scale, for benchmarks and load tests.

    .venv/bin/python bench/synthetic.py --preset small  # 100 compounds (medium 1,000; large 10,000)
    .venv/bin/python bench/synthetic.py --compounds 50 --studies 200 --seed 2
    .venv/bin/python bench/synthetic.py --replace       # delete earlier synthetic rows first
    .venv/bin/python bench/synthetic.py --delete        # only delete them

It works on the database of DATABASE_URL (SQLite when unset), after `manage.py migrate`, and
then rebuilds the precomputed scores (`stacks.refresh.rescore_all`; --no-rescore skips that).

`generate(sizes, seed)` fills the database with a knowledge base shaped like a real one:
skewed goal popularity (a few goals with many rated compounds, a long tail), tiers skewed
toward 3-5, studies of every design with log-normal sizes, findings of every measure with
significant and non-significant results, dosing, side effects, contraindications, a few
interactions, vendors and offers. Every name says "Synthetic" and every slug of a root row
matches SLUG_PATTERNS, so `delete_synthetic()` removes exactly what it made and never the demo
data (whose example vendors' slugs also start with "synthetic-", but not with these patterns).

The same sizes and seed give the same rows: each table draws from its own `random.Random`
seeded from (seed, table), never from the global generator, and no draw depends on the
database (ids are assigned by the database, not by the random stream).

Rows are written in batches: through COPY on PostgreSQL (psycopg 3) and with bulk_create
elsewhere, all in one transaction, followed by ANALYZE on PostgreSQL.
"""

import argparse
import bisect
import itertools
import math
import os
import random
import sys
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import TextIO

import django
from django.db import connection, models, transaction
from django.db.models import Max
from django.utils import timezone

if __name__ == "__main__":  # run as a script: the project on the path and Django set up first
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    django.setup()

from evidence import search  # noqa: E402
from evidence.models import (  # noqa: E402
    Compound,
    CompoundAlias,
    Condition,
    Contraindication,
    Dosing,
    Finding,
    Goal,
    Interaction,
    Offer,
    Rating,
    Route,
    Searchable,
    SideEffect,
    Study,
    Tier,
    Unit,
    Vendor,
)
from stacks.refresh import rescore_all  # noqa: E402

DEFAULT_SEED = 1
DEFAULT_BATCH_SIZE = 5000


@dataclass(frozen=True)
class Sizes:
    compounds: int
    goals: int
    studies: int
    findings: int
    offers: int
    vendors: int = 30

    def check(self) -> None:
        for item in fields(self):
            if getattr(self, item.name) < 1:
                raise ValueError(f"{item.name} must be at least 1")
        if self.compounds < 2:
            raise ValueError("compounds must be at least 2 (interactions need a pair)")
        if self.findings < self.studies:
            raise ValueError("findings must be at least studies (every study reports one)")


PRESETS = {
    "small": Sizes(compounds=100, goals=10, studies=2_000, findings=6_000, offers=300),
    "medium": Sizes(compounds=1_000, goals=100, studies=20_000, findings=60_000, offers=3_000),
    "large": Sizes(compounds=10_000, goals=1_000, studies=200_000, findings=600_000, offers=30_000),
}

# The slugs of the root rows this module makes (aliases, ratings, findings, dosing, offers...
# hang off these). Deliberately narrower than "synthetic-": the demo's example vendors are
# called synthetic-budget-vendor and synthetic-example-vendor.
SLUG_PATTERNS = {
    Goal: r"^synthetic-goal-[0-9]+$",
    Compound: r"^synthetic-compound-[0-9]+$",
    Study: r"^synthetic-study-[0-9]+$",
    Vendor: r"^synthetic-vendor-[0-9]+$",
}

# --- the shape of the data -----------------------------------------------------------------

# Goal popularity: the goal of rank r is picked with weight 1 / r**ZIPF_EXPONENT. At the large
# preset the top goal gets about 1,500 rated compounds and the last ones a handful.
ZIPF_EXPONENT = 0.8
RATINGS_PER_COMPOUND = {1: 35, 2: 25, 3: 20, 4: 12, 5: 8}
TIER_WEIGHTS = {1: 4, 2: 10, 3: 24, 4: 30, 5: 24, 6: 8}
# Pairs (compound, goal) with findings but no rating yet, as a share of the rated pairs.
UNTIERED_PAIR_SHARE = 0.08
PUBLISHED_SHARE = 0.95

DESIGNS = [
    Study.Design.META_ANALYSIS,
    Study.Design.RCT,
    Study.Design.NON_RANDOMISED,
    Study.Design.COHORT,
    Study.Design.CASE_CONTROL,
    Study.Design.CASE_SERIES,
    Study.Design.ANIMAL,
    Study.Design.IN_VITRO,
    Study.Design.NOT_REPORTED,
]
# Design mix by the tier of the pair a study is about (None: a pair not rated yet).
DESIGN_WEIGHTS = {
    1: [10, 40, 8, 15, 5, 5, 8, 6, 3],
    2: [7, 35, 8, 15, 6, 7, 10, 8, 4],
    3: [4, 25, 9, 17, 8, 9, 14, 10, 4],
    4: [2, 14, 9, 18, 9, 14, 18, 12, 4],
    5: [0.5, 4, 4, 8, 5, 10, 35, 30, 3.5],
    6: [8, 45, 6, 15, 6, 5, 6, 5, 4],
    None: [2, 12, 8, 16, 8, 12, 22, 15, 5],
}
# How often a study is about a pair, by the pair's tier (times the compound's popularity).
PAIR_STUDY_WEIGHT = {1: 3.0, 2: 2.5, 3: 2.0, 4: 1.2, 5: 0.7, 6: 1.5, None: 0.5}
# Extra findings go preferentially to the designs that report many outcomes.
FINDING_COUNT_WEIGHT = {Study.Design.META_ANALYSIS: 3.0, Study.Design.RCT: 2.0}
# Sample size: (median, sigma of the log) per design; None means "usually not reported".
SAMPLE_SIZE = {
    Study.Design.META_ANALYSIS: (1500, 0.8),
    Study.Design.RCT: (90, 0.9),
    Study.Design.NON_RANDOMISED: (120, 0.9),
    Study.Design.COHORT: (1500, 1.3),
    Study.Design.CASE_CONTROL: (400, 1.0),
    Study.Design.CASE_SERIES: (20, 0.8),
    Study.Design.ANIMAL: (24, 0.6),
    Study.Design.IN_VITRO: None,
    Study.Design.NOT_REPORTED: (50, 1.0),
}
# Chance that a finding shows significant benefit / significant harm, by tier.
BENEFIT_HARM = {
    1: (0.75, 0.03),
    2: (0.62, 0.04),
    3: (0.50, 0.05),
    4: (0.38, 0.06),
    5: (0.25, 0.05),
    6: (0.05, 0.05),
    None: (0.30, 0.05),
}
M = Finding.Measure
C = Finding.Comparator
MEASURES_BY_DESIGN = {
    Study.Design.META_ANALYSIS: {
        M.ODDS_RATIO: 25,
        M.RISK_RATIO: 25,
        M.HAZARD_RATIO: 10,
        M.STD_MEAN_DIFFERENCE: 20,
        M.MEAN_DIFFERENCE: 12,
        M.RISK_DIFFERENCE: 8,
    },
    Study.Design.RCT: {
        M.MEAN_DIFFERENCE: 25,
        M.ODDS_RATIO: 10,
        M.RISK_RATIO: 12,
        M.HAZARD_RATIO: 8,
        M.STD_MEAN_DIFFERENCE: 8,
        M.RISK_DIFFERENCE: 7,
        M.PROPORTION: 20,
        M.QUALITATIVE: 10,
    },
    Study.Design.NON_RANDOMISED: {
        M.MEAN_DIFFERENCE: 30,
        M.RISK_RATIO: 15,
        M.ODDS_RATIO: 10,
        M.PROPORTION: 30,
        M.QUALITATIVE: 15,
    },
    Study.Design.COHORT: {
        M.HAZARD_RATIO: 35,
        M.RISK_RATIO: 20,
        M.ODDS_RATIO: 20,
        M.RISK_DIFFERENCE: 10,
        M.PROPORTION: 15,
    },
    Study.Design.CASE_CONTROL: {M.ODDS_RATIO: 80, M.QUALITATIVE: 20},
    Study.Design.CASE_SERIES: {M.PROPORTION: 75, M.QUALITATIVE: 25},
    Study.Design.ANIMAL: {
        M.MEAN_DIFFERENCE: 45,
        M.STD_MEAN_DIFFERENCE: 10,
        M.PROPORTION: 20,
        M.QUALITATIVE: 25,
    },
    Study.Design.IN_VITRO: {M.MEAN_DIFFERENCE: 60, M.QUALITATIVE: 40},
    Study.Design.NOT_REPORTED: {M.QUALITATIVE: 60, M.PROPORTION: 40},
}
COMPARATORS_BY_DESIGN = {
    Study.Design.META_ANALYSIS: {C.PLACEBO: 60, C.ACTIVE: 15, C.ADD_ON: 15, C.NO_TREATMENT: 10},
    Study.Design.RCT: {C.PLACEBO: 55, C.ACTIVE: 20, C.ADD_ON: 15, C.NO_TREATMENT: 10},
    Study.Design.NON_RANDOMISED: {C.NO_TREATMENT: 55, C.ACTIVE: 20, C.ADD_ON: 25},
    Study.Design.COHORT: {C.NO_TREATMENT: 65, C.ACTIVE: 15, C.ADD_ON: 20},
    Study.Design.CASE_CONTROL: {C.NO_TREATMENT: 80, C.ACTIVE: 20},
    Study.Design.CASE_SERIES: {C.NOT_REPORTED: 100},
    Study.Design.ANIMAL: {C.PLACEBO: 50, C.NO_TREATMENT: 50},
    Study.Design.IN_VITRO: {C.NO_TREATMENT: 100},
    Study.Design.NOT_REPORTED: {C.NOT_REPORTED: 60, C.NO_TREATMENT: 40},
}
OUTCOMES = [
    ("response rate", True),
    ("symptom score improvement", True),
    ("biomarker level", True),
    ("quality of life", True),
    ("functional capacity", True),
    ("remission", True),
    ("mortality", False),
    ("recurrence", False),
    ("disease progression", False),
    ("hospitalisation", False),
]
KIND_WEIGHTS = {
    Compound.Kind.SUPPLEMENT: 30,
    Compound.Kind.PEPTIDE: 20,
    Compound.Kind.NUTRIENT: 15,
    Compound.Kind.HERBAL: 15,
    Compound.Kind.DRUG: 10,
    Compound.Kind.HORMONE: 5,
    Compound.Kind.OTHER: 5,
}
SIDE_EFFECTS = [
    "headache",
    "nausea",
    "fatigue",
    "dizziness",
    "injection-site reaction",
    "insomnia",
    "rash",
    "diarrhoea",
    "constipation",
    "dry mouth",
    "muscle ache",
    "flushing",
]
SERIOUS_SIDE_EFFECTS = ["anaphylaxis", "liver injury", "arrhythmia", "seizure"]
FREQUENCY_WEIGHTS = {
    SideEffect.Frequency.COMMON: 35,
    SideEffect.Frequency.UNCOMMON: 30,
    SideEffect.Frequency.RARE: 20,
    SideEffect.Frequency.NOT_STATED: 15,
}
FREQUENCIES = [
    ("once weekly", Decimal(1)),
    ("twice weekly", Decimal(2)),
    ("three times weekly", Decimal(3)),
    ("five days a week", Decimal(5)),
    ("once daily", Decimal(7)),
    ("twice daily", Decimal(14)),
    ("as needed", None),
]
# Typical amount range per unit, for dosing and for what an offer's unit holds.
AMOUNTS = {
    Unit.MG: (0.1, 2000.0),
    Unit.MCG: (10.0, 1000.0),
    Unit.G: (0.5, 10.0),
    Unit.IU: (400.0, 10000.0),
    Unit.ML: (0.5, 5.0),
}
UNIT_WEIGHTS = {Unit.MG: 70, Unit.MCG: 15, Unit.G: 8, Unit.IU: 4, Unit.ML: 3}
COUNTRIES = [
    "United States",
    "China",
    "Japan",
    "Germany",
    "United Kingdom",
    "Italy",
    "Brazil",
    "India",
    "Australia",
    "Canada",
    "",
]
EARLIEST_YEAR = 1965
LATEST_YEAR = 2025
REVIEWED_FROM = date(2021, 1, 1)


# --- progress ------------------------------------------------------------------------------


class _Task:
    """One table's progress; the silent default."""

    def advance(self, count: int) -> None:
        pass

    def close(self) -> None:
        pass


def no_progress(label: str, total: int) -> _Task:
    return _Task()


class ProgressBar:
    """A plain text progress bar per table: `progress = ProgressBar(sys.stderr)`.

    On a terminal it redraws one line; elsewhere (a log file) it prints one line per table.
    """

    def __init__(self, stream: TextIO | None = None, width: int = 30):
        self.stream = stream or sys.stderr
        self.width = width
        self.live = self.stream.isatty()

    def __call__(self, label: str, total: int) -> "_Bar":
        return _Bar(self, label, total)


class _Bar(_Task):
    def __init__(self, owner: ProgressBar, label: str, total: int):
        self.owner, self.label, self.total = owner, label, max(total, 1)
        self.done = 0
        self.started = self.drawn = time.monotonic()
        if owner.live:
            self._draw()

    def _line(self) -> str:
        share = min(self.done / self.total, 1.0)
        filled = round(share * self.owner.width)
        bar = "#" * filled + "." * (self.owner.width - filled)
        elapsed = time.monotonic() - self.started
        return (
            f"{self.label:<16} [{bar}] {share:6.1%} {self.done:>9,}/{self.total:,} {elapsed:6.1f}s"
        )

    def _draw(self) -> None:
        self.owner.stream.write("\r" + self._line())
        self.owner.stream.flush()

    def advance(self, count: int) -> None:
        self.done += count
        now = time.monotonic()
        if self.owner.live and now - self.drawn >= 0.1:
            self.drawn = now
            self._draw()

    def close(self) -> None:
        if self.owner.live:
            self._draw()
            self.owner.stream.write("\n")
        else:
            self.owner.stream.write(self._line() + "\n")
        self.owner.stream.flush()


Progress = Callable[[str, int], _Task]


# --- writing rows --------------------------------------------------------------------------


class _Writer:
    """Reserves ids and writes rows (dicts keyed by attname) in batches.

    On PostgreSQL ids come from the table's own sequence (so later inserts never collide) and
    rows go through COPY; elsewhere ids continue after the current maximum, inside the
    transaction, and rows go through bulk_create.
    """

    def __init__(self, batch_size: int):
        self.batch_size = batch_size
        self.postgres = connection.vendor == "postgresql"
        self._next_id: dict[type[models.Model], int] = {}
        self.counts: dict[str, int] = {}

    def reserve_ids(self, model: type[models.Model], count: int) -> list[int]:
        if count <= 0:
            return []
        if self.postgres:
            table = model._meta.db_table
            column = model._meta.pk.column
            with connection.cursor() as cursor:
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
                    [table, column, count],
                )
                return [row[0] for row in cursor.fetchall()]
        if model not in self._next_id:
            current = model._base_manager.aggregate(top=Max("pk"))["top"] or 0
            self._next_id[model] = current + 1
        start = self._next_id[model]
        self._next_id[model] = start + count
        return list(range(start, start + count))

    def write(self, model: type[models.Model], rows: Sequence[dict]) -> None:
        if not rows:
            return
        concrete = model._meta.concrete_fields
        defaults = {}
        for item in concrete:
            if getattr(item, "auto_now", False) or getattr(item, "auto_now_add", False):
                defaults[item.attname] = timezone.now()
            elif item.has_default() or not item.null:
                defaults[item.attname] = item.get_default()
            else:
                defaults[item.attname] = None
        names = [item.attname for item in concrete]
        if issubclass(model, Searchable):  # what Searchable.save() would have stored
            rows = [{**row, "search_key": search.index_key(row["name"])} for row in rows]
        for start in range(0, len(rows), self.batch_size):
            batch = rows[start : start + self.batch_size]
            if self.postgres:
                self._copy(model, concrete, names, defaults, batch)
            else:
                model.objects.bulk_create(
                    [model(**{**defaults, **row}) for row in batch], batch_size=self.batch_size
                )
        label = str(model._meta.verbose_name_plural)
        self.counts[label] = self.counts.get(label, 0) + len(rows)

    def _copy(self, model, concrete, names, defaults, batch) -> None:
        quote = connection.ops.quote_name
        columns = ", ".join(quote(item.column) for item in concrete)
        sql = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN"
        with connection.connection.cursor() as cursor, cursor.copy(sql) as copy:
            for row in batch:
                copy.write_row([row.get(name, defaults[name]) for name in names])


# --- helpers -------------------------------------------------------------------------------


def _rng(seed: int, table: str) -> random.Random:
    """The random stream of one table: tables do not shift each other's rows."""
    return random.Random(f"evidence-synthetic:{seed}:{table}")


def _dec(value: float, places: int = 4) -> Decimal:
    return Decimal(f"{value:.{places}f}")


def _pick(rng: random.Random, weights: dict):
    """One key of a {choice: weight} mapping."""
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def _cumulative(weights: Iterable[float]) -> list[float]:
    return list(itertools.accumulate(weights))


def _sample_weighted(rng: random.Random, cumulative: list[float], count: int) -> list[int]:
    """`count` distinct indexes drawn with the given cumulative weights (without replacement)."""
    chosen: list[int] = []
    total = cumulative[-1]
    count = min(count, len(cumulative))
    while len(chosen) < count:
        index = min(bisect.bisect_right(cumulative, rng.random() * total), len(cumulative) - 1)
        if index not in chosen:
            chosen.append(index)
    return chosen


def _width(count: int, minimum: int) -> int:
    return max(minimum, len(str(count)))


def _year(rng: random.Random) -> int:
    """Publication years skewed to the recent past, like the literature."""
    return max(EARLIEST_YEAR, LATEST_YEAR - int(rng.expovariate(1 / 8)))


@dataclass
class _Plan:
    """What later tables need to know about earlier ones (indexes are 0-based positions)."""

    tier_ids: dict[int, int] = field(default_factory=dict)
    goal_ids: list[int] = field(default_factory=list)
    goal_names: list[str] = field(default_factory=list)
    compound_ids: list[int] = field(default_factory=list)
    compound_names: list[str] = field(default_factory=list)
    compound_kinds: list[str] = field(default_factory=list)
    popularity: list[float] = field(default_factory=list)
    injection_only: list[bool] = field(default_factory=list)
    dose_units: list[str] = field(default_factory=list)
    rated_goals: list[list[int]] = field(default_factory=list)  # compound -> goals
    tiers: dict[tuple[int, int], int | None] = field(default_factory=dict)  # pair -> tier
    pairs: list[tuple[int, int]] = field(default_factory=list)
    study_ids: list[int] = field(default_factory=list)
    study_designs: list[str] = field(default_factory=list)
    study_pairs: list[int] = field(default_factory=list)
    finding_counts: list[int] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    sizes: Sizes
    seed: int
    counts: dict[str, int]
    seconds: float

    def summary(self) -> str:
        counts = ", ".join(f"{count:,} {name}" for name, count in self.counts.items())
        return f"{counts} (seed {self.seed}) in {self.seconds:.1f} s"


# --- the tables ----------------------------------------------------------------------------


def _goals(plan: _Plan, sizes: Sizes, seed: int, writer: _Writer, progress: Progress) -> None:
    rng = _rng(seed, "goals")
    width = _width(sizes.goals, 4)
    categories = max(1, min(40, sizes.goals // 25))
    plan.goal_ids = writer.reserve_ids(Goal, sizes.goals)
    task = progress("goals", sizes.goals)
    rows = []
    for index, pk in enumerate(plan.goal_ids):
        number = f"{index + 1:0{width}d}"
        plan.goal_names.append(f"Synthetic goal {number}")
        rows.append(
            {
                "id": pk,
                "name": plan.goal_names[-1],
                "slug": f"synthetic-goal-{number}",
                "category": f"Synthetic category {rng.randrange(categories) + 1:02d}",
                "description": (
                    f"Synthetic goal {number}, generated for load tests: not a real health goal."
                ),
            }
        )
    writer.write(Goal, rows)
    task.advance(len(rows))
    task.close()


def _compounds(plan: _Plan, sizes: Sizes, seed: int, writer: _Writer, progress: Progress):
    rng = _rng(seed, "compounds")
    width = _width(sizes.compounds, 5)
    classes = max(2, sizes.compounds // 40)
    plan.compound_ids = writer.reserve_ids(Compound, sizes.compounds)
    task = progress("compounds", sizes.compounds)
    compounds, aliases = [], []
    alias_names: list[tuple[int, str]] = []
    for index, pk in enumerate(plan.compound_ids):
        number = f"{index + 1:0{width}d}"
        name = f"Synthetic compound {number}"
        kind = _pick(rng, KIND_WEIGHTS)
        plan.compound_names.append(name)
        plan.compound_kinds.append(kind)
        plan.popularity.append(rng.lognormvariate(0, 1.0))
        injectable = kind in {Compound.Kind.PEPTIDE, Compound.Kind.HORMONE, Compound.Kind.DRUG}
        plan.injection_only.append(injectable and rng.random() < 0.6)
        plan.dose_units.append(_pick(rng, UNIT_WEIGHTS))
        compounds.append(
            {
                "id": pk,
                "name": name,
                "slug": f"synthetic-compound-{number}",
                "kind": kind,
                "summary": f"{name} is generated for load tests: not a real compound.",
                "mechanism": "Synthetic mechanism of action, for load tests only.",
                "mechanism_class": f"Synthetic class {rng.randrange(classes) + 1:03d}",
                "regulatory_status": "Synthetic: not a real regulatory status.",
                "published": rng.random() < PUBLISHED_SHARE,
            }
        )
        for letter in "ABC"[: rng.choices([0, 1, 2], weights=[40, 45, 15])[0]]:
            alias_names.append((pk, f"Synthetic alias SC-{number}-{letter}"))
    writer.write(Compound, compounds)
    alias_ids = writer.reserve_ids(CompoundAlias, len(alias_names))
    for pk, (compound_id, alias) in zip(alias_ids, alias_names, strict=True):
        aliases.append({"id": pk, "compound_id": compound_id, "name": alias})
    writer.write(CompoundAlias, aliases)
    task.advance(len(compounds))
    task.close()


def _ratings(plan: _Plan, sizes: Sizes, seed: int, writer: _Writer, progress: Progress):
    rng = _rng(seed, "ratings")
    goal_weights = _cumulative(1 / (rank**ZIPF_EXPONENT) for rank in range(1, sizes.goals + 1))
    task = progress("ratings", sizes.compounds)
    chosen: list[tuple[int, int, int]] = []
    for compound in range(sizes.compounds):
        count = _pick(rng, RATINGS_PER_COMPOUND)
        goals = _sample_weighted(rng, goal_weights, count)
        plan.rated_goals.append(goals)
        for goal in goals:
            tier = _pick(rng, TIER_WEIGHTS)
            plan.tiers[(compound, goal)] = tier
            chosen.append((compound, goal, tier))
    ids = writer.reserve_ids(Rating, len(chosen))
    rows = []
    for pk, (compound, goal, tier) in zip(ids, chosen, strict=True):
        rows.append(
            {
                "id": pk,
                "compound_id": plan.compound_ids[compound],
                "goal_id": plan.goal_ids[goal],
                "tier_id": plan.tier_ids[tier],
                "bottom_line": (
                    f"Synthetic bottom line: Tier {tier} for {plan.compound_names[compound]} "
                    f"and {plan.goal_names[goal]}. Generated data, not evidence."
                ),
                "data_suggests": "Synthetic summary of what the generated data suggests.",
                "limitations": "Synthetic data: every figure is made up.",
                "last_reviewed": REVIEWED_FROM + timedelta(days=rng.randrange(1500)),
            }
        )
    writer.write(Rating, rows)
    task.advance(sizes.compounds)
    task.close()

    # Pairs with findings but no rating yet: the "not yet rated" part of a ranking.
    wanted = round(len(chosen) * UNTIERED_PAIR_SHARE)
    unrated: list[tuple[int, int]] = []
    seen = set(plan.tiers)
    attempts = 0
    while len(unrated) < wanted and attempts < wanted * 20:
        attempts += 1
        pair = (rng.randrange(sizes.compounds), _sample_weighted(rng, goal_weights, 1)[0])
        if pair not in seen:
            seen.add(pair)
            unrated.append(pair)
            plan.tiers[pair] = None
    plan.pairs = [(c, g) for c, g, _ in chosen] + unrated


def _compound_details(plan: _Plan, sizes: Sizes, seed: int, writer: _Writer, progress):
    """Dosing, side effects, contraindications and interactions."""
    rng = _rng(seed, "details")
    task = progress("dosing & safety", sizes.compounds)
    dosings, effects, contraindications = [], [], []
    conditions = list(Condition.values)
    injections = sorted(Route.injections())
    other_routes = [r for r in Route.values if r not in Route.injections()]
    for index, compound_id in enumerate(plan.compound_ids):
        if plan.injection_only[index]:
            routes = [rng.choice(injections)]
        else:
            routes = [Route.ORAL if rng.random() < 0.7 else rng.choice(other_routes)]
        goals = plan.rated_goals[index]
        targets: list[int | None] = [None]
        if goals and rng.random() < 0.3:
            targets.append(rng.choice(goals))
        for goal in targets:
            unit = plan.dose_units[index]
            low, high = AMOUNTS[unit]
            frequency, per_week = rng.choice(FREQUENCIES)
            dosings.append(
                {
                    "compound_id": compound_id,
                    "goal_id": None if goal is None else plan.goal_ids[goal],
                    "amount": _dec(math.exp(rng.uniform(math.log(low), math.log(high))), 2),
                    "unit": unit,
                    "frequency": frequency,
                    "doses_per_week": per_week,
                    "route": routes[0] if goal is None else rng.choice(routes),
                    "duration": f"{rng.choice([4, 8, 12, 24, 52])} weeks",
                    "notes": "Synthetic dosing, for load tests only.",
                }
            )
        for name in rng.sample(SIDE_EFFECTS, rng.choices([0, 1, 2, 3, 4], [30, 30, 20, 12, 8])[0]):
            effects.append(
                {
                    "compound_id": compound_id,
                    "name": f"Synthetic side effect: {name}",
                    "frequency": _pick(rng, FREQUENCY_WEIGHTS),
                }
            )
        if rng.random() < 0.04:
            effects.append(
                {
                    "compound_id": compound_id,
                    "name": f"Synthetic serious effect: {rng.choice(SERIOUS_SIDE_EFFECTS)}",
                    "frequency": SideEffect.Frequency.SERIOUS,
                }
            )
        if rng.random() < 0.3:
            for condition in rng.sample(conditions, rng.choice([1, 1, 2])):
                contraindications.append(
                    {
                        "compound_id": compound_id,
                        "condition": condition,
                        "note": "Synthetic contraindication, for load tests only.",
                    }
                )
    pairs: set[tuple[int, int]] = set()
    wanted = min(max(1, sizes.compounds // 20), sizes.compounds * (sizes.compounds - 1) // 2)
    while len(pairs) < wanted:
        a, b = sorted(rng.sample(range(sizes.compounds), 2))
        pairs.add((a, b))
    interactions = [
        {
            "compound_a_id": plan.compound_ids[a],
            "compound_b_id": plan.compound_ids[b],
            "severity": rng.choice(Interaction.Severity.values),
            "note": "Synthetic interaction, for load tests only.",
        }
        for a, b in sorted(pairs)
    ]
    for model, rows in (
        (Dosing, dosings),
        (SideEffect, effects),
        (Contraindication, contraindications),
        (Interaction, interactions),
    ):
        for pk, row in zip(writer.reserve_ids(model, len(rows)), rows, strict=True):
            row["id"] = pk
        writer.write(model, rows)
    task.advance(sizes.compounds)
    task.close()


def _offers(plan: _Plan, sizes: Sizes, seed: int, writer: _Writer, progress: Progress):
    rng = _rng(seed, "offers")
    task = progress("vendors & offers", sizes.offers)
    vendor_width = _width(sizes.vendors, 2)
    vendor_ids = writer.reserve_ids(Vendor, sizes.vendors)
    vendors = []
    for index, pk in enumerate(vendor_ids):
        number = f"{index + 1:0{vendor_width}d}"
        vendors.append(
            {
                "id": pk,
                "name": f"Synthetic vendor {number}",
                "slug": f"synthetic-vendor-{number}",
                "website": f"https://vendor-{index + 1}.example.com",
                "country": rng.choice(COUNTRIES),
                "description": "Synthetic vendor for load tests: not a real shop.",
                "third_party_tested": rng.random() < 0.4,
                "certificate_of_analysis": rng.random() < 0.5,
                "active": rng.random() < 0.9,
            }
        )
    writer.write(Vendor, vendors)

    width = _width(sizes.offers, 6)
    popularity = _cumulative(plan.popularity)
    offer_ids = writer.reserve_ids(Offer, sizes.offers)
    rows = []
    for index, pk in enumerate(offer_ids):
        number = f"{index + 1:0{width}d}"
        compound = _sample_weighted(rng, popularity, 1)[0]
        vendor = rng.randrange(sizes.vendors)
        unit = plan.dose_units[compound] if rng.random() < 0.85 else _pick(rng, UNIT_WEIGHTS)
        low, high = AMOUNTS[unit]
        amount = _dec(math.exp(rng.uniform(math.log(low), math.log(high))), 2)
        if plan.injection_only[compound]:
            form = rng.choice([Offer.Form.VIAL, Offer.Form.PREFILLED_SYRINGE])
        else:
            form = rng.choice(
                [Offer.Form.CAPSULE, Offer.Form.TABLET, Offer.Form.POWDER, Offer.Form.LIQUID]
            )
        rows.append(
            {
                "id": pk,
                "vendor_id": vendor_ids[vendor],
                "compound_id": plan.compound_ids[compound],
                "key": f"synthetic-offer-{number}",
                "product_name": (
                    f"Synthetic product {number}: {plan.compound_names[compound]}, {amount} {unit}"
                ),
                "url": f"https://vendor-{vendor + 1}.example.com/products/synthetic-{number}",
                "price": _dec(math.exp(rng.uniform(math.log(5), math.log(400))), 2),
                "currency": rng.choices(["USD", "EUR", "GBP"], weights=[70, 20, 10])[0],
                "amount_per_unit": amount,
                "unit": unit,
                "units_per_pack": rng.choice([1, 1, 1, 10, 30, 60, 90, 120]),
                "form": form,
                "in_stock": rng.random() < 0.85,
                "last_checked": date(2025, 1, 1) + timedelta(days=rng.randrange(365)),
            }
        )
    for start in range(0, len(rows), writer.batch_size):
        batch = rows[start : start + writer.batch_size]
        writer.write(Offer, batch)
        task.advance(len(batch))
    task.close()


def _studies(plan: _Plan, sizes: Sizes, seed: int, writer: _Writer, progress: Progress):
    rng = _rng(seed, "studies")
    # Which pair each study is about, and its design: drawn for all studies up front.
    pair_weights = _cumulative(
        plan.popularity[c] * PAIR_STUDY_WEIGHT[plan.tiers[(c, g)]] for c, g in plan.pairs
    )
    plan.study_pairs = rng.choices(
        range(len(plan.pairs)), cum_weights=pair_weights, k=sizes.studies
    )
    cumulative_designs = {tier: _cumulative(w) for tier, w in DESIGN_WEIGHTS.items()}
    plan.study_designs = [
        rng.choices(DESIGNS, cum_weights=cumulative_designs[plan.tiers[plan.pairs[p]]])[0]
        for p in plan.study_pairs
    ]
    # The first studies take every design in turn, so even a tiny data set has them all.
    plan.study_designs[: len(DESIGNS)] = DESIGNS[: sizes.studies]
    # Every study reports at least one finding; the rest go mostly to meta-analyses and RCTs.
    plan.finding_counts = [1] * sizes.studies
    extra_weights = _cumulative(FINDING_COUNT_WEIGHT.get(d, 1.0) for d in plan.study_designs)
    for index in rng.choices(
        range(sizes.studies), cum_weights=extra_weights, k=sizes.findings - sizes.studies
    ):
        plan.finding_counts[index] += 1

    width = _width(sizes.studies, 6)
    task = progress("studies", sizes.studies)
    labels = dict(Study.Design.choices)
    for start in range(0, sizes.studies, writer.batch_size):
        stop = min(start + writer.batch_size, sizes.studies)
        ids = writer.reserve_ids(Study, stop - start)
        plan.study_ids.extend(ids)
        rows = []
        for index, pk in zip(range(start, stop), ids, strict=True):
            number = f"{index + 1:0{width}d}"
            design = plan.study_designs[index]
            compound, goal = plan.pairs[plan.study_pairs[index]]
            size = SAMPLE_SIZE[design]
            n = None
            if size is not None and (design != Study.Design.NOT_REPORTED or rng.random() < 0.5):
                median, sigma = size
                n = max(1, min(5_000_000, round(rng.lognormvariate(math.log(median), sigma))))
            trial_count = None
            if design == Study.Design.META_ANALYSIS:
                trial_count = max(2, min(150, round(rng.lognormvariate(math.log(8), 0.6))))
            link = rng.random()
            rows.append(
                {
                    "id": pk,
                    "slug": f"synthetic-study-{number}",
                    "title": (
                        f"Synthetic study {number}: {labels[design]} of "
                        f"{plan.compound_names[compound]} for {plan.goal_names[goal]}"
                    ),
                    "design": design,
                    "design_detail": "propensity score-matched"
                    if design == Study.Design.COHORT and rng.random() < 0.2
                    else "",
                    "n": n,
                    "trial_count": trial_count,
                    "population": "Synthetic population, for load tests only",
                    "country": rng.choice(COUNTRIES),
                    "duration": f"{rng.choice([4, 8, 12, 24, 52, 104])} weeks",
                    "follow_up": "",
                    "year": _year(rng) if rng.random() < 0.9 else None,
                    "pmid": "",  # any number would be some real paper's PMID
                    "doi": f"10.5555/synthetic.{number}" if link < 0.5 else "",
                    # Every study is citable (the study_citable constraint).
                    "url": f"https://example.com/synthetic-studies/{number}" if link >= 0.5 else "",
                }
            )
        writer.write(Study, rows)
        task.advance(len(rows))
    task.close()


def _p_value(rng: random.Random, significant: bool) -> tuple[Decimal, bool]:
    if significant:
        if rng.random() < 0.4:
            return Decimal("0.001"), True  # "p<0.001"
        return _dec(rng.uniform(0.001, 0.049), 6), False
    return _dec(rng.uniform(0.06, 0.95), 6), False


def _first_unused(unused: list[str], allowed: Sequence[str]) -> str | None:
    """Take the first still unused choice that is allowed here (None when there is none)."""
    for choice in unused:
        if choice in allowed:
            unused.remove(choice)
            return choice
    return None


def _finding_figures(
    rng: random.Random, measure: str, effect: str, higher_is_better: bool, single_arm: bool
):
    """value, comparator_value, ci_low, ci_high, p_value, p_value_is_bound, stated_significance
    and direction (stated only when there are no figures).

    effect is "benefit", "harm" or "null"; figures are made so the derived significance and
    direction say exactly that, and so every CHECK constraint on Finding holds.
    """
    significant = effect != "null"
    # The sign of a difference that favours the compound.
    good = 1 if higher_is_better else -1
    sign = {"benefit": good, "harm": -good, "null": 0}[effect]
    figures = {
        "value": None,
        "comparator_value": None,
        "ci_low": None,
        "ci_high": None,
        "p_value": None,
        "p_value_is_bound": False,
        "stated_significance": None,
        "direction": "",
    }
    if measure == M.QUALITATIVE:
        figures["direction"] = {"benefit": "benefit", "harm": "harm", "null": "no_difference"}[
            effect
        ]
        if rng.random() < 0.25:
            figures["p_value"], figures["p_value_is_bound"] = _p_value(rng, significant)
        elif rng.random() < 0.85:
            figures["stated_significance"] = significant
        return figures
    if measure == M.PROPORTION:
        if not single_arm and rng.random() < 0.5:  # two arms: a CI is of the difference
            base = rng.uniform(5, 70)
            shift = sign * rng.uniform(5, 25) if significant else rng.uniform(-3, 3)
            figures["comparator_value"] = _dec(base, 1)
            figures["value"] = _dec(min(100.0, max(0.0, base + shift)), 1)
            difference = float(figures["value"] - figures["comparator_value"])
            mode = rng.random()
            if mode < 0.4:
                if significant:
                    half = abs(difference) * rng.uniform(0.3, 0.9)  # excludes 0
                else:
                    half = abs(difference) + rng.uniform(1, 10)  # holds 0
                figures["ci_low"] = _dec(difference - half, 1)
                figures["ci_high"] = _dec(difference + half, 1)
            elif mode < 0.75:
                figures["p_value"], figures["p_value_is_bound"] = _p_value(rng, significant)
            elif mode < 0.9:
                figures["stated_significance"] = significant
        else:  # one arm: the proportion with its own CI, not assessable for significance
            value = rng.uniform(5, 95)
            figures["value"] = _dec(value, 1)
            if rng.random() < 0.5:
                half = rng.uniform(2, 15)
                figures["ci_low"] = _dec(max(0.0, value - half), 1)
                figures["ci_high"] = _dec(min(100.0, value + half), 1)
        return figures

    ratio = measure in Finding.RATIO_MEASURES
    scale = {
        M.MEAN_DIFFERENCE: rng.uniform(0.5, 20),
        M.STD_MEAN_DIFFERENCE: 1.0,
        M.RISK_DIFFERENCE: rng.uniform(0.02, 0.25),
    }.get(measure, 1.0)  # ratios work on the log scale
    if significant:
        magnitude = rng.uniform(0.15, 1.0) * scale
        centre = sign * magnitude
        half = magnitude * rng.uniform(0.3, 0.9)  # the interval excludes the null
    else:
        centre = rng.uniform(-0.3, 0.3) * scale
        half = abs(centre) + rng.uniform(0.05, 0.6) * scale  # the interval holds the null
    if ratio:
        value, low, high = math.exp(centre), math.exp(centre - half), math.exp(centre + half)
    else:
        value, low, high = centre, centre - half, centre + half
    figures["value"] = _dec(value)
    mode = rng.random()
    if mode < 0.8:  # a CI, sometimes with a p-value too
        figures["ci_low"], figures["ci_high"] = _dec(low), _dec(high)
        if rng.random() < 0.3:
            figures["p_value"], figures["p_value_is_bound"] = _p_value(rng, significant)
    elif mode < 0.95:  # a p-value only
        figures["p_value"], figures["p_value_is_bound"] = _p_value(rng, significant)
    else:  # a point estimate and the authors' word
        figures["stated_significance"] = significant
    return figures


def _findings(plan: _Plan, sizes: Sizes, seed: int, writer: _Writer, progress: Progress):
    rng = _rng(seed, "findings")
    measures = {d: (list(w), _cumulative(w.values())) for d, w in MEASURES_BY_DESIGN.items()}
    comparators = {d: (list(w), _cumulative(w.values())) for d, w in COMPARATORS_BY_DESIGN.items()}
    # Until every measure and comparator has appeared once, the first allowed unused one wins
    # (rarest first), so even a tiny data set has them all.
    unused_measures = [
        M.RISK_DIFFERENCE,
        M.HAZARD_RATIO,
        M.STD_MEAN_DIFFERENCE,
        M.RISK_RATIO,
        M.ODDS_RATIO,
        M.PROPORTION,
        M.QUALITATIVE,
        M.MEAN_DIFFERENCE,
    ]
    unused_comparators = [C.ADD_ON, C.ACTIVE, C.NO_TREATMENT, C.PLACEBO, C.NOT_REPORTED]
    task = progress("findings", sizes.findings)
    rows: list[dict] = []

    def flush():
        for pk, row in zip(writer.reserve_ids(Finding, len(rows)), rows, strict=True):
            row["id"] = pk
        writer.write(Finding, rows)
        task.advance(len(rows))
        rows.clear()

    for index, study_id in enumerate(plan.study_ids):
        design = plan.study_designs[index]
        compound, main_goal = plan.pairs[plan.study_pairs[index]]
        choices, cumulative = comparators[design]
        comparator = rng.choices(choices, cum_weights=cumulative)[0]
        comparator = _first_unused(unused_comparators, choices) or comparator
        comparator_name, comparator_compound = "", None
        if comparator == C.ACTIVE:
            other = rng.randrange(sizes.compounds - 1)
            other += other >= compound
            comparator_name = plan.compound_names[other]
            if rng.random() < 0.7:
                comparator_compound = plan.compound_ids[other]
        elif comparator == C.ADD_ON:
            comparator_name = "Synthetic standard care alone"
        other_goals = [g for g in plan.rated_goals[compound] if g != main_goal]
        for number in range(1, plan.finding_counts[index] + 1):
            goal = main_goal
            if number > 1 and other_goals and rng.random() < 0.15:
                goal = rng.choice(other_goals)  # a secondary outcome for another goal
            benefit, harm = BENEFIT_HARM[plan.tiers.get((compound, goal))]
            draw = rng.random()
            effect = "benefit" if draw < benefit else "harm" if draw < benefit + harm else "null"
            choices, cumulative = measures[design]
            measure = rng.choices(choices, cum_weights=cumulative)[0]
            measure = _first_unused(unused_measures, choices) or measure
            if comparator == C.NOT_REPORTED and measure not in (M.PROPORTION, M.QUALITATIVE):
                measure = M.QUALITATIVE
            outcome, higher_is_better = OUTCOMES[rng.randrange(len(OUTCOMES))]
            figures = _finding_figures(
                rng, measure, effect, higher_is_better, single_arm=comparator == C.NOT_REPORTED
            )
            rows.append(
                {
                    "study_id": study_id,
                    "compound_id": plan.compound_ids[compound],
                    "goal_id": plan.goal_ids[goal],
                    # Numbered within the study, so (study, compound, goal, outcome) is unique.
                    "outcome": f"Synthetic outcome {number}: {outcome}",
                    "comparator": comparator,
                    "comparator_name": comparator_name,
                    "comparator_compound_id": comparator_compound,
                    "measure": measure,
                    "higher_is_better": higher_is_better,
                    "notes": "",
                    **figures,
                }
            )
        if len(rows) >= writer.batch_size:
            flush()
    flush()
    task.close()


# --- the public functions ------------------------------------------------------------------


def synthetic_roots() -> dict[type[models.Model], models.QuerySet]:
    """The root rows this module made (everything else it made hangs off them)."""
    return {model: model.objects.filter(slug__regex=rx) for model, rx in SLUG_PATTERNS.items()}


def synthetic_data_exists() -> bool:
    return any(queryset.exists() for queryset in synthetic_roots().values())


def delete_synthetic() -> dict[str, int]:
    """Delete the synthetic rows, and only them; returns the rows deleted per model.

    In plain SQL, dependants first: no signals, so no history row and no rescoring per deleted
    row (hundreds of thousands at the large preset); rows this module wrote in bulk without
    signals go the same way. Derived tables (precomputed scores) go with their compounds and
    goals through their foreign keys, so nothing is left pointing at a deleted row.
    """
    deleted: dict[str, int] = {}
    with transaction.atomic():
        # Studies first: their findings are the bulk of the data.
        for model in (Study, Vendor, Compound, Goal):
            _delete_quietly(synthetic_roots()[model], deleted)
    return {label: count for label, count in deleted.items() if count}


def _delete_quietly(queryset: models.QuerySet, deleted: dict[str, int], depth: int = 0) -> None:
    """Delete the rows and, first, every row that depends on them, like on_delete would."""
    if depth > 8:
        raise RuntimeError(f"Relations nest too deep under {queryset.model.__name__}")
    # The same relations Django's own Collector follows, hidden ones ("+") included.
    for relation in queryset.model._meta.get_fields(include_hidden=True):
        if not (
            relation.auto_created
            and not relation.concrete
            and (relation.one_to_many or relation.one_to_one)
        ):
            continue
        on_delete = relation.on_delete
        if on_delete is models.DO_NOTHING:  # e.g. history rows: no constraint, kept as is
            continue
        name = relation.field.name
        dependants = relation.related_model._base_manager.filter(**{f"{name}__in": queryset})
        if on_delete is models.SET_NULL:
            dependants.update(**{name: None})
        elif on_delete in (models.CASCADE, models.PROTECT, models.RESTRICT):
            # PROTECT too: a row protecting a synthetic row is part of the synthetic data.
            _delete_quietly(dependants, deleted, depth + 1)
        else:
            raise NotImplementedError(f"{relation}: on_delete {on_delete.__name__}")
    label = queryset.model._meta.label
    deleted[label] = deleted.get(label, 0) + queryset._raw_delete(queryset.db)


def analyze(progress: Progress = no_progress) -> None:
    """Refresh PostgreSQL's planner statistics after a bulk load (a no-op elsewhere).

    Outside a transaction it is VACUUM ANALYZE, which also sets the visibility map (as a
    long-lived database has it) so autovacuum does not start on the new rows during a benchmark.
    """
    if connection.vendor != "postgresql":
        return
    vacuum = not connection.in_atomic_block
    task = progress("vacuum analyze" if vacuum else "analyze", 1)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE" if vacuum else "ANALYZE")
    task.advance(1)
    task.close()


def generate(
    sizes: Sizes,
    seed: int = DEFAULT_SEED,
    progress: Progress = no_progress,
    batch_size: int = DEFAULT_BATCH_SIZE,
    analyze_after: bool = True,
) -> Report:
    """Generate one synthetic knowledge base; refuses if synthetic rows already exist.

    Rows are written in bulk, without signals: derived data (precomputed scores) must be
    rebuilt afterwards with `rescore()`, as `main()` does.
    """
    sizes.check()
    started = time.monotonic()
    writer = _Writer(batch_size)
    with transaction.atomic():
        if synthetic_data_exists():
            raise ValueError("Synthetic data already exists; delete it first.")
        plan = _Plan(tier_ids={t.number: t.pk for t in Tier.objects.all()})
        missing = set(TIER_WEIGHTS) - plan.tier_ids.keys()
        if missing:
            raise ValueError(f"The tier ladder lacks tiers {sorted(missing)}; run migrate.")
        _goals(plan, sizes, seed, writer, progress)
        _compounds(plan, sizes, seed, writer, progress)
        _ratings(plan, sizes, seed, writer, progress)
        _compound_details(plan, sizes, seed, writer, progress)
        _offers(plan, sizes, seed, writer, progress)
        _studies(plan, sizes, seed, writer, progress)
        _findings(plan, sizes, seed, writer, progress)
    if analyze_after:
        analyze(progress)
    return Report(sizes=sizes, seed=seed, counts=writer.counts, seconds=time.monotonic() - started)


def rescore(progress: Progress = no_progress) -> int:
    """Rebuild the precomputed scores the bulk load bypassed; returns the rows written."""
    bar: _Task | None = None
    done_before = 0

    def advance(done: int, total: int) -> None:
        nonlocal bar, done_before
        bar = bar or progress("scores", total)
        bar.advance(done - done_before)
        done_before = done

    rows = rescore_all(advance)
    if bar:
        bar.close()
    return rows


# --- the command line ----------------------------------------------------------------------

COUNTS = ("compounds", "goals", "studies", "findings", "offers")


def sizes_from(preset: str | None, **counts: int | None) -> Sizes:
    """The preset (small when None), with any explicit count overriding it.

    Without a preset, findings default to three per study and offers to three per compound.
    Raises ValueError for sizes that cannot be generated.
    """
    base = PRESETS[preset or "small"]
    chosen = {
        name: getattr(base, name) if counts.get(name) is None else counts[name] for name in COUNTS
    }
    if preset is None:
        if counts.get("findings") is None:
            chosen["findings"] = 3 * chosen["studies"]
        if counts.get("offers") is None:
            chosen["offers"] = 3 * chosen["compounds"]
    sizes = Sizes(**chosen)
    sizes.check()
    return sizes


def argument_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="bench/synthetic.py",
        description="Fill the database with reproducible synthetic data at catalogue scale, "
        "clearly marked as such (every name says Synthetic). Never touches other rows.",
    )
    parser.add_argument(
        "--preset",
        choices=sorted(PRESETS),
        help="small (100 compounds), medium (1,000) or large (10,000); default small",
    )
    for name in COUNTS:
        parser.add_argument(f"--{name}", type=int, help=f"number of {name}")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--batch-size", type=int, default=DEFAULT_BATCH_SIZE)
    parser.add_argument(
        "--replace", action="store_true", help="delete earlier synthetic rows first"
    )
    parser.add_argument("--delete", action="store_true", help="only delete the synthetic rows")
    parser.add_argument(
        "--no-rescore",
        action="store_true",
        help="skip rebuilding the precomputed scores (the bulk load bypasses the signals that "
        "keep them current, so rankings stay empty until `manage.py rescore` runs)",
    )
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    """The command line; exits with a message on refusals and bad sizes."""
    arguments = argument_parser()
    options = arguments.parse_args(argv)
    if not options.delete:
        try:
            sizes = sizes_from(options.preset, **{n: getattr(options, n) for n in COUNTS})
        except ValueError as exc:
            arguments.error(str(exc))
    if options.delete or options.replace:
        deleted = delete_synthetic()
        summary = ", ".join(f"{n:,} {label}" for label, n in deleted.items()) or "nothing"
        print(f"Deleted synthetic rows: {summary}.")
        if options.delete:
            return
    elif synthetic_data_exists():
        sys.exit(
            "Synthetic data already exists. Use --replace to regenerate it "
            "or --delete to remove it."
        )
    progress = ProgressBar(sys.stderr)
    try:
        report = generate(
            sizes,
            seed=options.seed,
            progress=progress,
            batch_size=options.batch_size,
            analyze_after=False,
        )
    except ValueError as exc:  # e.g. a database without the tier ladder
        sys.exit(str(exc))
    print(f"Generated synthetic data: {report.summary()}.")
    if not options.no_rescore:
        started = time.monotonic()
        rows = rescore(progress)
        print(f"Precomputed scores in {time.monotonic() - started:.1f} s ({rows:,} rows).")
    analyze(progress)


if __name__ == "__main__":
    main()
