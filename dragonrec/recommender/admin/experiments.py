"""Admin pages for experiments: arms editable while a draft, results, the preview, the dashboard, and the
start / stop / promote-winner actions."""

from __future__ import annotations

from functools import partial
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from dragonrec.recommender.admin.actions import REFUSED, action_call, action_done
from dragonrec.recommender.admin.forms import ArmForm, ArmInlineFormSet, ExperimentForm, PreviewForm
from dragonrec.recommender.models import (
    Arm,
    Experiment,
)


class ArmInline(admin.TabularInline):
    model = Arm
    form = ArmForm
    formset = ArmInlineFormSet
    extra = 0
    fields = ["name", "policy", "share", "overrides", "position"]

    def _draft(self, obj: Experiment | None) -> bool:
        return obj is None or obj.status == Experiment.Status.DRAFT

    # a started experiment's arms are fixed: a changed share would reshuffle shoppers mid-experiment
    def has_add_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._draft(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._draft(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return self._draft(obj) and super().has_delete_permission(request, obj)


@admin.register(Experiment)
class ExperimentAdmin(admin.ModelAdmin):
    form = ExperimentForm
    list_display = ["name", "kind", "status", "started_at", "ended_at", "winner", "results_link"]
    list_filter = ["status", "kind"]
    search_fields = ["name"]
    # the lifecycle moves only through the actions below (the services check one running experiment per scenario)
    readonly_fields = ["status", "started_at", "ended_at", "winner"]
    inlines = [ArmInline]
    actions = ["start", "stop", "promote_winner"]

    def get_readonly_fields(self, request: HttpRequest, obj: Experiment | None = None) -> list[str]:
        fixed = list(self.readonly_fields)
        if obj is not None and obj.status != Experiment.Status.DRAFT:
            fixed += ["name", "kind", "scenarios", "salt"]  # results and assignment depend on them
        return fixed

    @admin.display(description="results")
    def results_link(self, obj: Experiment) -> str:
        url = reverse("admin:dragonrec_experiment_results", args=[obj.pk])
        return format_html('<a href="{}">results</a>', url)

    def get_urls(self) -> list[Any]:
        from django.urls import path

        own = [
            path("dashboard/", self.admin_site.admin_view(self.dashboard_view), name="dragonrec_dashboard"),
            path(
                "<int:pk>/results/", self.admin_site.admin_view(self.results_view), name="dragonrec_experiment_results"
            ),
            path("preview/", self.admin_site.admin_view(self.preview_view), name="dragonrec_preview"),
        ]
        return own + super().get_urls()

    def results_view(self, request: HttpRequest, pk: int) -> TemplateResponse:
        from django.shortcuts import get_object_or_404

        from dragonrec.recommender.services.dashboard import experiment_page

        experiment = get_object_or_404(Experiment, pk=pk)
        try:  # ?lift=20: size "enough data" for a +20% CTR lift instead of the default
            lift = min(max(float(request.GET.get("lift", "")) / 100, 0.01), 10.0)
        except ValueError:
            lift = None
        context = {
            **self.admin_site.each_context(request),
            "title": f"Results: {experiment.name}",
            "experiment": experiment,
            "page": experiment_page(experiment=experiment, lift=lift),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/dragonrec_recommender/experiment/results.html", context)

    def preview_view(self, request: HttpRequest) -> TemplateResponse:
        """What a shopper would be served and why (read-only: the API's function, nothing recorded)."""
        from django.core.exceptions import PermissionDenied

        from dragonrec.recommender.core.types import Preferences
        from dragonrec.recommender.selectors import products_rendered
        from dragonrec.recommender.services.preview import (
            PreviewError,
            recommendation_preview,
            served_rows,
            stated_history,
        )

        if not self.has_view_permission(request):
            raise PermissionDenied
        form = PreviewForm(request.GET or None)
        page: dict[str, Any] | None = None
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            categories = tuple(c.strip() for c in (data.get("categories") or "").split(",") if c.strip())
            stated = categories or data.get("price_min") is not None or data.get("price_max") is not None
            try:
                page = recommendation_preview(
                    scenario=data["scenario"],
                    shopper=data.get("shopper") or "",
                    product_id=data.get("product_id"),
                    n=data["n"],
                    history=stated_history(data["history"]) if data.get("history") else None,
                    preferences=Preferences(
                        categories=categories,
                        price_min=float(data["price_min"]) if data.get("price_min") is not None else None,
                        price_max=float(data["price_max"]) if data.get("price_max") is not None else None,
                    )
                    if stated
                    else None,
                    request_id=data.get("request_id"),
                )
            except PreviewError as exc:
                form.add_error(None, str(exc))
            if page is not None:
                ids = [i.product_id for i in page["served"].items] + [
                    i.product_id for arm in page["arms"] for i in arm["served"].items
                ]
                products = products_rendered(ids)
                page["rows"] = served_rows(page["served"], products)
                for arm in page["arms"]:
                    arm["rows"] = served_rows(arm["served"], products)
                    arm["added_titles"] = [r["title"] for r in arm["rows"] if r["product_id"] in arm["added"]]
        context = {
            **self.admin_site.each_context(request),
            "title": "Preview recommendations",
            "form": form,
            "page": page,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/dragonrec_recommender/preview.html", context)

    def dashboard_view(self, request: HttpRequest) -> TemplateResponse:
        from dragonrec.recommender.services.dashboard import DAYS as DASHBOARD_DAYS
        from dragonrec.recommender.services.dashboard import recommendations_dashboard

        context = {
            **self.admin_site.each_context(request),
            "title": f"Recommendations, last {DASHBOARD_DAYS} days",
            "d": recommendations_dashboard(days=DASHBOARD_DAYS),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/dragonrec_recommender/dashboard.html", context)

    @admin.action(description="Start the selected draft experiments", permissions=["change"])
    def start(self, request: HttpRequest, queryset: QuerySet[Experiment]) -> None:
        from dragonrec.recommender.services.experiments import experiment_start

        for experiment in queryset:
            if action_call(self, request, partial(experiment_start, experiment=experiment)) is REFUSED:
                continue
            action_done(self, request, experiment, "Started.", f"{experiment.name} is running.")

    @admin.action(description="Stop the selected running experiments (no winner)", permissions=["change"])
    def stop(self, request: HttpRequest, queryset: QuerySet[Experiment]) -> None:
        from dragonrec.recommender.services.experiments import experiment_stop

        note = f"stopped by admin user {request.user}"
        for experiment in queryset:
            if action_call(self, request, partial(experiment_stop, experiment=experiment, note=note)) is REFUSED:
                continue
            action_done(self, request, experiment, "Stopped.", f"{experiment.name} is stopped.")

    @admin.action(
        description="End by promoting the winning arm (the best significant CTR lift over control)",
        permissions=["change"],
    )
    def promote_winner(self, request: HttpRequest, queryset: QuerySet[Experiment]) -> None:
        from dragonrec.recommender.services.experiments import experiment_promote_winner

        by = f"admin user {request.user}"
        for experiment in queryset:
            arm = action_call(
                self,
                request,
                partial(experiment_promote_winner, experiment=experiment, by=by),
                level=messages.WARNING,
            )
            if arm is REFUSED:
                continue
            action_done(
                self,
                request,
                experiment,
                f"Ended; promoted arm {arm.name}.",
                f"{experiment.name} ended; {arm.name} promoted.",
            )
