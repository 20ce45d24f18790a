import pytest
from django.conf import settings
from django.test import override_settings


@pytest.fixture(autouse=True)
def _fast_passwords():
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _empty_cache():
    """Tests roll the database back, content version included: never reuse a cached page."""
    from django.core.cache import cache

    cache.clear()
    yield
    cache.clear()


@pytest.fixture(autouse=True)
def _data_export_in_a_temporary_folder(tmp_path):
    """load_demo builds the /data/ download: never into the project's own folder. (Not with
    pytest-django's `settings`, which an autouse fixture would set up before _empty_cache,
    and so restore a test's CACHES only after _empty_cache clears them.)"""
    with override_settings(DATA_EXPORT_ROOT=tmp_path / "exports"):
        yield


@pytest.fixture(autouse=True)
def _no_common_search_words(monkeypatch):
    """Search leaves the words in most names to its matcher (evidence.models.
    common_search_words), counting them at most every ten minutes in each process: tests start
    with none counted and none due, so a page's query count does not depend on the clock."""
    from evidence import models

    monkeypatch.setattr(models, "_common_words_read", (float("inf"), frozenset()))
