"""The health check (/healthz): a JSON report on the database and the cache.

200 while the database answers (the cache may be degraded: pages are then rendered for each
request, slower but served), 503 when the database does not.
"""

import pytest
from django.db import DEFAULT_DB_ALIAS, OperationalError, connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

pytestmark = pytest.mark.django_db

# Nothing listens on port 1: every cache call fails at once with "connection refused".
CACHE_THAT_FAILS = {
    "default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": "redis://127.0.0.1:1/1",
    }
}


@pytest.fixture
def failing_cache(settings):
    settings.CACHES = CACHE_THAT_FAILS


@pytest.fixture
def broken_database(monkeypatch):
    def broken_cursor(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)


def test_healthz_is_ok_when_the_database_and_the_cache_answer(client):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"database": "ok", "cache": "ok"}
    assert "no-cache" in response["Cache-Control"] or "max-age=0" in response["Cache-Control"]


def test_healthz_is_200_with_the_cache_degraded_when_the_cache_fails(client, failing_cache):
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "degraded"}


def test_healthz_is_503_when_the_database_is_unavailable(client, broken_database):
    response = client.get(reverse("healthz"))
    assert response.status_code == 503
    assert response.json() == {"database": "unavailable", "cache": "ok"}


class Replica:
    """A configured replica that answers (the test database itself) or not."""

    def __init__(self, answers: bool):
        self.answers = answers

    def cursor(self):
        if not self.answers:
            raise OperationalError("the replica refused the connection")
        return connection.cursor()


@pytest.fixture
def with_replica(monkeypatch):
    def configure(answers: bool):
        databases = {DEFAULT_DB_ALIAS: connection, "replica": Replica(answers)}
        monkeypatch.setattr("evidence.views.connections", databases)

    return configure


def test_healthz_reports_a_replica_that_answers(client, with_replica):
    with_replica(answers=True)
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "ok", "replica": "ok"}


def test_healthz_stays_200_with_the_replica_down_since_the_primary_serves_its_reads(
    client, with_replica
):
    with_replica(answers=False)
    response = client.get(reverse("healthz"))
    assert response.status_code == 200
    assert response.json() == {"database": "ok", "cache": "ok", "replica": "unavailable"}


def test_healthz_answers_head_like_get(client, failing_cache):
    response = client.head(reverse("healthz"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert response.content == b""


def test_database_probe_is_ok_without_touching_the_cache(client, failing_cache):
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("healthz_database"))
    assert response.status_code == 200
    assert response.json() == {"database": "ok"}
    assert [query["sql"] for query in queries] == ["SELECT 1"]


def test_database_probe_is_503_when_the_database_is_unavailable(client, broken_database):
    response = client.get(reverse("healthz_database"))
    assert response.status_code == 503
    assert response.json() == {"database": "unavailable"}
