"""What `make cluster-test` (cluster/replica.py, cluster/two_apps.py) shares: the app's
production environment, management commands, gunicorn on a free loopback port, an admin with
a TOTP device, the admin's change form of a compound, and the list of checks that decides the
exit status.

Every server is a context manager that always stops what it started (bench/common.py's
Managed), also when starting fails half-way or the run is interrupted. The browser (cookies,
forms as a browser sends them, the two-factor login) is the load test's, bench/webclient.py.
"""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import Managed  # noqa: E402  (a server as a context manager)
from bench.webclient import (  # noqa: E402
    Client,
    Response,
    admin_login,
    error_text,
    parse_form,
    set_field,
    totp_secret,
)

BIN = Path(sys.executable).parent
ADMIN_USERNAME = "synthetic-admin"
# The app runs as in production behind a TLS-terminating proxy: every request says https.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


class ClusterError(Exception):
    """The run cannot go on (a server does not start, a command fails)."""


def say(message: str) -> None:
    print(message, flush=True)


def stop_on_signals() -> None:
    """SIGTERM and SIGINT raise KeyboardInterrupt, so every context manager's cleanup runs."""

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(condition, seconds: float, what: str, step: float = 0.2):
    """Poll `condition` until it returns something true; ClusterError after `seconds`."""
    deadline = time.monotonic() + seconds
    while True:
        try:
            result = condition()
        except OSError:
            result = None
        if result:
            return result
        if time.monotonic() > deadline:
            raise ClusterError(f"{what}: not within {seconds:.0f} s")
        time.sleep(step)


class Checks:
    """Each check's outcome, printed as it is made; the run passes only if all passed."""

    def __init__(self, title: str):
        self.title = title
        self.results: list[tuple[bool, str]] = []

    def check(self, passed: bool, what: str, detail: str = "") -> bool:
        self.results.append((bool(passed), what))
        say(f"{'PASS' if passed else 'FAIL'}  {what}" + (f"  ({detail})" if detail else ""))
        return bool(passed)

    def fail(self, what: str) -> None:
        self.check(False, what)

    @property
    def passed(self) -> bool:
        return bool(self.results) and all(ok for ok, _ in self.results)

    def summary(self) -> int:
        failed = [what for ok, what in self.results if not ok]
        say(f"== {self.title}: {len(self.results) - len(failed)} of {len(self.results)} passed")
        for what in failed:
            say(f"   failed: {what}")
        return 0 if self.passed else 1


def stop_process(process: subprocess.Popen | None, timeout: float = 20) -> None:
    """SIGTERM, then SIGKILL to its process group if it lingers."""
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def app_env(database_url: str, **extra: str) -> dict[str, str]:
    """Production settings for the app (as README's Deploy section gives them)."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "DATABASE_"))}
    clean.pop("REDIS_URL", None)
    return {
        **clean,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "cluster-test-only-" + "not-a-production-secret-" * 2,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_BEHIND_TLS_PROXY": "true",
        "DJANGO_LOG_LEVEL": "WARNING",
        # Management commands and the replica's one gunicorn keep a cache per process; the two
        # app servers get REDIS_URL (extra), which takes precedence.
        "DJANGO_LOCAL_CACHE": "true",
        "DATABASE_URL": database_url,
        **extra,
    }


def manage(*args: str, env: dict[str, str]) -> str:
    """A management command; its output, or ClusterError with its last lines."""
    done = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    if done.returncode != 0:
        raise ClusterError(f"manage.py {' '.join(args)} failed:\n{done.stderr[-2000:]}")
    return done.stdout


def prepare_site(env: dict[str, str]) -> None:
    """Tables, the demo's deep dive (one compound with its evidence) and the static files."""
    say("== migrate, load_demo --deep-dive-only, collectstatic")
    manage("migrate", "--no-input", "-v0", env=env)
    manage("load_demo", "--deep-dive-only", env=env)
    manage("collectstatic", "--no-input", "-v0", env=env)


CREATE_ADMIN = """
import os
from django.contrib.auth import get_user_model
get_user_model().objects.create_superuser(
    os.environ["CLUSTER_ADMIN"], "synthetic-admin@example.com", os.environ["CLUSTER_PASSWORD"]
)
"""


def create_admin(env: dict[str, str]) -> tuple[str, str]:
    """A superuser with a TOTP device (production asks staff for a code): (password, secret)."""
    password = "Synthetic-" + os.urandom(12).hex()
    admin_env = {**env, "CLUSTER_ADMIN": ADMIN_USERNAME, "CLUSTER_PASSWORD": password}
    manage("shell", "-c", CREATE_ADMIN, env=admin_env)
    out = manage("enrol_two_factor", ADMIN_USERNAME, env=env)
    uri = next((line for line in out.splitlines() if line.startswith("otpauth://")), None)
    if uri is None:
        raise ClusterError("enrol_two_factor printed no otpauth:// URI")
    return password, totp_secret(uri)


class Gunicorn(Managed):
    """The app under gunicorn (config/gunicorn.py, as deployed) on a free loopback port; its
    access and error log go to `log_path`."""

    def __init__(self, name: str, env: dict[str, str], log_dir: Path, workers: int = 1):
        self.name = name
        self.port = free_port()
        self.env = {
            **env,
            "GUNICORN_BIND": f"127.0.0.1:{self.port}",
            "WEB_CONCURRENCY": str(workers),
        }
        self.log_path = log_dir / f"gunicorn-{name}.log"
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        with self.log_path.open("w") as log:
            self.process = subprocess.Popen(
                [str(BIN / "gunicorn"), "-c", "config/gunicorn.py", "config.wsgi"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # Ctrl-C reaches us, and we stop it in order
            )

        def answers() -> bool:
            if self.process.poll() is not None:
                raise ClusterError(f"gunicorn {self.name} exited:\n{self.log_tail()}")
            return self.client().get("/healthz").status == 200

        wait_for(answers, 60, f"gunicorn {self.name} answering /healthz")
        say(f"== gunicorn {self.name} on 127.0.0.1:{self.port}")

    def stop(self) -> None:
        stop_process(self.process)
        self.process = None

    def client(self) -> Client:
        return Client(self.port, timeout=30, headers=PROXY_HEADERS)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log().splitlines()[-lines:])


def log_in(client: Client, password: str, secret: str) -> Response:
    """Through the admin's two-factor login form; ClusterError unless it lets us in."""
    try:
        return admin_login(
            client, ADMIN_USERNAME, password, secret, lambda kind, send, path, expect: send()
        )
    except ValueError as exc:
        raise ClusterError(str(exc)) from exc


def edit_summary(client: Client, compound_id: int, summary: str) -> Response:
    """Save a compound's summary through the admin's change form, as an editor would."""
    path = f"/admin/evidence/compound/{compound_id}/change/"
    page = client.get(path)
    if page.status != 200:
        raise ClusterError(f"GET {path} answered {page.status}")
    fields = set_field(parse_form(page.text, "compound_form"), "summary", summary)
    fields = set_field(fields, "public_reason", "Synthetic edit by make cluster-test.")
    response = client.post_form(path, [*fields, ("_save", "Save")], referer=path)
    if response.status != 302:
        raise ClusterError(f"POST {path} answered {response.status}: {error_text(response.text)}")
    return response
