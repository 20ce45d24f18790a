"""The methodology page (/methodology/): the document and the tier ladder."""

import re

import pytest
from django.conf import settings
from django.urls import reverse

from tests.factories import tier
from tests.factories.pages import full_page

pytestmark = pytest.mark.django_db


def test_methodology_renders_the_document_and_the_tier_ladder(client, settings, tmp_path):
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "methodology.md").write_text(
        "# How we rate\n\nWeights are **public**.\n\n<script>alert(1)</script>", encoding="utf-8"
    )
    settings.BASE_DIR = tmp_path
    response = client.get(reverse("methodology"))
    assert response.status_code == 200
    html = full_page(response)
    assert "Weights are <strong>public</strong>." in html
    assert "alert(1)" not in html
    for number in range(1, 7):
        assert f"Tier {number}</span>" in html
    assert tier(6).label in html and tier(1).description in html


def test_methodology_without_its_document_says_it_is_being_written(client, settings, tmp_path):
    settings.BASE_DIR = tmp_path
    response = client.get(reverse("methodology"))
    assert response.status_code == 200
    assert "being written" in full_page(response)


def test_the_published_methodology_names_no_internal_file_and_does_not_point_to_itself(client):
    html = full_page(client.get(reverse("methodology")))
    assert "How we rank compounds" in html
    assert "Methodology page" not in html
    assert not re.search(r"[a-z_]+/[a-z_]+\.py", html), "a source file is named on the page"
    # Developers still find the code in the Markdown source's comment.
    assert "stacks/scoring.py" in (settings.BASE_DIR / "docs" / "methodology.md").read_text()
