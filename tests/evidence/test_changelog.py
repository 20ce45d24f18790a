"""The public change log, read from the history tables: which edits are changes, how each
reads, and what is never shown (unpublished compounds, minor edits unless asked, names)."""

from decimal import Decimal

import pytest

from evidence.changelog import ChangeLog, recent_changes
from evidence.models import Compound
from tests.factories import make_compound, make_finding, make_goal, make_rating, make_study, tier

pytestmark = pytest.mark.django_db


def texts(log) -> list[str]:
    return [change.text for change in log[:100]]


def change_tier(rating, number, reason="", minor=False):
    rating.tier = tier(number)
    rating._public_reason = reason
    rating._minor_edit = minor
    rating.save()


def test_a_new_rating_and_a_tier_change_are_listed_newest_first_with_the_reason():
    goal = make_goal("Synthetic goal A")
    rating = make_rating(make_compound(), goal, tier_number=3)
    change_tier(rating, 2, reason="Synthetic: a second trial.")
    changes = ChangeLog()[:10]
    assert [c.text for c in changes] == [
        "Tier for Synthetic goal A changed from Tier 3 (Probable efficacy) to Tier 2 "
        "(Likely efficacy).",
        "Rated Tier 3 (Probable efficacy) for Synthetic goal A.",
        "Published on this site.",
    ]
    assert changes[0].reason == "Synthetic: a second trial."
    assert changes[0].tier_change is True
    assert changes[0].url == f"/compounds/{rating.compound.slug}/evidence/{goal.slug}/"


def test_a_rewritten_bottom_line_is_listed():
    rating = make_rating(goal=make_goal("Synthetic goal B"))
    rating.bottom_line = "Synthetic rewritten bottom line."
    rating.save()
    assert texts(ChangeLog())[0] == "Bottom line for Synthetic goal B rewritten."


def test_an_edit_of_other_rating_fields_is_not_listed():
    rating = make_rating()
    before = ChangeLog().count()
    rating.limitations = "Synthetic limitations."
    rating.save()
    assert ChangeLog().count() == before


def test_a_finding_figure_change_reads_from_and_to():
    goal = make_goal("Synthetic goal C")
    finding = make_finding(
        make_compound(), goal, make_study(title="Synthetic trial"), outcome="Synthetic outcome"
    )
    finding.value, finding.ci_low = Decimal("1.6"), Decimal("1.3")
    finding.save()
    assert texts(ChangeLog())[0] == (
        "Figures changed for Synthetic goal C: Synthetic outcome in “Synthetic trial”, "
        "from OR 1.5 (95% CI 1.2–1.9) to OR 1.6 (95% CI 1.3–1.9)."
    )


def test_a_p_value_added_where_there_was_none_is_a_change():
    finding = make_finding(make_compound(), make_goal())
    finding.p_value = Decimal("0.01")
    finding.save()
    assert texts(ChangeLog())[0].startswith("Figures changed")


def test_a_p_value_removed_is_a_change_and_one_still_missing_is_not():
    finding = make_finding(make_compound(), make_goal(), p_value=Decimal("0.01"))
    finding.p_value = None
    finding.save()
    assert texts(ChangeLog())[0].startswith("Figures changed")
    before = ChangeLog().count()
    finding.notes = "Synthetic note."  # the p value stays missing
    finding.save()
    assert ChangeLog().count() == before


def test_a_finding_note_edit_is_not_listed():
    finding = make_finding(make_compound(), make_goal())
    before = ChangeLog().count()
    finding.notes = "Synthetic note."
    finding.save()
    assert ChangeLog().count() == before


def test_added_and_removed_findings_and_ratings_are_listed():
    compound = make_compound()
    goal = make_goal("Synthetic goal D")
    finding = make_finding(compound, goal, make_study(title="Synthetic trial"), outcome="Synth")
    rating = make_rating(compound, goal, tier_number=4)
    finding.delete()
    rating.delete()
    # Removing the only finding (the rating kept) leaves no certainty to compute: the rescore
    # logs that change too, after the removal that caused it.
    assert texts(ChangeLog(compound))[:5] == [
        "Rating for Synthetic goal D removed (it was Tier 4 (Preliminary evidence)).",
        "Computed certainty of benefit for Synthetic goal D changed from Moderate to "
        "not assessable.",
        "Finding removed for Synthetic goal D: Synth in “Synthetic trial”.",
        "Rated Tier 4 (Preliminary evidence) for Synthetic goal D.",
        "Finding added for Synthetic goal D: Synth in “Synthetic trial”, OR 1.5 (95% CI 1.2–1.9).",
    ]


def test_an_unpublished_compound_never_appears():
    hidden = make_compound(published=False)
    rating = make_rating(hidden)
    change_tier(rating, 1, reason="Synthetic.")
    make_finding(hidden, make_goal())
    assert ChangeLog().count() == 0


def test_a_compound_withdrawn_and_published_again_shows_both():
    compound = make_compound()
    for published in (False, True):
        compound.published = published
        compound.save()
    assert texts(ChangeLog())[:3] == [
        "Published on this site.",
        "Withdrawn from this site.",
        "Published on this site.",
    ]


def test_a_minor_edit_is_hidden_unless_asked_for():
    rating = make_rating()
    rating.bottom_line = "Synthetic bottom line, typo fixed."
    rating._minor_edit = True
    rating.save()
    assert "rewritten" not in " ".join(texts(ChangeLog()))
    assert texts(ChangeLog(include_minor=True))[0].startswith("Bottom line")
    assert ChangeLog(include_minor=True)[:1][0].minor is True


def test_a_change_after_a_hidden_minor_edit_still_compares_with_it():
    rating = make_rating(tier_number=3)
    rating.bottom_line = "Synthetic bottom line, typo fixed."
    rating._minor_edit = True
    rating.save()
    change_tier(rating, 2, reason="Synthetic.")
    assert texts(ChangeLog())[0].startswith("Tier for")
    assert "rewritten" not in texts(ChangeLog())[0]


def test_one_compound_s_log_holds_only_its_changes():
    mine, other = make_compound(), make_compound()
    make_rating(mine)
    make_rating(other)
    assert {change.compound for change in ChangeLog(mine)[:10]} == {mine}


def test_the_log_pages_through_every_change_once():
    compound = make_compound()
    for _ in range(4):
        make_rating(compound)
        make_finding(compound, make_goal())
    log = ChangeLog()
    assert log.count() == 9
    keys = [c.key for start in range(0, 9, 2) for c in log[start : start + 2]]
    assert len(keys) == len(set(keys)) == 9


def test_recent_changes_are_the_compound_s_latest_five():
    compound = make_compound()
    for _ in range(6):
        make_rating(compound)
    assert len(recent_changes(compound)) == 5
    assert recent_changes(Compound.objects.get(pk=compound.pk))[0].text.startswith("Rated")


def test_a_finding_of_a_study_without_a_title_says_so_not_that_the_study_was_removed():
    study = make_study(title="")
    make_finding(make_compound(), make_goal("Synthetic goal U"), study=study, outcome="Synthetic U")
    [text] = [t for t in texts(ChangeLog()) if t.startswith("Finding added")]
    assert "Synthetic U in a study whose title is not reported" in text
    assert "since removed" not in text
