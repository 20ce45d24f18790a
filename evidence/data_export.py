"""The public download offered at /data/: the knowledge base as visitors see it, in the
interchange format (evidence.interchange, `export_document(public=True)`), built ahead of
time by `manage.py build_data_export` (load_demo runs it; a deploy or a cron job runs it
after content changes), never per request.

A build writes, into settings.DATA_EXPORT_ROOT:

* the document, under a name holding its checksum (`evidence-stack-builder-<sha256>.json`),
  so a build never overwrites the file a visitor is downloading;
* then `manifest.json` (written to a temporary name and renamed, so a reader sees the old
  manifest or the new one, never half of one): the file's name, size and SHA-256, when it
  was built, from which content version, how many entries it holds, and every source it
  contains with its licence and attribution;
* then removes the documents of earlier builds.

The content version is read before the document and again after it: if an edit came in
between, the build starts again (at most BUILD_ATTEMPTS times), so the manifest never names a
version newer than the document it describes.
"""

import hashlib
import json
import os
import tempfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.utils import timezone

from evidence.cache import content_version
from evidence.interchange import FORMAT, VERSION, dumps, export_document

MANIFEST = "manifest.json"
PREFIX = "evidence-stack-builder-"
DOWNLOAD_NAME = "evidence-stack-builder.json"
BUILD_ATTEMPTS = 3
# The sections whose entries the page counts, each with the name of one entry.
COUNTED = {
    "goals": "goal",
    "compounds": "compound",
    "ratings": "rating",
    "sources": "source",
    "studies": "study",
    "articles": "article",
    "vendors": "vendor",
}


@dataclass(frozen=True)
class Manifest:
    file: str
    bytes: int
    sha256: str
    built_at: datetime
    content_version: int
    format: str
    format_version: int
    counts: dict[str, int]
    sources: list[dict]

    @property
    def path(self) -> Path:
        return export_root() / self.file

    def counted(self) -> list[str]:
        """What the document holds, in words: "55 goals", "1 rating"."""
        return [
            f"{n:,} {COUNTED.get(section, section) if n == 1 else section}"
            for section, n in self.counts.items()
        ]


def export_root() -> Path:
    return Path(settings.DATA_EXPORT_ROOT)


def build() -> Manifest:
    """Build the public download and its manifest (see the module's docstring)."""
    for _ in range(BUILD_ATTEMPTS):
        version = content_version()
        document = export_document(public=True)
        if content_version() == version:
            break
    content = dumps(document).encode()
    sha256 = hashlib.sha256(content).hexdigest()
    root = export_root()
    root.mkdir(parents=True, exist_ok=True)
    name = f"{PREFIX}{sha256}.json"
    _write_atomically(root / name, content)
    manifest = Manifest(
        file=name,
        bytes=len(content),
        sha256=sha256,
        built_at=timezone.now().replace(microsecond=0),
        content_version=version,
        format=FORMAT,
        format_version=VERSION,
        counts={section: len(document[section]) for section in COUNTED},
        sources=document["sources"],
    )
    record = {**manifest.__dict__, "built_at": manifest.built_at.isoformat()}
    _write_atomically(root / MANIFEST, json.dumps(record, indent=2).encode())
    for old in root.glob(f"{PREFIX}*.json"):
        if old.name != name:
            old.unlink(missing_ok=True)
    return manifest


def read_manifest() -> Manifest | None:
    """The last build's manifest, or None when nothing was built yet (or it is unreadable)."""
    try:
        record = json.loads((export_root() / MANIFEST).read_text(encoding="utf-8"))
        record["built_at"] = datetime.fromisoformat(record["built_at"]).astimezone(UTC)
        return Manifest(**record)
    except (OSError, ValueError, TypeError, KeyError):
        return None


def _write_atomically(path: Path, content: bytes) -> None:
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".building-")
    try:
        with os.fdopen(handle, "wb") as f:
            f.write(content)
        os.chmod(temporary, 0o644)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
