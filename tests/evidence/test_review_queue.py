"""The editors' review queue in the admin: what an import flagged, what awaits review by source,
and the "mark reviewed" actions that take the "not yet reviewed" labels off the pages."""

import shutil
from pathlib import Path

import pytest
from django.conf import settings
from django.urls import reverse

from evidence.models import CompoundAlias, Finding, Source, Study
from evidence.sources import supplements_open_facts as sof
from tests.factories.personas import evidence_editor, logged_in

pytestmark = pytest.mark.django_db

PINNED = Path(settings.BASE_DIR) / "data" / "supplements-open-facts"
SORENESS = "supplements/omega-3/claims/effects/intended-soreness-negative-weak.yml"
EVIDENCE_PAGE = "/compounds/omega-3/evidence/soreness/"


@pytest.fixture
def imported(tmp_path):
    """Omega-3 (one self-contradicting claim) and the two supplements sharing "vitamin b3"."""
    root = tmp_path / "snapshot"
    shutil.copytree(PINNED, root, ignore=shutil.ignore_patterns("supplements"))
    for name in ("omega-3", "niacin", "nicotinamide"):
        shutil.copytree(PINNED / "supplements" / name, root / "supplements" / name)
    return sof.import_snapshot(root)


def test_the_queue_lists_the_self_contradicting_claim_the_report_flagged(imported):
    flagged = [c.path for c in imported.claims if c.status == "flagged"]
    assert flagged == [SORENESS]

    html = logged_in(evidence_editor()).get(
        reverse("admin:evidence_finding_changelist") + "?review=flagged"
    )

    assert html.status_code == 200
    text = html.content.decode()
    assert "Muscle soreness" in text
    assert "Flagged: Graded &quot;weak&quot; (non-significant by its scale) but p = 0.0004." in text
    assert text.count('name="_selected_action"') == 1


def test_the_queue_lists_the_aliases_an_import_doubted(imported):
    html = logged_in(evidence_editor()).get(
        reverse("admin:evidence_compoundalias_changelist") + "?review=flagged"
    )

    text = html.content.decode()
    assert text.count('name="_selected_action"') == 2
    assert "Also a synonym of Nicotinamide in the dataset." in text


def test_the_source_list_counts_what_awaits_review_with_links_to_the_queues(imported):
    source = Source.objects.get(slug=sof.SLUG)

    text = logged_in(evidence_editor()).get(reverse("admin:evidence_source_changelist"))
    text = text.content.decode()

    studies = Study.objects.filter(source=source).count()
    assert f'?source__id__exact={source.pk}&amp;reviewed__exact=0">{studies} studies</a>' in text
    assert f'?study__source__id__exact={source.pk}&amp;review=awaiting">1 findings</a>' in text


def test_marking_the_finding_reviewed_takes_its_flag_off_the_page(imported, client):
    finding = Finding.objects.get(source_record_id=SORENESS)
    assert "Flagged for our editors' review" in client.get(EVIDENCE_PAGE).content.decode()

    logged_in(evidence_editor()).post(
        reverse("admin:evidence_finding_changelist"),
        {"action": "mark_reviewed", "_selected_action": [finding.pk]},
    )

    finding.refresh_from_db()
    assert finding.reviewed is True
    assert finding.review_note  # the reason stays on record
    assert finding.history.count() == 2
    assert "Flagged for our editors" not in client.get(EVIDENCE_PAGE).content.decode()


def test_marking_the_study_reviewed_takes_the_not_yet_reviewed_label_off(imported, client):
    study = Finding.objects.get(source_record_id=SORENESS).study
    assert "Not yet reviewed by our editors" in client.get(EVIDENCE_PAGE).content.decode()

    logged_in(evidence_editor()).post(
        reverse("admin:evidence_study_changelist"),
        {"action": "mark_reviewed", "_selected_action": [study.pk]},
    )

    assert "Not yet reviewed by our editors" not in client.get(EVIDENCE_PAGE).content.decode()


def test_marking_aliases_reviewed_clears_their_flag(imported):
    aliases = CompoundAlias.objects.filter(name="vitamin b3")

    logged_in(evidence_editor()).post(
        reverse("admin:evidence_compoundalias_changelist"),
        {"action": "mark_reviewed", "_selected_action": [a.pk for a in aliases]},
    )

    assert set(aliases.values_list("reviewed", flat=True)) == {True}


def test_the_evidence_page_shows_doi_link_source_licence_contributor_quote_and_grade(
    imported, client
):
    text = client.get(EVIDENCE_PAGE).content.decode()

    assert '<a href="https://doi.org/10.1155/2020/8062017" rel="noopener">' in text
    assert (
        'Source: <a href="https://github.com/eric-edouard/supplements-open-data" rel="noopener">'
        'Supplements Open Facts</a> (<a href="https://creativecommons.org/licenses/by/4.0/" '
        'rel="license noopener">CC BY 4.0</a>), record ' + SORENESS + ", contributed by "
        "https://github.com/eric-edouard"
    ) in text
    assert "Abstract: “Meta-analysis revealed a significantly decreased DOMS" in text
    assert "In the source: direction “negative”, graded “weak”" in text
    assert 'id="attributions"' in text


def test_the_compound_api_carries_the_same_provenance(imported, client):
    body = client.get("/api/compounds/omega-3/").json()

    [finding] = [f for f in body["findings"] if f["source_record_id"] == SORENESS]
    assert finding["study"]["doi"] == "10.1155/2020/8062017"
    assert finding["study"]["source"]["licence"] == "CC BY 4.0"
    assert finding["study"]["source"]["attribution"].startswith(
        "Source: Supplements Open Facts (CC BY 4.0)"
    )
    assert finding["contributor"] == "https://github.com/eric-edouard"
    assert finding["quote"].startswith("Abstract: “Meta-analysis revealed")
    assert (finding["source_direction"], finding["source_grade"]) == ("negative", "weak")
    assert finding["source_grade_scale"] == sof.GRADE_SCALE
    assert finding["p_value_is_bound"] is None
    assert (finding["direction"], finding["higher_is_better"]) == ("benefit", False)
    assert (finding["reviewed"], finding["outcome_kind"]) == (False, "clinical")
    assert finding["review_note"].startswith('Graded "weak"')
