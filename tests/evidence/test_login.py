"""The staff login (issue 13 finding 6): throttling that works behind a proxy and against
guesses spread over many addresses, and two-factor authentication (TOTP) for staff."""

from io import StringIO
from urllib.parse import parse_qs, urlsplit

import pytest
from django.contrib.auth.models import User
from django.core.management import CommandError, call_command
from django.test import Client
from django.urls import reverse

from tests.factories.personas import evidence_editor

pytestmark = pytest.mark.django_db

LOGIN_URL = reverse("admin:login")
ADMIN_INDEX = reverse("admin:index")
PASSWORD = "synthetic-right-password"
PROXY = "10.0.0.1"  # the TLS proxy every request comes through


@pytest.fixture
def editor() -> User:
    user = evidence_editor()
    user.set_password(PASSWORD)
    user.save()
    return user


def log_in(username="editor", password=PASSWORD, *, ip=PROXY, forwarded=None, token=None):
    data = {"username": username, "password": password, "next": ADMIN_INDEX}
    if token is not None:
        data["otp_token"] = token
    headers = {"REMOTE_ADDR": ip}
    if forwarded is not None:
        headers["HTTP_X_FORWARDED_FOR"] = forwarded
    return Client().post(LOGIN_URL, data, **headers)


def fail(times: int, **where) -> list[int]:
    return [log_in(password="wrong-password", **where).status_code for _ in range(times)]


# Behind the proxy: the client's address, as the trusted proxy saw it


def test_behind_a_trusted_proxy_one_visitors_failures_do_not_lock_out_another(editor, settings):
    settings.TRUSTED_PROXY_COUNT = 1
    assert fail(6, forwarded="198.51.100.7")[-1] == 403
    assert log_in(forwarded="198.51.100.8").status_code == 302


def test_a_forged_forwarded_header_does_not_escape_the_lockout(editor, settings):
    """The proxy appends the address it saw; what the client wrote before it is not trusted."""
    settings.TRUSTED_PROXY_COUNT = 1
    statuses = [
        log_in(password="wrong", forwarded=f"203.0.113.{n}, 198.51.100.7").status_code
        for n in range(6)
    ]
    assert statuses[-1] == 403
    assert log_in(forwarded="192.0.2.1, 198.51.100.7").status_code == 403


def test_without_a_trusted_proxy_the_forwarded_header_is_ignored(editor, settings):
    settings.TRUSTED_PROXY_COUNT = 0
    statuses = [
        log_in(password="wrong", ip="198.51.100.7", forwarded=f"203.0.113.{n}").status_code
        for n in range(6)
    ]
    assert statuses[-1] == 403
    assert log_in(ip="198.51.100.7", forwarded="192.0.2.1").status_code == 403


def test_a_short_forwarded_header_falls_back_to_the_connecting_address(editor, settings):
    settings.TRUSTED_PROXY_COUNT = 2  # two proxies configured, a request that came through one
    assert fail(6, ip="198.51.100.7", forwarded="203.0.113.1")[-1] == 403
    assert log_in(ip="198.51.100.9", forwarded="203.0.113.1").status_code == 302


# Guesses spread over many addresses


def test_failures_spread_over_many_addresses_lock_the_username_after_the_higher_limit(
    editor, settings
):
    settings.AXES_USERNAME_FAILURE_LIMIT = 12
    for n in range(11):  # 11 failures from 11 addresses: under every limit
        fail(1, ip=f"198.51.100.{n}")
    assert log_in(ip="192.0.2.1").status_code == 302
    fail(1, ip="198.51.100.200")  # the right login reset only its own address's count
    assert fail(1, ip="198.51.100.201") == [403]  # the 12th failure locks the username
    assert log_in(ip="192.0.2.2").status_code == 403


def test_the_username_limit_is_higher_than_the_per_address_limit(settings):
    assert settings.AXES_USERNAME_FAILURE_LIMIT > settings.AXES_FAILURE_LIMIT


# Two-factor authentication


@pytest.fixture
def two_factor(settings):
    settings.STAFF_TWO_FACTOR = True


def enrol(user) -> str:
    """Enrols the user through the command and returns the secret from the printed URI."""
    out = StringIO()
    call_command("enrol_two_factor", user.username, stdout=out)
    uri = next(line for line in out.getvalue().splitlines() if line.startswith("otpauth://"))
    return parse_qs(urlsplit(uri).query)["secret"][0]


def code(secret: str, offset: int = 0) -> str:
    from base64 import b32decode

    from django_otp.oath import TOTP

    totp = TOTP(b32decode(secret))
    totp.time += offset * 30
    return f"{totp.token():06d}"


def test_with_two_factor_required_the_admin_login_asks_for_a_token(two_factor):
    assert 'name="otp_token"' in Client().get(LOGIN_URL).text


def test_with_two_factor_off_the_login_page_has_no_token_field():
    assert 'name="otp_token"' not in Client().get(LOGIN_URL).text


def test_the_password_and_a_current_code_log_in(editor, two_factor):
    secret = enrol(editor)
    client = Client()
    response = client.post(
        LOGIN_URL,
        {"username": "editor", "password": PASSWORD, "otp_token": code(secret)},
        REMOTE_ADDR=PROXY,
    )
    assert response.status_code == 302
    assert client.get(ADMIN_INDEX).status_code == 200


@pytest.mark.parametrize("token", [None, "", "000000", "not a code"])
def test_the_password_without_a_valid_code_does_not_log_in(editor, two_factor, token):
    enrol(editor)
    response = log_in(token=token)
    assert response.status_code == 200  # the form again, with its error
    assert "_auth_user_id" not in response.wsgi_request.session


def test_a_code_is_not_accepted_twice(editor, two_factor):
    token = code(enrol(editor))
    assert log_in(token=token).status_code == 302
    assert log_in(token=token).status_code == 200


def test_a_staff_member_without_a_device_cannot_log_in(editor, two_factor):
    assert log_in(token="123456").status_code == 200


def test_a_session_signed_in_without_a_code_does_not_reach_the_admin(editor, two_factor):
    client = Client()
    client.force_login(editor)
    response = client.get(ADMIN_INDEX)
    assert response.status_code == 302
    assert response["Location"].startswith(LOGIN_URL)


def test_with_two_factor_off_the_password_alone_logs_in(editor):
    assert log_in().status_code == 302


def test_two_factor_is_required_whenever_debug_is_off():
    from tests.config.test_settings import PRODUCTION_ENV, run_manage

    result = run_manage(
        "shell",
        "-c",
        "from django.conf import settings; print(settings.STAFF_TWO_FACTOR)",
        env=PRODUCTION_ENV,
    )
    assert result.stdout.split()[-1] == "True", result.stderr


# Enrolment


def test_enrolment_prints_the_otpauth_uri_and_a_qr_code(editor):
    out = StringIO()
    call_command("enrol_two_factor", "editor", stdout=out)
    text = out.getvalue()
    uri = next(line for line in text.splitlines() if line.startswith("otpauth://totp/"))
    assert "editor" in uri
    assert "█" in text or "▀" in text  # the QR code, drawn in the terminal


def test_enrolment_refuses_an_unknown_or_non_staff_user():
    User.objects.create_user("synthetic-visitor")
    for username in ("synthetic-nobody", "synthetic-visitor"):
        with pytest.raises(CommandError, match="No staff user named"):
            call_command("enrol_two_factor", username, stdout=StringIO())


def test_enrolment_does_not_replace_a_device_unless_asked(editor, two_factor):
    first = enrol(editor)
    with pytest.raises(CommandError, match="--replace"):
        call_command("enrol_two_factor", "editor", stdout=StringIO())
    out = StringIO()
    call_command("enrol_two_factor", "editor", "--replace", stdout=out)
    assert first not in out.getvalue()
    assert log_in(token=code(first)).status_code == 200
