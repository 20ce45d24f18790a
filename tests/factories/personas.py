"""Named personas for the roles of evidence/roles.py: who a test acts as.

Each function makes the user (or, for the anonymous visitor, the client) a role test needs;
`logged_in(user)` gives a test client signed in as that user.
"""

from django.contrib.auth.models import Group, User
from django.test import Client

from evidence.models import Vendor, VendorAccount
from evidence.roles import EVIDENCE_EDITORS, VENDOR_ACCOUNTS, VENDOR_MANAGERS


def superuser() -> User:
    return User.objects.create_superuser("root", "root@example.com", "unused")


def staff_member(username: str, *groups: str) -> User:
    """A staff login in the given role groups (none: staff with no permissions)."""
    user = User.objects.create_user(username, is_staff=True)
    user.groups.add(*Group.objects.filter(name__in=groups))
    return user


def evidence_editor() -> User:
    return staff_member("editor", EVIDENCE_EDITORS)


def vendor_manager() -> User:
    return staff_member("vendor-manager", VENDOR_MANAGERS)


def vendor_account(vendor: Vendor, username: str | None = None) -> User:
    """A login that speaks for `vendor` only."""
    user = staff_member(username or f"{vendor.slug}-account", VENDOR_ACCOUNTS)
    VendorAccount.objects.create(user=user, vendor=vendor)
    return user


def anonymous_visitor() -> Client:
    return Client()


def logged_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client
