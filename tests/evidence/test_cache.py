"""Pages cached until the content changes (evidence.cache): one query, each visitor's own token."""

import re

import pytest
from django.middleware.csrf import _unmask_cipher_token
from django.test import Client
from django.urls import reverse

from tests.factories.pages import build_evidence

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("size", [1, 10])
def test_a_cached_page_costs_one_query(client, django_assert_max_num_queries, size):
    compound, goal = build_evidence(size)
    url = reverse("evidence_detail", args=[compound.slug, goal.slug])
    first = client.get(url)
    with django_assert_max_num_queries(1):
        again = client.get(url)
    without_token = re.compile(rb'"x-csrftoken": "[^"]*"')
    assert without_token.sub(b"", again.content) == without_token.sub(b"", first.content)
    assert b"__csrf_token_placeholder__" not in again.content


def test_a_cached_page_never_hands_one_visitors_csrf_token_to_another(client):
    compound, goal = build_evidence(1)
    url = reverse("evidence_detail", args=[compound.slug, goal.slug])
    token = re.compile(rb'"x-csrftoken": "([^"]*)"')
    first = token.search(client.get(url).content).group(1)
    other_visitor = Client()
    second = token.search(other_visitor.get(url).content).group(1)
    assert first and second and b"placeholder" not in second
    assert _unmask_cipher_token(first.decode()) != _unmask_cipher_token(second.decode())


def test_a_404_from_a_cached_view_carries_a_real_csrf_token(client):
    response = client.get(reverse("compound_detail", args=["no-such-compound"]))
    assert response.status_code == 404
    assert b"__csrf_token_placeholder__" not in response.content
