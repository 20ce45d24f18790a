"""sitemap.xml (django.contrib.sitemaps): every public page a crawler should find, each at
the address the page names as canonical. Only what visitors can open: published compounds
and articles, active vendors, and evidence pages that exist (a rating or findings).

Each list is read whole (one query; the paginator would otherwise count it first)."""

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from evidence.models import Article, Compound, Finding, Goal, Rating, Vendor

# URL names of the pages that take no object: the builder, the indexes and the static pages.
STATIC_PAGES = [
    "builder",
    "goal_index",
    "compound_index",
    "research_index",
    "vendor_index",
    "methodology",
    "disclosure",
    "changes",
]


class StaticPages(Sitemap):
    def items(self):
        return STATIC_PAGES

    def location(self, item):
        return reverse(item)


class Compounds(Sitemap):
    def items(self):
        return list(Compound.objects.published().only("slug", "updated_at").order_by("slug"))

    def lastmod(self, compound):
        return compound.updated_at


class EvidencePages(Sitemap):
    """A published compound's evidence for a goal: rated, or with findings recorded (the
    pages evidence_detail serves)."""

    def items(self):
        pairs = ("compound__slug", "goal__slug")
        rated = Rating.objects.filter(compound__published=True).values_list(*pairs)
        studied = Finding.objects.filter(compound__published=True).values_list(*pairs)
        return sorted(set(rated) | set(studied.distinct()))

    def location(self, item):
        return reverse("evidence_detail", args=item)


class Goals(Sitemap):
    def items(self):
        return list(Goal.objects.only("slug").order_by("slug"))


class Articles(Sitemap):
    def items(self):
        return list(Article.objects.published().only("slug", "last_updated").order_by("slug"))

    def lastmod(self, article):
        return article.last_updated


class Vendors(Sitemap):
    def items(self):
        return list(Vendor.objects.active().only("slug").order_by("slug"))


SITEMAPS = {
    "pages": StaticPages,
    "goals": Goals,
    "compounds": Compounds,
    "evidence": EvidencePages,
    "research": Articles,
    "vendors": Vendors,
}
