# Placeholder while the visitor pages are being built (issue 4); every view answers 404.
from django.http import Http404


def _not_yet(*args, **kwargs):
    raise Http404("This page is not built yet.")


compound_index = compound_detail = evidence_detail = methodology = healthz = _not_yet
vendor_index = vendor_detail = outbound = _not_yet
