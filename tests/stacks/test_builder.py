"""The stack builder (/): full page, HTMX fragment, filters, errors, query count."""

import gzip
import re
from decimal import Decimal
from itertools import combinations

import pytest

from evidence.models import Condition, Goal, Interaction
from stacks.goal_picker import MOST_RESEARCHED
from tests.factories import (
    make_contraindication,
    make_dosing,
    make_goal,
    make_offer,
    make_rated_compound,
)

pytestmark = pytest.mark.django_db

HTMX = {"HX-Request": "true"}


def test_builder_without_goals_invites_a_choice(client):
    goal = make_goal(name="Synthetic liver", category="Synthetic organs")
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Start with a goal" in html
    # Its category is listed, closed: the goals are fetched (or, without JavaScript, the page
    # asked again) when it is opened.
    assert "Synthetic organs" in html and goal.slug not in html
    assert 'name="goal_category" value="Synthetic organs"' in html
    assert "Educational purposes only, not medical advice" in html


def test_picking_goals_shows_the_stack_and_each_ranking(client):
    liver, immune = make_goal(name="Synthetic liver"), make_goal(name="Synthetic immune")
    a = make_rated_compound(liver, 2, name="Synthetic Alpha")
    b = make_rated_compound(immune, 3, name="Synthetic Beta")
    response = client.get(f"/?goals={liver.slug}&goals={immune.slug}")
    html = response.content.decode()
    assert response.status_code == 200
    assert "Your recommended stack" in html
    assert html.count("Synthetic Alpha") >= 2 and "Synthetic Beta" in html
    assert "Why this rank" in html
    assert "Tier 2" in html and "Likely efficacy" in html
    assert f"/compounds/{a.slug}/evidence/{liver.slug}/" in html
    assert f"/compounds/{b.slug}/evidence/{immune.slug}/" in html
    assert "Educational purposes only" in html


def test_a_ranking_stays_a_list_for_screen_readers_though_drawn_without_markers(client):
    # Safari drops the list role of a list styled without markers; the place of an entry is
    # told by the list itself (its number is a CSS counter hidden from screen readers).
    liver = make_goal(name="Synthetic liver")
    make_rated_compound(liver, 2, name="Synthetic Alpha")
    html = client.get(f"/?goals={liver.slug}").content.decode()
    assert html.count('<ol class="ranked-list" role="list">') == 1


def test_htmx_request_gets_only_the_results_fragment_with_the_summary_out_of_band(client):
    goal = make_goal()
    make_rated_compound(goal, name="Synthetic Gamma")
    response = client.get(f"/?goals={goal.slug}", headers=HTMX)
    html = response.content.decode()
    assert response.status_code == 200
    assert "<html" not in html and "site-footer" not in html
    assert "Synthetic Gamma" in html
    assert 'id="stack-summary"' in html and 'hx-swap-oob="true"' in html
    assert "HX-Request" in response["Vary"]


def test_plain_request_gets_the_full_page_and_varies_on_htmx(client):
    response = client.get("/")
    assert "<html" in response.content.decode()
    assert "HX-Request" in response["Vary"]


def test_declared_condition_moves_a_compound_to_the_excluded_list(client):
    goal = make_goal()
    compound = make_rated_compound(goal, name="Synthetic Delta")
    make_contraindication(compound, Condition.PREGNANCY, note="Synthetic note")
    html = client.get(f"/?goals={goal.slug}&condition=pregnancy").content.decode()
    assert "Excluded by your filters" in html
    assert "Contraindicated: Pregnancy (Synthetic note)" in html


def test_no_injection_filter_and_budget_apply(client):
    goal = make_goal()
    injected = make_rated_compound(goal, name="Synthetic Injected")
    make_dosing(injected, route="subcutaneous")
    oral = make_rated_compound(goal, name="Synthetic Oral")
    make_dosing(oral, route="oral")
    make_offer(oral)
    html = client.get(f"/?goals={goal.slug}&no_injections=on&budget=1000").content.decode()
    assert "Only given by injection" in html
    assert "/month" in html


@pytest.mark.parametrize(
    "query",
    ["goals=no-such-goal", "min_tier=abc", "budget=-1", "budget=abc", "condition=flu"],
)
def test_bad_builder_input_is_shown_with_errors_and_400(client, query):
    make_goal()
    response = client.get(f"/?{query}")
    assert response.status_code == 400
    assert "could not be used" in response.content.decode()


COMPOUNDS_PER_GOAL = 6


@pytest.fixture
def no_cache(settings):
    """The dummy cache: every request does the whole work; the content-version read counts."""
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.dummy.DummyCache"}}


def goals_with_stocked_compounds(count: int, per_goal: int = COMPOUNDS_PER_GOAL):
    """Goals each with ranked compounds that have offers in stock, dosing, a contraindication
    (one of them the visitor's) and interactions with each other, so every read happens."""
    goals = [make_goal() for _ in range(count)]
    for goal in goals:
        compounds = []
        for i in range(per_goal):
            compound = make_rated_compound(goal, tier_number=2 + i % 3, mechanism_class="Synth")
            make_offer(compound, price=Decimal("10.00"))
            make_dosing(compound, doses_per_week=Decimal(7))
            condition = Condition.PREGNANCY if i == 0 else Condition.KIDNEY_DISEASE
            make_contraindication(compound, condition)
            compounds.append(compound)
        for a, b in combinations(sorted(c.pk for c in compounds), 2):
            Interaction.objects.create(
                compound_a_id=a, compound_b_id=b, severity="minor", note="Synthetic note"
            )
    return goals


def builder_url(goals) -> str:
    picked = "&".join(f"goals={goal.slug}" for goal in goals)
    return f"/?{picked}&in_stock=on&budget=1000&currency=USD&condition=pregnancy"


# The same reads whatever the number of goals asked for (two queries read every goal's lists).
# With the cache off, which compounds have an interaction on record is read on every request
# (stack_warnings; with the cache, once per content version), and then the picks' interactions.
@pytest.mark.parametrize(("goal_count", "budget"), [(1, 7), (3, 7), (10, 7)])
@pytest.mark.parametrize("fragment", [False, True], ids=["page", "htmx fragment"])
@pytest.mark.parametrize("per_goal", [COMPOUNDS_PER_GOAL, 3 * COMPOUNDS_PER_GOAL])
def test_builder_reads_a_fixed_number_of_queries(
    client, no_cache, goal_count, budget, fragment, per_goal, django_assert_max_num_queries
):
    goals = goals_with_stocked_compounds(goal_count, per_goal)
    headers = {"HX-Request": "true"} if fragment else {}
    # The whole page also draws the currency list (the currencies offers are priced in), the
    # tier filter's choices, and the goal picker's most researched goals and categories.
    budget += 0 if fragment else 4
    with django_assert_max_num_queries(budget):
        response = client.get(builder_url(goals), headers=headers)
    assert response.status_code == 200
    stack = response.context["stack"]
    assert len(stack.picks) >= 2  # the warnings' reads happened
    kinds = {w.kind for w in stack.warnings}
    assert kinds >= {"shared_contraindication", "same_mechanism"}
    # Interactions are recorded within a goal; with ten goals the stack picks one compound of
    # each, so no two picks interact (the read still happens, inside the budget).
    assert ("interaction" in kinds) == (goal_count < 10)
    for ranking in stack.rankings:
        assert len(ranking.ranked) == per_goal - 1
        [excluded] = ranking.excluded
        assert excluded.reasons == ("Contraindicated: Pregnancy",)


def test_the_goals_rankings_worked_out_for_one_page_are_reused_by_the_next(
    client, django_assert_max_num_queries
):
    goals = goals_with_stocked_compounds(3)
    page = client.get(builder_url(goals))
    # The fragment is another page, but each goal's ranking and candidates are the page's:
    # left to read are the content version, the goals asked for and the picks' interactions.
    with django_assert_max_num_queries(3):
        fragment = client.get(builder_url(goals), headers=HTMX)
    assert fragment.context["stack"] == page.context["stack"]
    # "Why this rank" is fetched when opened (why_rank): the page reads none of it.
    assert fragment.context["stack"].picks[0].compound.components == ()


def test_a_reused_ranking_is_retired_by_an_edit(client):
    goal = make_goal()
    compound = make_rated_compound(goal, name="Synthetic Before")
    client.get(f"/?goals={goal.slug}", headers=HTMX)
    compound.name = "Synthetic After"
    compound.save()
    html = client.get(f"/?goals={goal.slug}").content.decode()  # another page, a new version
    assert "Synthetic After" in html
    assert "Synthetic Before" not in html


def test_the_fragment_reads_only_the_goals_it_was_asked_for(client, no_cache):
    goals = goals_with_stocked_compounds(1)
    for _ in range(30):
        make_goal()
    response = client.get(builder_url(goals), headers={"HX-Request": "true"})
    assert [g.slug for g in response.context["form"].goal_list] == [goals[0].slug]
    assert b"<html" not in response.content


def test_the_summary_is_announced_and_the_disclaimer_follows_the_stack(client):
    goal = make_goal()
    make_rated_compound(goal, name="Synthetic Gamma")
    html = client.get(f"/?goals={goal.slug}").content.decode()
    bar = html[html.index('class="results-bar"') :]
    assert bar.startswith('class="results-bar" role="status" aria-live="polite">')
    assert bar.index('id="stack-summary"') < bar.index("</div>")
    # A shared link opens on a phone at the results (static/js/site.js reads the marker).
    assert 'id="results" class="results" aria-label="Your results" data-scroll-into-view-on' in html
    main = html[html.index('id="results"') : html.index('class="site-footer"')]
    assert main.count("Educational purposes only") == 1
    assert main.index("Your recommended stack") < main.index("Educational purposes only")


def test_the_builder_without_goals_does_not_scroll_anywhere(client):
    assert "data-scroll-into-view-on-phone" not in client.get("/").content.decode()


def test_a_negative_budget_is_refused_in_a_sentence_and_shows_no_stack(client):
    goal = make_goal()
    make_rated_compound(goal)
    response = client.get(f"/?goals={goal.slug}&budget=-5", headers={"HX-Request": "true"})
    assert response.status_code == 400
    html = response.content.decode()
    assert "Monthly budget: A budget cannot be negative." in html
    assert "Your recommended stack" not in html
    assert "No stack: a choice needs correcting." in html


def test_the_budget_field_leaves_the_range_check_to_the_server(client):
    # A `min` would make the browser refuse -5 silently under htmx (the old results stay).
    html = client.get("/").content.decode()
    budget = re.search(r'<input [^>]*name="budget"[^>]*>', html)[0]
    assert "min=" not in budget and "max=" not in budget


def test_why_this_rank_is_fetched_when_opened_or_followed_as_a_link(client):
    goal = make_goal()
    compound = make_rated_compound(goal, name="Synthetic Gamma")
    html = client.get("/", {"goals": goal.slug}).content.decode()
    why = f"/goals/{goal.slug}/why/{compound.slug}/"
    assert f'hx-get="{why}"' in html and f'<a href="{why}">' in html
    assert 'class="components"' not in html  # the breakdown is not drawn until asked for


# The goal picker ---------------------------------------------------------------------------


def test_the_picker_lists_chosen_goals_first_and_then_the_most_researched(client):
    chosen = make_goal("Synthetic chosen", slug="synthetic-chosen")
    other = make_goal("Synthetic researched", slug="synthetic-researched")
    make_rated_compound(chosen)
    make_rated_compound(other)
    html = client.get("/", {"goals": chosen.slug}).content.decode()
    picker = html[html.index('class="goal-picker"') : html.index('class="constraints"')]
    assert picker.index("Chosen") < picker.index("Most researched")
    assert 'value="synthetic-chosen" id="goal-synthetic-chosen" checked' in picker
    assert 'value="synthetic-researched" id="goal-top-synthetic-researched">' in picker
    assert picker.count('value="synthetic-chosen"') == 1


def test_without_javascript_a_search_is_asked_of_the_page_itself(client):
    make_goal("Synthetic sleep quality", slug="synthetic-sleep-quality")
    response = client.get("/", {"goal_q": "sleep"})
    html = response.content.decode()
    assert response.status_code == 200
    assert 'name="goal_q" value="sleep"' in html
    matches = html[html.index('id="goal-matches"') :]
    assert 'id="goal-found-synthetic-sleep-quality"' in matches[: matches.index("</div>")]


def test_without_javascript_a_category_opens_on_the_page_itself(client):
    make_goal("Synthetic knees", slug="synthetic-knees", category="Synthetic joints")
    make_goal("Synthetic mood", slug="synthetic-mood", category="Synthetic mind")
    html = client.get("/", {"goal_category": "Synthetic joints"}).content.decode()
    assert '<details class="goal-category" id="goal-category-synthetic-joints" open>' in html
    assert 'id="goal-in-synthetic-knees"' in html
    assert "synthetic-mood" not in html  # its category stays closed


def test_an_unknown_goal_category_is_refused_in_a_sentence(client):
    make_goal(category="Synthetic joints")
    response = client.get("/", {"goal_category": "Synthetic nowhere"})
    assert response.status_code == 400
    assert "There is no goal category named “Synthetic nowhere”." in response.content.decode()


def test_the_builders_own_requests_leave_the_picker_fields_out(client):
    # Results do not depend on the goal search: htmx leaves it out, so the address bar and the
    # cached fragment are the same whatever was typed in it.
    html = client.get("/").content.decode()
    assert 'hx-params="not goal_q,goal_category"' in html


def test_the_builder_page_stays_small_with_a_thousand_goals(client, no_cache):
    categories = 40
    Goal.objects.bulk_create(
        Goal(
            name=f"Synthetic goal {i:04d}",
            slug=f"synthetic-bulk-goal-{i:04d}",
            category=f"Synthetic category {i % categories:02d}",
        )
        for i in range(1000)
    )
    researched = list(Goal.objects.order_by("slug")[:20])
    for goal in researched:
        make_rated_compound(goal)
    response = client.get("/")
    html = response.content
    assert response.status_code == 200
    assert len(gzip.compress(html, compresslevel=6)) < 100_000
    assert len(html) < 100_000
    # Only the most researched goals are drawn as checkboxes; the rest wait in their category.
    assert html.count(b'name="goals"') == MOST_RESEARCHED
    assert html.count(b'<details class="goal-category"') == categories


def test_a_builder_page_draws_at_most_two_hundred_entries_whatever_it_asks(client):
    goals = [make_goal() for _ in range(10)]
    for goal in goals[:2]:
        for _ in range(3):
            make_rated_compound(goal)
    response = client.get("/", {"goals": [g.slug for g in goals], "limit": 200})
    assert response.status_code == 200
    assert response.context["form"].entries_per_list() == 20  # 200 entries / 10 goals
    two = client.get("/", {"goals": [g.slug for g in goals[:2]], "limit": 200})
    assert two.context["form"].entries_per_list() == 100


def test_show_more_stops_at_the_pages_share_and_points_to_the_goal_page(client):
    goals = [make_goal(f"Synthetic goal {n}") for n in range(10)]
    for _ in range(25):
        make_rated_compound(goals[0])
    html = client.get("/", {"goals": [g.slug for g in goals]}).content.decode()
    assert "Showing the top 20 of 25 ranked compounds." in html
    assert ">Show more</a>" not in html
    assert f'<a href="/goals/{goals[0].slug}/">See more on the page of synthetic goal 0</a>' in html
    one = client.get("/", {"goals": goals[0].slug}).content.decode()
    assert ">Show more</a>" in one and "limit=40" in one


def test_the_filters_are_drawn_as_sent_whichever_page_drew_them_first(client):
    goal = make_goal()
    make_rated_compound(goal)
    client.get(f"/?goals={goal.slug}&budget=50.0")
    page = client.get(f"/goals/{goal.slug}/?budget=50").content.decode()
    assert re.search(r'name="budget"[^>]*value="50"', page)
    assert not re.search(r'name="budget"[^>]*value="50.0"', page)
    client.get(f"/goals/{goal.slug}/?budget=-5")
    refused = client.get(f"/?goals={goal.slug}&budget=-5").content.decode()
    assert "A budget cannot be negative." in refused
    assert "No goal picked yet." not in refused


def test_each_filter_is_drawn_as_sent_whatever_the_others_are(client):
    goal = make_goal()
    make_rated_compound(goal)
    client.get(f"/?goals={goal.slug}&budget=50&condition=pregnancy&in_stock=on")
    page = client.get(f"/?goals={goal.slug}&budget=50").content.decode()
    assert re.search(r'name="budget"[^>]*value="50"', page)
    assert not re.search(r'value="pregnancy"[^>]*checked', page)
    assert not re.search(r'name="in_stock"[^>]*checked', page)
    page = client.get(f"/goals/{goal.slug}/?budget=20&condition=pregnancy").content.decode()
    assert re.search(r'name="budget"[^>]*value="20"', page)
    assert re.search(r'value="pregnancy"[^>]*checked', page)
    assert not re.search(r'name="in_stock"[^>]*checked', page)


def test_the_closed_categories_are_drawn_alike_on_every_page_with_no_visitors_query(client):
    make_goal("Synthetic knees", slug="synthetic-knees", category="Synthetic joints")
    goal = make_goal(category="Synthetic mind")
    make_rated_compound(goal)

    def categories(query: str) -> str:
        html = client.get("/?" + query).content.decode()
        return html[html.index('<div class="goal-categories">') : html.index("</fieldset>")]

    drawn = categories("")
    assert drawn == categories(f"goals={goal.slug}&condition=pregnancy&budget=20")
    assert goal.slug not in drawn and "pregnancy" not in drawn
    assert 'name="goal_category" value="Synthetic joints"' in drawn
    assert 'formaction="/#goal-category-synthetic-joints"' in drawn


def test_enter_in_a_field_submits_the_form_as_its_plain_button_does(client):
    make_goal(category="Synthetic joints")
    html = client.get("/").content.decode()
    form = html[html.index('<form class="builder-form') :]
    first_submit = re.search(r'<button type="submit"[^>]*>', form).group()
    assert "name=" not in first_submit and 'aria-hidden="true"' in first_submit
