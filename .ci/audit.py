"""Audit the locked dependencies for known vulnerabilities: `make audit` (and .ci/run).

Runs pip-audit on requirements/lock.txt and requirements/dev-lock.txt (pinned, hashed: no
install, no resolution) against its default service, PyPI's vulnerability data. Fails on
any known vulnerability unless requirements/audit-ignore.txt lists it, each line an ID, the
date it was added (YYYY-MM-DD) and why it does not apply or cannot be fixed yet; a malformed
line fails too, and an entry older than REVIEW_DAYS is named for review.

A dependency pip-audit could not look up (its PyPI answered no data for that release) is
listed and counted, not failed: a package index mirror without PyPI's per-release JSON would
otherwise fail every run. The summary says how many were audited.
"""

import json
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LOCKS = [ROOT / "requirements" / "lock.txt", ROOT / "requirements" / "dev-lock.txt"]
IGNORE_FILE = ROOT / "requirements" / "audit-ignore.txt"
IGNORE_LINE = re.compile(
    r"^(?P<id>[A-Za-z0-9][\w.-]*)\s+(?P<date>\d{4}-\d{2}-\d{2})\s+(?P<why>\S.*)$"
)
REVIEW_DAYS = 90


def read_ignores() -> dict[str, date]:
    ignores, bad = {}, []
    for number, line in enumerate(IGNORE_FILE.read_text(encoding="utf-8").splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        match = IGNORE_LINE.match(line)
        try:
            added = date.fromisoformat(match["date"]) if match else None
        except ValueError:
            added = None
        if added is None:
            bad.append(f"{IGNORE_FILE.name}:{number}: want 'ID YYYY-MM-DD why', got {line!r}")
            continue
        ignores[match["id"]] = added
    if bad:
        sys.exit("\n".join(bad))
    return ignores


def main() -> int:
    ignores = read_ignores()
    command = [
        sys.executable, "-m", "pip_audit", "--disable-pip", "--require-hashes",
        "--format", "json", "--progress-spinner", "off",
        *(arg for lock in LOCKS for arg in ("-r", str(lock))),
        *(arg for vuln in sorted(ignores) for arg in ("--ignore-vuln", vuln)),
    ]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True)
    try:
        report = json.loads(done.stdout)
    except json.JSONDecodeError:
        print(done.stdout, done.stderr, sep="\n", file=sys.stderr)
        print("!! pip-audit gave no report", file=sys.stderr)
        return 1
    dependencies = report["dependencies"]
    skipped = [d for d in dependencies if "skip_reason" in d]
    found = [(d, v) for d in dependencies for v in d.get("vulns", [])]
    for dep, vuln in found:
        fixes = ", ".join(vuln.get("fix_versions", [])) or "no fixed release yet"
        print(f"!! {dep['name']} {dep['version']}: {vuln['id']} (fixed in: {fixes})")
    for vuln, added in sorted(ignores.items()):
        if (date.today() - added).days > REVIEW_DAYS:
            print(f"   review: {vuln} has been ignored since {added} ({IGNORE_FILE.name})")
    if skipped:
        names = ", ".join(d["name"] for d in skipped)
        print(f"   not audited (no vulnerability data from the service): {names}")
    audited = len(dependencies) - len(skipped)
    print(
        f"== pip-audit: {audited} of {len(dependencies)} locked packages audited, "
        f"{len(found)} known vulnerabilities, {len(ignores)} ignored by {IGNORE_FILE.name}"
    )
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
