"""/robots.txt: crawlers kept off the counted outbound links and the admin."""

from urllib.robotparser import RobotFileParser

import pytest
from django.urls import reverse

from tests.factories import make_compound, make_offer

pytestmark = pytest.mark.django_db


def robots(client) -> RobotFileParser:
    response = client.get("/robots.txt")
    assert response.status_code == 200
    parser = RobotFileParser()
    parser.parse(response.content.decode().splitlines())
    return parser


def test_robots_txt_is_plain_text_any_cache_may_keep(client):
    response = client.get("/robots.txt")
    assert response["Content-Type"] == "text/plain; charset=utf-8"
    assert "public" in response["Cache-Control"] and "max-age=86400" in response["Cache-Control"]


def test_crawlers_may_not_follow_outbound_links_or_enter_the_admin(client):
    parser = robots(client)
    offer = make_offer(make_compound())
    for url in (reverse("outbound", args=[offer.pk]), reverse("admin:index")):
        assert not parser.can_fetch("Googlebot", url), url


def test_crawlers_may_read_the_public_pages(client):
    parser = robots(client)
    compound = make_compound()
    for url in ("/", reverse("compound_index"), compound.get_absolute_url(), "/api/goals/"):
        assert parser.can_fetch("Googlebot", url), url


def test_robots_txt_answers_head(client):
    assert client.head("/robots.txt").status_code == 200


def test_crawlers_leave_the_clinicians_reports_alone(client):
    parser = robots(client)
    for url in ("/stack/report/?goals=a", "/stack/report.pdf?goals=a"):
        assert not parser.can_fetch("Googlebot", url), url


def test_robots_txt_names_the_sitemap(client):
    parser = robots(client)
    assert parser.site_maps() == ["http://testserver/sitemap.xml"]
    assert client.get("/sitemap.xml").status_code == 200
