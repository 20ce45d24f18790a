"""Data shaped for the visitor pages: a compound like the seed article, catalogues to scale."""

from decimal import Decimal

from evidence.models import Article, Finding, Study
from tests.factories import (
    make_compound,
    make_finding,
    make_goal,
    make_offer,
    make_rating,
    make_source,
    make_study,
    make_vendor,
)

DISCLAIMER = "Educational purposes only, not medical advice."


def make_thymosin():
    """Thymosin alpha-1 for liver health, shaped like the seed article (synthetic figures)."""
    liver = make_goal("Liver health", slug="liver-health")
    ta1 = make_compound(
        "Thymosin alpha-1",
        slug="thymosin-alpha-1",
        kind="peptide",
        aliases=["Thymalfasin", "Zadaxin", "Tα1"],
        summary="A 28-amino-acid thymic peptide.",
        mechanism="Immunomodulator acting on dendritic cells and T cells.",
        regulatory_status="Not FDA approved.",
    )
    interferon = make_compound("Interferon-alpha", slug="interferon-alpha", kind="drug")
    rating = make_rating(
        ta1,
        liver,
        tier_number=3,
        bottom_line="Probable benefit, limited by moderate sample sizes.",
        data_suggests="Modest responses in chronic hepatitis B.",
        limitations="Few randomised trials.",
    )
    meta = make_study(
        Study.Design.META_ANALYSIS, n=199, trial_count=4, title="Tα1 vs interferon meta-analysis"
    )
    make_finding(
        ta1,
        liver,
        meta,
        outcome="Complete response",
        comparator=Finding.Comparator.ACTIVE,
        comparator_name="Interferon-alpha",
        comparator_compound=interferon,
        value=Decimal("0.54"),
        ci_low=Decimal("0.30"),
        ci_high=Decimal("0.97"),
    )
    make_finding(
        ta1,
        liver,
        meta,
        outcome="Virologic response",
        comparator=Finding.Comparator.ACTIVE,
        comparator_name="Interferon-alpha",
        comparator_compound=interferon,
        value=Decimal("0.62"),
        ci_low=Decimal("0.35"),
        ci_high=Decimal("1.10"),
    )
    cohort = make_study(
        Study.Design.COHORT, n=468, title="HCC after resection", design_detail="propensity"
    )
    make_finding(
        ta1,
        liver,
        cohort,
        outcome="Overall survival",
        comparator=Finding.Comparator.NO_TREATMENT,
        measure=Finding.Measure.HAZARD_RATIO,
        value=Decimal("0.308"),
        ci_low=Decimal("0.175"),
        ci_high=Decimal("0.541"),
        p_value=Decimal("0.001"),
        p_value_is_bound=True,
        higher_is_better=False,
    )
    rct = make_study(Study.Design.RCT, n=316, title="Monotherapy in hepatitis B", pmid="12345678")
    make_finding(
        ta1,
        liver,
        rct,
        outcome="ALT normalisation",
        comparator=Finding.Comparator.NOT_REPORTED,
        measure=Finding.Measure.PROPORTION,
        value=Decimal("36.4"),
        ci_low=None,
        ci_high=None,
    )
    cirrhosis = make_study(Study.Design.RCT, n=690, title="Add-on to entecavir in cirrhosis")
    make_finding(
        ta1,
        liver,
        cirrhosis,
        outcome="HCC incidence",
        comparator=Finding.Comparator.ADD_ON,
        comparator_name="Entecavir alone",
        measure=Finding.Measure.PROPORTION,
        value=Decimal("1.7"),
        comparator_value=Decimal("2.1"),
        ci_low=None,
        ci_high=None,
        stated_significance=False,
        higher_is_better=False,
    )
    make_finding(
        ta1,
        liver,
        cirrhosis,
        outcome="Immune cell counts",
        measure=Finding.Measure.QUALITATIVE,
        stated_significance=True,
    )
    return ta1, liver, rating, interferon


def full_page(response) -> str:
    return response.content.decode()


def build_catalogue(size: int):
    """size published compounds, each with aliases, two ratings, findings and offers."""
    vendor = make_vendor()
    goals = [make_goal(), make_goal()]
    for _ in range(size):
        compound = make_compound(aliases=[f"Alias {_ + 1} of {size}"])
        for goal in goals:
            make_rating(compound, goal)
        make_offer(compound, vendor)
    return vendor


def build_evidence(size: int):
    """size studies, cited in turn by a PMID, a source (one each) and an article."""
    compound, goal = make_compound(), make_goal()
    make_rating(compound, goal)
    comparator = make_compound()
    article = Article.objects.create(
        compound=compound, goal=goal, slug=f"article-{size}", title="A", body="B", published=True
    )
    for i in range(size):
        citation = [
            {"pmid": str(1000 + i)},
            {"source": make_source(), "source_record_id": f"record-{i}", "reviewed": False},
            {"reported_in": article},
        ][i % 3]
        study = make_study(**citation)
        make_finding(compound, goal, study, comparator="active", comparator_compound=comparator)
        make_finding(
            compound, goal, study, measure=Finding.Measure.QUALITATIVE, quote=f"Quote {i}."
        )
    return compound, goal
