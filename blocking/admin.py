"""Admin for blocks: search by either username, filter by date."""

from django.contrib import admin

from blocking.models import Block


@admin.register(Block)
class BlockAdmin(admin.ModelAdmin):
    list_display = ("id", "blocker", "blocked", "created")
    list_filter = ("created",)
    search_fields = ("=blocker__username", "=blocked__username")
    raw_id_fields = ("blocker", "blocked")
    list_select_related = ("blocker", "blocked")
    date_hierarchy = "created"
    show_full_result_count = False
    ordering = ("-created", "-id")
