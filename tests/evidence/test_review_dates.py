"""Review dates that mean something: each rating shows when an editor last confirmed it, a
rating not confirmed for REVIEW_INTERVAL_MONTHS is marked "review due" on its pages, and the
admin lists those ratings for the editors and confirms them with today's date."""

from datetime import date

import pytest
from django.urls import reverse
from django.utils import timezone

from evidence.models import REVIEW_INTERVAL_MONTHS, Rating, months_before
from tests.factories import make_compound, make_finding, make_goal, make_rating
from tests.factories.personas import evidence_editor, logged_in

pytestmark = pytest.mark.django_db

RATINGS_ADMIN = reverse("admin:evidence_rating_changelist")


def rating_reviewed(months_ago: int, name: str) -> Rating:
    goal = make_goal()
    compound = make_compound(name)
    make_finding(compound, goal)
    return make_rating(
        compound, goal, last_reviewed=months_before(timezone.localdate(), months_ago)
    )


def test_the_interval_is_twelve_months():
    assert REVIEW_INTERVAL_MONTHS == 12


@pytest.mark.parametrize(
    ("day", "months", "expected"),
    [
        (date(2026, 11, 30), 12, date(2025, 11, 30)),
        (date(2026, 11, 30), 13, date(2025, 10, 30)),
        (date(2026, 3, 31), 1, date(2026, 2, 28)),
        (date(2024, 3, 31), 1, date(2024, 2, 29)),
        (date(2026, 1, 15), 1, date(2025, 12, 15)),
    ],
)
def test_months_before_counts_calendar_months_and_clamps_to_the_months_end(day, months, expected):
    assert months_before(day, months) == expected


def test_a_rating_reviewed_13_months_ago_shows_review_due_on_its_pages(client):
    rating = rating_reviewed(13, "Synthetic Stale")
    shown = f'Last reviewed <time datetime="{rating.last_reviewed:%Y-%m-%d}">'
    shown += rating.last_reviewed.strftime("%-d %B %Y")

    for page in (rating.compound.get_absolute_url(), rating.get_absolute_url()):
        html = client.get(page).content.decode()
        assert shown in html
        assert "Review due" in html, page


def test_a_rating_reviewed_11_months_ago_is_not_due(client):
    rating = rating_reviewed(11, "Synthetic Fresh")

    for page in (rating.compound.get_absolute_url(), rating.get_absolute_url()):
        html = client.get(page).content.decode()
        assert "Last reviewed" in html
        assert "Review due" not in html, page


def test_a_rating_reviewed_exactly_12_months_ago_is_due():
    today = timezone.localdate()
    rating = rating_reviewed(12, "Synthetic Anniversary")
    assert rating.is_review_due(today)
    assert list(Rating.objects.review_due(today)) == [rating]


def test_a_rating_never_reviewed_says_so_and_is_due(client):
    goal = make_goal()
    compound = make_compound("Synthetic Unreviewed")
    rating = make_rating(compound, goal)
    html = client.get(rating.get_absolute_url()).content.decode()
    assert "Review date not stated" in html and "Review due" in html


def test_the_admins_review_due_filter_lists_only_ratings_due_for_review():
    make_goal()
    stale = rating_reviewed(13, "Synthetic Stale")
    fresh = rating_reviewed(11, "Synthetic Fresh")
    editor = logged_in(evidence_editor())

    due = editor.get(RATINGS_ADMIN + "?review=due")
    current = editor.get(RATINGS_ADMIN + "?review=current")

    assert due.status_code == 200 and current.status_code == 200
    assert list(due.context["cl"].result_list) == [stale]
    assert list(current.context["cl"].result_list) == [fresh]
    assert "Synthetic Stale" in due.content.decode()
    assert "Synthetic Fresh" not in due.content.decode()


def test_confirm_reviewed_today_sets_the_date_one_history_record_each():
    stale = rating_reviewed(13, "Synthetic Stale")
    editor = logged_in(evidence_editor())
    before = stale.history.count()

    response = editor.post(
        RATINGS_ADMIN,
        {"action": "confirm_reviewed_today", "_selected_action": [stale.pk]},
        follow=True,
    )

    stale.refresh_from_db()
    assert response.status_code == 200
    assert "1 rating confirmed reviewed today." in response.content.decode()
    assert stale.last_reviewed == timezone.localdate()
    assert stale.history.count() == before + 1
    assert not Rating.objects.review_due(timezone.localdate()).filter(pk=stale.pk).exists()


def test_the_rating_forms_confirm_box_sets_the_review_date_to_today():
    stale = rating_reviewed(13, "Synthetic Stale")
    editor = logged_in(evidence_editor())
    url = reverse("admin:evidence_rating_change", args=[stale.pk])
    form = editor.get(url).context["adminform"].form
    assert "reviewed_today" in form.fields
    data = {
        "compound": stale.compound_id,
        "goal": stale.goal_id,
        "tier": stale.tier_id,
        "bottom_line": stale.bottom_line,
        "data_suggests": "",
        "limitations": "",
        "last_reviewed": stale.last_reviewed.isoformat(),
        "reviewed_today": "on",
        "public_reason": "",
    }

    response = editor.post(url, data)

    assert response.status_code == 302, response.context["adminform"].form.errors
    stale.refresh_from_db()
    assert stale.last_reviewed == timezone.localdate()
