"""Pages cached until the content changes (evidence.cache): one query, nothing of one visitor,
validators any HTTP cache can use."""

from datetime import timedelta

import pytest
from django.core.cache import cache, caches
from django.urls import reverse
from django.utils import timezone

from evidence import cache as page_cache
from evidence.cache import content_version
from stacks.ranking import DEFAULT_LIMIT
from tests.factories import (
    make_article,
    make_compound,
    make_goal,
    make_offer,
    make_rated_compound,
    make_rating,
    make_vendor,
)
from tests.factories.admin import admin_url, assert_saved, form_data
from tests.factories.pages import build_evidence
from tests.factories.personas import logged_in, vendor_account, vendor_manager

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("size", [1, 10])
def test_a_cached_page_costs_one_query(client, django_assert_max_num_queries, size):
    compound, goal = build_evidence(size)
    url = reverse("evidence_detail", args=[compound.slug, goal.slug])
    first = client.get(url)
    with django_assert_max_num_queries(1):
        again = client.get(url)
    assert again.content == first.content


def public_pages() -> list[str]:
    compound, goal = build_evidence(1)
    return [
        "/",
        f"/?goals={goal.slug}",
        f"/goals/{goal.slug}/",
        f"/compounds/{compound.slug}/",
        reverse("evidence_detail", args=[compound.slug, goal.slug]),
        "/compounds/",
    ]


def test_a_public_page_carries_nothing_of_its_visitor(client):
    for url in public_pages():
        response = client.get(url)
        assert response.status_code == 200, url
        assert b"csrfmiddlewaretoken" not in response.content, url
        assert b"csrftoken" not in response.content, url
        assert not response.cookies, f"{url} sets {list(response.cookies)}"
        assert "Cookie" not in response.get("Vary", ""), url
        assert response["Cache-Control"] == f"public, max-age={page_cache.PUBLIC_MAX_AGE}", url


def test_a_page_names_its_validators_and_answers_304_while_they_hold(client):
    compound, goal = build_evidence(1)
    url = reverse("evidence_detail", args=[compound.slug, goal.slug])
    first = client.get(url)
    etag, modified = first["ETag"], first["Last-Modified"]
    again = client.get(url, headers={"If-None-Match": etag})
    assert again.status_code == 304 and again.content == b""
    assert again["ETag"] == etag and "HX-Request" in again["Vary"]
    assert client.get(url, headers={"If-Modified-Since": modified}).status_code == 304

    make_compound("Synthetic edit")  # an edit retires the cached page and its validators
    after = client.get(url, headers={"If-None-Match": etag})
    assert after.status_code == 200 and after["ETag"] != etag


def test_a_page_and_its_htmx_fragment_have_different_validators(client):
    goal = make_goal()
    make_rated_compound(goal)
    page = client.get(f"/?goals={goal.slug}")
    fragment = client.get(f"/?goals={goal.slug}", headers={"HX-Request": "true"})
    assert page["ETag"] != fragment["ETag"]
    refused = client.get(
        f"/?goals={goal.slug}", headers={"HX-Request": "true", "If-None-Match": page["ETag"]}
    )
    assert refused.status_code == 200


def test_an_error_page_from_a_cached_view_keeps_no_validators(client):
    response = client.get(reverse("compound_detail", args=["no-such-compound"]))
    assert response.status_code == 404
    assert not response.has_header("ETag") and not response.has_header("Last-Modified")
    bad = client.get("/?budget=-1")
    assert bad.status_code == 400 and not bad.has_header("ETag")


# A bounded cache: keys from each view's known parameters, normalised; a size cap per entry


@pytest.fixture
def local_cache(settings):
    """The default local-memory cache, whatever the environment says, to count its entries."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.locmem.LocMemCache",
            "LOCATION": "test-cache-bounds",
        }
    }
    local = caches["default"]
    local.clear()
    yield local
    local.clear()


def stored(local) -> dict:
    """The stored pages and answers (not the values derived once per content version)."""
    return {key: value for key, value in local._cache.items() if ":derived:" not in key}


def entries(local) -> int:
    return len(stored(local))


def stored_bytes(local) -> int:
    return sum(len(value) for value in stored(local).values())


@pytest.fixture
def site():
    """A goal with two rated compounds (one with an offer): every public page has content."""
    goal, other_goal = make_goal(), make_goal()
    compound = make_rated_compound(goal, tier_number=2, findings=2)
    make_rated_compound(goal, tier_number=3)
    make_rating(compound, other_goal)
    make_offer(compound)
    make_article(compound, goal, slug="synthetic-cached-deep-dive")
    return goal, other_goal, compound


def cached_urls(site) -> list[str]:
    goal, other_goal, compound = site
    return [
        f"/?goals={goal.slug}&goals={other_goal.slug}&limit=200",
        f"/goals/{goal.slug}/?condition=pregnancy",
        f"/compounds/?q={compound.name[:6]}",
        f"/compounds/{compound.slug}/",
        f"/compounds/{compound.slug}/evidence/{goal.slug}/",
        "/vendors/",
        "/methodology/",
        "/goals/",
        f"/research/?goal={goal.slug}",
        "/research/synthetic-cached-deep-dive/",
        "/sitemap.xml",
        f"/api/goals/{goal.slug}/ranking/?limit=200",
        f"/api/stack/?goals={goal.slug}&goals={other_goal.slug}",
        f"/api/compounds/{compound.slug}/",
    ]


def test_junk_parameters_add_no_cache_entries(client, local_cache, site):
    for url in cached_urls(site):
        separator = "&" if "?" in url else "?"
        assert client.get(url).status_code == 200
        before = (entries(local_cache), stored_bytes(local_cache))

        for n in range(200):
            junk = f"{url}{separator}utm_source={n}&fbclid=x{n}"
            assert client.get(junk).status_code == 200, junk

        assert (entries(local_cache), stored_bytes(local_cache)) == before, url


def test_the_same_choices_in_any_order_or_repeated_or_with_defaults_share_one_entry(
    client, local_cache, site
):
    goal, other_goal, _ = site
    spellings = [
        f"/?goals={goal.slug}&goals={other_goal.slug}&condition=pregnancy",
        f"/?condition=pregnancy&goals={other_goal.slug}&goals={goal.slug}",
        f"/?goals={goal.slug}&goals={other_goal.slug}&goals={goal.slug}&condition=pregnancy",
        f"/?goals={goal.slug}&goals={other_goal.slug}&condition=pregnancy&currency=USD&limit={DEFAULT_LIMIT}",
        f"/?goals={goal.slug}&goals={other_goal.slug}&condition=pregnancy&budget=&min_tier=",
    ]
    pages = [client.get(url) for url in spellings]

    assert [page.status_code for page in pages] == [200] * len(spellings)
    assert entries(local_cache) == 1


def test_a_visitor_arriving_with_campaign_parameters_sees_the_same_page(client, site):
    goal, other_goal, compound = site
    for url in (
        f"/?goals={goal.slug}&goals={other_goal.slug}",
        f"/goals/{goal.slug}/",
        f"/compounds/{compound.slug}/",
        f"/api/stack/?goals={goal.slug}",
    ):
        separator = "&" if "?" in url else "?"
        plain = client.get(url).content
        cache.clear()
        arriving = client.get(f"{url}{separator}utm_source=newsletter&utm_medium=email")
        assert arriving.status_code == 200
        assert arriving.content == plain, url


def test_a_page_above_the_size_cap_is_served_but_not_stored(client, local_cache, site, monkeypatch):
    goal, *_ = site
    url = f"/goals/{goal.slug}/"
    full_size = len(client.get(url).content)
    local_cache.clear()
    monkeypatch.setattr("evidence.cache.MAX_ENTRY_BYTES", full_size // 2, raising=False)

    pages = [client.get(url) for _ in range(3)]

    assert [len(page.content) for page in pages] == [full_size] * 3
    assert entries(local_cache) == 0


def test_a_derived_value_is_computed_once_per_content_version(local_cache):
    computed = []

    def currencies():
        computed.append(1)
        return ["EUR", "USD"]

    assert page_cache.until_content_changes("synthetic-list", currencies) == ["EUR", "USD"]
    assert page_cache.until_content_changes("synthetic-list", currencies) == ["EUR", "USD"]
    assert len(computed) == 1
    make_goal()  # an edit: a new version, computed again
    page_cache.until_content_changes("synthetic-list", currencies)
    assert len(computed) == 2


def test_inside_a_cached_view_the_version_is_read_once(client, django_assert_num_queries):
    # The builder draws three derived lists (currencies, most researched goals, categories):
    # computed on a first visit, then read from the cache under the version the page's key
    # already read, with no further query for it.
    make_goal()
    client.get("/")
    with django_assert_num_queries(2):  # a page not cached yet: the version, the tier choices
        assert client.get("/?limit=40").status_code == 200


# X-Cache: whether a cached page or answer came from the cache (the benchmark counts them)


def test_a_cached_page_or_answer_says_miss_when_rendered_and_hit_when_served_from_the_cache(
    client, site
):
    for url in cached_urls(site):
        first, again = client.get(url), client.get(url)
        assert (first.status_code, again.status_code) == (200, 200), url
        assert (first["X-Cache"], again["X-Cache"]) == ("miss", "hit"), url


def test_a_page_above_the_size_cap_says_miss_every_time(client, site, monkeypatch):
    goal, *_ = site
    url = f"/goals/{goal.slug}/"
    monkeypatch.setattr("evidence.cache.MAX_ENTRY_BYTES", 10, raising=False)
    assert [client.get(url)["X-Cache"] for _ in range(2)] == ["miss", "miss"]


def test_every_request_says_miss_while_the_cache_fails(client, failing_cache, site):
    goal, *_ = site
    for url in (f"/goals/{goal.slug}/", f"/api/goals/{goal.slug}/ranking/"):
        assert [client.get(url)["X-Cache"] for _ in range(2)] == ["miss", "miss"], url


def test_pages_that_are_not_cached_send_no_x_cache(client, site):
    for url in ("/healthz", "/robots.txt", "/report/"):
        assert "X-Cache" not in client.get(url), url


# Every header a view branches on is in the key

HTMX = {"HX-Request": "true"}
HISTORY_RESTORE = {**HTMX, "HX-History-Restore-Request": "true"}


def is_full_page(response) -> bool:
    return b"<html" in response.content


@pytest.mark.parametrize("page", ["compound search", "builder", "goal page"])
def test_a_history_restore_gets_the_full_page_and_never_poisons_the_fragment(client, site, page):
    goal, other_goal, compound = site
    url = {
        "compound search": f"/compounds/?q={compound.name[:6]}",
        "builder": f"/?goals={goal.slug}&goals={other_goal.slug}",
        "goal page": f"/goals/{goal.slug}/?condition=pregnancy",
    }[page]

    restore = client.get(url, headers=HISTORY_RESTORE)
    swap = client.get(url, headers=HTMX)
    plain = client.get(url)
    restore_again = client.get(url, headers=HISTORY_RESTORE)

    assert [is_full_page(r) for r in (restore, swap, plain, restore_again)] == [
        True,
        False,
        True,
        True,
    ]
    for response in (restore, swap, plain):
        assert {"HX-Request", "HX-History-Restore-Request"} <= {
            header.strip() for header in response["Vary"].split(",")
        }


def test_the_api_shares_entries_across_spellings_but_keeps_the_order_of_the_stacks_goals(
    client, local_cache, site
):
    goal, other_goal, _ = site
    both = f"goals={goal.slug}&goals={other_goal.slug}"
    client.get(f"/api/stack/?{both}&condition=pregnancy&condition=breastfeeding")
    client.get(f"/api/stack/?{both}&condition=breastfeeding&condition=pregnancy&currency=USD")
    assert entries(local_cache) == 1

    reordered = client.get(f"/api/stack/?goals={other_goal.slug}&goals={goal.slug}")

    assert [g["slug"] for g in reordered.json()["goals"]] == [other_goal.slug, goal.slug]
    assert entries(local_cache) == 2


# A cache outage degrades to rendering every page, logged once


@pytest.fixture
def failing_cache(settings):
    """A Redis cache on a port nothing listens on: every call fails with connection refused."""
    settings.CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/1",
        }
    }


def test_pages_and_api_answers_are_rendered_while_the_cache_fails_and_it_is_logged_once(
    client, failing_cache, site, caplog
):
    urls = cached_urls(site)
    with caplog.at_level("WARNING", logger="evidence.cache"):
        for url in urls * 2:
            response = client.get(url)
            assert response.status_code == 200, url
            assert b"__csrf_token_placeholder__" not in response.content
    warnings = [r for r in caplog.records if r.name == "evidence.cache"]
    assert len(warnings) == 1
    assert "cache unavailable" in warnings[0].getMessage()


# A deploy retires every cached page: the release id is in the key


def edit_without_signals(compound, name: str) -> None:
    """Change the stored row behind the cache's back (no signal, no new content version)."""
    type(compound).objects.filter(pk=compound.pk).update(name=name)


def test_a_new_release_id_retires_the_pages_cached_before_it(client, settings, site):
    goal, _, compound = site
    url = f"/compounds/{compound.slug}/"
    settings.RELEASE_ID = "release-1"
    assert compound.name.encode() in client.get(url).content
    edit_without_signals(compound, "Renamed while cached")
    assert b"Renamed while cached" not in client.get(url).content  # served from the cache

    settings.RELEASE_ID = "release-2"
    assert b"Renamed while cached" in client.get(url).content


def test_without_a_release_id_the_static_files_manifest_names_the_release(settings, tmp_path):
    from evidence.cache import release_id

    settings.RELEASE_ID = None
    settings.STATIC_ROOT = tmp_path / "old"
    assert release_id() == "dev"  # no collectstatic yet: a development server

    ids = []
    for name, manifest in (("old", '{"paths": {"site.css": "site.1.css"}}'), ("new", "{}")):
        settings.STATIC_ROOT = tmp_path / name
        settings.STATIC_ROOT.mkdir(exist_ok=True)
        (settings.STATIC_ROOT / "staticfiles.json").write_text(manifest)
        ids.append(release_id())
    assert ids[0] != ids[1]
    assert "dev" not in ids


# How often one account's saves retire the cache (issue 13 finding 8)


def save_offer_price(client, offer, price: str) -> None:
    page = client.get(admin_url(type(offer), "change", offer.pk))
    assert_saved(client.post(page.request["PATH_INFO"], form_data(page, price=price)))


@pytest.fixture
def vendor_offer():
    vendor = make_vendor()
    return make_offer(make_compound(), vendor=vendor, price="40.00")


def test_a_vendor_account_saving_in_a_loop_retires_the_cache_once_per_interval(vendor_offer):
    client = logged_in(vendor_account(vendor_offer.vendor, "synthetic-looping-seller"))
    before = content_version()
    save_offer_price(client, vendor_offer, "41.00")
    first = content_version()
    assert first != before  # the first save shows at once
    for price in ("42.00", "43.00", "44.00", "45.00"):
        save_offer_price(client, vendor_offer, price)
        assert content_version() == first


def test_a_vendor_accounts_deferred_saves_show_when_the_interval_ends(vendor_offer, monkeypatch):
    client = logged_in(vendor_account(vendor_offer.vendor, "synthetic-looping-seller"))
    save_offer_price(client, vendor_offer, "41.00")
    save_offer_price(client, vendor_offer, "42.00")
    deferred = page_cache.content_state()
    later = timezone.now() + page_cache.RETIRE_INTERVAL + timedelta(seconds=1)
    monkeypatch.setattr(page_cache.timezone, "now", lambda: later)
    retired = page_cache.content_state()
    assert retired.version != deferred.version
    assert retired.changed_at >= int(later.timestamp())  # Last-Modified moves with it
    assert page_cache.content_state() == retired  # retired once


def test_staff_saves_retire_the_cache_at_once_every_time(vendor_offer):
    client = logged_in(vendor_manager())
    versions = [content_version()]
    for price in ("41.00", "42.00", "43.00"):
        save_offer_price(client, vendor_offer, price)
        versions.append(content_version())
    assert len(set(versions)) == 4


# Parts many pages share (one goal's ranking under some constraints): evidence.cache.shared_parts


def squares(computed: list):
    def compute(names):
        computed.append(sorted(names))
        return {name: int(name) ** 2 for name in names}

    return compute


def test_shared_parts_outside_a_cached_page_are_computed_and_never_stored(local_cache):
    computed = []
    assert page_cache.shared_parts("synthetic", ["2", "3"], squares(computed)) == {"2": 4, "3": 9}
    page_cache.shared_parts("synthetic", ["2", "3"], squares(computed))
    assert computed == [["2", "3"], ["2", "3"]]
    assert not local_cache._cache


def test_a_page_being_built_computes_only_the_parts_no_page_has_stored_in_its_version(
    local_cache, rf
):
    computed = []
    with page_cache._building(rf.get("/")):
        page_cache.shared_parts("synthetic", ["2", "3"], squares(computed))
    with page_cache._building(rf.get("/")):
        found = page_cache.shared_parts("synthetic", ["3", "4"], squares(computed))
    assert found == {"3": 9, "4": 16}
    assert computed == [["2", "3"], ["4"]]
    make_goal()  # an edit: a new version, every part computed again
    with page_cache._building(rf.get("/")):
        page_cache.shared_parts("synthetic", ["3"], squares(computed))
    assert computed[-1] == ["3"]


def test_shared_parts_are_computed_while_the_cache_fails(failing_cache, rf):
    computed = []
    with page_cache._building(rf.get("/")):
        found = page_cache.shared_parts("synthetic", ["5"], squares(computed))
    assert found == {"5": 25}
    assert computed == [["5"]]
