from collections.abc import Iterable

from django.db import connections, models
from django.db.models import Q

from evidence.models import Compound, Goal

# The documented order of a goal's list (stacks.ranking.RankedCompound.sort_key), in SQL: the
# insufficient (no score) last. Names compare as Python compares them, by code point
# ({collate}: PostgreSQL's "C" collation; SQLite's default already is), whatever the
# database's locale: an en_US collation would put "Lion's Mane" before "L-Theanine".
RANKING_ORDER_SQL = (
    "score DESC NULLS LAST, tier_number ASC NULLS LAST, randomised_study_count DESC, "
    "participants DESC, design_weighted_studies DESC, study_count DESC, "
    "sort_name{collate} ASC, slug{collate} ASC"
)
BYTE_ORDER_COLLATION = {"postgresql": ' COLLATE "C"'}


class GoalScoreQuerySet(models.QuerySet):
    def number_places(self, goal_ids: Iterable[int] | None = None) -> None:
        """Write every row's `place` in its goal's group, in the documented order, the
        group's size, and its `goal_place` among all of its goal's rows in the same order,
        for these goals (None: every goal): one UPDATE. Whoever writes rows of a goal calls it
        for that goal before the transaction ends (stacks.refresh)."""
        table = self.model._meta.db_table
        scope, params = "", []
        if goal_ids is not None:
            goal_ids = list(goal_ids)
            if not goal_ids:
                return
            scope = f" WHERE goal_id IN ({', '.join(['%s'] * len(goal_ids))})"
            params = goal_ids
        connection = connections[self.db]
        order = RANKING_ORDER_SQL.format(collate=BYTE_ORDER_COLLATION.get(connection.vendor, ""))
        sql = (
            f"UPDATE {table} SET place = numbered.place, group_size = numbered.size,"
            " goal_place = numbered.goal_place FROM ("
            f' SELECT id, ROW_NUMBER() OVER (PARTITION BY goal_id, "group"'
            f" ORDER BY {order}) AS place,"
            f'  COUNT(*) OVER (PARTITION BY goal_id, "group") AS size,'
            f"  ROW_NUMBER() OVER (PARTITION BY goal_id ORDER BY {order}) AS goal_place"
            f" FROM {table}{scope}"
            f") numbered WHERE {table}.id = numbered.id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, params)


class GoalScore(models.Model):
    """The score of one published compound for one goal, precomputed by stacks.refresh.

    A derived table: stacks.scoring decides every value, signals keep it current after each
    edit, and `manage.py rescore` rebuilds it whole. Rankings read it instead of scoring
    thousands of findings per request. Nothing from vendors or offers is stored here.
    """

    class Group(models.TextChoices):
        RANKED = "ranked", "Ranked"
        NO_EFFECT = "no_effect", "Studied, no benefit found"
        INSUFFICIENT = "insufficient", "Studied, no direction found (insufficient evidence)"

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="+")
    compound = models.ForeignKey(Compound, on_delete=models.CASCADE, related_name="goal_scores")
    group = models.CharField(max_length=12, choices=Group.choices)
    score = models.FloatField(
        null=True, help_text="None for insufficient evidence (no direction found): unranked."
    )
    tier_number = models.PositiveSmallIntegerField(null=True)
    tier_label = models.CharField(max_length=80)
    computed = models.BooleanField(
        default=False, help_text="Placed by the computed certainty: no editor's tier."
    )
    certainty = models.PositiveSmallIntegerField(
        null=True, help_text="Certainty of the evidence of benefit, 1 (very low) to 4 (high)."
    )
    certainty_steps = models.JSONField(default=list)
    components = models.JSONField(default=list)
    study_count = models.PositiveIntegerField(default=0)
    randomised_study_count = models.PositiveIntegerField(default=0)
    participants = models.PositiveBigIntegerField(default=0)
    design_weighted_studies = models.FloatField(default=0)
    bottom_line = models.TextField(blank=True)
    # Copies of the compound's own facts, so a ranking page needs no join to render.
    name = models.CharField(max_length=160)
    sort_name = models.CharField(max_length=160, help_text="Casefolded name, for tie-breaking.")
    slug = models.SlugField(max_length=160)
    kind = models.CharField(max_length=20)
    mechanism_class = models.CharField(max_length=80, blank=True)
    # Facts the visitor's constraints filter on, derived from the compound's dosing.
    injection_only = models.BooleanField(default=False)
    milligrams_per_month = models.DecimalField(
        max_digits=16, decimal_places=6, null=True, help_text="From the goal's or general dosing."
    )
    # The row's place in its goal's group before any visitor's constraints, and the group's
    # size (GoalScoreQuerySet.number_places): a ranking no constraint narrows reads its first
    # rows by index instead of numbering every row of a popular goal per request.
    place = models.PositiveIntegerField(default=0, help_text="1 is first; 0: not numbered yet.")
    group_size = models.PositiveIntegerField(default=0)
    # Its place among all of its goal's rows, every group together: a filtered ranking numbers
    # the lists the filters make in this one integer's order, read from a covering index,
    # instead of sorting every row of the goal by the documented order's eight columns.
    goal_place = models.PositiveIntegerField(
        default=0, help_text="1 is the goal's first row; 0: not numbered yet."
    )

    objects = GoalScoreQuerySet.as_manager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["goal", "compound"], name="goal_score_unique"),
            models.CheckConstraint(
                condition=Q(score__gte=0, score__lte=100), name="goal_score_in_range"
            ),
            models.CheckConstraint(
                condition=Q(group="insufficient", score__isnull=True)
                | (~Q(group="insufficient") & Q(score__isnull=False)),
                name="goal_score_unless_insufficient",
            ),
        ]
        indexes = [
            # Reading the rankings of a set of goals (stacks.ranking._read_lists) starts from
            # the goal; the columns follow the documented order (RankedCompound.sort_key).
            models.Index(
                "goal",
                "group",
                models.F("score").desc(),
                "tier_number",
                models.F("randomised_study_count").desc(),
                models.F("participants").desc(),
                "sort_name",
                "slug",
                name="goal_score_ranking_idx",
            ),
            models.Index(fields=["goal", "group", "place"], name="goal_score_place_idx"),
            # What a filtered ranking's window reads of every row of its goals (stacks.ranking.
            # _places_by_window): an index-only scan on PostgreSQL. SQLite has no INCLUDE: it
            # makes a plain index on (goal, goal_place).
            models.Index(
                fields=["goal", "goal_place"],
                include=[
                    "id",
                    "compound",
                    "group",
                    "score",
                    "injection_only",
                    "kind",
                    "tier_number",
                    "milligrams_per_month",
                ],
                name="goal_score_goal_place_idx",
            ),
        ]

    def __str__(self):
        return f"{self.name} for goal {self.goal_id}: {self.score}"


class CompoundPrice(models.Model):
    """The cheapest price per mg of one compound in one currency, over the offers a visitor
    may see (evidence.models.OfferQuerySet.visible), precomputed by stacks.prices.

    A derived table, like GoalScore: signals keep it current after each edit of an offer, a
    vendor or a compound, and `manage.py rescore` rebuilds it whole. A visitor's budget and
    "only in stock" filters read it, one row per ranked compound, instead of every offer.
    """

    compound = models.ForeignKey(Compound, on_delete=models.CASCADE, related_name="+")
    currency = models.CharField(max_length=3)
    cheapest_per_mg = models.DecimalField(
        max_digits=32,
        decimal_places=20,
        null=True,
        help_text="None: no offer in this currency has a public price and a unit of mass.",
    )
    cheapest_in_stock_per_mg = models.DecimalField(
        max_digits=32, decimal_places=20, null=True, help_text="The same, of the offers in stock."
    )
    in_stock = models.BooleanField(help_text="An offer in this currency is in stock.")

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["compound", "currency"], name="compound_price_unique"),
        ]
        indexes = [
            # "Only in stock" asks it once per row of a filtered ranking (stacks.ranking.
            # _in_stock): an index-only probe.
            models.Index(
                fields=["compound"], condition=Q(in_stock=True), name="compound_price_in_stock_idx"
            ),
        ]

    def __str__(self):
        return f"{self.compound_id} in {self.currency}: {self.cheapest_per_mg}/mg"
