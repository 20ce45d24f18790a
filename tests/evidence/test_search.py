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


def _key_admits(key: str, query: str, common: frozenset[str] = frozenset()) -> bool:
    return all(piece in key for piece in search.key_contains(query, common))


@given(name=NAMES, query=NAMES)
def test_every_name_the_rules_match_is_admitted_by_its_index_key(name, query):
    normalised = search.normalise(query)
    if search.rank(normalised, name) is not None:
        assert _key_admits(search.index_key(name), normalised)


WORDS = st.text(alphabet=st.sampled_from("abcdefghijklmnopqrstuvwxyz0123456789"), min_size=1)


@given(name=NAMES, query=NAMES, common=st.frozensets(WORDS, max_size=4))
def test_leaving_common_words_out_never_loses_a_match(name, query, common):
    normalised = search.normalise(query)
    if search.rank(normalised, name) is not None:
        assert _key_admits(search.index_key(name), normalised, common)


def test_the_pieces_are_the_query_words_each_once():
    assert search.key_contains("alpha thymosin alpha 1") == ["alpha", "thymosin", "1"]
    assert search.key_contains("") == []


def test_a_common_word_and_every_part_of_one_are_left_out_of_the_pieces():
    common = frozenset({"synthetic", "compound"})
    assert search.key_contains("synthetic comp 042", common) == ["042"]
    assert search.key_contains("compound synth", common) == []  # every key, for the matcher


def test_common_words_are_those_in_enough_keys_each_key_counted_once():
    keys = [
        search.index_key("Synthetic compound 1"),
        search.index_key("Synthetic compound compound 2"),
        search.index_key("Synthetic alias 3"),
    ]
    assert search.common_words(keys, min_keys=2) == {"synthetic", "compound"}
    assert search.common_words(keys, min_keys=3) == {"synthetic"}
    assert search.common_words([], min_keys=1) == frozenset()


def test_index_key_holds_each_spelling_spaced_and_compact():
    assert search.index_key("Tα1") == "talpha1 ta1"
    assert search.index_key("Thymosin alpha-1") == "thymosin alpha 1 thymosinalpha1"
