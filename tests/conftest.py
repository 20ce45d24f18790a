import pytest
from django.conf import settings


@pytest.fixture(autouse=True)
def _fast_passwords():
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
