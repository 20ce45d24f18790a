# Placeholder while the stack builder is being built (issues 3 and 4).
from django.http import Http404


def _not_yet(*args, **kwargs):
    raise Http404("This page is not built yet.")


builder = goal_detail = _not_yet
