from django.contrib import admin
from django.urls import include, path

from stacks.api import api

urlpatterns = [
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    path("", include("stacks.urls")),
    path("", include("evidence.urls")),
]
