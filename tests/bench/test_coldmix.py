"""The cold mix's URLs (bench/coldmix.py): reproducible, distinct, Zipf-like, every class, and
only what the app accepts; and the summary of a run's answers."""

from collections import Counter
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.http import QueryDict
from django.test import Client

from bench import coldmix, synthetic
from evidence import views as evidence_views
from evidence.models import Compound, Goal, Study
from stacks import api_lists, forms, ranking

TINY = synthetic.Sizes(compounds=40, goals=6, studies=120, findings=300, offers=40)


def catalogue(goals: int = 200, compounds: int = 2000) -> coldmix.Catalogue:
    """A catalogue without a database: Synthetic goals and compounds, every goal rated."""
    goal_slugs = tuple(f"synthetic-goal-{n:04d}" for n in range(1, goals + 1))
    compound_slugs = tuple(f"synthetic-compound-{n:05d}" for n in range(1, compounds + 1))
    return coldmix.Catalogue(
        goals=goal_slugs,
        goal_names=tuple(f"Synthetic goal {n:04d}" for n in range(1, goals + 1)),
        categories=("Synthetic category 01", "Synthetic category 02"),
        compounds=compound_slugs,
        compound_names=tuple(f"Synthetic compound {n:05d}" for n in range(1, compounds + 1)),
        aliases=tuple(f"Synthetic alias SC-{n:05d}-A" for n in range(1, compounds + 1, 3)),
        rated={g: compound_slugs[i : i + 40] for i, g in enumerate(goal_slugs)},
        tiers=(1, 2, 3, 4, 5),
        currencies=("EUR", "GBP", "USD"),
        studies=40_000,
    )


def test_the_same_seed_gives_the_same_urls_and_another_seed_others():
    first = coldmix.generate(catalogue(), seed=1, total=3000)
    again = coldmix.generate(catalogue(), seed=1, total=3000)
    other = coldmix.generate(catalogue(), seed=2, total=3000)
    assert first == again
    assert first != other
    assert coldmix.interleave(first, 1) == coldmix.interleave(again, 1)


def test_every_class_is_present_and_the_mix_holds_each_url_once():
    mix = coldmix.generate(catalogue(), seed=1, total=3000)
    assert set(mix) == set(coldmix.WEIGHTS)
    assert all(mix.values())
    mixed = coldmix.interleave(mix, seed=1)
    assert Counter(mixed) == Counter(url for urls in mix.values() for url in urls)
    # Interleaved, not one class after another: the first tenth already holds most classes.
    assert len({url.kind for url in mixed[: len(mixed) // 10]}) >= len(coldmix.WEIGHTS) - 1


def test_no_two_urls_share_what_the_cache_keys_on():
    mix = coldmix.generate(catalogue(), seed=1, total=6000)
    urls = [url for urls in mix.values() for url in urls]
    assert len({coldmix.cache_identity(url) for url in urls}) == len(urls)
    # Goals in another order, or the default currency spelled out, would share an entry.
    a = coldmix.Url("builder", "/?goals=a&goals=b&currency=USD")
    b = coldmix.Url("builder", "/?goals=b&goals=a")
    assert coldmix.cache_identity(a) == coldmix.cache_identity(b)
    assert coldmix.cache_identity(a) != coldmix.cache_identity(
        coldmix.Url("builder", a.path, htmx=True)
    )


def test_classes_share_the_total_by_weight_until_their_urls_run_out():
    mix = coldmix.generate(catalogue(), seed=1, total=3000)
    weight_sum = sum(coldmix.WEIGHTS.values())
    for kind in ("builder", "goal page", "ranking API", "stack API"):
        assert len(mix[kind]) == round(3000 * coldmix.WEIGHTS[kind] / weight_sum)
    # 2,000 compounds: 40 pages of the A-Z index, the goals' index and one page for each
    # category open in it, no more.
    cat = catalogue()
    az_pages = {"/compounds/"} | {f"/compounds/?page={page}" for page in range(2, 41)}
    assert {url.path for url in mix["A-Z index"]} <= az_pages
    every_page = coldmix.generate(cat, seed=1, total=10_000)["A-Z index"]
    assert {url.path for url in every_page} == az_pages
    assert len(mix["goals index"]) <= 1 + len(cat.categories)
    assert {"/goals/", f"/goals/?category={cat.categories[0]}"} <= {
        url.path.replace("+", " ") for url in mix["goals index"]
    }


def goals_of(url: coldmix.Url) -> list[str]:
    query = parse_qs(urlsplit(url.path).query)
    if url.kind in ("builder", "stack API"):
        return query["goals"]
    return [urlsplit(url.path).path.split("/")[2]]


def test_goal_popularity_is_zipf_like_and_requests_name_one_to_five_goals():
    cat = catalogue()
    mix = coldmix.generate(cat, seed=1, total=8000)
    counts: Counter = Counter()
    per_request = Counter()
    for kind in ("builder", "stack API"):
        for url in mix[kind]:
            goals = goals_of(url)
            per_request[len(goals)] += 1
            assert len(set(goals)) == len(goals)
            counts.update(goals)
    rank = {slug: n for n, slug in enumerate(cat.goals)}
    by_rank = [counts[slug] for slug in sorted(counts, key=rank.get)]
    assert set(per_request) == {1, 2, 3, 4, 5}
    assert per_request[1] > per_request[3] > per_request[5]
    # Popular goals far more often than the tail, falling with rank.
    top, middle, tail = sum(by_rank[:10]), sum(by_rank[90:100]), sum(by_rank[190:200])
    assert top > 4 * middle > 0
    assert middle > tail
    assert counts[cat.goals[0]] > counts[cat.goals[9]] > counts[cat.goals[99]]


def test_the_values_drawn_are_the_ones_the_forms_and_the_api_accept():
    assert tuple(str(v) for v, _ in forms.VISITOR_CONDITIONS) == coldmix.VISITOR_CONDITIONS
    assert tuple(Compound.Kind.values) == coldmix.KINDS
    assert tuple(Study.Design.values) == coldmix.DESIGNS
    assert coldmix.DEFAULT_LIMIT == ranking.DEFAULT_LIMIT
    assert coldmix.MAX_LIMIT == ranking.MAX_LIMIT
    assert all(1 <= limit <= ranking.MAX_LIMIT for limit in coldmix.LIMITS)
    assert all(0 <= int(budget) <= ranking.MAX_BUDGET for budget in coldmix.BUDGETS)
    assert coldmix.COMPOUNDS_PER_INDEX_PAGE == evidence_views.COMPOUNDS_PER_PAGE
    assert coldmix.LIST_PAGE_SIZE == api_lists.DEFAULT_PAGE_SIZE
    assert all(int(size) <= api_lists.MAX_PAGE_SIZE for size in coldmix.STUDY_PAGE_SIZES)


@pytest.mark.django_db
def test_every_url_drawn_from_a_synthetic_database_is_valid_and_answers_200():
    synthetic.generate(TINY, seed=3)
    synthetic.rescore()
    with connection.cursor() as cursor:
        cat = coldmix.read_catalogue(cursor)
    assert cat.goals and cat.compounds and cat.rated and cat.tiers
    mix = coldmix.generate(cat, seed=1, total=600)
    assert all(mix.values()), {kind: len(urls) for kind, urls in mix.items()}

    goals = list(Goal.objects.order_by("category", "name"))
    for url in mix["builder"]:
        form = forms.BuilderForm(QueryDict(urlsplit(url.path).query), goals=goals)
        assert form.is_valid(), (url.path, form.errors)
    for url in mix["goal page"]:
        form = forms.ConstraintsForm(QueryDict(urlsplit(url.path).query))
        assert form.is_valid(), (url.path, form.errors)

    client = Client()
    for kind, urls in mix.items():
        for url in urls[:25]:
            headers = {"HX-Request": "true"} if url.htmx else {}
            response = client.get(url.path, headers=headers)
            assert response.status_code == 200, (kind, url.path, response.content[:300])


def answer(line: int, status: int = 200, cache: str = "miss", size: int = 100, ms: float = 1):
    return coldmix.Answer(line, status, cache, size, int(ms * 1000), sent_us=0)


def test_a_runs_answers_give_throughput_percentiles_statuses_hits_and_the_largest_page():
    urls = [coldmix.Url("goal page" if n % 2 else "builder", f"/u{n}") for n in range(100)]
    answers = [answer(n, ms=n + 1) for n in range(100)]
    answers[7] = answer(7, status=404, cache="none", ms=8)
    answers[8] = answer(8, cache="hit", size=5000, ms=9)

    summary = coldmix.summarise(answers, urls, seconds=4.0)

    assert summary["requests"] == 100
    assert summary["rps"] == 25.0
    assert summary["latency_ms"]["p50"] == 50
    assert summary["latency_ms"]["p99"] == 99
    assert summary["status"]["2xx"] == 99 and summary["status"]["4xx"] == 1
    assert summary["non2xx"] == 1
    assert summary["cache"] == {"hit": 1, "miss": 98, "none": 1}
    assert summary["hit_share"] == 0.01
    assert summary["largest"] == {"bytes": 5000, "path": "/u8", "htmx": False}
    by_class = coldmix.summarise_by_class(answers, urls, seconds=4.0)
    assert by_class["builder"]["requests"] == by_class["goal page"]["requests"] == 50


def test_url_files_round_trip_with_the_htmx_flag(tmp_path):
    urls = [coldmix.Url("builder", "/?goals=a", htmx=True), coldmix.Url("builder", "/goals/")]
    path = tmp_path / "urls.txt"
    coldmix.write_urls(urls, path)
    assert path.read_text() == "/?goals=a\thx\n/goals/\n"
    assert coldmix.read_urls(path, "builder") == urls
