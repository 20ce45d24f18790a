from django.urls import path

from evidence import views

urlpatterns = [
    path("compounds/", views.compound_index, name="compound_index"),
    path("compounds/<slug:slug>/", views.compound_detail, name="compound_detail"),
    path(
        "compounds/<slug:slug>/evidence/<slug:goal_slug>/",
        views.evidence_detail,
        name="evidence_detail",
    ),
    path(
        "compounds/<slug:slug>/changes/recent/",
        views.compound_recent_changes,
        name="compound_recent_changes",
    ),
    path(
        "compounds/<slug:slug>/changes/feed/",
        views.compound_changes_feed,
        name="compound_changes_feed",
    ),
    path("research/", views.research_index, name="research_index"),
    path("research/<slug:slug>/", views.research_article, name="research_article"),
    path("changes/", views.changes, name="changes"),
    path("report/", views.report_error, name="report_error"),
    path("changes/feed/", views.changes_feed, name="changes_feed"),
    path("vendors/", views.vendor_index, name="vendor_index"),
    path("vendors/<slug:slug>/", views.vendor_detail, name="vendor_detail"),
    path("go/<int:offer_id>/", views.outbound, name="outbound"),
    path("methodology/", views.methodology, name="methodology"),
    path("data/", views.data, name="data"),
    path("data/evidence-stack-builder.json", views.data_download, name="data_download"),
    path("how-we-make-money/", views.disclosure, name="disclosure"),
    path("robots.txt", views.robots_txt, name="robots_txt"),
    path("sitemap.xml", views.sitemap, name="sitemap"),
    path("healthz", views.healthz, name="healthz"),
    path("healthz/database", views.healthz_database, name="healthz_database"),
]
