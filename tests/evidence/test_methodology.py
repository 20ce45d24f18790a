"""The methodology page (/methodology/): the document and the tier ladder."""

import pytest
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
