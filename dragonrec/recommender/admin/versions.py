"""Admin pages for model versions: quality figures in words, training curves, the promote / force-activate /
compare actions (through the one model lifecycle: services.registry)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse

from dragonrec.recommender.admin.actions import REFUSED, action_call, action_done
from dragonrec.recommender.models import (
    ModelVersion,
)


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
        promoted = action_call(self, request, lambda: model_version_promote_if_better(version=version))
        if promoted is REFUSED:
            return
        if not promoted:
            self.message_user(
                request, f"{version.version} does not beat the active version; it stays a candidate.", messages.WARNING
            )
            return
        action_done(self, request, version, "Promoted through the gate.", f"{version.version} is now active.")

    @admin.action(
        description="Force-activate the selected version past the gate (recorded in its notes)",
        permissions=["change"],
    )
    def force_activate(self, request: HttpRequest, queryset: QuerySet[ModelVersion]) -> None:
        from dragonrec.recommender.services.registry import model_version_force_activate

        version = self._one(request, queryset)
        if version is None:
            return
        by = f"admin user {request.user}"
        if action_call(self, request, lambda: model_version_force_activate(version=version, by=by)) is REFUSED:
            return
        action_done(
            self,
            request,
            version,
            "Force-activated past the promotion gate.",
            f"{version.version} is now active (forced; recorded).",
            messages.WARNING,
        )

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
