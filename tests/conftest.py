import pytest
from django.conf import settings


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
def _data_export_in_a_temporary_folder(settings, tmp_path):
    """load_demo builds the /data/ download: never into the project's own folder."""
    settings.DATA_EXPORT_ROOT = tmp_path / "exports"
