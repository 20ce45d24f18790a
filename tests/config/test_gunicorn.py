"""gunicorn's access log (config/gunicorn.py) writes the path, never the query string: a
query can hold health data (`?condition=pregnancy`), and the log ties it to an address."""

import runpy
from datetime import timedelta
from types import SimpleNamespace

from django.conf import settings
from gunicorn.config import Config
from gunicorn.glogging import Logger


def gunicorn_settings() -> dict:
    return runpy.run_path(str(settings.BASE_DIR / "config" / "gunicorn.py"))


def test_the_access_log_format_names_no_query_string_request_line_or_referer():
    log_format = gunicorn_settings()["access_log_format"]
    for atom in ("%(q)s", "%(r)s", "%(f)s", "{referer}i", "{raw_uri}e", "{query_string}e"):
        assert atom not in log_format.lower()
    assert "%(U)s" in log_format  # the path


def test_a_request_with_health_data_in_its_query_is_logged_by_path_only():
    config = Config()
    config.set("access_log_format", gunicorn_settings()["access_log_format"])
    logger = Logger(config)
    query = "goals=liver-health&condition=pregnancy"
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/?{query}",
        "PATH_INFO": "/",
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "192.0.2.1",
        "HTTP_REFERER": f"https://example.com/goals/liver-health/?{query}",
        "HTTP_USER_AGENT": "Firefox",
    }
    response = SimpleNamespace(status="200 OK", sent=512, headers=[])
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    atoms = logger.atoms_wrapper_class(
        logger.atoms(response, request, environ, timedelta(milliseconds=12))
    )

    line = config.access_log_format % atoms

    assert '"GET / HTTP/1.1" 200' in line
    assert "pregnancy" not in line
    assert "liver-health" not in line


def test_workers_are_forked_from_a_loaded_app_and_recycled_rarely_and_apart():
    config = gunicorn_settings()
    assert config["preload_app"] is True
    assert config["max_requests"] >= 20_000
    assert config["max_requests_jitter"] >= config["max_requests"] // 2  # restart apart
