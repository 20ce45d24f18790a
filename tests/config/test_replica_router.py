"""Which database a request reads (config.replica, config.routers): public reads the replica,
writes, the admin and staff the primary, and the primary while the replica is down.

The replica here is a test mirror of "default" (TEST MIRROR, as settings give it when
DATABASE_REPLICA_URL is set): a second connection to the same test database, so which
connection ran a query tells where the request was routed.
"""

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.conf import settings
from django.contrib.auth.models import User
from django.db import DEFAULT_DB_ALIAS, OperationalError, connections, router
from django.test import RequestFactory, override_settings

from config import replica
from config.replica import REPLICA, choose_alias, reading_from
from evidence.models import ContentVersion
from tests.factories.personas import logged_in, staff_member

MIDDLEWARE = list(settings.MIDDLEWARE)
if "config.replica.ReplicaMiddleware" not in MIDDLEWARE:
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
        "config.replica.ReplicaMiddleware",
    )

pytestmark = pytest.mark.django_db(databases=[DEFAULT_DB_ALIAS, REPLICA])


@pytest.fixture(autouse=True, scope="module")
def replica_alias(django_db_setup, django_db_blocker):
    """The replica alias as settings make it from DATABASE_REPLICA_URL, mirroring "default"
    (added here unless the run already has one), with the router and middleware on."""
    added = REPLICA not in connections
    if added:
        default = connections[DEFAULT_DB_ALIAS].settings_dict
        connections.settings[REPLICA] = {
            **default,
            "OPTIONS": dict(default["OPTIONS"]),
            "TEST": {**default["TEST"], "MIRROR": DEFAULT_DB_ALIAS},
        }
    with override_settings(
        DATABASE_ROUTERS=["config.routers.PrimaryReplicaRouter"], MIDDLEWARE=MIDDLEWARE
    ):
        yield
    if added:
        with django_db_blocker.unblock():
            connections[REPLICA].close()
        del connections[REPLICA]
        del connections.settings[REPLICA]


@pytest.fixture(autouse=True)
def replica_answering():
    """Each test starts with the replica taken as up (no back-off from an earlier test)."""
    replica.availability.__init__()
    yield
    replica.availability.__init__()


@contextmanager
def counting(alias: str) -> Iterator[list[str]]:
    """The SQL run on one database meanwhile (without connecting to it first)."""
    statements: list[str] = []

    def record(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    with connections[alias].execute_wrapper(record):
        yield statements


def queries_per_database(client, path: str) -> tuple[list[str], list[str]]:
    """(primary, replica) queries while the client GETs the path (as if over TLS)."""
    with counting(DEFAULT_DB_ALIAS) as primary, counting(REPLICA) as replica_queries:
        response = client.get(path, secure=True)
    assert response.status_code == 200, response.status_code
    return primary, replica_queries


def request(method: str = "GET", path: str = "/compounds/", user=None):
    made = RequestFactory().generic(method, path)
    if user is not None:
        made.user = user
    return made


def test_public_get_is_read_on_the_replica(client):
    primary, replica_queries = queries_per_database(client, "/compounds/")
    assert primary == []
    assert replica_queries


def test_the_content_version_is_read_where_the_page_is_read(client):
    primary, replica_queries = queries_per_database(client, "/methodology/")
    assert primary == []
    assert any(ContentVersion._meta.db_table in sql for sql in replica_queries)


def test_head_is_read_on_the_replica():
    assert choose_alias(request("HEAD")) == REPLICA


def test_post_is_read_on_the_primary():
    assert choose_alias(request("POST", "/report/")) == DEFAULT_DB_ALIAS


def test_admin_is_read_on_the_primary():
    assert choose_alias(request("GET", "/admin/")) == DEFAULT_DB_ALIAS
    assert choose_alias(request("GET", "/admin/evidence/compound/")) == DEFAULT_DB_ALIAS


# Committed: on SQLite the mirror's connection would wait for the test's open transaction.
@pytest.mark.django_db(databases=[DEFAULT_DB_ALIAS, REPLICA], transaction=True)
def test_a_signed_in_staff_members_public_get_is_read_on_the_primary():
    editor = staff_member("Synthetic editor")
    primary, replica_queries = queries_per_database(logged_in(editor), "/compounds/")
    assert primary
    assert replica_queries == []


def test_a_signed_in_non_staff_user_reads_the_replica():
    member = User(username="Synthetic member", is_staff=False)
    assert choose_alias(request(user=member)) == REPLICA


def test_a_write_sends_the_rest_of_the_request_to_the_primary():
    with reading_from(REPLICA):
        assert router.db_for_read(ContentVersion) == REPLICA
        assert router.db_for_write(ContentVersion) == DEFAULT_DB_ALIAS
        assert router.db_for_read(ContentVersion) == DEFAULT_DB_ALIAS
    assert router.db_for_read(ContentVersion) == DEFAULT_DB_ALIAS  # outside a request


def test_only_the_primary_is_migrated():
    assert router.allow_migrate(DEFAULT_DB_ALIAS, "evidence")
    assert not router.allow_migrate(REPLICA, "evidence")


@pytest.fixture
def replica_down(monkeypatch):
    """The replica refuses connections; returns how many times it was tried."""
    attempts = []

    def refuse():
        attempts.append(1)
        raise OperationalError("Synthetic: connection refused")

    connections[REPLICA].close()
    monkeypatch.setattr(connections[REPLICA], "ensure_connection", refuse)
    return attempts


def test_replica_down_public_get_is_read_on_the_primary(client, replica_down, caplog):
    with caplog.at_level(logging.WARNING, logger="config.replica"):
        for _ in range(3):
            primary, replica_queries = queries_per_database(client, "/compounds/")
            assert primary
            assert replica_queries == []
    # Logged once, and not tried again within the back-off.
    assert len(caplog.records) == 1
    assert "replica unavailable" in caplog.records[0].getMessage()
    assert len(replica_down) == 1


def test_the_replica_is_tried_again_after_the_back_off(replica_down, monkeypatch, caplog):
    assert choose_alias(request()) == DEFAULT_DB_ALIAS
    monkeypatch.setattr(replica.availability, "retry_at", 0.0)  # the back-off is over
    assert choose_alias(request()) == DEFAULT_DB_ALIAS
    assert len(replica_down) == 2
    monkeypatch.undo()  # the replica answers again
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="config.replica"):
        replica.availability.retry_at = 0.0
        assert choose_alias(request()) == REPLICA
    assert [r.getMessage() for r in caplog.records] == ["replica available again"]


SHOW_SETTINGS = """
import json
from django.conf import settings
print(json.dumps({
    "aliases": sorted(settings.DATABASES),
    "mirror": settings.DATABASES.get("replica", {}).get("TEST", {}).get("MIRROR"),
    "host": settings.DATABASES.get("replica", {}).get("HOST"),
    "routers": settings.DATABASE_ROUTERS,
    "middleware": settings.MIDDLEWARE,
}))
"""


def settings_with(**env) -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    done = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SHOW_SETTINGS],
        cwd=settings.BASE_DIR,
        env={**clean, "DATABASE_URL": "sqlite:///:memory:", **env},
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_without_a_replica_url_nothing_changes():
    found = settings_with()
    assert found["aliases"] == ["default"]
    assert found["routers"] == []
    assert "config.replica.ReplicaMiddleware" not in found["middleware"]


def test_a_replica_url_adds_the_replica_its_router_and_the_middleware_after_auth():
    found = settings_with(DATABASE_REPLICA_URL="postgres://reader@replica-host:5432/evidence")
    assert found["aliases"] == ["default", REPLICA]
    assert found["host"] == "replica-host"
    assert found["mirror"] == DEFAULT_DB_ALIAS
    assert found["routers"] == ["config.routers.PrimaryReplicaRouter"]
    middleware = found["middleware"]
    auth = middleware.index("django.contrib.auth.middleware.AuthenticationMiddleware")
    assert middleware[auth + 1] == "config.replica.ReplicaMiddleware"
