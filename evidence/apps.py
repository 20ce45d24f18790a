from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class EvidenceConfig(AppConfig):
    name = "evidence"
    verbose_name = "Evidence knowledge base"

    def ready(self):
        from evidence import signals

        signals.connect_receivers()


class StaffAdminConfig(admin_apps.AdminConfig):
    """The admin, on evidence.login.StaffAdminSite: a TOTP code at login when required."""

    default = False  # named in INSTALLED_APPS; EvidenceConfig stays this module's default
    default_site = "evidence.login.StaffAdminSite"
