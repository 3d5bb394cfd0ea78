from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.db.models import Avg, Count, Q, QuerySet, Sum
from django.forms.models import BaseInlineFormSet
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html

from dragonrec.recommender.core.types import SCENARIOS
from dragonrec.recommender.models import (
    Arm,
    CategoryComplement,
    Dashboard,
    Experiment,
    Impression,
    ImpressionItem,
    JobRun,
    MerchantRule,
    ModelVersion,
    ProductComplement,
    ProductEmbedding,
    TeacherJudgment,
    TrendingScore,
)
from dragonrec.recommender.services.experiments import EXPERIMENT_SCENARIOS


@admin.register(ProductEmbedding)
class ProductEmbeddingAdmin(admin.ModelAdmin):
    list_display = ["product", "model_name", "text_hash", "embedded_at"]
    list_filter = ["model_name"]
    search_fields = ["product__pk"]
    raw_id_fields = ["product"]
    exclude = ["vector"]
    readonly_fields = ["product", "model_name", "text_hash", "embedded_at"]


@admin.register(TeacherJudgment)
class TeacherJudgmentAdmin(admin.ModelAdmin):
    list_display = [
        "created_at",
        "model",
        "prompt_version",
        "user_key",
        "n_candidates",
        "latency_ms",
        "cost_usd",
        "cache_hit",
        "error",
        "source",
    ]
    list_filter = ["error", "model", "prompt_version", "cache_hit", "source"]
    search_fields = ["user_key", "request_id", "cache_key"]
    readonly_fields = [f.name for f in TeacherJudgment._meta.fields]
    date_hierarchy = "created_at"

    @admin.display(description="candidates")
    def n_candidates(self, obj: TeacherJudgment) -> int:
        return len(obj.candidates or [])

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        response = super().changelist_view(request, extra_context)
        try:
            qs = response.context_data["cl"].queryset  # type: ignore[attr-defined]
        except (AttributeError, KeyError):
            return response
        totals = qs.aggregate(
            calls=Count("id"), cost=Sum("cost_usd"), latency=Avg("latency_ms"), errors=Count("id", filter=~Q(error=""))
        )
        self.message_user(
            request,
            f"{totals['calls']} calls, ${totals['cost'] or 0:.4f} spent, mean latency {totals['latency'] or 0:.0f} ms, "
            f"{totals['errors']} errors (for the current filter)",
            messages.INFO,
        )
        return response


class ImpressionItemInline(admin.TabularInline):
    model = ImpressionItem
    extra = 0
    raw_id_fields = ["product"]
    readonly_fields = ["product", "position", "score", "source", "clicked_at", "carted_at", "purchased_at"]
    can_delete = False


@admin.register(Impression)
class ImpressionAdmin(admin.ModelAdmin):
    list_display = ["created_at", "scenario", "ranker", "model_version", "user", "session_id"]
    list_filter = ["scenario", "ranker", "model_version"]
    search_fields = ["request_id", "session_id", "user__username"]
    raw_id_fields = ["user"]
    inlines = [ImpressionItemInline]
    date_hierarchy = "created_at"
    show_full_result_count = False


@admin.register(TrendingScore)
class TrendingScoreAdmin(admin.ModelAdmin):
    list_display = ["product", "score", "category_path", "computed_at"]
    search_fields = ["category_path"]
    raw_id_fields = ["product"]


@admin.register(ProductComplement)
class ProductComplementAdmin(admin.ModelAdmin):
    list_display = ["product", "complement", "score", "computed_at"]
    raw_id_fields = ["product", "complement"]


@admin.register(CategoryComplement)
class CategoryComplementAdmin(admin.ModelAdmin):
    list_display = ["category_path", "complement_path", "score", "manual", "computed_at"]
    list_filter = ["manual"]
    search_fields = ["category_path", "complement_path"]


@admin.register(MerchantRule)
class MerchantRuleAdmin(admin.ModelAdmin):
    list_display = [
        "name",
        "kind",
        "scenario",
        "product",
        "category_path",
        "multiplier",
        "position",
        "is_active",
        "starts_at",
        "ends_at",
    ]
    list_filter = ["kind", "scenario", "is_active"]
    search_fields = ["name", "category_path"]
    raw_id_fields = ["product"]


@admin.register(ModelVersion)
class ModelVersionAdmin(admin.ModelAdmin):
    list_display = [
        "version",
        "kind",
        "status",
        "valid_ndcg",
        "gate_ndcg",
        "parent",
        "created_at",
        "activated_at",
        "rolled_back_at",
        "last_decision",
    ]
    list_filter = ["status", "kind"]
    # status too: a version becomes active only through the promotion gate or the recorded force action below
    readonly_fields = [
        "version",
        "owner_name",
        "quality",
        "training_curve",
        "slices_table",
        "kind",
        "status",
        "decision",
        "rolled_back_at",
        "artifact",
        "architecture",
        "hyperparameters",
        "data_snapshot",
        "metrics",
        "training_log",
        "parent",
        "created_at",
        "activated_at",
    ]
    actions = ["promote", "force_activate", "compare"]
    fieldsets = [
        (None, {"fields": ["version", "owner_name", "kind", "status", "quality", "training_curve", "slices_table"]}),
        ("History", {"fields": ["decision", "notes", "parent", "created_at", "activated_at", "rolled_back_at"]}),
        (
            "Details",
            {
                "classes": ["collapse"],
                "fields": ["artifact", "architecture", "hyperparameters", "data_snapshot", "metrics", "training_log"],
            },
        ),
    ]

    # the active version serves every shopper: it is replaced by activating another (recorded on both), never deleted
    def has_delete_permission(self, request: HttpRequest, obj: ModelVersion | None = None) -> bool:
        if obj is not None and obj.status == ModelVersion.Status.ACTIVE:
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[ModelVersion]) -> None:
        # the bulk action checks each object's permission before its confirmation page; this is the last guard
        super().delete_queryset(request, queryset.exclude(status=ModelVersion.Status.ACTIVE))

    @admin.display(description="name")
    def owner_name(self, obj: ModelVersion) -> str:
        from dragonrec.recommender.services.model_report import owner_name

        return owner_name(obj.version, obj.kind)

    @admin.display(description="quality on held-out shoppers")
    def quality(self, obj: ModelVersion) -> str:
        from dragonrec.recommender.services.model_report import version_summary

        return version_summary(obj)

    @admin.display(description="training curve")
    def training_curve(self, obj: ModelVersion) -> str:
        from django.utils.safestring import mark_safe

        from dragonrec.recommender.services.model_report import training_curve_svg

        svg = training_curve_svg([obj])
        # our own matplotlib output, no user text in it but the version name (a [\w.-] slug)
        return mark_safe(svg) if svg else "No training log (trained before logs were kept, or still training)."

    @admin.display(description="per slice (NDCG@10 by history length)")
    def slices_table(self, obj: ModelVersion) -> str:
        from django.template.loader import render_to_string

        from dragonrec.recommender.services.model_report import slice_rows

        rows = slice_rows([obj])
        if not rows:
            return "-"
        return render_to_string(
            "admin/dragonrec_recommender/modelversion/slices.html", {"versions": [obj], "slice_rows": rows}
        )

    @admin.display(description="valid NDCG@10")
    def valid_ndcg(self, obj: ModelVersion) -> str:
        value = obj.metrics.get("valid_ndcg@10")
        return f"{value:.4f}" if isinstance(value, int | float) else "-"

    @admin.display(description="gate NDCG@10")
    def gate_ndcg(self, obj: ModelVersion) -> str:
        # held-out shoppers never trained or early-stopped on: the figure promotion decides by
        value = obj.metrics.get("gate_ndcg@10")
        return f"{value:.4f}" if isinstance(value, int | float) else "-"

    @admin.display(description="decision")
    def last_decision(self, obj: ModelVersion) -> str:
        # the latest line: the promotion verdict, or the guardrail's rollback after it
        return obj.decision.strip().splitlines()[-1] if obj.decision.strip() else "-"

    def _one(self, request: HttpRequest, queryset: QuerySet[ModelVersion]) -> ModelVersion | None:
        if queryset.count() != 1:
            self.message_user(request, "Select exactly one version.", messages.ERROR)
            return None
        return queryset.get()

    @admin.action(
        description="Promote the selected version if it beats the active one (the promotion gate)",
        permissions=["change"],
    )
    def promote(self, request: HttpRequest, queryset: QuerySet[ModelVersion]) -> None:
        from dragonrec.recommender.services.registry import model_version_promote_if_better

        version = self._one(request, queryset)
        if version is None:
            return
        try:
            promoted = model_version_promote_if_better(version=version)
        except ValueError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        if not promoted:
            self.message_user(
                request, f"{version.version} does not beat the active version; it stays a candidate.", messages.WARNING
            )
            return
        self.log_change(request, version, "Promoted through the gate.")
        self.message_user(request, f"{version.version} is now active.", messages.SUCCESS)

    @admin.action(
        description="Force-activate the selected version past the gate (recorded in its notes)",
        permissions=["change"],
    )
    def force_activate(self, request: HttpRequest, queryset: QuerySet[ModelVersion]) -> None:
        from dragonrec.recommender.services.registry import model_version_force_activate

        version = self._one(request, queryset)
        if version is None:
            return
        try:
            model_version_force_activate(version=version, by=f"admin user {request.user}")
        except ValueError as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return
        self.log_change(request, version, "Force-activated past the promotion gate.")
        self.message_user(request, f"{version.version} is now active (forced; recorded).", messages.WARNING)

    @admin.action(description="Compare the selected versions side by side")
    def compare(self, request: HttpRequest, queryset: QuerySet[ModelVersion]) -> TemplateResponse:
        from dragonrec.recommender.services.registry import versions_comparison

        versions = list(queryset.order_by("created_at"))
        context = {
            **self.admin_site.each_context(request),
            "title": "Compare model versions",
            **versions_comparison(versions=versions),
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/dragonrec_recommender/modelversion/compare.html", context)


class ExperimentForm(forms.ModelForm):
    """The experiment's own fields, checked by the same service as the command and the API
    (services.experiments.experiment_errors); the arms are checked by ArmInlineFormSet."""

    scenarios = forms.MultipleChoiceField(
        choices=[(s, s) for s in EXPERIMENT_SCENARIOS],
        widget=forms.CheckboxSelectMultiple,
        help_text="The lists the experiment runs on.",
    )

    class Meta:
        model = Experiment
        fields = ["name", "kind", "scenarios", "salt", "notes"]

    def clean(self) -> dict[str, Any]:
        from dragonrec.recommender.services.experiments import experiment_errors

        data = super().clean() or {}
        if self.errors:  # a field already refused: its own message says why
            return data
        errors = experiment_errors(
            name=data.get("name") or "",
            scenarios=list(data.get("scenarios") or []),
            kind=data.get("kind") or "",
            exclude_pk=self.instance.pk,
        )
        for field_name, messages_ in errors.items():
            self.add_error(field_name if field_name in self.fields else None, messages_)
        return data


class ArmForm(forms.ModelForm):
    class Meta:
        model = Arm
        fields = ["name", "policy", "share", "overrides", "position"]
        help_texts = {"share": "Fraction of the shoppers, above 0 and at most 1 (0.5 = half); A/B shares add up to 1."}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        from dragonrec.recommender.services.experiments import policy_choices

        super().__init__(*args, **kwargs)
        # a select from the closed list, not free text: a typo can't be saved
        self.fields["policy"] = forms.ChoiceField(choices=[("", "---------"), *policy_choices()])


class ArmInlineFormSet(BaseInlineFormSet):
    """Checks the arms together through the shared service (services.experiments.arms_errors): each arm's message
    goes beside its field, the ones about all arms (shares adding up to 1) above the arms."""

    def clean(self) -> None:
        from dragonrec.recommender.services.experiments import ArmSpec, arms_errors

        super().clean()
        kept = [
            f
            for f in self.forms
            if getattr(f, "cleaned_data", None) and not self._should_delete_form(f)  # type: ignore[attr-defined]
        ]
        arms = [
            ArmSpec(
                f.cleaned_data.get("name") or "",
                f.cleaned_data.get("policy") or "",
                float(f.cleaned_data["share"]) if f.cleaned_data.get("share") is not None else 0.0,
            )
            for f in kept
        ]
        errors = arms_errors(arms=arms, kind=self.instance.kind)
        general: list[str] = []
        for key, messages_ in errors.items():
            parts = key.split(".")
            if len(parts) == 3:
                form = kept[int(parts[1])]
                if parts[2] not in form.errors:  # a field refused already (a policy not in the select) says why
                    form.add_error(parts[2], messages_)
            else:
                general.extend(messages_)
        if general:
            raise ValidationError(general)


class PreviewForm(forms.Form):
    """Whose list to preview: a shopper, a product page, or a history and preferences stated by hand."""

    scenario = forms.ChoiceField(choices=[(s, s) for s in SCENARIOS], initial="home")
    shopper = forms.CharField(
        required=False, help_text="A username, u:USER_ID, or a session id; empty = a new visitor."
    )
    product_id = forms.IntegerField(required=False, min_value=1, help_text="The product page (scenario product).")
    history = forms.CharField(
        required=False,
        help_text="Instead of the shopper's history: product ids oldest first, e.g. 12, 40:add_to_cart, 7:purchase.",
    )
    categories = forms.CharField(required=False, help_text="Stated preferences: category paths, comma separated.")
    price_min = forms.DecimalField(required=False, min_value=0)
    price_max = forms.DecimalField(required=False, min_value=0)
    n = forms.IntegerField(min_value=1, max_value=100, initial=10)
    request_id = forms.UUIDField(
        required=False, help_text="A served list's request id reproduces its exploration draw (home page)."
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if data.get("scenario") == "product" and not data.get("product_id"):
            self.add_error("product_id", "A product page needs a product.")
        return data


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
        from dragonrec.recommender.services.experiments import ExperimentError, experiment_start

        for experiment in queryset:
            try:
                experiment_start(experiment=experiment)
            except ExperimentError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                continue
            self.log_change(request, experiment, "Started.")
            self.message_user(request, f"{experiment.name} is running.", messages.SUCCESS)

    @admin.action(description="Stop the selected running experiments (no winner)", permissions=["change"])
    def stop(self, request: HttpRequest, queryset: QuerySet[Experiment]) -> None:
        from dragonrec.recommender.services.experiments import ExperimentError, experiment_stop

        for experiment in queryset:
            try:
                experiment_stop(experiment=experiment, note=f"stopped by admin user {request.user}")
            except ExperimentError as exc:
                self.message_user(request, str(exc), messages.ERROR)
                continue
            self.log_change(request, experiment, "Stopped.")
            self.message_user(request, f"{experiment.name} is stopped.", messages.SUCCESS)

    @admin.action(
        description="End by promoting the winning arm (the best significant CTR lift over control)",
        permissions=["change"],
    )
    def promote_winner(self, request: HttpRequest, queryset: QuerySet[Experiment]) -> None:
        from dragonrec.recommender.services.experiments import ExperimentError, experiment_promote_winner

        for experiment in queryset:
            try:
                arm = experiment_promote_winner(experiment=experiment, by=f"admin user {request.user}")
            except ExperimentError as exc:
                self.message_user(request, str(exc), messages.WARNING)
                continue
            self.log_change(request, experiment, f"Ended; promoted arm {arm.name}.")
            self.message_user(request, f"{experiment.name} ended; {arm.name} promoted.", messages.SUCCESS)


@admin.register(Dashboard)
class DashboardAdmin(admin.ModelAdmin):
    """The admin index's entry for the dashboard, which lives under the experiments' URLs; whoever may see
    experiments may see it."""

    def has_view_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return request.user.has_perm("dragonrec_recommender.view_experiment")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        return HttpResponseRedirect(reverse("admin:dragonrec_dashboard"))


@admin.register(JobRun)
class JobRunAdmin(admin.ModelAdmin):
    """Job health: every job of the beat schedule (those that never ran too) with its last success, last failure
    and its error, duration and next run. Rows are written by Celery's task signals only."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def changelist_view(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        from django.conf import settings
        from django.core.exceptions import PermissionDenied

        from dragonrec.recommender.conf import recommender_settings
        from dragonrec.recommender.services.jobs import job_health

        if not self.has_view_permission(request):
            raise PermissionDenied
        context = {
            **self.admin_site.each_context(request),
            "title": "Scheduled jobs",
            "jobs": job_health(),
            "grace": recommender_settings.JOB_OVERDUE_GRACE_MINUTES,
            "tz": settings.TIME_ZONE,
            "opts": self.model._meta,
        }
        return TemplateResponse(request, "admin/dragonrec_recommender/job_health.html", context)


# the admin index warns when a scheduled job is overdue; a host project's own index template is left alone
if admin.site.index_template is None:
    admin.site.index_template = "admin/dragonrec_recommender/index.html"
