"""The forgiving search rules (evidence/search.py): normalising, ranking, "did you mean"."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from evidence import search


@pytest.mark.parametrize(
    ("text", "normalised"),
    [
        ("Thymosin alpha-1", "thymosin alpha 1"),
        ("  THYMOSIN   Alpha 1 ", "thymosin alpha 1"),
        ("Tα1", "talpha1"),
        ("TΑ1", "talpha1"),  # a capital Greek alpha
        ("β-Alanine", "beta alanine"),
        ("Ginkgo bilóba", "ginkgo biloba"),
        ("Coenzyme Q₁₀", "coenzyme q10"),
        ("N,N'-dimethyl/“glycine”", "n n dimethyl glycine"),
        ("-- ", ""),
    ],
)
def test_normalise_folds_case_punctuation_accents_and_greek(text, normalised):
    assert search.normalise(text) == normalised


def test_a_name_with_greek_letters_is_also_spelled_with_their_latin_initials():
    assert search.variants("Tα1") == ("talpha1", "ta1")
    assert search.variants("Zadaxin") == ("zadaxin",)


@pytest.mark.parametrize(
    ("query", "name", "expected"),
    [
        ("thymosin alpha 1", "Thymosin alpha-1", search.WHOLE),
        ("thymosin alpha1", "Thymosin alpha-1", search.WHOLE),
        ("ta1", "Tα1", search.WHOLE),
        ("thymosin", "Thymosin alpha-1", search.START),
        ("alpha 1", "Thymosin alpha-1", search.PIECE),
        ("alpha 1 thymosin", "Thymosin alpha-1", search.WORDS),
        ("liver", "Liver health", search.START),
        ("zinc", "Thymosin alpha-1", None),
        ("thymosn", "Thymosin alpha-1", None),
        ("", "Thymosin alpha-1", None),
    ],
)
def test_rank_says_how_well_a_name_matches(query, name, expected):
    assert search.rank(search.normalise(query), name) == expected


def test_did_you_mean_corrects_longer_words_to_the_closest_known_word():
    words = search.vocabulary(["Thymosin alpha-1", "Zadaxin", "Liver health", "Tα1"])
    assert search.did_you_mean("thymosn", words) == "thymosin"
    assert search.did_you_mean("zadaxn", words) == "zadaxin"
    assert search.did_you_mean("livr helth", words) == "liver health"
    assert search.did_you_mean("thymosin", words) == ""  # nothing to correct
    assert search.did_you_mean("tb1", words) == ""  # too short to guess at
    assert search.did_you_mean("quantum", words) == ""  # nothing close


# The stored index key: what PostgreSQL's trigram index narrows the names to must never lose a
# match the rules would find (evidence.search.index_key, key_contains).

NAMES = st.text(
    alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789αβγΩéü -,'"), max_size=30
)


def _key_admits(key: str, query: str) -> bool:
    return any(all(piece in key for piece in group) for group in search.key_contains(query))


@given(name=NAMES, query=NAMES)
def test_every_name_the_rules_match_is_admitted_by_its_index_key(name, query):
    normalised = search.normalise(query)
    if search.rank(normalised, name) is not None:
        assert _key_admits(search.index_key(name), normalised)


def test_index_key_holds_each_spelling_spaced_and_compact():
    assert search.index_key("Tα1") == "talpha1 ta1"
    assert search.index_key("Thymosin alpha-1") == "thymosin alpha 1 thymosinalpha1"
