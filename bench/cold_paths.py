"""The uncached cost of each benchmarked endpoint, measured in-process.

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench_large .venv/bin/python bench/cold_paths.py

The cache is cleared before every request, so each one does the full work (ranking,
rendering); the median of 15 requests per endpoint is printed. The builder is asked with the
one, three and five most-rated goals; the lists API with its filters and a deep page.
`make bench` measures the served, cached path; this measures what a visitor with an uncommon
query meets.
"""

import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
os.environ.update(
    DJANGO_DEBUG="false", DJANGO_SECURE_SSL_REDIRECT="false", DJANGO_LOCAL_CACHE="true"
)
os.environ.setdefault("DJANGO_SECRET_KEY", "cold-paths-measurement-only")
os.environ.setdefault("DJANGO_ALLOWED_HOSTS", "testserver")

import django  # noqa: E402

django.setup()

from django.core.cache import cache  # noqa: E402
from django.db.models import Count  # noqa: E402
from django.test import Client  # noqa: E402

from evidence.models import Finding, Goal  # noqa: E402

REPEATS = 15


def list_pages(client: Client, url: str) -> int:
    """The number of pages of a list of the lists API."""
    return client.get(url, secure=True).json()["pages"]


def main() -> None:
    client = Client()
    goals = list(Goal.objects.annotate(n=Count("ratings")).order_by("-n", "slug")[:5])
    top = goals[0]
    heaviest = (
        Finding.objects.filter(goal=top)
        .values("compound__slug")
        .annotate(n=Count("id"))
        .order_by("-n", "compound__slug")
        .first()["compound__slug"]
    )
    urls = {
        **{
            f"builder, {n} goal{'s' if n > 1 else ''}": "/?"
            + "&".join(f"goals={g.slug}" for g in goals[:n])
            for n in (1, 3, 5)
            if n <= len(goals)
        },
        "goal page": f"/goals/{top.slug}/",
        "ranking API": f"/api/goals/{top.slug}/ranking/",
        "stack API": "/api/stack/?" + "&".join(f"goals={g.slug}" for g in goals[:3]),
        "evidence page": f"/compounds/{heaviest}/evidence/{top.slug}/",
        "search": "/compounds/?q=Synthetic+compound+0506",
        # The lists API's shapes as bench/coldmix.py draws them; a deep page near the end.
        "compounds by goal": f"/api/compounds/?goal={top.slug}",
        "compounds, deep": f"/api/compounds/?page={list_pages(client, '/api/compounds/')}",
        "studies by goal": f"/api/studies/?page_size=100&goal={top.slug}",
        "studies by compound": f"/api/studies/?page_size=100&compound={heaviest}",
        "studies by design": "/api/studies/?page_size=100&design=rct",
        "studies, deep": "/api/studies/?page_size=100&page="
        + str(list_pages(client, "/api/studies/?page_size=100")),
    }
    print(f"{top.slug}: {top.n} rated compounds")
    for name, url in urls.items():
        times = []
        for _ in range(REPEATS):
            cache.clear()
            started = time.perf_counter()
            response = client.get(url, secure=True)
            times.append((time.perf_counter() - started) * 1000)
            if response.status_code != 200:
                sys.exit(f"{url} answered {response.status_code}")
        print(f"{name:20} median {statistics.median(times):6.1f} ms   max {max(times):6.1f} ms")


if __name__ == "__main__":
    main()
