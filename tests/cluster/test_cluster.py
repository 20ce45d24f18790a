"""`make cluster-test`'s scripts (cluster/): their pure pieces always; the scripts themselves,
which start PostgreSQL clusters, gunicorn, nginx and Redis for about a minute each, only when
asked (CLUSTER_TEST=1) and when the servers they need are installed."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CLUSTER = Path(__file__).resolve().parents[2] / "cluster"
sys.path.insert(0, str(CLUSTER))

from replica import PG_BIN  # noqa: E402
from servers import Checks  # noqa: E402
from two_apps import nginx_conf  # noqa: E402


def test_a_run_passes_only_when_every_check_passed():
    checks = Checks("Synthetic run")
    assert checks.summary() == 1  # no check made is no pass
    checks.check(True, "Synthetic first check")
    assert checks.summary() == 0
    checks.check(False, "Synthetic second check")
    assert checks.summary() == 1


def test_nginx_balances_over_every_app_server_and_says_https_for_the_tls_proxy(tmp_path):
    conf = nginx_conf(tmp_path, 8080, [8001, 8002])
    assert "server 127.0.0.1:8001;" in conf and "server 127.0.0.1:8002;" in conf
    assert "listen 127.0.0.1:8080;" in conf
    assert "proxy_set_header X-Forwarded-Proto https;" in conf
    assert f"pid {tmp_path}/nginx.pid;" in conf  # nothing outside its own folder


def servers_missing() -> list[str]:
    needed = {"nginx": shutil.which("nginx"), "redis-server": shutil.which("redis-server")}
    needed["PostgreSQL server binaries"] = (PG_BIN / "pg_ctl").exists() or None
    return [name for name, found in needed.items() if not found]


cluster_up = pytest.mark.skipif(
    os.environ.get("CLUSTER_TEST") != "1" or bool(servers_missing()),
    reason="starts its own servers: CLUSTER_TEST=1 (make cluster-test runs the scripts)",
)


@cluster_up
@pytest.mark.parametrize("script", ["replica.py", "two_apps.py"])
def test_every_check_of_the_script_passes(script):
    done = subprocess.run(
        [sys.executable, str(CLUSTER / script)],
        cwd=CLUSTER.parent,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    assert "FAIL" not in done.stdout
