"""Admin pages for what the recommender records and computes: embeddings, teacher judgments, served lists,
trending scores, complements and merchant rules."""

from __future__ import annotations

from typing import Any

from django.contrib import admin, messages
from django.db.models import Avg, Count, Q, Sum
from django.http import HttpRequest, HttpResponse

from dragonrec.recommender.models import (
    CategoryComplement,
    Impression,
    ImpressionItem,
    MerchantRule,
    ProductComplement,
    ProductEmbedding,
    TeacherJudgment,
    TrendingScore,
)


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
