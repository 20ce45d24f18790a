"""The staff roles and the model permissions each one holds."""

EVIDENCE_EDITORS = "Evidence editors"
VENDOR_MANAGERS = "Vendor managers"

EVIDENCE_MODELS = [
    "goal",
    "tier",
    "compound",
    "compoundalias",
    "dosing",
    "sideeffect",
    "contraindication",
    "interaction",
    "rating",
    "study",
    "finding",
    "article",
]
VENDOR_MODELS = ["vendor", "offer"]

# Editors see vendors and offers (to know what is sold) but cannot change them.
GROUP_PERMISSIONS = {
    EVIDENCE_EDITORS: {
        **{model: ["view", "add", "change", "delete"] for model in EVIDENCE_MODELS},
        "vendor": ["view"],
        "offer": ["view"],
    },
    VENDOR_MANAGERS: {
        **{model: ["view", "add", "change", "delete"] for model in VENDOR_MODELS},
        # Offers name a compound; the autocomplete needs to read compounds.
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
