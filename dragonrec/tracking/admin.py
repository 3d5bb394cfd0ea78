from django.contrib import admin

from dragonrec.tracking.models import Event, UserPreference


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
    list_display = ["user", "categories", "brands", "price_min", "price_max", "updated_at"]
    search_fields = ["user__username"]
    raw_id_fields = ["user"]
