from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from dragonrec.tracking.models import ApiKey, Event, ShopperErasure, UserPreference
from dragonrec.tracking.services import api_key_create, api_key_revoke


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    list_display = ["timestamp", "type", "user", "session_id", "product", "quantity", "source"]
    list_filter = ["type", "source", "timestamp"]
    search_fields = ["id", "session_id", "user__username"]
    raw_id_fields = ["user", "product"]
    date_hierarchy = "timestamp"
    list_select_related = ["user", "product"]
    show_full_result_count = False  # COUNT(*) over millions of events would make every page slow


@admin.register(UserPreference)
class UserPreferenceAdmin(admin.ModelAdmin):
    list_display = ["user", "session_id", "categories", "brands", "price_min", "price_max", "updated_at"]
    search_fields = ["user__username", "session_id"]
    raw_id_fields = ["user"]


class ApiKeyForm(forms.ModelForm):
    scopes = forms.MultipleChoiceField(choices=ApiKey.Scope.choices, widget=forms.CheckboxSelectMultiple)

    class Meta:
        model = ApiKey
        fields = ["name", "scopes"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    form = ApiKeyForm
    list_display = ["name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["revoked_at"]
    search_fields = ["name", "prefix"]
    readonly_fields = ["prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def save_model(self, request: HttpRequest, obj: ApiKey, form: Any, change: bool) -> None:
        if change:
            super().save_model(request, obj, form, change)
            return
        key, raw = api_key_create(name=obj.name, scopes=obj.scopes)
        obj.pk, obj.prefix, obj.hashed_key, obj.created_at = key.pk, key.prefix, key.hashed_key, key.created_at
        # the only time the full key exists outside the caller's hands: it is not stored, only its hash
        self.message_user(request, f"The new key (copy it now, it is not shown again): {raw}", messages.WARNING)

    @admin.action(description="Revoke the selected keys", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiKey]) -> None:
        for key in queryset:
            api_key_revoke(key=key)
            self.log_change(request, key, "Revoked.")
        self.message_user(request, f"{queryset.count()} keys revoked.", messages.SUCCESS)


@admin.register(ShopperErasure)
class ShopperErasureAdmin(admin.ModelAdmin):
    list_display = ["key_hash", "erased_at", "requested_by"]
    search_fields = ["key_hash"]
    readonly_fields = ["key_hash", "erased_at", "requested_by"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # erasures are made by `dragonrec_forget` or the shopper's DELETE /api/me/data/
