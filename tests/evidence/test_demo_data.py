"""The demo data is the seed text, transcribed: these tests hold it to the seed's figures."""

import io
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command

from evidence import interchange
from evidence.interchange import dumps, export_document, import_document, loads
from evidence.models import (
    Article,
    Compound,
    Finding,
    Offer,
    Rating,
    SideEffect,
    Study,
    Vendor,
)
from tests.factories import make_compound

BASE_DIR = Path(settings.BASE_DIR)
DEMO_FILE = BASE_DIR / "demo" / "thymosin-alpha-1.json"
# A copy of ../shared/seed/000_2870c86781a0922d.txt, the only source of the demo data.
SEED_FILE = BASE_DIR / "demo" / "source" / "thymosin-alpha-1-deep-dive.txt"
TA1 = "thymosin-alpha-1"
JAPAN_RCT = "thymosin-alpha-1-chronic-hepatitis-b-japan-rct"
META_ANALYSIS = "thymosin-alpha-1-vs-interferon-alpha-meta-analysis"
CIRRHOSIS_RCT = "thymosin-alpha-1-plus-entecavir-hbv-cirrhosis-rct"
HCC_COHORT = "thymosin-alpha-1-after-hcc-resection-cohort"
TACE_STUDY = "thymosin-alpha-1-with-tace-hcc-t-cells"
D = Decimal


@pytest.fixture
def demo(db):
    return import_document(loads(DEMO_FILE.read_text(encoding="utf-8")))


def finding(study_slug: str, outcome: str) -> Finding:
    return Finding.objects.get(study__slug=study_slug, outcome=outcome)


def test_liver_health_is_rated_tier_3(demo):
    rating = Rating.objects.get(compound__slug=TA1, goal__slug="liver-health")

    assert rating.tier.number == 3
    assert rating.tier.label == "Probable efficacy"
    assert rating.last_reviewed is None
    assert "Tier 3 (probable efficacy)" in rating.bottom_line
    assert rating.data_suggests.count("\n") == 3  # the seed's four points
    assert rating.limitations.count("\n") == 3  # the seed's four bullets


def test_no_rating_is_invented_where_the_seed_gives_no_tier(demo):
    """Immune function has findings but no tier in the seed; comparators get no rating."""
    assert list(Rating.objects.values_list("compound__slug", "goal__slug")) == [
        (TA1, "liver-health")
    ]
    assert Finding.objects.filter(goal__slug="immune-function").count() == 2


@pytest.mark.parametrize(
    ("outcome", "value", "low", "high", "significant"),
    [
        ("Virologic response at 6 months", "0.62", "0.35", "1.10", False),
        ("Biochemical response", "0.60", "0.34", "1.05", False),
        ("Complete response", "0.54", "0.30", "0.97", True),
    ],
)
def test_the_meta_analysis_odds_ratios_match_the_seed(demo, outcome, value, low, high, significant):
    f = finding(META_ANALYSIS, outcome)

    assert f.measure == Finding.Measure.ODDS_RATIO
    assert (f.value, f.ci_low, f.ci_high) == (D(value), D(low), D(high))
    assert f.comparator == Finding.Comparator.ACTIVE
    assert f.comparator_compound.slug == "interferon-alpha"
    assert f.higher_is_better is True
    assert f.significant is significant


@pytest.mark.parametrize(
    ("outcome", "value", "low", "high"),
    [
        ("Overall survival", "0.308", "0.175", "0.541"),
        ("Recurrence-free survival", "0.381", "0.229", "0.633"),
    ],
)
def test_the_hcc_hazard_ratios_match_the_seed(demo, outcome, value, low, high):
    f = finding(HCC_COHORT, outcome)

    assert f.measure == Finding.Measure.HAZARD_RATIO
    assert (f.value, f.ci_low, f.ci_high) == (D(value), D(low), D(high))
    assert (f.p_value, f.p_value_is_bound) == (D("0.001"), True)
    assert f.higher_is_better is False
    assert f.comparator == Finding.Comparator.NO_TREATMENT
    assert f.significant is True


def test_the_significance_derivation_gives_the_seeds_verdicts(demo):
    assert finding(META_ANALYSIS, "Virologic response at 6 months").significant is False
    assert finding(META_ANALYSIS, "Complete response").significant is True
    assert finding(HCC_COHORT, "Overall survival").significant is True
    assert finding(CIRRHOSIS_RCT, "HCC incidence").significant is False
    assert finding(TACE_STUDY, "CD8+ T-cell count at 3 months").significant is True
    assert finding(JAPAN_RCT, "ALT normalisation").significant is None  # single arm


@pytest.mark.parametrize(
    ("slug", "design", "n", "trial_count"),
    [
        (JAPAN_RCT, Study.Design.RCT, 316, None),
        (META_ANALYSIS, Study.Design.META_ANALYSIS, 199, 4),
        (CIRRHOSIS_RCT, Study.Design.RCT, 690, None),
        (HCC_COHORT, Study.Design.COHORT, 468, None),
        (TACE_STUDY, Study.Design.NOT_REPORTED, None, None),
    ],
)
def test_study_designs_and_sizes_match_the_seed(demo, slug, design, n, trial_count):
    study = Study.objects.get(slug=slug)

    assert (study.design, study.n, study.trial_count) == (design, n, trial_count)


def test_the_single_arm_and_combination_results_match_the_seed(demo):
    assert finding(JAPAN_RCT, "ALT normalisation").value == D("36.4")
    assert finding(JAPAN_RCT, "HBV DNA clearance").value == D("30")
    assert finding(JAPAN_RCT, "HBeAg seroconversion").value == D("22.8")
    hcc = finding(CIRRHOSIS_RCT, "HCC incidence")
    assert (hcc.value, hcc.comparator_value, hcc.higher_is_better) == (D("1.7"), D("2.1"), False)
    assert hcc.comparator_compound.slug == "entecavir"
    japan = Study.objects.get(slug=JAPAN_RCT)
    assert japan.country == "Japan"
    assert Study.objects.get(slug=HCC_COHORT).follow_up == "median 60 months"


def test_no_study_has_an_invented_citation_or_year(demo):
    for study in Study.objects.all():
        assert (study.pmid, study.doi, study.url, study.year) == ("", "", "", None), study.slug
    assert Article.objects.get().last_updated is None


def test_every_figure_in_the_findings_and_studies_appears_in_the_seed(demo):
    seed_numbers = {D(n) for n in re.findall(r"\d+(?:\.\d+)?", SEED_FILE.read_text())}
    figures = []
    for f in Finding.objects.all():
        figures += [f.value, f.comparator_value, f.ci_low, f.ci_high, f.p_value]
    for s in Study.objects.all():
        figures += [s.n, s.trial_count]
    figures = [x for x in figures if x is not None]

    assert figures
    assert [x for x in figures if D(x) not in seed_numbers] == []


def test_the_compound_facts_match_the_seed(demo):
    compound = Compound.objects.get(slug=TA1)

    assert compound.kind == Compound.Kind.PEPTIDE and compound.published
    assert sorted(compound.aliases.values_list("name", flat=True)) == sorted(
        ["Thymalfasin", "Zadaxin", "Tα1"]
    )
    assert "35 countries" in compound.regulatory_status
    assert "Not approved by the US Food and Drug Administration" in compound.regulatory_status
    assert "TLR9" in compound.mechanism
    dosings = compound.dosings.all()
    assert {d.route for d in dosings} == {"subcutaneous", "intramuscular"}
    for d in dosings:
        assert (d.amount, d.unit, d.frequency, d.doses_per_week) == (
            D("1.6"),
            "mg",
            "twice weekly",
            2,
        )
        assert d.goal.slug == "liver-health"
    assert set(compound.contraindications.values_list("condition", flat=True)) == {
        "pregnancy",
        "breastfeeding",
        "autoimmune_disease",
        "immunosuppressive_therapy",
    }
    effects = dict(compound.side_effects.values_list("name", "frequency"))
    assert effects["Injection site reactions"] == SideEffect.Frequency.COMMON
    assert effects["Transient liver enzyme elevation"] == SideEffect.Frequency.NOT_STATED
    assert effects["Serious adverse events"] == SideEffect.Frequency.RARE


def test_the_comparators_hold_only_what_the_seed_says(demo):
    for slug in ("interferon-alpha", "entecavir", "tenofovir"):
        compound = Compound.objects.get(slug=slug)
        assert compound.kind == Compound.Kind.DRUG and compound.published
        assert not compound.dosings.exists()
        assert not compound.ratings.exists()
    interferon = Compound.objects.get(slug="interferon-alpha")
    assert set(interferon.side_effects.values_list("name", "frequency")) == {
        ("Flu-like symptoms", "not_stated"),
        ("Depression", "not_stated"),
        ("Cytopenias", "not_stated"),
    }


def test_the_article_is_the_seed_without_the_website_chrome(demo):
    article = Article.objects.get(slug="thymosin-alpha-1-for-liver-health")

    assert article.title == "Thymosin Alpha-1 for Liver Health: What the Research Says"
    assert article.published and article.goal.slug == "liver-health"
    assert article.body.startswith("**Disclaimer:** This article is for educational purposes")
    for chrome in ("Research Deep Dives", "Interested in Thymosin", "Build Your Evidence-Based"):
        assert chrome not in article.body
    assert "## The Bottom Line" in article.body
    assert "- **Overall Survival:**" in article.body


def test_every_vendor_and_offer_is_marked_synthetic(demo):
    assert Vendor.objects.count() == 2
    for vendor in Vendor.objects.all():
        assert "Synthetic" in vendor.name
        assert vendor.description.startswith("Synthetic example data for the demo")
    for offer in Offer.objects.all():
        assert offer.product_name.startswith("Synthetic example:")
        assert re.match(r"https://(vendor|budget)\.example\.com/", offer.url)
    assert Offer.objects.filter(in_stock=False).count() == 1
    assert Vendor.objects.get(slug="synthetic-example-vendor").third_party_tested is True
    assert Vendor.objects.get(slug="synthetic-budget-vendor").third_party_tested is False


def test_the_demo_file_is_in_canonical_export_form(demo):
    assert dumps(export_document()) == DEMO_FILE.read_text(encoding="utf-8")


def test_the_results_without_figures_keep_the_directions_the_seed_states(demo):
    """The seed: similar responses with entecavir alone; significant increases in T cells."""
    directions = {
        f.outcome: f.direction for f in Finding.objects.filter(measure=Finding.Measure.QUALITATIVE)
    }
    assert directions == {
        "Biochemical response (ALT normalisation)": Finding.Direction.NO_DIFFERENCE,
        "Virologic response": Finding.Direction.NO_DIFFERENCE,
        "CD3+ T-cell count at 3 months": Finding.Direction.BENEFIT,
        "CD8+ T-cell count at 3 months": Finding.Direction.BENEFIT,
    }


@pytest.mark.django_db
def test_the_demo_written_as_version_1_imports_with_the_same_meaning():
    """Version 1 had no direction, provenance, dose ranges, per-kg doses, timing, statuses or
    offers without a public price, certificate links or vendor claims;
    the documented mapping gives the same demo back (its studies are reported in the deep
    dive, the document's one article)."""
    v1 = loads(DEMO_FILE.read_text(encoding="utf-8"))
    v1["version"] = 1
    del v1["sources"]
    for study in v1["studies"]:
        for name in interchange.V2_STUDY_FIELDS:
            del study[name]
        for finding in study["findings"]:
            for name in interchange.V2_FINDING_FIELDS:
                del finding[name]
    for compound in v1["compounds"]:
        del compound["regulatory_statuses"], compound["anti_doping_statuses"]
        for dosing in compound["dosing"]:
            del dosing["amount_max"], dosing["per_kg"], dosing["timing"]
    for vendor in v1["vendors"]:
        for offer in vendor["offers"]:
            for name in interchange.V2_OFFER_FIELDS:
                del offer[name]
    import_document(v1)
    assert dumps(export_document()) == DEMO_FILE.read_text(encoding="utf-8")


# load_demo --------------------------------------------------------------------------------------


def run_load_demo(*args) -> str:
    out = io.StringIO()
    call_command("load_demo", *(args or ["--deep-dive-only"]), stdout=out)
    return out.getvalue()


@pytest.mark.django_db
def test_load_demo_imports_the_demo_into_an_empty_database(settings):
    settings.DEBUG = False

    output = run_load_demo()

    assert "Loaded the demo data" in output
    assert Compound.objects.filter(slug=TA1).exists()


@pytest.mark.django_db
def test_load_demo_leaves_a_database_with_compounds_alone(settings):
    settings.DEBUG = False
    make_compound()

    output = run_load_demo()

    assert "already holds compounds" in output
    assert not Compound.objects.filter(slug=TA1).exists()


@pytest.mark.django_db
def test_load_demo_creates_the_demo_superuser_only_with_debug_on(settings):
    settings.DEBUG = True

    output = run_load_demo()

    admin = get_user_model().objects.get(username="admin")
    assert admin.is_superuser and admin.check_password("admin")
    assert "http://127.0.0.1:8000/admin/" in output
    assert "admin / admin" in output


@pytest.mark.django_db
def test_load_demo_refuses_the_demo_superuser_with_debug_off(settings):
    settings.DEBUG = False

    output = run_load_demo()

    assert not get_user_model().objects.filter(username="admin").exists()
    assert "DEBUG is off: not creating the demo superuser" in output


@pytest.mark.django_db
def test_load_demo_keeps_an_existing_admin_password(settings):
    settings.DEBUG = True
    get_user_model().objects.create_user("admin", password="a-real-password")

    run_load_demo()

    assert get_user_model().objects.get(username="admin").check_password("a-real-password")


@pytest.mark.django_db
def test_load_demo_then_imports_the_open_dataset_once(settings, monkeypatch, tmp_path):
    # A copy of the pinned snapshot with two supplements keeps the test quick.
    from evidence.management.commands import load_demo

    snapshot = tmp_path / "snapshot"
    shutil.copytree(load_demo.OPEN_DATA, snapshot, ignore=shutil.ignore_patterns("supplements"))
    for name in ("ashwagandha", "zinc"):
        shutil.copytree(load_demo.OPEN_DATA / "supplements" / name, snapshot / "supplements" / name)
    monkeypatch.setattr(load_demo, "OPEN_DATA", snapshot)
    settings.DEBUG = False

    output = run_load_demo("--verbosity=1")

    assert "Loaded the demo data" in output
    assert "Supplements Open Facts at commit 304f884 (2025-06-12): 4 claim files" in output
    assert Compound.objects.filter(slug=TA1).exists()
    assert set(
        Compound.objects.filter(findings__study__source__slug="supplements-open-facts").values_list(
            "slug", flat=True
        )
    ) == {"ashwagandha"}
    assert Compound.objects.filter(slug="zinc", findings__isnull=True).exists()
    assert "already imported at commit 304f884" in run_load_demo("--verbosity=1")


@pytest.mark.django_db
def test_load_demo_never_imports_the_open_dataset_into_other_content(settings):
    settings.DEBUG = False
    make_compound()

    output = run_load_demo("--verbosity=1")

    assert "Supplements Open Facts" not in output
    assert not Compound.objects.filter(slug="ashwagandha").exists()
