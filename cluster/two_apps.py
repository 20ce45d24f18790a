"""Two app servers behind nginx, sharing one PostgreSQL database and one Redis: one site.

    python cluster/two_apps.py       (or `make cluster-test`, which also runs replica.py)

1. A database of our own (wtcluster_twoapps on the machine's PostgreSQL, 127.0.0.1:5432,
   dropped at the end), migrated, with the demo's deep dive and an admin with a TOTP device.
2. A redis-server of our own on a free port (the shared cache, configured as README's Deploy
   section says: a memory limit, allkeys-lru, no persistence).
3. Two gunicorn instances (production settings, REDIS_URL on that Redis) on two free ports,
   and nginx on a third: a round-robin upstream over both, its configuration, pid, logs and
   temporary files in a temporary folder, run in the foreground (`daemon off`). nginx stands
   in for the TLS proxy: it sets X-Forwarded-Proto and X-Forwarded-For, and says which app
   server answered in an X-Upstream header.
4. The checks (each printed PASS or FAIL): nginx alternates between the two app servers (its
   header and each server's access log); an admin session started on one app server is
   signed in on the other; both app servers store a page under one key in the shared Redis;
   an admin edit saved through one app server shows on the other's next answer, and through
   nginx on both.

Everything started is stopped, the database dropped and the folder removed on every exit path.
Exit status 0 only when every check passed.
"""

import shutil
import subprocess
import sys
import tempfile
import uuid
from pathlib import Path

import psycopg
import redis
from servers import (
    Checks,
    Client,
    ClusterError,
    Gunicorn,
    Managed,
    app_env,
    create_admin,
    edit_summary,
    free_port,
    log_in,
    prepare_site,
    say,
    stop_on_signals,
    stop_process,
    wait_for,
)

SERVER = "postgres://postgres@127.0.0.1:5432"
DATABASE = "wtcluster_twoapps"


class Database(Managed):
    """Our own database on the machine's PostgreSQL; dropped on exit."""

    def __init__(self, name: str):
        self.name = name
        self.created = False

    @property
    def url(self) -> str:
        return f"{SERVER}/{self.name}"

    def _admin(self) -> psycopg.Connection:
        return psycopg.connect(f"{SERVER}/postgres", autocommit=True)

    def start(self) -> None:
        with self._admin() as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")  # a crashed run's
            conn.execute(f"CREATE DATABASE {self.name}")
        self.created = True

    def stop(self) -> None:
        if self.created:
            with self._admin() as conn:
                conn.execute(f"DROP DATABASE IF EXISTS {self.name} WITH (FORCE)")
            self.created = False

    def value(self, sql: str):
        with psycopg.connect(self.url) as conn:
            return conn.execute(sql).fetchone()[0]


class RedisServer(Managed):
    """A redis-server of our own on a free loopback port (never the machine's)."""

    def __init__(self, base: Path):
        self.base = base
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=5)

    def start(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            raise ClusterError("no redis-server: apt-get install redis-server")
        with (self.base / "redis.log").open("w") as log:
            self.process = subprocess.Popen(
                [
                    binary,
                    "--bind",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                    "--dir",
                    str(self.base),
                    "--maxmemory",
                    "64mb",
                    "--maxmemory-policy",
                    "allkeys-lru",
                ],  # fmt: skip
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

        def answers() -> bool:
            if self.process.poll() is not None:
                raise ClusterError("redis-server exited at start-up")
            try:
                return self.client().ping()
            except redis.exceptions.ConnectionError:
                return False

        wait_for(answers, 20, "redis-server answering")
        say(f"== redis-server on 127.0.0.1:{self.port}")

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None

    def page_keys(self) -> list[str]:
        """evidence.cache's page keys (Django stores them as ":1:page:<release>:...")."""
        return [key.decode() for key in self.client().scan_iter("*:page:*")]


NGINX_CONF = """\
worker_processes 1;
pid {dir}/nginx.pid;
error_log {dir}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log {dir}/access.log;
    client_body_temp_path {dir}/client_body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    upstream app_servers {{
        # Round robin, the default.
{servers}
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://app_servers;
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            # Stands in for the TLS proxy: the app is told the request came over https.
            proxy_set_header X-Forwarded-Proto https;
            add_header X-Upstream $upstream_addr always;
        }}
    }}
}}
"""


def nginx_conf(folder: Path, port: int, upstreams: list[int]) -> str:
    servers = "\n".join(f"        server 127.0.0.1:{p};" for p in upstreams)
    return NGINX_CONF.format(dir=folder, port=port, servers=servers)


class Nginx(Managed):
    """nginx in the foreground with a generated configuration, all its files in `base`."""

    def __init__(self, base: Path, upstreams: list[int]):
        self.folder = base / "nginx"
        self.port = free_port()
        self.upstreams = upstreams
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        binary = shutil.which("nginx") or "/usr/sbin/nginx"
        self.folder.mkdir()
        self.folder.chmod(0o755)  # its workers (nobody, when we are root) reach the temp paths
        conf = self.folder / "nginx.conf"
        conf.write_text(nginx_conf(self.folder, self.port, self.upstreams))
        with (self.folder / "stderr.log").open("w") as log:
            self.process = subprocess.Popen(
                [
                    binary,
                    "-p",
                    str(self.folder),
                    "-e",
                    str(self.folder / "error.log"),
                    "-c",
                    str(conf),
                    "-g",
                    "daemon off;",
                ],  # fmt: skip
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )

        def answers() -> bool:
            if self.process.poll() is not None:
                error = (self.folder / "stderr.log").read_text()
                raise ClusterError(f"nginx exited at start-up:\n{error}")
            return self.client().get("/healthz").status == 200

        wait_for(answers, 20, "nginx answering")
        say(f"== nginx on 127.0.0.1:{self.port}, round robin over {self.upstreams}")

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None

    def client(self) -> Client:
        return Client(self.port, timeout=30)  # nginx says https itself


def main() -> int:
    stop_on_signals()
    checks = Checks("two app servers (cluster/two_apps.py)")
    with tempfile.TemporaryDirectory(prefix="wtcluster-twoapps-") as tmp:
        base = Path(tmp)
        try:
            with Database(DATABASE) as database, RedisServer(base) as cache:
                check_two_apps(checks, database, cache, base)
        except ClusterError as error:
            checks.fail(f"the run reached its end ({error})")
    return checks.summary()


def check_two_apps(checks: Checks, database: Database, cache: RedisServer, base: Path) -> None:
    env = app_env(database.url)
    prepare_site(env)
    password, secret = create_admin(env)
    compound_id, slug = database.value(
        "SELECT array[id::text, slug] FROM evidence_compound WHERE published ORDER BY id LIMIT 1"
    )
    page = f"/compounds/{slug}/"
    env = app_env(database.url, REDIS_URL=cache.url)
    with (
        Gunicorn("a", env, base) as app_a,
        Gunicorn("b", env, base) as app_b,
        Nginx(base, [app_a.port, app_b.port]) as proxy,
    ):
        # Round robin: six requests through nginx, marked by their user agent (in the logs).
        agent = f"cluster-test-{uuid.uuid4().hex[:8]}"
        marked = Client(proxy.port, timeout=30, headers={"User-Agent": agent})
        upstreams = [marked.get("/healthz").headers.get("x-upstream") for _ in range(6)]
        ports = [u.rsplit(":", 1)[-1] if u else "?" for u in upstreams]
        alternates = all(ports[i] != ports[i + 1] for i in range(len(ports) - 1))
        checks.check(
            alternates and {str(app_a.port), str(app_b.port)} == set(ports),
            "nginx alternates between the two app servers (X-Upstream)",
            " ".join(ports),
        )

        def logged() -> tuple[int, int] | None:
            counts = app_a.log().count(agent), app_b.log().count(agent)
            return counts if sum(counts) == 6 else None  # a line is written after its answer

        try:
            counts = wait_for(logged, 5, "the access log lines")
        except ClusterError:
            counts = app_a.log().count(agent), app_b.log().count(agent)
        checks.check(
            counts == (3, 3),
            "each app server's access log has half of those requests",
            f"a: {counts[0]}, b: {counts[1]}",
        )

        # One session, both app servers.
        on_a = app_a.client()
        log_in(on_a, password, secret)
        on_b = app_b.client()
        on_b.cookies = dict(on_a.cookies)
        admin_b = on_b.get("/admin/")
        checks.check(
            admin_b.status == 200
            and "/admin/logout/" in admin_b.text
            and 'id="login-form"' not in admin_b.text,
            "an admin session started on app a is signed in on app b (200, not the login)",
            str(admin_b.status),
        )
        via_proxy = proxy.client()
        via_proxy.cookies = dict(on_a.cookies)
        statuses = [via_proxy.get("/admin/").status for _ in range(2)]
        checks.check(statuses == [200, 200], "and through nginx on both", str(statuses))

        # One cache: through nginx the two app servers serve one host, so one key.
        cache.client().flushdb()
        pair = [proxy.client().get(page) for _ in range(2)]
        keys = cache.page_keys()
        checks.check(
            [r.status for r in pair] == [200, 200]
            and len({r.headers.get("x-upstream") for r in pair}) == 2
            and len(keys) == 1,
            "both app servers keep the page under one key in the shared Redis",
            f"{len(keys)} page key(s)",
        )

        # An edit through one, seen through the other.
        summary = f"Synthetic summary {uuid.uuid4().hex[:8]} (make cluster-test, two apps)."
        edit_summary(on_a, int(compound_id), summary)
        seen_b = app_b.client().get(page)
        checks.check(
            seen_b.status == 200 and summary in seen_b.text,
            "an admin edit saved through app a shows on app b's next answer",
        )
        through = [proxy.client().get(page) for _ in range(2)]
        checks.check(
            all(r.status == 200 and summary in r.text for r in through)
            and len({r.headers.get("x-upstream") for r in through}) == 2,
            "and through nginx, from both app servers",
        )


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        say("interrupted; everything started was stopped")
        sys.exit(130)
