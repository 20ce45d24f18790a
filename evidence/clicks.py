"""Which clicks on an outbound offer link (/go/<id>/) count: a person's, once per window.

* A known bot's or tool's click does not count (`is_bot`: link previews, crawlers that
  ignore robots.txt, command-line clients). A short list of names matched in the User-Agent
  rather than a library: the aim is to keep obvious machines out of a vendor's count, and a
  client that lies about its name is out of reach of any list.
* Repeat clicks of one visitor on one offer within REPEAT_WINDOW count once. The visitor is
  a keyed hash of address and user agent (`visitor_key`) whose key is derived from
  SECRET_KEY and the date, so it changes every day and no key can be traced back to an
  address; the raw address is never stored. The window lives in the cache; while the cache
  fails, every click counts (evidence.cache.cache_add).

The visitor is redirected in every case; only the counting differs.
"""

import re
from datetime import date

from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac

from evidence.cache import cache_add
from evidence.login import client_ip

REPEAT_WINDOW = 10 * 60  # seconds

# Matched anywhere in the User-Agent, ignoring case. "bot" as a word's end catches the many
# crawlers named *bot (Googlebot, bingbot, Slackbot, Twitterbot, AhrefsBot, ...).
BOT_AGENTS = re.compile(
    r"bot\b|crawler|spider|slurp|facebookexternalhit|embedly|"
    r"curl/|wget/|python-requests|python-urllib|python-httpx|aiohttp|go-http-client|"
    r"okhttp|java/|libwww-perl|scrapy|headlesschrome",
    re.IGNORECASE,
)


def is_bot(user_agent: str) -> bool:
    return BOT_AGENTS.search(user_agent) is not None


def visitor_key(address: str, user_agent: str, day: date) -> str:
    """One visitor on one day, as a keyed hash (the key: SECRET_KEY and the day)."""
    salt = f"evidence.clicks.visitor:{day.isoformat()}"
    return salted_hmac(salt, f"{address}\n{user_agent}", algorithm="sha256").hexdigest()[:32]


def counts_as_click(request: HttpRequest, offer_id: int) -> bool:
    """Not a bot, and this visitor's first click on the offer within the window."""
    user_agent = request.headers.get("User-Agent", "")
    if is_bot(user_agent):
        return False
    # The address the trusted proxies saw (evidence.login.client_ip, the login throttle's
    # rule), never one a client claims; with no proxy configured, the peer.
    address = client_ip(request) or ""
    visitor = visitor_key(address, user_agent, timezone.localdate())
    return cache_add(f"click:{offer_id}:{visitor}", 1, REPEAT_WINDOW)
