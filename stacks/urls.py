from django.urls import path

from stacks import views

urlpatterns = [
    path("", views.builder, name="builder"),
    path("stack/goal-options/", views.goal_options, name="goal_options"),
    path("goals/", views.goal_index, name="goal_index"),
    path("goals/<slug:slug>/", views.goal_detail, name="goal_detail"),
    path("goals/<slug:slug>/why/<slug:compound_slug>/", views.why_rank, name="why_rank"),
    path("stack/report/", views.stack_report, name="stack_report"),
    path("stack/report.pdf", views.stack_report_pdf, name="stack_report_pdf"),
]
