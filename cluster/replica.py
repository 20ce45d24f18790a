"""A PostgreSQL primary and its streaming replica on loopback, with the app reading from both.

    python cluster/replica.py        (or `make cluster-test`, which also runs two_apps.py)

1. A primary cluster (initdb in a temporary folder, a free port, wal_level=replica, a
   replication user allowed from 127.0.0.1) and a hot standby made from it with
   `pg_basebackup -R` on another port. Both log every statement (log_statement=all) to their
   own file, each line naming the client's application_name, so the app's queries can be
   counted per server.
2. migrate and the demo's deep dive on the primary, an admin with a TOTP device, then gunicorn
   (production settings) with DATABASE_URL on the primary and DATABASE_REPLICA_URL on the
   replica.
3. The checks (each printed PASS or FAIL): a public page is read on the replica only; an admin
   edit is written on the primary, the admin reading nothing on the replica; the edit shows on
   the public page once replayed; with replay paused, an edit on the primary leaves the public
   page at its old content, and once replay resumes the page shows the edit (had the old page
   been cached under the new content version, it would still show); with the replica
   stopped, public pages answer 200 from the primary and the outage is logged once; with it
   started again, reads return to it after the back-off.

Everything runs in one temporary folder; both clusters and gunicorn are stopped and the folder
removed on every exit path. Exit status 0 only when every check passed.
"""

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import psycopg
from servers import (
    ROOT,
    Checks,
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
    wait_for,
)

sys.path.insert(0, str(ROOT))
from config.replica import BACKOFF_SECONDS  # noqa: E402

PG_BIN = Path(os.environ.get("PG_BIN", "/usr/lib/postgresql/15/bin"))
DATABASE = "wtcluster_replica"
APP_NAME = "evidence-stack-builder"  # settings' application_name, in every log line
REPLICATION_USER = "replicator"


def as_postgres(*args: str) -> list[str]:
    """initdb and postgres refuse to run as root: as the postgres user when we are root."""
    return ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)


def run(*args: str) -> None:
    done = subprocess.run(as_postgres(*args), capture_output=True, text=True, timeout=300)
    if done.returncode != 0:
        raise ClusterError(f"{Path(args[0]).name} failed:\n{done.stdout}{done.stderr}"[-2000:])


class PostgresCluster(Managed):
    """A PostgreSQL cluster of our own under `base`: a new primary, or (given `primary`) a
    hot standby streaming from it. Stopped on exit; the folder goes with `base`."""

    def __init__(self, name: str, base: Path, primary: "PostgresCluster | None" = None):
        self.name = name
        self.base = base
        self.primary = primary
        self.data = base / name
        self.port = free_port()
        self.log_path = base / f"{name}.log"
        self.running = False

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{DATABASE}"

    def start(self) -> None:
        if self.primary is None:
            run(str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "-A", "trust",
                "--no-sync")  # fmt: skip
            with (self.data / "pg_hba.conf").open("a") as hba:
                hba.write(f"host replication {REPLICATION_USER} 127.0.0.1/32 trust\n")
        else:
            run(str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.primary.port),
                "-U", REPLICATION_USER, "-D", str(self.data), "-R", "-X", "stream",
                "--checkpoint=fast", "--no-sync")  # fmt: skip
        with (self.data / "postgresql.conf").open("a") as conf:
            # Later lines win: the standby's copy of the primary's settings gets its own port.
            conf.write(
                f"\n# make cluster-test ({self.name})\n"
                f"port = {self.port}\n"
                "listen_addresses = '127.0.0.1'\n"
                f"unix_socket_directories = '{self.base}'\n"
                "wal_level = replica\n"
                "max_wal_senders = 5\n"
                "hot_standby = on\n"
                "fsync = off\n"  # a throwaway cluster
                "log_statement = 'all'\n"
                "log_line_prefix = '%m [%p] app=%a db=%d '\n"
            )
        self.start_server()
        if self.primary is None:
            with self.connect("postgres") as conn:
                conn.execute(f"CREATE ROLE {REPLICATION_USER} WITH REPLICATION LOGIN")
                conn.execute(f"CREATE DATABASE {DATABASE}")
        say(f"== PostgreSQL {self.name} on 127.0.0.1:{self.port}")

    def start_server(self) -> None:
        run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-l", str(self.log_path), "-w",
            "start")  # fmt: skip
        self.running = True

    def stop_server(self) -> None:
        if self.running:
            run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")
            self.running = False

    def stop(self) -> None:
        try:
            self.stop_server()
        except ClusterError:
            run(str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-m", "immediate", "stop")
            self.running = False

    def connect(self, dbname: str = DATABASE) -> psycopg.Connection:
        return psycopg.connect(
            host="127.0.0.1", port=self.port, user="postgres", dbname=dbname, autocommit=True
        )

    def value(self, sql: str, *params):
        with self.connect() as conn:
            return conn.execute(sql, params).fetchone()[0]

    # The statement log: what the app ran here since a mark.

    def mark(self) -> int:
        return self.log_path.stat().st_size

    def app_statements(self, since: int) -> list[str]:
        with self.log_path.open("rb") as log:
            log.seek(since)
            lines = log.read().decode(errors="replace").splitlines()
        return [
            line
            for line in lines
            if f"app={APP_NAME} " in line and ("statement: " in line or "execute " in line)
        ]


def caught_up(primary: PostgresCluster, replica: PostgresCluster) -> bool:
    """The replica has replayed everything the primary has written so far."""
    target = primary.value("SELECT pg_current_wal_lsn()::text")
    return replica.value("SELECT pg_last_wal_replay_lsn() >= %s::pg_lsn", target)


def count(what: list[str]) -> str:
    return f"{len(what)} statement{'s' if len(what) != 1 else ''}"


def main() -> int:
    stop_on_signals()
    checks = Checks("read replica (cluster/replica.py)")
    with tempfile.TemporaryDirectory(prefix="wtcluster-replica-") as tmp:
        base = Path(tmp)
        if os.geteuid() == 0:
            shutil.chown(base, "postgres", "postgres")
        try:
            with (
                PostgresCluster("primary", base) as primary,
                PostgresCluster("replica", base, primary=primary) as replica,
            ):
                check_replica(checks, primary, replica, base)
        except ClusterError as error:
            checks.fail(f"the run reached its end ({error})")
    return checks.summary()


def check_replica(
    checks: Checks, primary: PostgresCluster, replica: PostgresCluster, base: Path
) -> None:
    checks.check(replica.value("SELECT pg_is_in_recovery()"), "the replica is a hot standby")
    streaming = primary.value("SELECT count(*) FROM pg_stat_replication WHERE state='streaming'")
    checks.check(streaming == 1, "the primary streams to the replica", f"{streaming} standby")

    primary_env = app_env(primary.url)
    prepare_site(primary_env)
    password, secret = create_admin(primary_env)
    compound_id, slug = primary.value(
        "SELECT array[id::text, slug] FROM evidence_compound WHERE published ORDER BY id LIMIT 1"
    )
    wait_for(lambda: caught_up(primary, replica), 60, "the replica replaying the demo data")

    env = app_env(primary.url, DATABASE_REPLICA_URL=replica.url)
    with Gunicorn("replica", env, base) as app:
        page = f"/compounds/{slug}/"

        def public_page():
            return app.client().get(page)  # a visitor without cookies

        # Public reads on the replica.
        marks = primary.mark(), replica.mark()
        response = public_page()
        on_primary, on_replica = primary.app_statements(marks[0]), replica.app_statements(marks[1])
        checks.check(
            response.status == 200 and on_replica and not on_primary,
            "a public page is read on the replica only",
            f"{response.status}; {count(on_replica)} on the replica, {count(on_primary)} on "
            "the primary",
        )
        checks.check(
            any("evidence_contentversion" in line for line in on_replica),
            "the content version is read on the replica with the page",
        )
        health = app.client().get("/healthz")
        checks.check(
            health.status == 200 and json.loads(health.text).get("replica") == "ok",
            "/healthz reports the replica answering",
            f"{health.status} {health.text}",
        )

        # An admin edit, on the primary.
        admin = app.client()
        first = f"Synthetic summary {uuid.uuid4().hex[:8]} (make cluster-test)."
        marks = primary.mark(), replica.mark()
        log_in(admin, password, secret)
        edit_summary(admin, int(compound_id), first)
        on_primary, on_replica = primary.app_statements(marks[0]), replica.app_statements(marks[1])
        checks.check(
            any("UPDATE" in line and "evidence_compound" in line for line in on_primary),
            "an admin edit is written on the primary",
        )
        checks.check(
            not on_replica, "the admin (login, form, save) reads nothing on the replica",
            count(on_replica),
        )  # fmt: skip

        marks = primary.mark(), replica.mark()
        staff_view = admin.get(page)
        on_primary, on_replica = primary.app_statements(marks[0]), replica.app_statements(marks[1])
        checks.check(
            staff_view.status == 200 and first in staff_view.text and not on_replica,
            "a signed-in staff member's public page is read on the primary, with their edit",
            f"{count(on_primary)} on the primary, {count(on_replica)} on the replica",
        )

        wait_for(lambda: caught_up(primary, replica), 30, "the replica replaying the edit")
        replayed = public_page()
        checks.check(first in replayed.text, "the edit shows on the public page once replayed")

        # A lagging replica: replay paused, an edit on the primary.
        replica.value("SELECT pg_wal_replay_pause()")
        wait_for(
            lambda: replica.value("SELECT pg_get_wal_replay_pause_state()") == "paused",
            10,
            "replay pausing",
        )
        second = f"Synthetic summary {uuid.uuid4().hex[:8]}, edited while the replica lags."
        edit_summary(admin, int(compound_id), second)
        time.sleep(0.5)
        lagging = public_page()
        checks.check(
            not caught_up(primary, replica) and lagging.status == 200,
            "with replay paused the replica lags behind the edit",
        )
        checks.check(
            first in lagging.text and second not in lagging.text,
            "meanwhile the public page shows the replica's own (older) content",
        )
        # The ETag is a hash of the page's cache key, content version included.
        checks.check(
            "etag" in lagging.headers and lagging.headers["etag"] == replayed.headers.get("etag"),
            "under the replica's own (older) content version (same ETag as before the edit)",
        )
        replica.value("SELECT pg_wal_replay_resume()")
        wait_for(lambda: caught_up(primary, replica), 30, "the replica replaying after resume")
        resumed = public_page()
        checks.check(
            second in resumed.text,
            "once replay resumes the page shows the edit: no old page was cached under the "
            "new content version",
        )
        checks.check(
            resumed.headers.get("etag") not in (None, replayed.headers.get("etag")),
            "and under the new content version (a new ETag)",
        )

        # The replica stopped: the primary answers, the outage logged once.
        replica.stop_server()
        marks = primary.mark(), None
        answers = [public_page() for _ in range(3)]
        checks.check(
            all(r.status == 200 and second in r.text for r in answers),
            "with the replica stopped, public pages answer 200 (from the primary)",
            ", ".join(str(r.status) for r in answers),
        )
        checks.check(bool(primary.app_statements(marks[0])), "those pages were read on the primary")
        health = app.client().get("/healthz")
        checks.check(
            health.status == 200 and json.loads(health.text).get("replica") == "unavailable",
            "/healthz reports the replica down and still answers 200 (the primary serves)",
            f"{health.status} {health.text}",
        )
        outages = app.log().count("replica unavailable")
        checks.check(outages == 1, "the outage is logged once, not per request", f"{outages}x")

        # The replica back: reads return to it after the back-off.
        replica.start_server()
        time.sleep(BACKOFF_SECONDS + 0.5)
        mark = replica.mark()
        back = public_page()
        checks.check(
            back.status == 200 and bool(replica.app_statements(mark)),
            f"with the replica started again, public reads return to it after the "
            f"{BACKOFF_SECONDS:.0f} s back-off",
        )
        checks.check("replica available again" in app.log(), "its return is logged")


if __name__ == "__main__":
    try:
        sys.exit(main())
    except KeyboardInterrupt:
        say("interrupted; everything started was stopped")
        sys.exit(130)
