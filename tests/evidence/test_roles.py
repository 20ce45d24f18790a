"""Who reaches what: anonymous visitors, the staff groups, vendor accounts, and the login throttle.

A vendor account is a login linked to one vendor: in the admin it sees and edits that vendor's
profile and offers and nothing else, enforced in querysets and permission checks, so forged
requests are refused as well as hidden buttons.
"""

import logging
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.contrib import admin
from django.contrib.auth.models import Group, Permission, User
from django.core.exceptions import PermissionDenied
from django.test import Client, RequestFactory
from django.urls import reverse
from django.utils import timezone
from pytest_django.asserts import assertContains

from evidence.models import Article, Compound, Offer, Vendor, VendorAccount
from evidence.roles import GROUP_PERMISSIONS, VENDOR_ACCOUNTS
from tests.factories import make_compound, make_goal, make_offer, make_rating, make_vendor
from tests.factories.admin import EVIDENCE_MODELS, admin_url, assert_saved, example, form_data
from tests.factories.personas import (
    anonymous_visitor,
    evidence_editor,
    logged_in,
    staff_member,
    superuser,
    vendor_account,
    vendor_manager,
)

pytestmark = pytest.mark.django_db

CONTENT_MODELS = [m for m in EVIDENCE_MODELS if m not in (Vendor, Offer)]
every_evidence_model = pytest.mark.parametrize("model", CONTENT_MODELS, ids=lambda m: m.__name__)


# The vendors the vendor-account personas speak for


@pytest.fixture
def vendor_a() -> Vendor:
    vendor = make_vendor("Synthetic vendor Alpha")
    make_offer(make_compound(), vendor=vendor, product_name="Synthetic Alpha product")
    return vendor


@pytest.fixture
def vendor_b() -> Vendor:
    vendor = make_vendor("Synthetic vendor Bravo")
    make_offer(make_compound(), vendor=vendor, product_name="Synthetic Bravo product")
    return vendor


@pytest.fixture
def account_a(vendor_a) -> Client:
    """Logged in as the vendor account of vendor A."""
    return logged_in(vendor_account(vendor_a, "synthetic-alpha-seller"))


@pytest.fixture
def account_b(vendor_b) -> Client:
    """Logged in as the vendor account of vendor B."""
    return logged_in(vendor_account(vendor_b, "synthetic-bravo-seller"))


def redirected_as_missing(response) -> bool:
    """How the Django admin answers for an object outside the user's queryset."""
    return response.status_code == 302 and response["Location"] == reverse("admin:index")


# The groups


def test_the_vendor_accounts_group_holds_exactly_its_permissions():
    group = Group.objects.get(name=VENDOR_ACCOUNTS)
    codenames = set(group.permissions.values_list("codename", flat=True))
    assert codenames == {
        "view_vendor",
        "change_vendor",
        "view_offer",
        "add_offer",
        "change_offer",
        "delete_offer",
        "view_compound",
    }
    assert set(GROUP_PERMISSIONS) == set(Group.objects.values_list("name", flat=True))


# Anonymous visitors


@pytest.mark.parametrize("view", ["changelist", "add", "change", "history", "delete"])
@pytest.mark.parametrize("model", EVIDENCE_MODELS, ids=lambda m: m.__name__)
def test_anonymous_visitor_is_sent_to_the_login_page_from_every_admin_page(model, view):
    args = [] if view in ("changelist", "add") else [example(model).pk]
    url = admin_url(model, view, *args)
    response = anonymous_visitor().get(url)
    assert response.status_code == 302
    assert response["Location"].startswith(f"{reverse('admin:login')}?next=")


@pytest.mark.parametrize("name", ["index", "autocomplete", "auth_user_changelist"])
def test_anonymous_visitor_is_sent_to_the_login_page_from_the_admin_itself(name):
    response = anonymous_visitor().get(reverse(f"admin:{name}"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))


def test_anonymous_visitor_cannot_post_to_an_admin_page():
    compound = make_compound(summary="Original.")
    anonymous_visitor().post(admin_url(Compound, "change", compound.pk), {"summary": "Forged."})
    compound.refresh_from_db()
    assert compound.summary == "Original."


def test_anonymous_visitor_gets_404_for_an_unpublished_compound():
    draft = make_compound(published=False)
    client = anonymous_visitor()
    assert client.get(f"/compounds/{draft.slug}/").status_code == 404
    assert client.get(draft.get_absolute_url()).status_code == 404


def test_anonymous_visitor_gets_404_for_the_evidence_page_of_an_unpublished_compound():
    rating = make_rating(compound=make_compound(published=False))
    assert anonymous_visitor().get(rating.get_absolute_url()).status_code == 404


def test_anonymous_visitor_never_sees_an_unpublished_article():
    compound, goal = make_compound(published=True), make_goal()
    make_rating(compound=compound, goal=goal)
    Article.objects.create(
        compound=compound,
        goal=goal,
        slug="synthetic-draft-article",
        title="Synthetic draft article title",
        body="Synthetic draft body.",
        published=False,
    )
    response = anonymous_visitor().get(reverse("evidence_detail", args=[compound.slug, goal.slug]))
    assert response.status_code == 200
    assert "Synthetic draft article title" not in response.text


def test_anonymous_visitor_gets_404_for_an_article_of_an_unpublished_compound():
    compound, goal = make_compound(published=False), make_goal()
    article = Article.objects.create(
        compound=compound, goal=goal, slug="synthetic-article", title="T", body="B", published=True
    )
    assert anonymous_visitor().get(article.get_absolute_url()).status_code == 404


# Vendor accounts: their own vendor only


def test_vendor_account_sees_only_its_vendor_in_the_vendor_changelist(account_a, vendor_a):
    response = account_a.get(admin_url(Vendor, "changelist"))
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == [vendor_a]
    assert "Synthetic vendor Bravo" not in response.text


def test_vendor_account_sees_only_its_offers_in_the_offer_changelist(account_a, vendor_a, vendor_b):
    response = account_a.get(admin_url(Offer, "changelist"))
    assert response.status_code == 200
    assert list(response.context["cl"].result_list) == list(vendor_a.offers.all())
    # Not in the rows, nor in a filter listing every vendor.
    assert "Synthetic vendor Bravo" not in response.text
    assert "Synthetic Bravo product" not in response.text


def test_vendor_account_search_finds_nothing_of_another_vendor(account_a, vendor_b):
    response = account_a.get(admin_url(Offer, "changelist"), {"q": "Bravo"})
    assert list(response.context["cl"].result_list) == []


def test_each_vendor_account_sees_its_own_vendor(account_a, account_b, vendor_a, vendor_b):
    for client, own in [(account_a, vendor_a), (account_b, vendor_b)]:
        response = client.get(admin_url(Vendor, "changelist"))
        assert list(response.context["cl"].result_list) == [own]


def test_vendor_account_cannot_open_another_vendors_pages(account_a, vendor_b):
    offer = vendor_b.offers.get()
    for model, obj in [(Vendor, vendor_b), (Offer, offer)]:
        response = account_a.get(admin_url(model, "change", obj.pk))
        assert redirected_as_missing(response)
        assert account_a.get(admin_url(model, "history", obj.pk)).status_code == 403
        response = account_a.get(admin_url(model, "delete", obj.pk))
        assert response.status_code in (302, 403)
        assert "Bravo" not in response.text


def test_vendor_account_cannot_change_or_delete_another_vendors_offer(account_a, vendor_b):
    offer = vendor_b.offers.get()
    response = account_a.post(admin_url(Offer, "change", offer.pk), {"product_name": "Forged"})
    assert response.status_code in (302, 403)
    account_a.post(admin_url(Offer, "delete", offer.pk), {"post": "yes"})
    account_a.post(
        admin_url(Offer, "changelist"),
        {"action": "delete_selected", "_selected_action": [offer.pk], "post": "yes"},
    )
    offer.refresh_from_db()
    assert offer.product_name == "Synthetic Bravo product"


def test_vendor_account_cannot_change_another_vendors_profile(account_a, vendor_b):
    account_a.post(admin_url(Vendor, "change", vendor_b.pk), {"description": "Forged."})
    vendor_b.refresh_from_db()
    assert vendor_b.description == ""


def test_vendor_account_cannot_move_its_offer_to_another_vendor(account_a, vendor_a, vendor_b):
    offer = vendor_a.offers.get()
    page = account_a.get(admin_url(Offer, "change", offer.pk))
    response = account_a.post(
        admin_url(Offer, "change", offer.pk), form_data(page, vendor=vendor_b.pk)
    )
    assert response.status_code == 200
    assert "vendor" in response.context["adminform"].form.errors
    offer.refresh_from_db()
    assert offer.vendor == vendor_a


def new_offer(key: str, vendor: Vendor) -> dict:
    """The fields of an offer's add form, all but the vendor, linking to `vendor`'s site."""
    return {
        "compound": make_compound().pk,
        "key": key,
        "product_name": f"Synthetic {key}",
        "url": f"{vendor.website}/product",
        "price": "10.00",
        "amount_per_unit": "5",
        "unit": "mg",
        "form": Offer.Form.VIAL,
    }


def test_vendor_account_cannot_add_an_offer_for_another_vendor(account_a, vendor_a, vendor_b):
    page = account_a.get(admin_url(Offer, "add"))
    data = form_data(page, **new_offer("synthetic-forged", vendor_b), vendor=vendor_b.pk)
    response = account_a.post(admin_url(Offer, "add"), data)
    assert response.status_code == 200
    assert list(response.context["adminform"].form.errors) == ["vendor"]
    assert not Offer.objects.filter(key="synthetic-forged").exists()


def test_vendor_account_adds_an_offer_for_its_own_vendor(account_a, vendor_a):
    page = account_a.get(admin_url(Offer, "add"))
    assert page.status_code == 200
    vendor_field = page.context["adminform"].form.fields["vendor"]
    assert list(vendor_field.queryset) == [vendor_a]
    assert vendor_field.initial == vendor_a.pk
    data = form_data(page, **new_offer("synthetic-own", vendor_a))
    assert data["vendor"] == str(vendor_a.pk)  # the form's default
    assert_saved(account_a.post(admin_url(Offer, "add"), data))
    assert Offer.objects.get(key="synthetic-own").vendor == vendor_a


def test_vendor_account_edits_its_offer_and_profile(account_a, vendor_a):
    offer = vendor_a.offers.get()
    page = account_a.get(admin_url(Offer, "change", offer.pk))
    assert_saved(account_a.post(page.request["PATH_INFO"], form_data(page, price="12.00")))
    page = account_a.get(admin_url(Vendor, "change", vendor_a.pk))
    data = form_data(page, description="Synthetic profile.")
    assert_saved(account_a.post(page.request["PATH_INFO"], data))
    offer.refresh_from_db()
    vendor_a.refresh_from_db()
    assert (str(offer.price), vendor_a.description) == ("12.00", "Synthetic profile.")


def test_vendor_account_cannot_vouch_for_itself(account_a, vendor_a):
    """The trust signals and the public address are set by staff only."""
    page = account_a.get(admin_url(Vendor, "change", vendor_a.pk))
    forged = form_data(
        page, third_party_tested="on", certificate_of_analysis="on", slug="synthetic-forged"
    )
    assert_saved(account_a.post(page.request["PATH_INFO"], forged))
    vendor_a.refresh_from_db()
    assert not vendor_a.third_party_tested
    assert not vendor_a.certificate_of_analysis
    assert vendor_a.slug != "synthetic-forged"


def test_vendor_account_cannot_set_its_website_or_offer_hosts(account_a, vendor_a):
    """Which hosts an offer may link to is the staff's decision."""
    website = vendor_a.website
    page = account_a.get(admin_url(Vendor, "change", vendor_a.pk))
    forged = form_data(page, website="https://other.example", offer_hosts="other.example")
    assert_saved(account_a.post(page.request["PATH_INFO"], forged))
    vendor_a.refresh_from_db()
    assert (vendor_a.website, vendor_a.offer_hosts) == (website, "")


def test_vendor_account_cannot_link_an_offer_to_another_host(account_a, vendor_a):
    offer = vendor_a.offers.get()
    page = account_a.get(admin_url(Offer, "change", offer.pk))
    for url in ("https://other.example/product", f"https://user:pass@{vendor_a.website[8:]}/p"):
        response = account_a.post(page.request["PATH_INFO"], form_data(page, url=url))
        assert response.status_code == 200
        assert "url" in response.context["adminform"].form.errors


def held_offer(vendor) -> Offer:
    """An offer of the vendor's far below two other vendors' price per mg."""
    compound = make_compound()
    make_offer(compound, price="40.00")
    make_offer(compound, price="50.00")
    offer = make_offer(compound, vendor=vendor, price="0.50")
    assert offer.review == Offer.Review.HELD
    return offer


def approve_from_changelist(client, offer):
    return client.post(
        admin_url(Offer, "changelist"),
        {"action": "approve_offers", "_selected_action": [offer.pk]},
    )


def test_vendor_account_sees_why_its_offer_is_held_but_cannot_approve_it(account_a, vendor_a):
    offer = held_offer(vendor_a)
    page = account_a.get(admin_url(Offer, "change", offer.pk))
    assert "median" in page.text
    assert "review" not in page.context["adminform"].form.fields
    forged = form_data(page, review=Offer.Review.APPROVED, review_note="")
    assert_saved(account_a.post(page.request["PATH_INFO"], forged))
    approve_from_changelist(account_a, offer)
    offer.refresh_from_db()
    assert offer.review == Offer.Review.HELD


def test_vendor_manager_approves_held_offers_from_the_changelist(vendor_a):
    offer = held_offer(vendor_a)
    client = logged_in(vendor_manager())
    changelist = client.get(admin_url(Offer, "changelist") + "?review__exact=held")
    assertContains(changelist, offer.product_name)
    assert approve_from_changelist(client, offer).status_code == 302
    offer.refresh_from_db()
    assert offer.review == Offer.Review.APPROVED
    assert offer in Offer.objects.visible()


def test_vendor_account_cannot_add_or_delete_a_vendor(account_a, vendor_a):
    assert account_a.get(admin_url(Vendor, "add")).status_code == 403
    response = account_a.post(
        admin_url(Vendor, "add"),
        {"name": "Synthetic new", "slug": "synthetic-new", "website": "https://x.example.com"},
    )
    assert response.status_code == 403
    assert account_a.post(
        admin_url(Vendor, "delete", vendor_a.pk), {"post": "yes"}
    ).status_code == (403)
    assert Vendor.objects.filter(pk=vendor_a.pk).exists()
    assert not Vendor.objects.filter(slug="synthetic-new").exists()


@every_evidence_model
def test_vendor_account_is_refused_every_evidence_page(account_a, model):
    obj = example(model)
    for view, args in [("changelist", []), ("add", []), ("change", [obj.pk])]:
        assert account_a.get(admin_url(model, view, *args)).status_code == 403, view
    assert account_a.get(admin_url(model, "history", obj.pk)).status_code == 403
    assert account_a.post(admin_url(model, "change", obj.pk), {}).status_code == 403


def test_vendor_account_sees_no_evidence_on_the_admin_index(account_a):
    response = account_a.get(reverse("admin:index"))
    assert response.status_code == 200
    models = {m["object_name"] for app in response.context["app_list"] for m in app["models"]}
    assert models == {"Vendor", "Offer"}


def test_a_vendor_accounts_history_pages_do_not_name_staff(vendor_a):
    seller = vendor_account(vendor_a, "synthetic-alpha-seller")
    manager = vendor_manager()
    offer = vendor_a.offers.get()
    for user, price in ((manager, "41.00"), (seller, "42.00")):
        offer._history_user = user
        offer.price = price
        offer.save()
    page = logged_in(seller).get(admin_url(Offer, "history", offer.pk))
    assert page.status_code == 200
    html = page.content.decode()
    assert manager.username not in html
    assert "Site staff" in html
    assert seller.username in html  # its own edits keep its name
    staff_view = logged_in(manager).get(admin_url(Offer, "history", offer.pk)).content.decode()
    assert manager.username in staff_view


def autocomplete(client, field_name: str, term: str = ""):
    return client.get(
        reverse("admin:autocomplete"),
        {"app_label": "evidence", "model_name": "offer", "field_name": field_name, "term": term},
    )


def test_vendor_autocomplete_lists_only_the_vendor_accounts_own_vendor(account_a, vendor_a):
    make_vendor("Synthetic vendor Charlie")
    response = autocomplete(account_a, "vendor")
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [str(vendor_a.pk)]
    assert autocomplete(account_a, "vendor", "Charlie").json()["results"] == []


def test_vendor_account_finds_compounds_for_an_offer_by_alias(account_a):
    thymosin = make_compound("Thymosin alpha-1", aliases=["Zadaxin"])
    response = autocomplete(account_a, "compound", "zadax")
    assert response.status_code == 200
    assert [r["id"] for r in response.json()["results"]] == [str(thymosin.pk)]


def test_vendor_account_is_offered_only_published_compounds_for_an_offer(account_a):
    published = make_compound("Synthetic listed compound")
    unpublished = make_compound("Synthetic hidden compound", published=False)
    offered = {r["id"] for r in autocomplete(account_a, "compound", "compound").json()["results"]}
    assert str(published.pk) in offered
    assert str(unpublished.pk) not in offered


def test_vendor_account_reaches_compound_names_only_through_the_offer_form(account_a):
    make_compound("Synthetic unpublished compound", published=False)
    response = account_a.get(
        reverse("admin:autocomplete"),
        {"app_label": "evidence", "model_name": "rating", "field_name": "compound", "term": ""},
    )
    assert response.status_code == 403


def test_vendor_account_cannot_use_the_autocomplete_to_read_evidence(account_a):
    make_rating()
    response = account_a.get(
        reverse("admin:autocomplete"),
        {"app_label": "evidence", "model_name": "rating", "field_name": "tier", "term": ""},
    )
    assert response.status_code == 403


def test_vendor_account_is_held_to_its_vendor_even_if_given_more_permissions(vendor_a, vendor_b):
    """The rules hold in the admin's code, not only in the group's permissions."""
    user = vendor_account(vendor_a, "synthetic-alpha-seller")
    user.user_permissions.set(Permission.objects.filter(content_type__app_label="evidence"))
    client = logged_in(user)
    assert client.get(admin_url(Vendor, "add")).status_code == 403
    assert client.get(admin_url(Compound, "changelist")).status_code == 403
    assert redirected_as_missing(client.get(admin_url(Vendor, "change", vendor_b.pk)))


def admin_request(user: User):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def test_vendor_account_cannot_save_another_vendors_offer_even_past_the_form(vendor_a, vendor_b):
    request = admin_request(vendor_account(vendor_a, "synthetic-alpha-seller"))
    offer = vendor_b.offers.get()
    with pytest.raises(PermissionDenied):
        admin.site.get_model_admin(Offer).save_model(request, offer, form=None, change=True)


def test_vendor_account_search_results_hold_only_its_vendor(vendor_a, vendor_b):
    request = admin_request(vendor_account(vendor_a, "synthetic-alpha-seller"))
    for model, own in [(Vendor, [vendor_a]), (Offer, list(vendor_a.offers.all()))]:
        results, _ = admin.site.get_model_admin(model).get_search_results(
            request, model.objects.all(), "Synthetic"
        )
        assert list(results) == own


def test_user_in_the_vendor_accounts_group_without_a_vendor_sees_no_vendor(vendor_a):
    user = staff_member("synthetic-unlinked", VENDOR_ACCOUNTS)
    client = logged_in(user)
    assert list(client.get(admin_url(Vendor, "changelist")).context["cl"].result_list) == []
    assert list(client.get(admin_url(Offer, "changelist")).context["cl"].result_list) == []
    assert client.get(admin_url(Compound, "changelist")).status_code == 403


# The staff keep seeing every vendor


@pytest.mark.parametrize("persona", [superuser, vendor_manager, evidence_editor])
def test_staff_see_every_vendor_and_offer(persona, vendor_a, vendor_b):
    client = logged_in(persona())
    vendors = client.get(admin_url(Vendor, "changelist")).context["cl"].result_list
    offers = client.get(admin_url(Offer, "changelist")).context["cl"].result_list
    assert set(vendors) == {vendor_a, vendor_b}
    assert len(offers) == 2


def test_vendor_manager_moves_an_offer_to_another_vendor(vendor_a, vendor_b):
    offer = vendor_a.offers.get()
    client = logged_in(vendor_manager())
    page = client.get(admin_url(Offer, "change", offer.pk))
    moved = form_data(page, vendor=vendor_b.pk, url=f"{vendor_b.website}/product")
    assert_saved(client.post(page.request["PATH_INFO"], moved))
    offer.refresh_from_db()
    assert offer.vendor == vendor_b


# Linking a login to a vendor


def test_superuser_links_a_user_to_a_vendor_on_the_users_page(vendor_a):
    user = staff_member("synthetic-new-seller")
    client = logged_in(superuser())
    url = reverse("admin:auth_user_change", args=[user.pk])
    page = client.get(url)
    assert page.status_code == 200
    data = form_data(page, **{"vendor_account-0-vendor": vendor_a.pk})
    # The joined date is a split date-and-time widget: two inputs.
    joined = timezone.localtime(user.date_joined)
    data |= {"date_joined_0": f"{joined:%Y-%m-%d}", "date_joined_1": f"{joined:%H:%M:%S}"}
    assert_saved(client.post(url, data))
    assert VendorAccount.objects.get(user=user).vendor == vendor_a


def test_staff_other_than_superusers_cannot_link_accounts(vendor_a):
    client = logged_in(vendor_manager())
    assert client.get(reverse("admin:auth_user_changelist")).status_code == 403


def test_a_vendor_with_logins_cannot_be_deleted_before_its_accounts(vendor_a):
    vendor_account(vendor_a, "synthetic-alpha-seller")
    client = logged_in(superuser())
    response = client.post(admin_url(Vendor, "delete", vendor_a.pk), {"post": "yes"})
    assert response.status_code == 200  # the page naming the protected account
    assert Vendor.objects.filter(pk=vendor_a.pk).exists()


# The login throttle (django-axes)

LOGIN_URL = reverse("admin:login")


def log_in(client: Client, username: str, password: str, ip: str = "10.0.0.1"):
    return client.post(
        LOGIN_URL,
        {"username": username, "password": password, "next": reverse("admin:index")},
        REMOTE_ADDR=ip,
    )


@pytest.fixture
def editor_with_password() -> User:
    user = evidence_editor()
    user.set_password("synthetic-right-password")
    user.save()
    return user


def fail_logins(times: int, username: str = "editor", ip: str = "10.0.0.1"):
    client = Client()
    return [log_in(client, username, "wrong-password", ip) for _ in range(times)]


def test_the_right_password_logs_in(editor_with_password):
    response = log_in(Client(), "editor", "synthetic-right-password")
    assert response.status_code == 302
    assert response["Location"] == reverse("admin:index")


def test_a_few_failed_logins_are_only_refused(editor_with_password):
    responses = fail_logins(4)
    assert [r.status_code for r in responses] == [200] * 4
    assert log_in(Client(), "editor", "synthetic-right-password").status_code == 302


def test_six_failed_logins_lock_the_user_out(editor_with_password):
    responses = fail_logins(6)
    assert [r.status_code for r in responses] == [200] * 4 + [403] * 2
    locked = responses[-1]
    assert "Login temporarily locked" in locked.text
    assert "15 minutes" in locked.text


def test_the_right_password_is_refused_during_the_cool_off(editor_with_password):
    fail_logins(6)
    client = Client()
    response = log_in(client, "editor", "synthetic-right-password")
    assert response.status_code == 403
    assert "Login temporarily locked" in response.text
    assert client.get(reverse("admin:index")).status_code == 302  # still not logged in


def test_the_right_password_works_again_after_the_cool_off(editor_with_password):
    fail_logins(6)
    AccessAttempt.objects.update(attempt_time=timezone.now() - timedelta(minutes=16))
    assert log_in(Client(), "editor", "synthetic-right-password").status_code == 302


def test_the_lockout_is_for_that_username_from_that_address(editor_with_password):
    User.objects.create_user("synthetic-other", password="synthetic-other-password", is_staff=True)
    fail_logins(6)
    assert log_in(Client(), "synthetic-other", "synthetic-other-password").status_code == 302
    assert log_in(Client(), "editor", "synthetic-right-password", ip="10.0.0.2").status_code == 302


def test_the_limit_and_cool_off_come_from_the_settings(editor_with_password, settings):
    settings.AXES_FAILURE_LIMIT = 2
    settings.AXES_COOLOFF_TIME = timedelta(minutes=30)
    responses = fail_logins(2)
    assert [r.status_code for r in responses] == [200, 403]
    assert "30 minutes" in responses[-1].text


def test_the_lockout_is_logged(editor_with_password, caplog):
    with caplog.at_level(logging.WARNING, logger="axes"):
        fail_logins(5)
    lockouts = [r for r in caplog.records if "Locking out" in r.getMessage()]
    assert len(lockouts) == 1
    assert lockouts[0].levelno == logging.WARNING
    assert lockouts[0].name.startswith("axes")


def test_the_lockout_reaches_the_console_handler():
    """Axes logs under "axes.*", which propagates to the root logger's console handler."""
    axes_logger = logging.getLogger("axes.handlers.database")
    assert axes_logger.propagate
    assert axes_logger.getEffectiveLevel() <= logging.WARNING
    assert any(type(h) is logging.StreamHandler for h in logging.getLogger().handlers)
