"""Production configuration: strict environment parsing, check --deploy, security headers."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from hypothesis import given
from hypothesis import strategies as st

from config.env import env_bool, env_int, env_list

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_ENV = {
    "DJANGO_DEBUG": "false",
    "DJANGO_SECRET_KEY": "test-only-" + "k3y-w1th-enough-entropy-for-the-deploy-check-" * 2,
    "DJANGO_ALLOWED_HOSTS": "evidence.example.com",
    "DATABASE_URL": "sqlite:///:memory:",
    "REDIS_URL": "redis://127.0.0.1:6379/0",  # named, not reached: `check` makes no request
}


def run_manage(*args, env):
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_check_deploy_is_clean_with_production_values():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "DJANGO_SECRET_KEY"}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "DJANGO_SECRET_KEY is required" in result.stderr


def test_production_refuses_to_start_without_a_shared_cache():
    env = {k: v for k, v in PRODUCTION_ENV.items() if k != "REDIS_URL"}
    result = run_manage("check", env=env)
    assert result.returncode != 0
    assert "REDIS_URL is required when DJANGO_DEBUG is off" in result.stderr
    one_process = run_manage("check", env={**env, "DJANGO_LOCAL_CACHE": "true"})
    assert one_process.returncode == 0, one_process.stderr


def test_a_malformed_boolean_stops_start_up_with_a_clear_error():
    result = run_manage("check", env={"DJANGO_DEBUG": "maybe"})
    assert result.returncode != 0
    assert "DJANGO_DEBUG must be true or false, got 'maybe'" in result.stderr


@pytest.mark.parametrize(("text", "expected"), [("true", True), ("False", False), ("1", True)])
def test_env_bool_reads_the_usual_spellings(monkeypatch, text, expected):
    monkeypatch.setenv("SYNTHETIC_FLAG", text)
    assert env_bool("SYNTHETIC_FLAG", not expected) is expected


@given(st.text())
def test_env_bool_accepts_only_known_spellings(text):
    os.environ["SYNTHETIC_FLAG"] = text.replace("\x00", "")
    try:
        value = os.environ["SYNTHETIC_FLAG"].strip().lower()
        if value == "":
            assert env_bool("SYNTHETIC_FLAG", True) is True
        elif value in {"true", "1", "yes", "on", "false", "0", "no", "off"}:
            assert isinstance(env_bool("SYNTHETIC_FLAG", True), bool)
        else:
            with pytest.raises(ImproperlyConfigured):
                env_bool("SYNTHETIC_FLAG", True)
    finally:
        del os.environ["SYNTHETIC_FLAG"]


def test_env_int_and_list_reject_malformed_values(monkeypatch):
    monkeypatch.setenv("SYNTHETIC_NUMBER", "12a")
    with pytest.raises(ImproperlyConfigured, match="must be an integer"):
        env_int("SYNTHETIC_NUMBER", 1)
    monkeypatch.setenv("SYNTHETIC_LIST", "a,,b")
    with pytest.raises(ImproperlyConfigured, match="without empty items"):
        env_list("SYNTHETIC_LIST", [])
    monkeypatch.setenv("SYNTHETIC_LIST", "a.example.com, b.example.com")
    assert env_list("SYNTHETIC_LIST", []) == ["a.example.com", "b.example.com"]


@pytest.mark.django_db
def test_pages_carry_a_strict_content_security_policy_and_security_headers(client):
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "strict-origin-when-cross-origin"
    assert response["X-Frame-Options"] == "DENY"
