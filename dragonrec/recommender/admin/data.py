"""Admin pages for what the recommender records and computes: embeddings, teacher judgments, served lists,
trending scores, complements and merchant rules."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Avg, Count, Q, Sum
from django.http import HttpRequest, HttpResponse
from django.utils.html import format_html, format_html_join

from dragonrec.recommender.models import (
    CategoryComplement,
    MerchantRule,
    ProductComplement,
    ProductEmbedding,
    ServedList,
    ServingPolicy,
    TeacherJudgment,
    TrendingScore,
)
from dragonrec.recommender.selectors import served_items


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


@admin.register(ServedList)
class ServedListAdmin(admin.ModelAdmin):
    """Served lists, read-only: one row per list; its items with their outcomes shown as a table on its page."""

    list_display = ["served_at", "scenario", "ranker", "user", "session_id", "length"]
    list_filter = ["scenario", "policy__ranker", "policy__model_version"]
    search_fields = ["=request_id", "=session_id"]
    fields = ["request_id", "served_at", "scenario", "policy", "user", "session_id", "anchor_ids", "items_table"]
    readonly_fields = ["request_id", "served_at", "scenario", "policy", "user", "session_id", "anchor_ids"]
    readonly_fields += ["items_table"]
    date_hierarchy = "served_at"
    show_full_result_count = False  # a count over every partition is slow; the paginator is enough

    def get_queryset(self, request: HttpRequest) -> Any:
        return super().get_queryset(request).select_related("policy", "user").defer("context")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="ranker", ordering="policy__ranker")
    def ranker(self, obj: ServedList) -> str:
        return str(obj.policy)

    @admin.display(description="items")
    def length(self, obj: ServedList) -> int:
        return len(obj.item_ids)

    @admin.display(description="items and outcomes")
    def items_table(self, obj: ServedList) -> str:
        rows = [
            (i.position, i.product_id, f"{i.score:.3f}", i.source, f"{i.propensity:.3f}",
             i.clicked_at or "", i.carted_at or "", i.purchased_at or "")
            for i in served_items([obj])[obj.request_id]
        ]  # fmt: skip
        head = ["position", "product", "score", "source", "propensity", "clicked", "carted", "purchased"]
        return format_html(
            "<table><thead><tr>{}</tr></thead><tbody>{}</tbody></table>",
            format_html_join("", "<th>{}</th>", ((h,) for h in head)),
            format_html_join(
                "", "<tr>{}</tr>", ((format_html_join("", "<td>{}</td>", ((c,) for c in row)),) for row in rows)
            ),
        )


@admin.register(ServingPolicy)
class ServingPolicyAdmin(admin.ModelAdmin):
    list_display = ["id", "ranker", "model_version", "experiment", "arm"]
    list_filter = ["ranker", "experiment"]
    readonly_fields = ["digest", "ranker", "model_version", "experiment", "arm", "policy"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


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
