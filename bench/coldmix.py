"""The cold mix's URLs: distinct, realistic requests drawn reproducibly from a bench database.

`make bench` (bench/run.py) repeats one URL per endpoint, so it measures the cache. Real
traffic asks for many different things: goals with Zipf-like popularity, one to five of them
at a time, filters mixed in, every kind of page and the API. This module draws such URLs
(each distinct in what the cache keys on: the path, the htmx header and the parameters as a
set) for bench/run.py's cold mix, from a `Catalogue` read out of the database.

Nothing here needs Django: the catalogue is read with plain SQL through any DB-API cursor
(psycopg's, or Django's in the tests), and the parameter values the forms accept are stated
here once more (tests/bench/test_coldmix.py keeps them equal to stacks.forms and the API).
"""

import random
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from pathlib import Path
from urllib.parse import urlencode

# The classes of the cold mix and their share of real traffic (the mixed run interleaves them
# so; each also gets a run of its own). The A-Z index and the goals' index are two classes:
# one page of the A-Z costs the same at any size, the goals' index far less, and at small the
# catalogue has two A-Z pages against twenty at large for every goals' page, so one class
# holding both compared different pages at the two presets.
WEIGHTS = {
    "builder": 20,
    "goal page": 18,
    "evidence page": 18,
    "compound page": 14,
    "search": 8,
    "A-Z index": 1,
    "goals index": 1,
    "ranking API": 8,
    "stack API": 6,
    "lists API": 6,
}
HTML_CLASSES = (
    "builder",
    "goal page",
    "evidence page",
    "compound page",
    "search",
    "A-Z index",
    "goals index",
)

# Goal popularity: the goal of popularity rank r (1 = most rated compounds) is picked with
# weight 1 / r**GOAL_ZIPF; compounds likewise by their number of ratings.
GOAL_ZIPF = 1.0
COMPOUND_ZIPF = 0.8
# How many goals a builder or stack request names, and how often.
GOALS_PER_REQUEST = {1: 35, 2: 25, 3: 20, 4: 12, 5: 8}
# The share of builder requests sent by htmx (the results fragment).
HTMX_SHARE = 0.25

# The values the forms and the API accept (stacks.forms, stacks.api; the tests compare).
VISITOR_CONDITIONS = (
    "pregnancy",
    "breastfeeding",
    "autoimmune_disease",
    "immunosuppressive_therapy",
)
KINDS = (
    "peptide",
    "supplement",
    "nutrient",
    "herbal",
    "drug",
    "hormone",
    "other",
    "not_stated",
)
DESIGNS = (
    "meta_analysis",
    "rct",
    "non_randomised",
    "cohort",
    "case_control",
    "case_series",
    "animal",
    "in_vitro",
    "not_reported",
)
DEFAULT_LIMIT = 20
MAX_LIMIT = 200
# "Show more" adds DEFAULT_LIMIT a time (ConstraintsForm.more_query).
LIMITS = tuple(range(2 * DEFAULT_LIMIT, MAX_LIMIT + 1, DEFAULT_LIMIT))
BUDGETS = ("15", "25", "40", "60", "100", "150", "250", "500")
DEFAULT_CURRENCY = "USD"
COMPOUNDS_PER_INDEX_PAGE = 50  # evidence.views.COMPOUNDS_PER_PAGE
LIST_PAGE_SIZE = 50  # stacks.api_lists.DEFAULT_PAGE_SIZE
STUDY_PAGE_SIZES = ("10", "20", "100")


@dataclass(frozen=True)
class Catalogue:
    """What the URLs are drawn from, each list in a stable order."""

    goals: tuple[str, ...]  # slugs, most rated compounds first
    goal_names: tuple[str, ...]  # in the same order
    categories: tuple[str, ...]
    compounds: tuple[str, ...]  # published slugs, most ratings first
    compound_names: tuple[str, ...]  # in the same order
    aliases: tuple[str, ...]  # of published compounds
    rated: dict[str, tuple[str, ...]]  # goal slug -> published compounds rated for it
    tiers: tuple[int, ...]  # the tiers min_tier may name (not "no effect")
    currencies: tuple[str, ...]  # of offers
    studies: int  # how many studies have a finding of a published compound


def read_catalogue(cursor) -> Catalogue:
    """The catalogue of a database, through a DB-API cursor (psycopg's or Django's): plain SQL
    both PostgreSQL and SQLite run."""

    def rows(query: str) -> list[tuple]:
        cursor.execute(query)
        return list(cursor.fetchall())

    goals = rows(
        """
        SELECT g.slug, g.name, g.category, count(c.id) AS rated
        FROM evidence_goal g
        LEFT JOIN evidence_rating r ON r.goal_id = g.id
        LEFT JOIN evidence_compound c ON c.id = r.compound_id AND c.published
        GROUP BY g.id, g.slug, g.name, g.category
        ORDER BY rated DESC, g.slug
        """
    )
    compounds = rows(
        """
        SELECT c.slug, c.name, count(r.id) AS ratings
        FROM evidence_compound c
        LEFT JOIN evidence_rating r ON r.compound_id = c.id
        WHERE c.published
        GROUP BY c.id, c.slug, c.name
        ORDER BY ratings DESC, c.slug
        """
    )
    pairs = rows(
        """
        SELECT g.slug, c.slug
        FROM evidence_rating r
        JOIN evidence_goal g ON g.id = r.goal_id
        JOIN evidence_compound c ON c.id = r.compound_id AND c.published
        ORDER BY g.slug, c.slug
        """
    )
    rated: dict[str, list[str]] = {}
    for goal, compound in pairs:
        rated.setdefault(goal, []).append(compound)
    aliases = rows(
        """
        SELECT a.name FROM evidence_compoundalias a
        JOIN evidence_compound c ON c.id = a.compound_id AND c.published
        ORDER BY a.name
        """
    )
    tiers = rows("SELECT number FROM evidence_tier WHERE NOT means_no_effect ORDER BY number")
    currencies = rows("SELECT DISTINCT currency FROM evidence_offer ORDER BY currency")
    studies = rows(
        """
        SELECT count(*) FROM evidence_study s WHERE EXISTS (
            SELECT 1 FROM evidence_finding f
            JOIN evidence_compound c ON c.id = f.compound_id AND c.published
            WHERE f.study_id = s.id
        )
        """
    )[0][0]
    return Catalogue(
        goals=tuple(row[0] for row in goals),
        goal_names=tuple(row[1] for row in goals),
        categories=tuple(sorted({row[2] for row in goals if row[2].strip()})),
        compounds=tuple(row[0] for row in compounds),
        compound_names=tuple(row[1] for row in compounds),
        aliases=tuple(row[0] for row in aliases),
        rated={goal: tuple(slugs) for goal, slugs in rated.items()},
        tiers=tuple(row[0] for row in tiers),
        currencies=tuple(row[0] for row in currencies) or (DEFAULT_CURRENCY,),
        studies=studies,
    )


@dataclass(frozen=True)
class Url:
    kind: str  # the class, a key of WEIGHTS
    path: str  # with its query string
    htmx: bool = False  # sent with HX-Request: true

    def line(self) -> str:
        """The URL file's line (bench/wrk_urls.lua reads it): the path, a tab and "hx" for
        an htmx request."""
        return f"{self.path}\thx" if self.htmx else self.path


class Zipf:
    """Ranks 0..n-1, rank r drawn with weight 1 / (r + 1)**exponent."""

    def __init__(self, n: int, exponent: float):
        self.cumulative = list(accumulate(1 / (r + 1) ** exponent for r in range(n)))

    def draw(self, rng: random.Random) -> int:
        return bisect_left(self.cumulative, rng.random() * self.cumulative[-1])

    def distinct(self, rng: random.Random, count: int) -> list[int]:
        """`count` different ranks (as many as there are, if fewer), in the order drawn."""
        count = min(count, len(self.cumulative))
        chosen: list[int] = []
        while len(chosen) < count:
            rank = self.draw(rng)
            if rank not in chosen:
                chosen.append(rank)
        return chosen


Params = list[tuple[str, str]]


class Drawer:
    """Draws candidate URLs of each class; `generate` keeps the distinct ones."""

    def __init__(self, catalogue: Catalogue):
        if not catalogue.goals or not catalogue.compounds:
            raise ValueError("the database has no goals or no published compounds")
        self.cat = catalogue
        self.goal_rank = Zipf(len(catalogue.goals), GOAL_ZIPF)
        self.compound_rank = Zipf(len(catalogue.compounds), COMPOUND_ZIPF)
        self.rated_goals = [g for g in catalogue.goals if catalogue.rated.get(g)]
        self.rated_goal_rank = Zipf(len(self.rated_goals), GOAL_ZIPF)

    def goals(self, rng: random.Random) -> list[str]:
        count = rng.choices(list(GOALS_PER_REQUEST), weights=list(GOALS_PER_REQUEST.values()))[0]
        return [self.cat.goals[rank] for rank in self.goal_rank.distinct(rng, count)]

    def filters(self, rng: random.Random, api: bool) -> Params:
        """Constraints as a visitor sets them: mostly none, sometimes a few. A form's checkbox
        sends "on"; the API's booleans read "true"."""
        yes = "true" if api else "on"
        params: Params = []
        if rng.random() < 0.15:
            for condition in rng.sample(VISITOR_CONDITIONS, rng.choice((1, 1, 2))):
                params.append(("condition", condition))
        if rng.random() < 0.15:
            params.append(("no_injections", yes))
        if rng.random() < 0.10:
            for kind in rng.sample(KINDS, rng.choice((1, 1, 2))):
                params.append(("exclude_kind", kind))
        if rng.random() < 0.20 and self.cat.tiers:
            params.append(("min_tier", str(rng.choice(self.cat.tiers))))
        if rng.random() < 0.15:
            params.append(("in_stock", yes))
        if rng.random() < 0.10:
            params.append(("budget", rng.choice(BUDGETS)))
            currency = rng.choice(self.cat.currencies)
            if currency != DEFAULT_CURRENCY or rng.random() < 0.5:
                params.append(("currency", currency))
        if rng.random() < 0.10:
            params.append(("limit", str(rng.choice(LIMITS))))
        return params

    def builder(self, rng: random.Random) -> Url:
        params = [("goals", g) for g in self.goals(rng)] + self.filters(rng, api=False)
        return Url("builder", "/?" + urlencode(params), htmx=rng.random() < HTMX_SHARE)

    def goal_page(self, rng: random.Random) -> Url:
        goal = self.cat.goals[self.goal_rank.draw(rng)]
        params = self.filters(rng, api=False) if rng.random() < 0.6 else []
        return Url("goal page", with_query(f"/goals/{goal}/", params))

    def evidence_page(self, rng: random.Random) -> Url:
        goal = self.rated_goals[self.rated_goal_rank.draw(rng)]
        compound = rng.choice(self.cat.rated[goal])
        params = [("studies", "all")] if rng.random() < 0.1 else []
        return Url("evidence page", with_query(f"/compounds/{compound}/evidence/{goal}/", params))

    def compound_page(self, rng: random.Random) -> Url:
        compound = self.cat.compounds[self.compound_rank.draw(rng)]
        return Url("compound page", f"/compounds/{compound}/")

    def search(self, rng: random.Random) -> Url:
        """What visitors type: part of a compound's name (its number's first digits), a whole
        name, an alias or part of one, a goal's name; any case."""
        name = self.cat.compound_names[self.compound_rank.draw(rng)]
        choice = rng.random()
        if choice < 0.35:
            term = name[: len(name) - rng.choice((1, 2, 3))]  # "Synthetic compound 042"
        elif choice < 0.55:
            term = name
        elif choice < 0.75 and self.cat.aliases:
            alias = rng.choice(self.cat.aliases)
            term = alias if rng.random() < 0.5 else alias.split()[-1]  # "SC-00421-A"
        elif choice < 0.9:
            term = self.cat.goal_names[self.goal_rank.draw(rng)]
        else:
            term = " ".join(name.split()[1:])  # "compound 04210"
        if rng.random() < 0.3:
            term = term.lower()
        return Url("search", "/compounds/?" + urlencode({"q": term}))

    def az_index(self, rng: random.Random) -> Url:
        """A page of the A-Z index of compounds."""
        pages = max(1, -(-len(self.cat.compounds) // COMPOUNDS_PER_INDEX_PAGE))
        pick = rng.randrange(1, pages + 1)
        return Url("A-Z index", "/compounds/" + (f"?page={pick}" if pick > 1 else ""))

    def goals_index(self, rng: random.Random) -> Url:
        """The goals' index, or the goals' index with a category open (as a visitor without
        JavaScript asks for it)."""
        categories = self.cat.categories
        pick = rng.randrange(1 + len(categories))
        if pick == 0:
            return Url("goals index", "/goals/")
        return Url("goals index", with_query("/goals/", [("category", categories[pick - 1])]))

    def ranking_api(self, rng: random.Random) -> Url:
        goal = self.cat.goals[self.goal_rank.draw(rng)]
        params = self.filters(rng, api=True) if rng.random() < 0.6 else []
        return Url("ranking API", with_query(f"/api/goals/{goal}/ranking/", params))

    def stack_api(self, rng: random.Random) -> Url:
        params = [("goals", g) for g in self.goals(rng)] + self.filters(rng, api=True)
        if rng.random() < 0.1:
            params.append(("size", str(rng.choice((3, 8, 10)))))
        return Url("stack API", "/api/stack/?" + urlencode(params))

    def lists_api(self, rng: random.Random) -> Url:
        """The paginated lists: compounds, goals, studies; whole pages or page 1 filtered."""
        cat = self.cat
        choice = rng.random()
        if choice < 0.3:
            params: Params = []
            if rng.random() < 0.5:
                params.append(("goal", cat.goals[self.goal_rank.draw(rng)]))
            elif rng.random() < 0.5:
                params.append(("kind", rng.choice(KINDS)))
            else:
                pages = max(1, len(cat.compounds) // LIST_PAGE_SIZE)
                params.append(("page", str(rng.randrange(1, pages + 1))))
            return Url("lists API", with_query("/api/compounds/", params))
        if choice < 0.45:
            if cat.categories and rng.random() < 0.6:
                params = [("category", rng.choice(cat.categories))]
            else:
                pages = max(1, len(cat.goals) // LIST_PAGE_SIZE)
                params = [("page", str(rng.randrange(1, pages + 1)))]
            return Url("lists API", with_query("/api/goals/", params))
        params = [("page_size", rng.choice(STUDY_PAGE_SIZES))]
        pick = rng.random()
        if pick < 0.4:
            params.append(("goal", cat.goals[self.goal_rank.draw(rng)]))
        elif pick < 0.7:
            params.append(("compound", cat.compounds[self.compound_rank.draw(rng)]))
        elif pick < 0.85:
            params.append(("design", rng.choice(DESIGNS)))
        else:
            pages = max(1, cat.studies // 100)  # whole pages at any of STUDY_PAGE_SIZES
            params.append(("page", str(rng.randrange(1, pages + 1))))
        return Url("lists API", with_query("/api/studies/", params))

    def by_class(self) -> dict[str, Callable[[random.Random], Url]]:
        return {
            "builder": self.builder,
            "goal page": self.goal_page,
            "evidence page": self.evidence_page,
            "compound page": self.compound_page,
            "search": self.search,
            "A-Z index": self.az_index,
            "goals index": self.goals_index,
            "ranking API": self.ranking_api,
            "stack API": self.stack_api,
            "lists API": self.lists_api,
        }


def with_query(path: str, params: Params) -> str:
    return f"{path}?{urlencode(params)}" if params else path


def cache_identity(url: Url) -> tuple:
    """What the app's cache keys on, coarsely: the path, htmx or not, and the parameters as a
    set (a list's order and a default currency left out). Two URLs with the same identity
    would share a cache entry, so the mix keeps only one."""
    path, _, query = url.path.partition("?")
    pairs = set()
    for part in query.split("&") if query else ():
        name, _, value = part.partition("=")
        if (name, value) != ("currency", DEFAULT_CURRENCY):
            pairs.add((name, value))
    return (path, url.htmx, frozenset(pairs))


def generate(catalogue: Catalogue, seed: int, total: int) -> dict[str, list[Url]]:
    """About `total` distinct URLs, shared out by WEIGHTS; fewer for a class whose distinct
    URLs run out (a small catalogue). The same catalogue, seed and total give the same URLs
    in the same order."""
    drawer = Drawer(catalogue)
    weight_sum = sum(WEIGHTS.values())
    mix: dict[str, list[Url]] = {}
    for kind, draw in drawer.by_class().items():
        rng = random.Random(f"{seed}:{kind}")  # a class's URLs do not depend on the others'
        wanted = max(1, round(total * WEIGHTS[kind] / weight_sum))
        seen: set[tuple] = set()
        urls: list[Url] = []
        misses = 0
        # Stop after many draws in a row that gave nothing new: the class is exhausted.
        while len(urls) < wanted and misses < 200 + wanted // 10:
            url = draw(rng)
            identity = cache_identity(url)
            if identity in seen:
                misses += 1
                continue
            misses = 0
            seen.add(identity)
            urls.append(url)
        mix[kind] = urls
    return mix


def interleave(mix: dict[str, list[Url]], seed: int) -> list[Url]:
    """Every URL of the mix once, the classes interleaved by WEIGHTS (each class's URLs in
    their own order): the mixed run's list."""
    rng = random.Random(f"{seed}:interleave")
    queues = {kind: list(reversed(urls)) for kind, urls in mix.items() if urls}
    out: list[Url] = []
    while queues:
        kinds = list(queues)
        kind = rng.choices(kinds, weights=[WEIGHTS[k] for k in kinds])[0]
        out.append(queues[kind].pop())
        if not queues[kind]:
            del queues[kind]
    return out


def write_urls(urls: Iterable[Url], path: Path) -> int:
    lines = [url.line() for url in urls]
    path.write_text("".join(f"{line}\n" for line in lines), encoding="utf-8")
    return len(lines)


def read_urls(path: Path, kind: str = "") -> list[Url]:
    urls = []
    for line in path.read_text(encoding="utf-8").splitlines():
        target, _, flag = line.partition("\t")
        urls.append(Url(kind, target, htmx=flag == "hx"))
    return urls


@dataclass(frozen=True)
class Answer:
    """One answer of a cold run, as bench/wrk_urls.lua writes it."""

    line: int  # the URL's line in the URL file, from 0
    status: int
    cache: str  # X-Cache: "hit", "miss", or "none" when the view sends none
    bytes: int  # of the body
    latency_us: int
    sent_us: int  # when it was sent (CLOCK_MONOTONIC, microseconds)


def read_answers(path: Path) -> list[Answer]:
    answers = []
    for row in path.read_text(encoding="utf-8").splitlines():
        line, status, cache, size, latency, sent = row.split("\t")
        answers.append(Answer(int(line), int(status), cache, int(size), int(latency), int(sent)))
    return answers


def percentile(ordered: Sequence[float], share: float) -> float:
    """The nearest-rank percentile of values already sorted (`share` in 0..100)."""
    rank = max(1, -(-len(ordered) * share // 100))
    return ordered[int(rank) - 1]


def summarise(answers: Sequence[Answer], urls: Sequence[Url], seconds: float) -> dict:
    """Throughput over `seconds`, latency percentiles (ms), statuses, X-Cache, body sizes."""
    count = len(answers)
    latencies = sorted(a.latency_us / 1000 for a in answers)
    status = dict.fromkeys(("2xx", "3xx", "4xx", "5xx", "other"), 0)
    for answer in answers:
        klass = f"{answer.status // 100}xx"
        status[klass if klass in status and klass != "other" else "other"] += 1
    cache = dict.fromkeys(("hit", "miss", "none"), 0)
    for answer in answers:
        cache[answer.cache if answer.cache in cache else "none"] += 1
    largest = max(answers, key=lambda a: a.bytes, default=None)
    return {
        "requests": count,
        "seconds": round(seconds, 3),
        "rps": round(count / seconds, 2) if seconds else 0.0,
        "bytes_per_request": round(sum(a.bytes for a in answers) / count) if count else None,
        "largest": {
            "bytes": largest.bytes,
            "path": urls[largest.line].path,
            "htmx": urls[largest.line].htmx,
        }
        if largest
        else None,
        "latency_ms": {
            "min": round(latencies[0], 2),
            "mean": round(sum(latencies) / count, 2),
            "max": round(latencies[-1], 2),
            **{f"p{p}": round(percentile(latencies, p), 2) for p in (50, 90, 95, 99)},
        }
        if count
        else {},
        "status": status,
        "non2xx": count - status["2xx"],
        "cache": cache,
        "hit_share": round(cache["hit"] / count, 4) if count else None,
    }


def summarise_by_class(answers: Sequence[Answer], urls: Sequence[Url], seconds: float) -> dict:
    """`summarise` for each class of a mixed run (req/s: the class's share of the run's)."""
    by_kind: dict[str, list[Answer]] = {}
    for answer in answers:
        by_kind.setdefault(urls[answer.line].kind, []).append(answer)
    return {
        kind: {k: v for k, v in summarise(group, urls, seconds).items() if k != "largest"}
        for kind, group in by_kind.items()
    }
