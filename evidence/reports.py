"""Visitors' error reports: the form on every compound and evidence page, and its rate limit.

* The form names the page it was sent from (a compound or evidence page of this site, of a
  published compound; nothing else is accepted) and, on an evidence page, optionally one of
  that page's findings. The report is stored for the editors (evidence.models.ErrorReport).
* Rate limit: REPORTS_PER_HOUR per visitor. The visitor is the same daily-salted hash of
  address and user agent that counts clicks (evidence.clicks.visitor_key), held only in the
  cache; neither it nor the address is stored with a report. While the cache fails, reports
  are not limited (as clicks are then all counted).
"""

from django import forms
from django.http import HttpRequest
from django.urls import Resolver404, resolve
from django.utils import timezone

from evidence.cache import cache_get, cache_set
from evidence.clicks import visitor_key
from evidence.models import Compound, ErrorReport, Finding, Goal

REPORTS_PER_HOUR = 5
REPORTABLE_PAGES = {"compound_detail", "evidence_detail"}


def may_report(request: HttpRequest) -> bool:
    """True, and counted, when the visitor has sent fewer than REPORTS_PER_HOUR reports in
    this clock hour; False once they have."""
    now = timezone.now()
    visitor = visitor_key(
        request.META.get("REMOTE_ADDR", ""),
        request.headers.get("User-Agent", ""),
        timezone.localdate(now),
    )
    key = f"report:{visitor}:{now:%Y%m%d%H}"
    sent = cache_get(key) or 0
    if sent >= REPORTS_PER_HOUR:
        return False
    cache_set(key, sent + 1, timeout=60 * 60)
    return True


def finding_label(finding: Finding) -> str:
    return f"{finding.outcome} ({finding.study.display_title})"


def page_subject(path: str) -> tuple[Compound, Goal | None] | None:
    """The published compound (and, on an evidence page, the goal) a page of ours is about,
    or None for any other address."""
    try:
        match = resolve(path)
    except Resolver404:
        return None
    if match.url_name not in REPORTABLE_PAGES:
        return None
    compound = Compound.objects.published().filter(slug=match.kwargs["slug"]).first()
    if compound is None:
        return None
    if "goal_slug" not in match.kwargs:
        return compound, None
    goal = Goal.objects.filter(slug=match.kwargs["goal_slug"]).first()
    return None if goal is None else (compound, goal)


def findings_on(compound: Compound, goal: Goal | None) -> list[Finding]:
    """The findings an evidence page lists (none for a compound page), in its order."""
    if goal is None:
        return []
    return list(
        Finding.objects.filter(compound=compound, goal=goal)
        .select_related("study")
        .order_by("study__slug", "outcome")
    )


class ErrorReportForm(forms.ModelForm):
    page = forms.CharField(widget=forms.HiddenInput, max_length=300)
    # A finding's id, offered as a choice of the page's findings; it must be on the page.
    finding = forms.IntegerField(label="Which finding? (optional)", required=False, min_value=1)
    message = forms.CharField(
        label="What is wrong?",
        max_length=ErrorReport.MESSAGE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="Say what is wrong and, if you can, where the right figure or source is. "
        "Please leave out your name and any health details: we store only your message and "
        "the page.",
        error_messages={"required": "Please say what is wrong."},
    )

    field_order = ["page", "finding", "message"]

    class Meta:
        model = ErrorReport
        fields = ["page", "message"]

    def __init__(self, *args, **kwargs):
        """The form for the page it names (`page`): its findings are offered as choices."""
        kwargs.setdefault("auto_id", "report_%s")
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)
        path = self.data.get("page") if self.is_bound else self.initial.get("page")
        # What the page is about: checked for a posted form, and read to offer its findings.
        self.subject = page_subject(path) if isinstance(path, str) and path else None
        findings = findings_on(*self.subject) if self.subject else []
        self.page_findings = {finding.pk: finding for finding in findings}
        if findings:
            choices = [("", "None in particular")]
            choices += [(finding.pk, finding_label(finding)) for finding in findings]
            self.fields["finding"].widget = forms.Select(choices=choices)
        else:
            self.fields["finding"].widget = forms.HiddenInput()

    def clean_page(self) -> str:
        if self.subject is None:
            raise forms.ValidationError(
                "This form reports errors on a compound or evidence page of this site."
            )
        return self.cleaned_data["page"]

    def clean_finding(self) -> int | None:
        finding_id = self.cleaned_data["finding"]
        if finding_id is not None and finding_id not in self.page_findings:
            raise forms.ValidationError("That finding is not on this page.")
        return finding_id

    def save(self, commit=True) -> ErrorReport:
        report = super().save(commit=False)
        report.compound, report.goal = self.subject
        report.finding = self.page_findings.get(self.cleaned_data["finding"])
        if commit:
            report.save()
        return report
