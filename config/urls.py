from django.contrib import admin
from django.shortcuts import redirect
from django.templatetags.static import static
from django.urls import include, path
from django.views.decorators.http import require_safe

from stacks.api import api


@require_safe
def favicon(request):
    """Browsers ask for /favicon.ico whatever the page says (the admin names no icon)."""
    return redirect(static("favicon.svg"), permanent=True)


urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("favicon.ico", favicon),
    path("", include("stacks.urls")),
    path("", include("evidence.urls")),
]
