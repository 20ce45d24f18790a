"""The evidence page's forest plot on a 390 px phone: every axis and both "favours" labels of
every outcome lie inside the screen, and nothing needs a sideways scroll."""

import re

import pytest
from playwright.sync_api import Page, expect

from evidence.models import Goal
from tests.browser.conftest import DESKTOP, LIVER, PHONE, SCREENSHOTS, TA1, TA1_SLUG
from tests.factories import SYNTHETIC_POOLED_OUTCOME, make_compound, make_pooled_trials

pytestmark = pytest.mark.browser

WIDTH = PHONE["viewport"]["width"]


def save_figure(page: Page, name: str) -> None:
    SCREENSHOTS.mkdir(exist_ok=True)
    page.locator("figure.forest").screenshot(path=SCREENSHOTS / f"{name}.png")


def assert_inside_the_screen(page: Page, locator, what: str) -> None:
    box = locator.bounding_box()
    assert box, f"{what} is not drawn"
    assert box["x"] >= 0 and box["x"] + box["width"] <= WIDTH, f"{what} is off screen: {box}"


def assert_axes_and_favours_fit(page: Page) -> int:
    groups = page.locator(".forest-group")
    expect(groups.first).to_be_visible()
    for i in range(groups.count()):
        group = groups.nth(i)
        group.scroll_into_view_if_needed()
        outcome = group.locator(".forest-outcome").inner_text()
        assert_inside_the_screen(page, group.locator("svg.forest-axis"), f"the axis of {outcome}")
        ticks = group.locator("svg.forest-axis text")
        assert ticks.count() >= 3
        for t in range(ticks.count()):
            assert_inside_the_screen(page, ticks.nth(t), f"tick {t} of {outcome}")
        for side in ("left", "right"):
            label = group.locator(f".forest-favours__{side}")
            expect(label).to_contain_text(re.compile(r"Favours|values"))
            assert_inside_the_screen(page, label, f"the {side} favours label of {outcome}")
    # The figure is no scroll container, and the page does not scroll sideways.
    assert page.evaluate(
        "(() => { const f = document.querySelector('figure.forest');"
        " return f.scrollWidth <= f.clientWidth; })()"
    )
    assert page.evaluate("document.scrollingElement.scrollWidth") <= WIDTH
    return groups.count()


def test_the_demo_forest_plot_fits_a_phone_with_its_axes_and_favours_labels(new_page, demo):
    page = new_page(**PHONE)
    page.goto(f"/compounds/{TA1_SLUG}/evidence/{LIVER}/", timeout=30_000)
    expect(page.get_by_role("heading", name="Forest plot")).to_be_visible()

    assert assert_axes_and_favours_fit(page) >= 2
    # Lower is better for survival hazards: the compound's side is the left.
    survival = page.locator(".forest-group", has_text="Overall survival")
    expect(survival.locator(".forest-favours__left")).to_contain_text(f"Favours {TA1}")
    # A rise in response is better: against interferon-alpha the compound's side is the right.
    response = page.locator(".forest-group", has_text="Complete response")
    expect(response.locator(".forest-favours__right")).to_contain_text(f"Favours {TA1}")
    expect(response.locator(".forest-favours__left")).to_contain_text("Favours Interferon-alpha")
    save_figure(page, "forest-plot-phone")


def test_a_pooled_diamond_is_drawn_inside_its_axis_on_a_phone(new_page, demo):
    compound = make_compound("Synthetic pooled hazard compound")
    make_pooled_trials(compound, Goal.objects.get(slug=LIVER))
    page = new_page(**PHONE)
    page.goto(f"/compounds/{compound.slug}/evidence/{LIVER}/", timeout=30_000)

    group = page.locator(".forest-group", has_text=SYNTHETIC_POOLED_OUTCOME)
    expect(group.locator(".forest-row")).to_have_count(4)  # three trials and the pooled row
    diamond = group.locator(".forest-row--pooled svg.diamond polygon")
    expect(diamond).to_be_visible()
    axis = group.locator("svg.forest-axis").bounding_box()
    box = diamond.bounding_box()
    assert box and axis and box["width"] > 5
    assert axis["x"] <= box["x"] and box["x"] + box["width"] <= axis["x"] + axis["width"]
    expect(group.locator(".forest-favours__left")).to_have_text(
        re.compile(r"Favours Synthetic pooled hazard compound")
    )
    assert_axes_and_favours_fit(page)
    save_figure(page, "forest-plot-pooled-phone")


def test_on_a_desktop_each_row_reads_label_marks_effect_from_left_to_right(new_page, demo):
    page = new_page(**DESKTOP)
    page.goto(f"/compounds/{TA1_SLUG}/evidence/{LIVER}/", timeout=30_000)
    row = page.locator(".forest-group", has_text="Overall survival").locator("li.forest-row")
    label, track, effect = (
        row.locator(part).bounding_box()
        for part in (".forest-label", "svg.forest-track", ".forest-effect")
    )
    assert label["x"] + label["width"] <= track["x"] < track["x"] + track["width"] <= effect["x"]
    axis = page.locator(".forest-group", has_text="Overall survival").locator("svg.forest-axis")
    box = axis.bounding_box()
    assert box["x"] == track["x"] and box["width"] == track["width"], "the axis is under the marks"
    save_figure(page, "forest-plot-desktop")
