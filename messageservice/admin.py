"""Admin for messages and idempotency keys: read and delete only; messages are written by the service."""

from django.contrib import admin

from messageservice.models import IdempotencyKey, Message
from messageservice.services import message_purge


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ("id", "sender", "receiver", "created", "delivered_at", "read_at")
    list_filter = ("created", "delivered_at", "read_at", "deleted_by_sender", "deleted_by_receiver")
    search_fields = ("=sender__username", "=receiver__username")
    raw_id_fields = ("sender", "receiver")
    list_select_related = ("sender", "receiver")
    date_hierarchy = "created"
    show_full_result_count = False
    ordering = ("-created", "-id")

    # Messages are immutable and only the send service may create one (it checks blocks and
    # orders ids): the admin may read and delete them, not add or rewrite them.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    # Deleting goes through the service, so the parties' conversation rows stay exact.
    def delete_model(self, request, obj):
        message_purge(messages=Message.objects.filter(pk=obj.pk))

    def delete_queryset(self, request, queryset):
        message_purge(messages=queryset)

    readonly_fields = (
        "sender",
        "receiver",
        "content",
        "created",
        "delivered_at",
        "read_at",
        "deleted_by_sender",
        "deleted_by_receiver",
    )


@admin.register(IdempotencyKey)
class IdempotencyKeyAdmin(admin.ModelAdmin):
    list_display = ("id", "sender", "key", "message", "created")
    search_fields = ("=sender__username", "=key")
    raw_id_fields = ("sender", "message")
    list_select_related = ("sender",)
    show_full_result_count = False
    readonly_fields = ("sender", "key", "message", "created")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
