"""`manage.py purge_personal_data --days N`: login records older than N days and expired
sessions are deleted; newer ones stay."""

from datetime import timedelta

import pytest
from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.contrib.sessions.models import Session
from django.core.management import CommandError, call_command
from django.utils import timezone

pytestmark = pytest.mark.django_db


def login_records(age: timedelta, username: str) -> None:
    when = timezone.now() - age
    fields = {"username": username, "ip_address": "192.0.2.1", "user_agent": "Firefox"}
    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        row = model.objects.create(
            **fields, **({"failures_since_start": 1} if model is AccessAttempt else {})
        )
        model.objects.filter(pk=row.pk).update(attempt_time=when)


def session(expires_in: timedelta, key: str) -> None:
    Session.objects.create(
        session_key=key, session_data="", expire_date=timezone.now() + expires_in
    )


def test_purge_deletes_login_records_older_than_the_given_days_and_expired_sessions():
    login_records(timedelta(days=31), "old")
    login_records(timedelta(days=29), "recent")
    session(-timedelta(days=1), "expired")
    session(timedelta(days=1), "live")

    call_command("purge_personal_data", days=30)

    for model in (AccessAttempt, AccessFailureLog, AccessLog):
        assert list(model.objects.values_list("username", flat=True)) == ["recent"]
    assert list(Session.objects.values_list("session_key", flat=True)) == ["live"]


def test_purge_refuses_less_than_a_day():
    with pytest.raises(CommandError, match="at least 1 day"):
        call_command("purge_personal_data", days=0)
