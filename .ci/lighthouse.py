"""Lighthouse on the main pages: `make audit-pages` (and .ci/run). Writes docs/audit.md.

What it does:

1. A fresh SQLite database in a temporary folder, migrated and filled by `manage.py
   load_demo` (the Thymosin alpha-1 deep dive and the pinned open dataset), static files
   collected (whitenoise serves them, compressed, with far-future caching, as in production).
2. gunicorn on a free loopback port with production settings (DEBUG off), except that plain
   http is served as it is: no redirect to https, no secure-only cookies, no HSTS. Lighthouse
   counts http on a loopback address as secure.
3. Lighthouse (node_modules/.bin/lighthouse, pinned in package-lock.json: `npm ci`) with
   Debian's Chromium (CHROME_PATH, default /usr/bin/chromium) on every page in PAGES, with its
   mobile preset (the default: a mid-range phone, simulated slow 4G) and its desktop preset.
4. Accessibility, best practices and SEO must score at least MINIMUM on every page and preset;
   performance (timing-based, noisy on a shared machine) and the bytes each page downloads are
   recorded but not asserted. The table goes to docs/audit.md, each full report to
   artifacts/lighthouse/ (git-ignored), and the audits that cost points are listed.

Exit status 0 when every asserted score is met, 1 when one is not, 2 when the audit could not
run (no Lighthouse, no Chromium, the server did not start). gunicorn is stopped on every path.
"""

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIGHTHOUSE = ROOT / "node_modules" / ".bin" / "lighthouse"
CHROME = Path(os.environ.get("CHROME_PATH", "/usr/bin/chromium"))
REPORT = ROOT / "docs" / "audit.md"
ARTIFACTS = ROOT / "artifacts" / "lighthouse"
MINIMUM = 95
ASSERTED = ("accessibility", "best-practices", "seo")
CATEGORIES = ("performance", *ASSERTED)
PAGES = {
    "Home (stack builder)": "/",
    "Builder with a goal": "/?goals=liver-health",
    "Goal": "/goals/liver-health/",
    "Compound": "/compounds/thymosin-alpha-1/",
    "Evidence": "/compounds/thymosin-alpha-1/evidence/liver-health/",
    "Methodology": "/methodology/",
    "Research article": "/research/thymosin-alpha-1-for-liver-health/",
}
PRESETS = ("mobile", "desktop")
TRIES = 3
CHROME_FLAGS = "--headless=new --no-sandbox --disable-gpu --disable-dev-shm-usage"


class AuditError(Exception):
    """The audit cannot run (no Lighthouse, no Chromium, no server)."""


def say(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def app_env(database_url: str) -> dict[str, str]:
    """Production settings on plain http: Lighthouse talks to gunicorn directly."""
    return {
        **os.environ,
        "DJANGO_DEBUG": "false",
        "DJANGO_SECRET_KEY": "lighthouse-audit-only",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_SSL_REDIRECT": "false",
        "DJANGO_SECURE_COOKIES": "false",
        "DJANGO_HSTS_SECONDS": "0",
        "DJANGO_LOCAL_CACHE": "true",  # one gunicorn, audited page by page
        "DATABASE_URL": database_url,
    }


def manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", *args], cwd=ROOT, env=env, stdout=sys.stderr, check=True
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_until_up(base: str, server: subprocess.Popen, log: Path) -> None:
    deadline = time.monotonic() + 60
    while True:
        if server.poll() is not None:
            raise AuditError(f"gunicorn exited at start-up:\n{log.read_text()[-2000:]}")
        try:
            with urllib.request.urlopen(f"{base}/healthz", timeout=5):
                return
        except OSError:
            if time.monotonic() > deadline:
                tail = log.read_text()[-2000:]
                raise AuditError(f"gunicorn did not answer in 60 s:\n{tail}") from None
            time.sleep(0.3)


def lighthouse(url: str, preset: str, output: Path) -> dict:
    """One page's JSON report.

    Up to TRIES runs with every category. Chromium 156 with Lighthouse 12 now and then records
    a page-load trace without its navigation start (NO_NAVSTART); only the performance category
    needs that trace, and it is recorded, not asserted. So when every try fails that way, a last
    run audits the asserted categories alone and the table says performance was not measured.
    """
    problem = ""
    for attempt in range(1, TRIES + 1):
        report, problem = run_lighthouse(url, preset, output, CATEGORIES)
        if report is not None:
            return report
        say(f"!! Lighthouse failed on {url} ({preset}), attempt {attempt}: {problem}")
    if "NO_NAVSTART" in problem:
        say(f"!! {url} ({preset}): the asserted categories alone, performance not measured")
        report, problem = run_lighthouse(url, preset, output, ASSERTED)
        if report is not None:
            return report
        say(f"!! Lighthouse failed on {url} ({preset}) without performance: {problem}")
    raise AuditError(f"Lighthouse could not audit {url} ({preset})")


def run_lighthouse(
    url: str, preset: str, output: Path, categories: tuple[str, ...]
) -> tuple[dict | None, str]:
    """One Lighthouse run: its report, or None and what went wrong."""
    output.unlink(missing_ok=True)
    command = [
        str(LIGHTHOUSE),
        url,
        "--output=json",
        f"--output-path={output}",
        f"--only-categories={','.join(categories)}",
        f"--chrome-flags={CHROME_FLAGS}",
        "--max-wait-for-load=60000",
        "--quiet",
    ]
    if preset == "desktop":
        command.append("--preset=desktop")
    env = {**os.environ, "CHROME_PATH": str(CHROME)}
    try:
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    except subprocess.TimeoutExpired:
        return None, "no report in 300 s"
    if done.returncode == 0 and output.exists():
        report = json.loads(output.read_text())
        if not report.get("runtimeError"):
            return report, ""
        return None, report["runtimeError"].get("message", "runtime error")
    return None, (done.stderr or done.stdout)[-1500:]


def summarise(report: dict) -> dict:
    """The four scores (0-100, None when Lighthouse could not score), the bytes downloaded,
    and for each asserted category the audits that cost it points."""
    categories = report["categories"]
    scores = {
        name: None
        if name not in categories or categories[name]["score"] is None
        else round(categories[name]["score"] * 100)
        for name in CATEGORIES
    }
    audits = report["audits"]
    lost = {}
    for name in ASSERTED:
        lost[name] = [
            f"{ref['id']}: {audits[ref['id']]['title']}"
            for ref in categories[name]["auditRefs"]
            if ref["weight"] > 0 and audits[ref["id"]]["score"] not in (None, 1)
        ]
    weight = audits.get("total-byte-weight", {}).get("numericValue")
    return {"scores": scores, "bytes": None if weight is None else int(weight), "lost": lost}


def write_report(results: list[dict], started: datetime) -> None:
    lighthouse_version = json.loads(
        (ROOT / "node_modules" / "lighthouse" / "package.json").read_text()
    )["version"]
    lines = [
        "# Page audit: Lighthouse",
        "",
        f"Written by `make audit-pages` (.ci/lighthouse.py) on {started:%Y-%m-%d %H:%M} UTC with",
        f"Lighthouse {lighthouse_version} and Debian's Chromium, against gunicorn with production",
        "settings and the demo data (`manage.py load_demo`) on loopback. The mobile preset is",
        "Lighthouse's default (a mid-range phone on simulated slow 4G); desktop is its desktop",
        "preset.",
        "",
        f"Accessibility, best practices and SEO must each score at least {MINIMUM} on every page",
        "and preset: .ci/run fails otherwise. Performance is timing-based and this machine is",
        "shared, so it is recorded, not asserted. Bytes: everything the page downloaded",
        "(Lighthouse's total byte weight, compressed sizes as transferred). Performance and",
        f"bytes read n/a when Chromium recorded no usable page-load trace in {TRIES} tries; the",
        "asserted categories were then audited on their own.",
        "",
        "The axe-core audit of every page type at desktop and phone width is a test:",
        "tests/browser/test_accessibility.py.",
        "",
        "| Page | Preset | Performance | Accessibility | Best practices | SEO | Bytes |",
        "| --- | --- | ---: | ---: | ---: | ---: | ---: |",
    ]
    for row in results:
        s = row["scores"]
        cells = [
            f"{row['page']} (`{row['path']}`)",
            row["preset"],
            *(str(s[name]) if s[name] is not None else "n/a" for name in CATEGORIES),
            f"{row['bytes']:,}" if row["bytes"] is not None else "n/a",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    failing = [row for row in results if row["failing"]]
    lines += ["", "## Below the minimum", ""]
    if not failing:
        lines.append(f"Nothing: every asserted score is at least {MINIMUM}.")
    for row in failing:
        for name in row["failing"]:
            lines.append(f"* {row['page']} ({row['preset']}), {name} {row['scores'][name]}:")
            lines += [f"  * {audit}" for audit in row["lost"][name]]
    REPORT.write_text("\n".join(lines) + "\n", encoding="utf-8")


def run() -> int:
    if not LIGHTHOUSE.exists():
        raise AuditError(f"Lighthouse is not installed at {LIGHTHOUSE}: run `npm ci`")
    if not CHROME.exists():
        raise AuditError(f"Chromium not found at {CHROME}: apt-get install chromium")
    started = datetime.now(UTC)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="lighthouse-") as folder:
        env = app_env(f"sqlite:///{folder}/audit.sqlite3")
        say("== migrate, load_demo, collectstatic")
        manage("migrate", "--no-input", "-v0", env=env)
        manage("load_demo", env=env)
        manage("collectstatic", "--no-input", "-v0", env=env)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        log = Path(folder) / "gunicorn.log"
        say(f"== gunicorn on {base}")
        with log.open("w") as log_file:
            server = subprocess.Popen(
                [
                    str(Path(sys.executable).parent / "gunicorn"),
                    "config.wsgi",
                    f"--bind=127.0.0.1:{port}",
                    "--workers=2",
                    "--timeout=120",
                    "--error-logfile=-",
                ],
                cwd=ROOT,
                env=env,
                stdout=log_file,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        try:
            wait_until_up(base, server, log)
            results = []
            for page, path in PAGES.items():
                for preset in PRESETS:
                    say(f"== Lighthouse: {page} ({path}), {preset}")
                    slug = path.strip("/").replace("/", "_").replace("?", "_") or "home"
                    output = ARTIFACTS / f"{slug}-{preset}.json"
                    summary = summarise(lighthouse(base + path, preset, output))
                    failing = [
                        name
                        for name in ASSERTED
                        if summary["scores"][name] is None or summary["scores"][name] < MINIMUM
                    ]
                    results.append(
                        {"page": page, "path": path, "preset": preset, "failing": failing} | summary
                    )
                    say(f"   {summary['scores']}, {summary['bytes']} bytes")
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
    write_report(results, started)
    say(f"== written to {REPORT.relative_to(ROOT)}")
    failing = [row for row in results if row["failing"]]
    for row in failing:
        for name in row["failing"]:
            say(f"!! {row['page']} ({row['preset']}): {name} {row['scores'][name]} < {MINIMUM}")
            for audit in row["lost"][name]:
                say(f"     {audit}")
    return 1 if failing else 0


if __name__ == "__main__":
    try:
        sys.exit(run())
    except AuditError as exc:
        say(f"!! {exc}")
        sys.exit(2)
    except KeyboardInterrupt:
        sys.exit(130)
