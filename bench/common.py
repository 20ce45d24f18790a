"""Pieces `make bench` (bench/run.py) and `make loadtest` (bench/loadtest.py) share: the app's
production environment, management commands, gunicorn on a free loopback port with its /proc
sampling (worker memory, CPU shares), and a plain GET that never follows a redirect.
"""

import http.client
import os
import re
import resource
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Self

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench-results"
BIN = Path(sys.executable).parent
WORKERS = 2
# The floor every ratio is measured against: one database round trip through the whole stack
# (gunicorn, Django's middleware), nothing else (evidence.views.healthz_database).
FLOOR_PATH = "/healthz/database"
WORKER_CLASS = "sync"
GUNICORN_TIMEOUT = 120
# Above this share of the machine used by other processes during a measurement, say so.
OTHER_CPU_LIMIT = 0.10
# The app runs as in production behind a TLS-terminating proxy (SECURE_SSL_REDIRECT is on when
# DEBUG is off): every request says it came over https, as the proxy would.
PROXY_HEADERS = {"X-Forwarded-Proto": "https"}


class BenchError(Exception):
    """The harness cannot go on (no wrk, no PostgreSQL, the server does not start...)."""


def stop_on_signals() -> None:
    """SIGTERM and SIGINT raise KeyboardInterrupt, so the caller's cleanup (stopping gunicorn
    and the load) runs whichever way the run is stopped, even if started with SIGINT ignored."""

    def stop(signum, frame):
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def env_int(name: str, default: int, minimum: int = 1) -> int:
    raw = os.environ.get(name, "")
    if raw == "":
        return default
    if not raw.isdigit() or int(raw) < minimum:
        raise BenchError(f"{name} must be a whole number of at least {minimum}, not {raw!r}")
    return int(raw)


def app_env(database_url: str) -> dict[str, str]:
    """Production settings for the app, on the given database."""
    return {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "bench-only",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_BEHIND_TLS_PROXY": "true",
        # Management commands are one process; a server given REDIS_URL (env) uses Redis.
        "DJANGO_LOCAL_CACHE": "true",
        "DATABASE_URL": database_url,
    }


def manage(*args: str, database_url: str) -> None:
    """A management command; its output goes to stderr, so stdout holds only the table."""
    subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=app_env(database_url),
        stdout=sys.stderr,
        check=True,
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def fetch(
    port: int, path: str, timeout: float, headers: dict[str, str] | None = None
) -> tuple[int, bytes, float]:
    """GET without following redirects: (status, body, seconds)."""
    started = time.perf_counter()
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers={**PROXY_HEADERS, **(headers or {})})
        response = conn.getresponse()
        body = response.read()
    finally:
        conn.close()
    return response.status, body, time.perf_counter() - started


def fetch_headers(port: int, path: str, timeout: float = 10.0) -> dict[str, str]:
    """The response headers of a GET (the body is read and dropped)."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path, headers=PROXY_HEADERS)
        response = conn.getresponse()
        response.read()
        return dict(response.getheaders())
    finally:
        conn.close()


def read_status(pid: int) -> dict[str, int]:
    """VmHWM and VmRSS of a process in kB (empty once it is gone)."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmHWM", "VmRSS"):
                values[key] = int(rest.split()[0])
    except (FileNotFoundError, ProcessLookupError):
        pass
    return values


@dataclass(frozen=True)
class Proc:
    pid: int
    name: str
    ppid: int
    ticks: int  # CPU time used so far (user + system), in clock ticks


def processes() -> list[Proc]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        # The name may hold spaces and parentheses: the other fields follow the last ")".
        name = stat[stat.index("(") + 1 : stat.rindex(")")]
        fields = stat.rpartition(")")[2].split()
        found.append(Proc(int(entry.name), name, int(fields[1]), int(fields[11]) + int(fields[12])))
    return found


# An access-log line of config/gunicorn.py's format ends with the request's method, path and
# protocol, its status, size and user agent, and the time the worker took for it in
# microseconds: '... "GET /compounds/ HTTP/1.1" 200 5123 "-" 41250us'.
ACCESS_LINE = re.compile(r'"[A-Z]+ (\S+) HTTP/[\d.]+" \d{3} \S+ "[^"]*" (\d+)us$')


def request_times(log_text: str, leaving_out: Sequence[str] = ()) -> list[float]:
    """The milliseconds each request logged took in its worker (not counting the time it
    waited to be accepted), in the log's order, but for requests to the paths `leaving_out`."""
    times = []
    for line in log_text.splitlines():
        found = ACCESS_LINE.search(line)
        if found and found[1] not in leaving_out:
            times.append(int(found[2]) / 1000)
    return times


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (FileNotFoundError, ProcessLookupError):
        return ""


def system_busy_ticks() -> int:
    """CPU time the whole machine spent busy since boot, in clock ticks (all cores)."""
    fields = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle + iowait
    return sum(fields[:8]) - idle


def children_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def own_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


class Managed:
    """A server as a context manager: started on entry, always stopped on exit, also when
    starting fails half-way (subclasses give start() and stop(); stop() copes with either)."""

    def __enter__(self) -> Self:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class Server(Managed):
    """gunicorn on a free port for one database; a context manager that always stops it.

    While it runs, a thread samples /proc twice a second: the peak RSS (VmHWM) of each worker,
    and the CPU time of every process serving the benchmark (gunicorn's master and workers,
    PostgreSQL's backends for this database), so a measurement can tell how much of the
    machine something else used meanwhile.

    `dataset` names the database ("database") and its URL ("url"); bench/run.py uses the
    defaults, bench/loadtest.py asks for production's worker timeout and config file
    (`extra_args`; gunicorn lets the command line override the file) and its own Redis
    (`env`: REDIS_URL). `timeout=None` leaves the worker timeout to the config file.
    """

    def __init__(
        self,
        dataset: dict,
        workers: int = WORKERS,
        worker_class: str = WORKER_CLASS,
        timeout: int | None = GUNICORN_TIMEOUT,
        extra_args: Sequence[str] = (),
        env: dict[str, str] | None = None,
    ):
        self.dataset = dataset
        self.env = dict(env or {})
        self.extra_args = list(extra_args)
        self.workers = workers
        self.worker_class = worker_class
        self.timeout = timeout
        self.port = free_port()
        self.log_path = RESULTS_DIR / f"gunicorn-{dataset['database']}.log"
        self.process: subprocess.Popen | None = None
        self.peaks_kb: dict[int, int] = {}
        self.ticks: dict[int, int] = {}  # pid -> last CPU ticks seen, for every own process
        self.worker_pids: list[int] = []
        self._backend: dict[int, bool] = {}  # postgres pid -> serves our database
        self._lock = threading.Lock()
        self._stop_sampling = threading.Event()
        self._sampler = threading.Thread(target=self._sample_loop, daemon=True)

    def start(self) -> None:
        say(f"== gunicorn on 127.0.0.1:{self.port}, {self.dataset['database']}")
        self.log_path.parent.mkdir(exist_ok=True)  # a fresh checkout has no bench-results/
        log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [
                str(BIN / "gunicorn"),
                "config.wsgi",
                f"--bind=127.0.0.1:{self.port}",
                f"--workers={self.workers}",
                f"--worker-class={self.worker_class}",
                *([f"--timeout={self.timeout}"] if self.timeout is not None else []),
                "--graceful-timeout=10",
                "--error-logfile=-",
                *self.extra_args,
            ],
            cwd=ROOT,
            env={**app_env(self.dataset["url"]), **self.env},
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,  # Ctrl-C reaches us, and we stop it in order
        )
        log.close()
        deadline = time.monotonic() + 60
        while True:
            if self.process.poll() is not None:
                raise BenchError(f"gunicorn exited at start-up:\n{self.log_tail()}")
            try:
                fetch(self.port, "/healthz", timeout=5)
                break
            except OSError:
                if time.monotonic() > deadline:
                    tail = self.log_tail()
                    raise BenchError(f"gunicorn did not answer in 60 s:\n{tail}") from None
                time.sleep(0.2)
        self.sample()
        self._sampler.start()

    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def request_times_since(self, offset: int, leaving_out: Sequence[str] = ()) -> list[float]:
        """What each request logged since the log was `offset` bytes long took in its worker,
        but for the paths `leaving_out` (config/gunicorn.py's access log; none with another
        log format)."""
        with self.log_path.open("rb") as log:
            log.seek(offset)
            return request_times(log.read().decode(errors="replace"), leaving_out)

    def log_tail(self, lines: int = 20) -> str:
        text = self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def _serves_us(self, proc: Proc) -> bool:
        if proc.pid not in self._backend:
            # A backend's title reads "postgres: 15/main: postgres bench_large 127.0.0.1(...)".
            title = cmdline(proc.pid)
            self._backend[proc.pid] = f" {self.dataset['database']} " in title
        return self._backend[proc.pid]

    def sample(self) -> None:
        if self.process is None:
            return
        master = self.process.pid
        with self._lock:
            workers = []
            for proc in processes():
                if proc.pid == master or proc.ppid == master:
                    self.ticks[proc.pid] = proc.ticks
                    if proc.ppid == master:
                        workers.append(proc.pid)
                elif proc.name == "postgres" and self._serves_us(proc):
                    self.ticks[proc.pid] = proc.ticks
            self.worker_pids = workers
            for pid in workers:
                peak = read_status(pid).get("VmHWM", 0)
                self.peaks_kb[pid] = max(peak, self.peaks_kb.get(pid, 0))

    def _sample_loop(self) -> None:
        while not self._stop_sampling.wait(0.5):
            self.sample()

    def worker_ticks(self) -> int:
        self.sample()
        with self._lock:
            return sum(self.ticks.get(pid, 0) for pid in self.worker_pids)

    def wait_idle(self, limit: float = 300) -> float:
        """Wait until the workers use no CPU for 0.3 s (wrk's leftovers are done)."""
        started = time.monotonic()
        before = self.worker_ticks()
        while time.monotonic() - started < limit:
            time.sleep(0.3)
            now = self.worker_ticks()
            if now - before <= 1:
                return time.monotonic() - started
            before = now
        raise BenchError(f"the workers were still busy {limit:.0f} s after the load stopped")

    def cpu_mark(self) -> dict:
        self.sample()
        with self._lock:
            ticks = dict(self.ticks)
        return {
            "time": time.monotonic(),
            "system": system_busy_ticks(),
            "ours": ticks,
            "children": children_seconds(),
            "self": own_seconds(),
        }

    def cpu_since(self, mark: dict) -> dict:
        """Where the machine's CPU went since the mark, as shares of its whole capacity."""
        now = self.cpu_mark()
        hz = os.sysconf("SC_CLK_TCK")
        capacity = (now["time"] - mark["time"]) * (os.cpu_count() or 1)
        server = sum(t - mark["ours"].get(pid, 0) for pid, t in now["ours"].items()) / hz
        load = now["children"] - mark["children"]  # wrk, reaped by now
        harness = now["self"] - mark["self"]
        busy = (now["system"] - mark["system"]) / hz
        other = max(0.0, busy - server - load - harness)
        return {
            "app_and_db": round(server / capacity, 3),
            "wrk": round(load / capacity, 3),
            "harness": round(harness / capacity, 3),
            "other": round(other / capacity, 3),
            "idle": round(max(0.0, 1 - busy / capacity), 3),
        }

    def wait_quiet(self, limit: float) -> float:
        """Wait (at most `limit` s) until other processes use under OTHER_CPU_LIMIT for 1 s."""
        started = time.monotonic()
        while True:
            mark = self.cpu_mark()
            time.sleep(1)
            if self.cpu_since(mark)["other"] <= OTHER_CPU_LIMIT:
                break
            if time.monotonic() - started > limit:
                break
        return round(time.monotonic() - started, 1)

    def stop(self) -> None:
        self._stop_sampling.set()
        if self._sampler.is_alive():
            self._sampler.join(timeout=2)
        process = self.process
        if process is None or process.poll() is not None:
            return
        self.sample()  # a last look at the workers' peaks before they go
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            say("!! gunicorn did not stop in 30 s; killing its process group")
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
        say(f"== gunicorn stopped (log: {self.log_path.relative_to(ROOT)})")
