"""Forgiving name search: the matching rules, as plain functions (no database).

A visitor types "thymosin alpha 1", "Tα1", "TA1", "thymosn" or "liver"; the knowledge base says
"Thymosin alpha-1" (aliases "Thymalfasin", "Zadaxin", "Tα1") and "Liver health". Both sides
are normalised the same way (`normalise`): Unicode compatibility forms folded, case folded,
Greek letters spelled out ("α" → "alpha"; a name with Greek letters is also indexed with each
letter's Latin initial, so "Tα1" is found by "TA1"), accents dropped, and every run of
punctuation, hyphens and spaces made one space. A name matches when every word of the query
occurs in it with the spaces removed, in any order (`rank`, lower is better: the whole name,
then its beginning, then the query as one piece, then its words in any order). When nothing
matches, `did_you_mean` corrects each longer word of the query to the closest word of the names
(difflib, ratio at least 0.8) and the search is run again with the correction.

The rules are these functions on both databases; what differs is which names reach them.
Every searchable row stores `index_key(name)`, its variants spaced and compact, written when the
row is saved. On PostgreSQL that column has a trigram index (pg_trgm, GIN, migration 0023), and
the database hands over only the rows `key_contains` admits (LIKE '%word%', which the index
serves, for each word of the query but those in so many names that the index cannot narrow
them), or, for a typo, the rows whose key is trigram-similar to a query word (`%>`, pg_trgm's
word similarity, default threshold 0.6); the ranking and the correction then run here on
those few. unaccent is not needed: the key is already folded (accents, Greek, case)
by the same `variants` the query goes through. On SQLite, the fallback, every name is read in one
query and matched here; linear in the number of names, a few tens of milliseconds at 10,000
compounds. The same search tests run on both (tests/evidence/test_search*.py).
"""

import difflib
import re
import unicodedata
from collections import Counter
from collections.abc import Callable, Iterable
from functools import lru_cache

# Lower-case Greek letters and their usual Latin spellings (casefold maps capitals to these).
GREEK = {
    "α": "alpha",
    "β": "beta",
    "γ": "gamma",
    "δ": "delta",
    "ε": "epsilon",
    "ζ": "zeta",
    "η": "eta",
    "θ": "theta",
    "ι": "iota",
    "κ": "kappa",
    "λ": "lambda",
    "μ": "mu",
    "ν": "nu",
    "ξ": "xi",
    "ο": "omicron",
    "π": "pi",
    "ρ": "rho",
    "σ": "sigma",
    "ς": "sigma",
    "τ": "tau",
    "υ": "upsilon",
    "φ": "phi",
    "χ": "chi",
    "ψ": "psi",
    "ω": "omega",
}
_GREEK_LETTER = re.compile("[" + "".join(GREEK) + "]")
_NOT_ALPHANUMERIC = re.compile(r"[^0-9a-z]+")

# Ranks: how well a name matches the query (lower is better).
WHOLE, START, PIECE, WORDS = 0, 1, 2, 3
# did_you_mean: only words this long are corrected, to names' words at least this similar.
MIN_CORRECTED_LENGTH = 4
MIN_SIMILARITY = 0.8


def _fold(text: str) -> str:
    """Accents dropped, punctuation, hyphens and spaces as single spaces (Greek spelled already)."""
    decomposed = unicodedata.normalize("NFKD", text)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _NOT_ALPHANUMERIC.sub(" ", plain).strip()


@lru_cache(maxsize=65_536)
def variants(text: str) -> tuple[str, ...]:
    """The normalised spellings of a name: Greek letters spelled out, and (when the name has
    any) also as their Latin initials. Each is lower-case ASCII words separated by spaces."""
    folded = unicodedata.normalize("NFKC", text).casefold()
    spelled = _fold(_GREEK_LETTER.sub(lambda m: GREEK[m.group()], folded))
    if not _GREEK_LETTER.search(folded):
        return (spelled,)
    initials = _fold(_GREEK_LETTER.sub(lambda m: GREEK[m.group()][0], folded))
    return (spelled, initials)


def normalise(text: str) -> str:
    """The query's normalised form (Greek letters spelled out)."""
    return variants(text)[0]


@lru_cache(maxsize=65_536)
def _compact(name: str) -> tuple[str, ...]:
    """The name's variants without spaces, as `rank` compares them."""
    return tuple(variant.replace(" ", "") for variant in variants(name))


def matcher(query: str) -> Callable[[str], int | None]:
    """`rank` for one normalised query, prepared once for many names."""
    words = query.split()
    piece = "".join(words)
    several = len(words) > 1

    def rank_name(name: str) -> int | None:
        best = None
        for compact in _compact(name):
            if piece in compact:
                if compact == piece:
                    return WHOLE
                found = START if compact.startswith(piece) else PIECE
            elif several and all(word in compact for word in words):
                found = WORDS
            else:
                continue
            if best is None or found < best:
                best = found
        return best

    return rank_name if piece else lambda name: None


def rank(query: str, name: str) -> int | None:
    """How well `name` matches the normalised `query` (WHOLE..WORDS), or None."""
    return matcher(query)(name)


def index_key(name: str) -> str:
    """What a row stores to be found: every spelling of its name, spaced and compact, one
    space between them. Every word of a query `rank` matches in one of them is in it (a query
    word has no spaces, so it never spans two): what `key_contains` asks of it."""
    return " ".join(dict.fromkeys((*variants(name), *_compact(name))))


def key_contains(query: str, common: Iterable[str] = ()) -> list[str]:
    """The pieces an index key must all contain for `rank` to be able to match the normalised
    query: its words (the query as one piece holds every word, so it admits no key they do
    not). A word of `common` (`common_words`), or a part of one, is left out: it is in so many
    keys that the trigram index would read a posting list as long as the table to find it, and
    leaving a piece out only admits more keys, which `rank` then tests. No piece: every key."""
    common = tuple(common)
    return [
        word
        for word in dict.fromkeys(query.split())
        if not any(word in frequent for frequent in common)
    ]


def common_words(keys: Iterable[str], min_keys: int) -> frozenset[str]:
    """The words found in at least `min_keys` of the index keys (`index_key`)."""
    counts = Counter(word for key in keys for word in set(key.split()))
    return frozenset(word for word, count in counts.items() if count >= min_keys)


@lru_cache(maxsize=65_536)
def _words(name: str) -> frozenset[str]:
    return frozenset(word for variant in variants(name) for word in variant.split())


def vocabulary(names: Iterable[str]) -> set[str]:
    """Every word of the names, as `did_you_mean` compares them."""
    return set().union(*map(_words, set(names)))


def correctable(query: str) -> bool:
    """Whether `did_you_mean` would try to correct any word of the normalised query."""
    return any(len(word) >= MIN_CORRECTED_LENGTH for word in query.split())


def did_you_mean(query: str, words: set[str]) -> str:
    """The normalised query with each longer word that is not a known word replaced by the
    closest known word; "" when nothing was corrected. Only words of about the same length
    (two letters either way) starting with the same letter are compared: a typo rarely
    changes the first letter, and it keeps the comparison fast on a large vocabulary."""
    corrected, changed = [], False
    for word in query.split():
        if len(word) >= MIN_CORRECTED_LENGTH and word not in words:
            candidates = [
                known for known in words if known[0] == word[0] and abs(len(known) - len(word)) <= 2
            ]
            close = difflib.get_close_matches(word, candidates, n=1, cutoff=MIN_SIMILARITY)
            if close:
                corrected.append(close[0])
                changed = True
                continue
        corrected.append(word)
    return " ".join(corrected) if changed else ""
