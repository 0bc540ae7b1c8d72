"""Routes of the message, conversation and sync endpoints, mounted at /api/."""

from django.urls import re_path

from accounts.models import USERNAME_PATTERN
from messageservice import api

# Each path also matches with a trailing slash.
urlpatterns = [
    re_path(r"^message/?$", api.MessageListCreateApi.as_view(), name="message-list"),
    re_path(r"^message/sent/?$", api.MessageSentListApi.as_view(), name="message-sent"),
    re_path(r"^message/received/?$", api.MessageReceivedListApi.as_view(), name="message-received"),
    re_path(r"^message/read/?$", api.MessageReadApi.as_view(), name="message-read"),
    re_path(r"^message/unread/?$", api.MessageUnreadApi.as_view(), name="message-unread"),
    # Ids are 64-bit; a longer number cannot name a message and falls through to 404.
    re_path(r"^message/(?P<pk>[0-9]{1,18})/?$", api.MessageDetailApi.as_view(), name="message-detail"),
    re_path(r"^conversation/?$", api.ConversationListApi.as_view(), name="conversation-list"),
    re_path(
        rf"^conversation/(?P<username>{USERNAME_PATTERN})/?$",
        api.ConversationDetailApi.as_view(),
        name="conversation-detail",
    ),
    re_path(r"^sync/?$", api.SyncApi.as_view(), name="sync"),
]
