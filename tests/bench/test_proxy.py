"""The caching-proxy scenario's nginx (bench/proxy.py): its configuration is one nginx accepts,
and it caches what the app says may be shared, for as long as the app says."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "bench"))

import proxy  # noqa: E402

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


@pytest.mark.skipif(not Path(NGINX).exists(), reason="Debian's nginx is not installed")
def test_the_generated_configuration_is_valid_for_nginx(tmp_path):
    conf = tmp_path / "nginx.conf"
    conf.write_text(proxy.NGINX_CONF.format(tmp=tmp_path, upstream=1, port=2, user="root"))
    done = subprocess.run(
        [NGINX, "-t", "-c", str(conf), "-p", str(tmp_path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stderr


def test_the_proxy_follows_the_apps_cache_headers_and_revalidates():
    conf = proxy.NGINX_CONF
    assert "proxy_cache_valid" not in conf  # no lifetime of its own: Cache-Control decides
    assert "proxy_cache_revalidate on;" in conf  # an expired copy is asked with If-None-Match
    assert "proxy_ignore_headers" not in conf  # Set-Cookie and Vary are respected
