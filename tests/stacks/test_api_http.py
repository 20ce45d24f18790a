"""What any HTTP client or cache relies on when reading the API: validators that change
exactly when the answer can (ETag, Last-Modified, 304), a short public Cache-Control, and
CORS for reads from any origin, never for writes."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django.utils.http import http_date

from evidence.cache import PUBLIC_MAX_AGE, content_state
from evidence.models import Tier
from tests.factories import make_compound, make_goal, make_rated_compound

pytestmark = pytest.mark.django_db

READS = [
    "/api/compounds/",
    "/api/goals/",
    "/api/studies/",
    "/api/sources/",
    "/api/changes/",
    "/api/compounds/{compound}/",
    "/api/goals/{goal}/ranking/",
    "/api/stack/?goals={goal}",
]


@pytest.fixture
def urls():
    goal = make_goal()
    compound = make_rated_compound(goal)
    return [url.format(compound=compound.slug, goal=goal.slug) for url in READS]


def test_every_api_read_answers_304_to_a_second_request_with_its_etag(client, urls):
    for url in urls:
        first = client.get(url)
        assert first.status_code == 200, url
        again = client.get(url, headers={"If-None-Match": first["ETag"]})
        assert again.status_code == 304, url
        assert again.content == b""
        assert again["ETag"] == first["ETag"]


def test_a_304_costs_one_query(client, urls, django_assert_num_queries):
    etag = client.get(urls[0])["ETag"]
    with django_assert_num_queries(1):  # the content version
        assert client.get(urls[0], headers={"If-None-Match": etag}).status_code == 304


def test_an_edit_changes_the_etag_and_the_answer(client):
    goal = make_goal()
    compound = make_rated_compound(goal, 3)
    url = f"/api/compounds/{compound.slug}/"
    first = client.get(url)
    rating = compound.ratings.get()
    rating.tier = Tier.objects.get(number=1)
    rating.save()
    again = client.get(url, headers={"If-None-Match": first["ETag"]})
    assert again.status_code == 200
    assert again["ETag"] != first["ETag"]
    assert again.json()["ratings"][0]["tier"] == 1


def test_the_etag_differs_by_parameters_the_answer_depends_on_but_not_by_junk(client):
    make_compound()
    plain = client.get("/api/compounds/")["ETag"]
    assert client.get("/api/compounds/?utm_source=x")["ETag"] == plain
    assert client.get("/api/compounds/?page=1&page_size=50")["ETag"] == plain
    assert client.get("/api/compounds/?page_size=10")["ETag"] != plain


def test_a_deploy_changes_the_etag(client, settings):
    make_compound()
    settings.RELEASE_ID = "synthetic-release-1"
    before = client.get("/api/compounds/")["ETag"]
    settings.RELEASE_ID = "synthetic-release-2"
    assert client.get("/api/compounds/")["ETag"] != before


def test_last_modified_is_the_time_of_the_last_content_change(client):
    make_compound()
    changed_at = content_state().changed_at
    response = client.get("/api/compounds/")
    assert response["Last-Modified"] == http_date(changed_at)
    assert abs(changed_at - timezone.now().timestamp()) < 5
    not_modified = client.get(
        "/api/compounds/", headers={"If-Modified-Since": response["Last-Modified"]}
    )
    assert not_modified.status_code == 304
    earlier = http_date(changed_at - 60)
    assert client.get("/api/compounds/", headers={"If-Modified-Since": earlier}).status_code == 200


def test_two_changes_within_a_second_carry_different_last_modified_dates():
    make_compound()
    first = content_state().changed_at
    make_compound()
    second = content_state().changed_at
    assert second > first


def test_reads_may_be_kept_by_any_cache_for_a_short_time(client, urls):
    for url in urls:
        response = client.get(url)
        assert "public" in response["Cache-Control"], url
        assert f"max-age={PUBLIC_MAX_AGE}" in response["Cache-Control"], url
    assert timedelta(seconds=PUBLIC_MAX_AGE) <= timedelta(minutes=5)


def test_errors_carry_no_validators_and_no_public_cache_control(client):
    for url in ["/api/compounds/no-such-compound/", "/api/compounds/?page=abc"]:
        response = client.get(url)
        assert response.status_code in {404, 422}
        assert not response.has_header("ETag")
        assert "public" not in response.get("Cache-Control", "")


def test_head_answers_with_the_same_validators(client):
    make_compound()
    get = client.get("/api/compounds/")
    head = client.head("/api/compounds/")
    assert head.status_code == 200
    assert (head["ETag"], head["Last-Modified"]) == (get["ETag"], get["Last-Modified"])


# CORS ----------------------------------------------------------------------------------------

ORIGIN = {"Origin": "https://synthetic-other-site.example"}


def test_any_origin_may_read_the_api_and_its_etag(client, urls):
    for url in urls:
        response = client.get(url, headers=ORIGIN)
        assert response["Access-Control-Allow-Origin"] == "*", url
        assert "ETag" in response["Access-Control-Expose-Headers"]


def test_no_origin_may_post_to_the_api(client):
    response = client.post("/api/compounds/", headers=ORIGIN)
    assert response.status_code == 405
    assert not response.has_header("Access-Control-Allow-Origin")


def test_a_preflight_offers_only_the_reading_methods_and_revalidation_headers(client):
    response = client.options(
        "/api/compounds/",
        headers={
            **ORIGIN,
            "Access-Control-Request-Method": "GET",
            "Access-Control-Request-Headers": "if-none-match",
        },
    )
    assert response.status_code == 200
    methods = {m.strip() for m in response["Access-Control-Allow-Methods"].split(",")}
    assert methods == {"GET", "HEAD", "OPTIONS"}
    assert "if-none-match" in response["Access-Control-Allow-Headers"]


def test_pages_outside_the_api_allow_no_other_origin(client):
    response = client.get("/compounds/", headers=ORIGIN)
    assert response.status_code == 200
    assert not response.has_header("Access-Control-Allow-Origin")
