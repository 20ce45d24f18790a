from django.apps import AppConfig


class StacksConfig(AppConfig):
    name = "stacks"
    verbose_name = "Scoring and stacks"

    def ready(self):
        from stacks import signals

        signals.connect_receivers()
