from django.apps import AppConfig


class EvidenceConfig(AppConfig):
    name = "evidence"
    verbose_name = "Evidence knowledge base"

    def ready(self):
        from evidence import signals

        signals.connect_receivers()
