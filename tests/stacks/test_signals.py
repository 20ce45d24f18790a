"""Edits keep the precomputed scores current, and only the edits that can move a score
rescore anything."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from evidence.batch import bulk_edit
from evidence.cache import content_version
from evidence.models import Finding, Study
from stacks.models import GoalScore
from tests.factories import make_goal, make_rated_compound

pytestmark = pytest.mark.django_db


def writes_to(table: str, queries) -> list[str]:
    return [
        q["sql"]
        for q in queries
        if table in q["sql"]
        and q["sql"].lstrip().upper().startswith(("INSERT", "UPDATE", "DELETE"))
    ]


@pytest.fixture
def finding():
    goal = make_goal()
    compound = make_rated_compound(goal)
    return Finding.objects.get(compound=compound)


def test_saving_only_the_notes_writes_no_score_and_bumps_the_content_version_once(finding):
    finding.notes = "Synthetic note"
    with CaptureQueriesContext(connection) as queries:
        finding.save(update_fields=["notes"])
    assert writes_to(GoalScore._meta.db_table, queries) == []
    assert len(writes_to("evidence_contentversion", queries)) == 1


def test_a_full_save_that_changes_no_scored_field_rescores_nothing(finding):
    finding.notes = "Synthetic note from the admin"
    with CaptureQueriesContext(connection) as queries:
        finding.save()
    assert writes_to(GoalScore._meta.db_table, queries) == []


def test_a_changed_scored_field_rescores_the_compound(finding):
    before = GoalScore.objects.get(compound=finding.compound_id).score
    finding.ci_low, finding.ci_high, finding.value = -1, 1, 0  # significant benefit -> null
    finding.measure = Finding.Measure.MEAN_DIFFERENCE
    finding.save()
    assert GoalScore.objects.get(compound=finding.compound_id).score < before


def test_moving_a_finding_to_another_compound_rescores_both(finding):
    other = make_rated_compound(finding.goal, findings=0)
    old_compound = finding.compound_id
    old_count = GoalScore.objects.get(compound=old_compound).study_count
    finding.compound = other
    finding.save()
    assert GoalScore.objects.get(compound=old_compound).study_count == old_count - 1
    assert GoalScore.objects.get(compound=other.pk).study_count == 1


def test_a_study_edit_that_moves_no_score_rescores_nothing(finding):
    study = finding.study
    study.country = "Synthetic country"
    with CaptureQueriesContext(connection) as queries:
        study.save()
    assert writes_to(GoalScore._meta.db_table, queries) == []
    study.design = Study.Design.COHORT
    with CaptureQueriesContext(connection) as queries:
        study.save()
    assert writes_to(GoalScore._meta.db_table, queries) != []


def test_a_bulk_edit_rescores_each_compound_once_and_bumps_the_version_once(finding):
    version = content_version()
    with CaptureQueriesContext(connection) as queries, bulk_edit():
        for i in range(5):
            finding.outcome = f"Synthetic outcome {i}"
            finding.save()
        assert writes_to(GoalScore._meta.db_table, queries) == []
    assert len(writes_to('INSERT INTO "stacks_goalscore"', queries)) == 1
    assert len(writes_to("evidence_contentversion", queries)) == 1
    assert content_version() != version


def test_a_failed_bulk_edit_runs_no_deferred_work(finding):
    version = content_version()
    with pytest.raises(RuntimeError), bulk_edit():
        finding.outcome = "Synthetic outcome"
        finding.save()
        raise RuntimeError
    assert content_version() == version
