"""/data/: the public download, built ahead of time with its checksum and content version,
naming the licence and attribution of every source it holds, holding only published
content, and importing into an empty database."""

import hashlib
import json

import pytest
from django.core.management import call_command

from evidence import data_export
from evidence.interchange import export_document, import_document, loads
from evidence.models import Article, Compound, Finding, Interaction, Offer, Study, Vendor
from tests.evidence.test_interchange import wipe_database
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

pytestmark = pytest.mark.django_db


def download(client) -> bytes:
    response = client.get("/data/evidence-stack-builder.json")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    assert "attachment" in response["Content-Disposition"]
    return b"".join(response.streaming_content)


def make_published_and_hidden_content():
    """Published content, and beside it everything a visitor may not see: an unpublished
    compound (rated, studied, an interaction, a comparator, an article a study is reported
    in), an inactive vendor, and an offer held for review."""
    goal = make_goal()
    shown = make_compound("Synthetic shown compound")
    hidden = make_compound("Synthetic hidden compound", published=False)
    make_rating(shown, goal)
    make_rating(hidden, goal)
    Interaction.objects.create(compound_a=shown, compound_b=hidden, severity="minor", note="S.")
    source = make_source()
    study = make_study(source=source)
    make_finding(shown, goal, study=study)
    make_finding(hidden, goal, study=study, outcome="Synthetic hidden outcome")
    make_finding(
        shown,
        goal,
        comparator=Finding.Comparator.ACTIVE,
        comparator_name="Synthetic hidden compound",
        comparator_compound=hidden,
    )
    make_finding(hidden, goal, study=make_study(slug="synthetic-study-only-hidden"))
    draft = Article.objects.create(
        compound=shown, slug="synthetic-draft", title="Synthetic draft", body="Synthetic."
    )
    make_finding(shown, goal, study=make_study(slug="synthetic-cited-by-draft", reported_in=draft))
    make_finding(
        shown,
        goal,
        study=make_study(slug="synthetic-draft-and-doi", reported_in=draft, doi="10.0/synthetic"),
    )
    make_offer(shown, make_vendor(active=False))
    vendor = make_vendor()
    make_offer(shown, vendor, key="synthetic-visible")
    held = make_offer(shown, vendor, key="synthetic-held")
    Offer.objects.filter(pk=held.pk).update(review=Offer.Review.HELD)
    return shown, hidden, source


def test_the_page_says_plainly_when_the_download_is_not_built_yet(client):
    page = client.get("/data/")
    assert page.status_code == 200
    assert "The download has not been built yet." in page.text
    assert "licence not yet stated" in page.text
    assert client.get("/data/evidence-stack-builder.json").status_code == 404


def test_a_build_writes_the_document_and_a_manifest_with_its_checksum_and_version(client):
    make_compound()
    manifest = data_export.build()
    content = manifest.path.read_bytes()
    assert hashlib.sha256(content).hexdigest() == manifest.sha256
    assert manifest.bytes == len(content)
    assert data_export.read_manifest() == manifest
    assert download(client) == content
    page = client.get("/data/").text
    assert manifest.sha256 in page
    assert "it holds the content as published now" in page


def test_the_page_says_when_the_content_changed_after_the_build(client):
    make_compound()
    data_export.build()
    make_compound()
    assert "The content has changed since" in client.get("/data/").text


def test_a_rebuild_replaces_the_previous_file(client):
    make_compound()
    first = data_export.build()
    make_compound()
    second = data_export.build()
    assert second.sha256 != first.sha256
    assert not first.path.exists()
    assert download(client) == second.path.read_bytes()


def test_the_download_revalidates_with_its_checksum(client):
    make_compound()
    manifest = data_export.build()
    etag = client.get("/data/evidence-stack-builder.json")["ETag"]
    assert etag == f'"{manifest.sha256}"'
    again = client.get("/data/evidence-stack-builder.json", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_the_page_names_every_source_with_its_licence_and_attribution(client):
    _, _, source = make_published_and_hidden_content()
    unused = make_source(attribution="", attribution_required=False)
    data_export.build()
    page = client.get("/data/").text
    for each in (source, unused):
        assert each.name in page
        assert each.licence in page
        assert f'href="{each.licence_url}"' in page
    assert source.attribution in page
    assert (
        "Editorial content (tiers, ratings and their bottom lines, summaries, articles): "
        "licence not yet stated." in page
    )


def test_the_download_holds_only_what_visitors_may_see(client):
    shown, hidden, _ = make_published_and_hidden_content()
    data_export.build()
    document = json.loads(download(client))
    assert [c["slug"] for c in document["compounds"]] == [shown.slug]
    assert {r["compound"] for r in document["ratings"]} == {shown.slug}
    assert document["interactions"] == []
    assert document["articles"] == []
    studies = {s["slug"]: s for s in document["studies"]}
    assert "synthetic-study-only-hidden" not in studies
    assert "synthetic-cited-by-draft" not in studies  # citable only through the draft
    assert studies["synthetic-draft-and-doi"]["reported_in"] is None
    findings = [f for s in document["studies"] for f in s["findings"]]
    assert {f["compound"] for f in findings} == {shown.slug}
    assert "Synthetic hidden outcome" not in {f["outcome"] for f in findings}
    [compared] = [f for f in findings if f["comparator"] == "active"]
    assert (compared["comparator_compound"], compared["comparator_name"]) == (
        None,
        "Synthetic hidden compound",
    )
    assert [v["slug"] for v in document["vendors"]] == [Vendor.objects.get(active=True).slug]
    assert [o["key"] for o in document["vendors"][0]["offers"]] == ["synthetic-visible"]
    assert "Synthetic hidden compound" not in json.dumps(document["compounds"])


def test_the_downloaded_file_imports_into_an_empty_database(client):
    shown, _, source = make_published_and_hidden_content()
    data_export.build()
    text = download(client).decode()

    wipe_database()
    assert not Compound.objects.exists()
    import_document(loads(text))

    assert list(Compound.objects.values_list("slug", flat=True)) == [shown.slug]
    assert Study.objects.filter(source__slug=source.slug).exists()
    assert export_document(public=True) == json.loads(text)


def test_load_demo_builds_the_download(client):
    call_command("load_demo", "--deep-dive-only", verbosity=0)
    manifest = data_export.read_manifest()
    assert manifest is not None
    assert manifest.counts["compounds"] == Compound.objects.published().count()
    assert "Download the knowledge base" in client.get("/data/").text


def test_every_page_links_to_the_open_data_page(client):
    assert 'href="/data/"' in client.get("/methodology/").text


def test_the_page_counts_what_the_download_holds_in_words(client):
    make_rating(make_compound(), make_goal())
    data_export.build()
    assert "1 goal, 1 compound, 1 rating, 0 sources, 0 studies" in client.get("/data/").text
