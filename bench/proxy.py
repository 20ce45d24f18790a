"""The caching-proxy scenario: nginx with `proxy_cache` in front of gunicorn, as any HTTP cache
may serve our public pages (they carry no visitor's state, an ETag, Last-Modified and
`Cache-Control: public, max-age=60`: evidence.cache).

    DATABASE=bench_large .venv/bin/python bench/proxy.py    # after `make bench` built it

For each page: wrk straight at gunicorn, then the same through nginx; the throughput of both,
their ratio, and what nginx said of its cache (`X-Proxy-Cache`: HIT, MISS, EXPIRED...). Both
run with production's gunicorn configuration (config/gunicorn.py) and a Redis of their own.
Debian's nginx (nginx-light) runs as this user, its configuration, cache and logs in a
temporary folder removed on exit.
"""

import getpass
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common import RESULTS_DIR, BenchError, Managed, Server, fetch_headers, free_port, say
from redisserver import RedisServer

NGINX_CONF = """
user {user};
worker_processes 1;
pid {tmp}/nginx.pid;
error_log {tmp}/error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {tmp}/client;
    proxy_temp_path {tmp}/proxy;
    fastcgi_temp_path {tmp}/fastcgi;
    uwsgi_temp_path {tmp}/uwsgi;
    scgi_temp_path {tmp}/scgi;
    proxy_cache_path {tmp}/cache levels=1:2 keys_zone=pages:16m max_size=256m inactive=10m
                     use_temp_path=off;
    upstream app {{ server 127.0.0.1:{upstream}; keepalive 16; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://app;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $host;
            proxy_set_header X-Forwarded-Proto https;
            # The app says how long (Cache-Control) and for which headers (Vary); nginx asks
            # again with If-None-Match when a copy expires, and one request refills it.
            proxy_cache pages;
            proxy_cache_revalidate on;
            proxy_cache_lock on;
            proxy_cache_use_stale updating error timeout;
            add_header X-Proxy-Cache $upstream_cache_status always;
        }}
    }}
}}
"""


class NginxCache(Managed):
    """nginx with a page cache on a free loopback port, in front of `upstream`."""

    def __init__(self, upstream: int):
        self.upstream = upstream
        self.port = free_port()
        self.tmp: Path | None = None
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        if not Path(binary).exists():
            raise BenchError("no nginx: apt-get install nginx-light (.ci/run does)")
        self.tmp = Path(tempfile.mkdtemp(prefix="bench-nginx-"))
        conf = self.tmp / "nginx.conf"
        # Its workers run as this user (who owns the folder), not nginx's default "nobody".
        user = getpass.getuser()
        conf.write_text(
            NGINX_CONF.format(tmp=self.tmp, upstream=self.upstream, port=self.port, user=user)
        )
        self.process = subprocess.Popen(
            [binary, "-c", str(conf), "-p", str(self.tmp), "-g", "daemon off;"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + 20
        while True:
            if self.process.poll() is not None:
                log = (self.tmp / "error.log").read_text() if self.tmp else ""
                raise BenchError(f"nginx exited at start-up:\n{log}")
            try:
                fetch_headers(self.port, "/healthz", timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise BenchError("nginx did not answer in 20 s") from None
                time.sleep(0.2)
        say(f"== nginx (proxy_cache) on 127.0.0.1:{self.port} in front of :{self.upstream}")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is not None and process.poll() is None:
            process.send_signal(signal.SIGQUIT)  # graceful
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=5)
        if self.tmp is not None:
            shutil.rmtree(self.tmp, ignore_errors=True)
            self.tmp = None


Load = Callable[[int, str], dict]


def measure_proxy(dataset: dict, paths: dict[str, str], load: Load) -> dict:
    """Each of `paths` (name: path) loaded by `load(port, path)` (wrk's figures) straight at
    gunicorn and through nginx; the ratio of their throughputs and nginx's cache statuses."""
    results: dict = {"pages": []}
    with (
        RedisServer(maxmemory_mb=256, name="proxy") as cache,
        Server(
            dataset, extra_args=["--config=config/gunicorn.py"], env={"REDIS_URL": cache.url}
        ) as app,
        NginxCache(app.port) as proxy,
    ):
        for name, path in paths.items():
            statuses = [fetch_headers(proxy.port, path).get("X-Proxy-Cache") for _ in range(3)]
            direct = load(app.port, path)
            app.wait_idle()
            proxied = load(proxy.port, path)
            app.wait_idle()
            ratio = proxied["rps"] / direct["rps"] if direct["rps"] else None
            say(
                f"-- {name}: gunicorn {direct['rps']:.0f} req/s, through nginx "
                f"{proxied['rps']:.0f} req/s ({ratio:.1f}x), non-2xx {direct['non2xx']} and "
                f"{proxied['non2xx']}; nginx said {statuses}"
            )
            results["pages"].append(
                {
                    "name": name,
                    "path": path,
                    "gunicorn": direct,
                    "nginx": proxied,
                    "ratio": round(ratio, 2) if ratio else None,
                    "first_statuses": statuses,
                }
            )
    return results


def main() -> int:
    import run  # the endpoint table's data and wrk, for a stand-alone run

    database = os.environ.get("DATABASE", "bench_large")
    settings = run.Settings.from_env(quick="--quick" in sys.argv)
    dataset = {"database": database, "url": f"{settings.pg}/{database}"}
    parameters = run.pick_parameters(dataset["url"])
    paths = {e.name: e.path for e in run.endpoints_for(parameters) if not e.is_floor}
    RESULTS_DIR.mkdir(exist_ok=True)
    run.manage("collectstatic", "--no-input", "-v0", database_url=dataset["url"])
    measure_proxy(
        dataset, paths, lambda port, path: run.wrk(port, path, settings.duration, settings)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
