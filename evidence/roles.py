"""The staff roles, the model permissions each one holds, and who a vendor account speaks for."""

from dataclasses import dataclass

EVIDENCE_EDITORS = "Evidence editors"
VENDOR_MANAGERS = "Vendor managers"
VENDOR_ACCOUNTS = "Vendor accounts"

EVIDENCE_MODELS = [
    "goal",
    "tier",
    "compound",
    "compoundalias",
    "dosing",
    "sideeffect",
    "contraindication",
    "regulatorystatus",
    "antidopingstatus",
    "interaction",
    "rating",
    "study",
    "finding",
    "article",
    "source",
]
VENDOR_MODELS = ["vendor", "offer"]

# Editors see vendors and offers (to know what is sold) but cannot change them.
# A vendor account's permissions apply to its own vendor only: the admin narrows every
# queryset and refuses every object of another vendor (evidence/admin.py).
GROUP_PERMISSIONS = {
    EVIDENCE_EDITORS: {
        **{model: ["view", "add", "change", "delete"] for model in EVIDENCE_MODELS},
        "vendor": ["view"],
        "offer": ["view"],
        # Visitors' error reports: editors work through them; only visitors add them.
        "errorreport": ["view", "change", "delete"],
    },
    VENDOR_MANAGERS: {
        **{model: ["view", "add", "change", "delete"] for model in VENDOR_MODELS},
        # Offers name a compound; the autocomplete needs to read compounds.
        "compound": ["view"],
    },
    VENDOR_ACCOUNTS: {
        "vendor": ["view", "change"],
        "offer": ["view", "add", "change", "delete"],
        # For the offer form's compound autocomplete only; the compound pages stay closed.
        "compound": ["view"],
    },
}


def sync_groups(group_model, permission_model, content_type_model):
    """Create the role groups and give each exactly its permissions (idempotent)."""
    for group_name, models in GROUP_PERMISSIONS.items():
        group, _ = group_model.objects.get_or_create(name=group_name)
        codenames = [f"{action}_{model}" for model, actions in models.items() for action in actions]
        permissions = permission_model.objects.filter(
            content_type__app_label="evidence", codename__in=codenames
        )
        group.permissions.set(permissions)


@dataclass(frozen=True)
class VendorScope:
    """Which vendors a user's admin pages may show: `everything`, or only `vendor_id`."""

    vendor_id: int | None
    everything: bool

    def allows(self, vendor_id: int | None) -> bool:
        return self.everything or (vendor_id is not None and vendor_id == self.vendor_id)


def vendor_scope(user) -> VendorScope:
    """Superusers and staff see every vendor; a vendor account only its own.

    A user in the "Vendor accounts" group without a link to a vendor sees none, so a
    forgotten link never opens every vendor to an outside login. Cached on the user.
    """
    cached = getattr(user, "_vendor_scope", None)
    if cached is not None:
        return cached
    if user.is_superuser:
        scope = VendorScope(None, everything=True)
    else:
        account = getattr(user, "vendor_account", None) if user.pk else None
        if account is not None:
            scope = VendorScope(account.vendor_id, everything=False)
        elif user.groups.filter(name=VENDOR_ACCOUNTS).exists():
            scope = VendorScope(None, everything=False)
        else:
            scope = VendorScope(None, everything=True)
    user._vendor_scope = scope
    return scope


def is_vendor_account(user) -> bool:
    return user.is_authenticated and not vendor_scope(user).everything
