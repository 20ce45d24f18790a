"""The load test's hostile clients (issue 13), run beside the normal visitors in one phase:

* the junk-parameter client: evidence pages and the heaviest builder pages (ten goals, 200
  entries a list), each asked for with random parameters no view reads (`utm_source=`,
  `fbclid=`, random names), in shuffled order and with a repeated goal now and then. Every
  URL it sends is new, yet each is one of a few pages: `JunkUrls.next` returns the page
  (`base`) beside the URL, and the cache must hold at most one entry per page and content
  version, however many URLs were sent;
* the vendor-saving client: a vendor account (staff, "Vendor accounts" group, linked to the
  vendor of one of the offers the click loops follow) re-saving its own offer through the
  admin in a loop, each save a real change (the offer's "in stock" box toggled), so each
  one would retire every cached page if nothing limited a vendor account's retirements.
"""

import random
from collections import defaultdict
from urllib.parse import urlencode

from common import PROXY_HEADERS
from webclient import Client, admin_login, error_text, get_field, parse_form, set_field

# Every query parameter a public page reads (stacks/forms.py, evidence/views.py forms, the
# API); junk never uses one of these names.
KNOWN_PARAMS = {
    "goals",
    "condition",
    "no_injections",
    "exclude_kind",
    "min_tier",
    "in_stock",
    "budget",
    "currency",
    "limit",
    "priority",
    "q",
    "studies",
    "minor",
    "page",
    "kind",
}
# Names campaigns and trackers add, and a few of no meaning at all.
JUNK_NAMES = ("utm_source", "utm_medium", "utm_campaign", "utm_content", "fbclid", "gclid", "ref")
MAX_GOALS = 10  # stacks.ranking.MAX_GOALS
MAX_LIMIT = 200  # stacks.ranking.MAX_LIMIT


class JunkUrls:
    """Draws the junk-parameter client's next request: (URL with junk, the page it names)."""

    def __init__(self, plan: dict, rng: random.Random, evidence_pages: int = 6, builders: int = 3):
        self.rng = rng
        pairs = rng.sample(plan["pairs"], min(evidence_pages, len(plan["pairs"])))
        # A base is (path, its real parameters); the URL sent shuffles them among the junk.
        self.bases: list[tuple[str, list[tuple[str, str]]]] = [
            (f"/compounds/{compound}/evidence/{goal}/", []) for compound, goal in pairs
        ]
        slugs = [goal["slug"] for goal in plan["goals"]]
        for _ in range(builders):
            # The heaviest builder page: as many goals as it takes, 200 entries a list.
            goals = sorted(rng.sample(slugs, min(MAX_GOALS, len(slugs))))
            params = [("goals", slug) for slug in goals] + [("limit", str(MAX_LIMIT))]
            if ("/", params) not in self.bases:
                self.bases.append(("/", params))

    def base_url(self, base: tuple[str, list[tuple[str, str]]]) -> str:
        path, params = base
        return path + ("?" + urlencode(params) if params else "")

    def junk(self) -> list[tuple[str, str]]:
        params = []
        for _ in range(self.rng.randint(1, 3)):
            if self.rng.random() < 0.5:
                name = self.rng.choice(JUNK_NAMES)
            else:
                name = f"x{self.rng.getrandbits(32):08x}"
            params.append((name, f"{self.rng.getrandbits(48):012x}"))
        return params

    def next(self) -> tuple[str, str]:
        base = self.rng.choice(self.bases)
        path, real = base
        params = list(real)
        if params and self.rng.random() < 0.3:
            params.append(self.rng.choice([p for p in real if p[0] == "goals"]))  # a repeat
        params += self.junk()
        self.rng.shuffle(params)
        return f"{path}?{urlencode(params)}", self.base_url(base)


def junk_client(port: int, urls: JunkUrls, timeout: int, stop, rec, sent: dict) -> None:
    """Asks for junk URLs without pause; `sent` gets every URL sent and the pages named."""
    client = Client(port, timeout, {**PROXY_HEADERS, "User-Agent": "loadtest-junk"})
    while not stop.is_set():
        url, base = urls.next()
        sent["urls"].add(url)
        sent["pages"].add(base)
        rec.call("junk-parameter page", lambda u=url: client.get(u), url, 200)


class VendorSaver:
    """A vendor account re-saving its own offer through the admin in a loop."""

    def __init__(self, port: int, offer_id: int, timeout: int, login: tuple[str, str, str]):
        self.client = Client(port, timeout, {**PROXY_HEADERS, "User-Agent": "loadtest-vendor"})
        self.offer_id = offer_id
        self.username, self.password, self.secret = login
        self.rec = None  # the phase's Recorder, set before each run
        self.logged_in = False
        self.saves = {"made": 0, "failed": 0}
        self.failures: list[str] = []

    @property
    def path(self) -> str:
        return f"/admin/evidence/offer/{self.offer_id}/change/"

    def save_once(self) -> None:
        page = self.rec.call(
            "vendor admin (GET)", lambda: self.client.get(self.path), self.path, 200
        )
        if page is None or page.status != 200:
            raise ValueError(f"GET {self.path} answered {page and page.status}")
        fields = parse_form(page.text, "offer_form")
        in_stock = get_field(fields, "in_stock") is not None
        fields = set_field(fields, "in_stock", None if in_stock else "on")
        fields = [*fields, ("_save", "Save")]
        response = self.rec.call(
            "vendor admin (POST)",
            lambda: self.client.post_form(self.path, fields, referer=self.path),
            self.path,
            302,
        )
        if response is not None and response.status == 302:
            self.saves["made"] += 1
            return
        self.saves["failed"] += 1
        detail = "no answer" if response is None else f"{response.status}"
        if response is not None and response.status == 200:
            detail = f"form refused: {error_text(response.text)}"
        raise ValueError(f"POST {self.path}: {detail}")

    def run(self, stop) -> None:
        try:
            if not self.logged_in:
                admin_login(self.client, self.username, self.password, self.secret, self.rec.call)
                self.logged_in = True
            while not stop.is_set():
                self.save_once()
        except ValueError as exc:
            self.failures.append(str(exc))

    def public(self) -> dict:
        return {"offer_id": self.offer_id, **self.saves, "failures": self.failures[:10]}


def new_sent() -> dict:
    return defaultdict(set)
