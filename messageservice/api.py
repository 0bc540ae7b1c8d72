"""Message, conversation and sync endpoints: HTTP in, a selector or service call, HTTP out."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import UNKNOWN_USER, user_get_by_username
from messageservice.filters import (
    MessageFilter,
    ReceivedMessageFilter,
    SentMessageFilter,
)
from messageservice.models import IdempotencyKey, Message
from messageservice.selectors import (
    conversation_entries,
    conversation_list_for,
    message_between,
    message_list_for,
    message_received_by,
    message_sent_by,
    message_sync_for,
    message_visible_to,
    unread_counts_for,
)
from messageservice.serializers import (
    ConversationMessageSerializer,
    ConversationSerializer,
    MarkedSerializer,
    MessageCreateSerializer,
    MessageReadSerializer,
    MessageSerializer,
    SyncQuerySerializer,
    SyncSerializer,
    UnreadCountSerializer,
)
from messageservice.services import (
    message_delete,
    message_mark_delivered,
    message_mark_read,
    message_send,
)
from oms.exceptions import BadRequest
from oms.pagination import NewestFirstCursorPagination
from oms.serializers import UNAUTHORIZED, ErrorSerializer, ValidationErrorSerializer
from oms.throttling import SendRateThrottle

IDEMPOTENCY_KEY_MAX_LENGTH = IdempotencyKey._meta.get_field("key").max_length

INVALID = OpenApiResponse(ValidationErrorSerializer, description="Invalid input; see the field errors.")
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="Not found, or not yours.")
LIST_RESPONSES = {
    200: MessageSerializer(many=True),
    400: INVALID,
    401: UNAUTHORIZED,
    404: OpenApiResponse(ErrorSerializer, description="A page past the end."),
}


class DeliveringListApi(generics.ListAPIView):
    """A list of messages: showing a page to its receiver marks those messages delivered."""

    serializer_class = MessageSerializer
    queryset = Message.objects.none()  # names the model for the schema; get_queryset scopes it

    def paginate_queryset(self, queryset):
        page = super().paginate_queryset(queryset)
        _deliver(self.request, page)
        return page


def _deliver(request, messages) -> None:
    """Messages in a GET answer have reached their receiver; a HEAD answer carries none."""
    if request.method == "GET":
        message_mark_delivered(user=request.user, messages=messages)


def _idempotency_key(request) -> str | None:
    key = request.headers.get("Idempotency-Key")
    if key is None:
        return None
    if not (1 <= len(key) <= IDEMPOTENCY_KEY_MAX_LENGTH and key.isprintable()):
        raise BadRequest(
            f"Idempotency-Key must be 1 to {IDEMPOTENCY_KEY_MAX_LENGTH} printable characters.",
            code="invalid_idempotency_key",
        )
    return key


class MessageListCreateApi(DeliveringListApi):
    filterset_class = MessageFilter
    throttle_classes = (SendRateThrottle,)

    def get_queryset(self):
        # Every message: the FilterSet narrows these by peer and date, then filter_queryset
        # narrows them to the user's own. Lists always go through filter_queryset.
        return Message.objects.all()

    def filter_queryset(self, queryset):
        return message_list_for(user=self.request.user, within=super().filter_queryset(queryset))

    @extend_schema(
        operation_id="message_list",
        responses=LIST_RESPONSES,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)

    @extend_schema(
        operation_id="message_send",
        request=MessageCreateSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                location=OpenApiParameter.HEADER,
                required=False,
                description=(
                    "Up to 255 characters. Repeating a send with the same key within 24 hours returns "
                    "the first message, with the header Idempotent-Replayed: true, and stores nothing new."
                ),
            )
        ],
        responses={
            201: MessageSerializer,
            400: INVALID,
            401: UNAUTHORIZED,
            403: OpenApiResponse(ErrorSerializer, description="You are blocked by the receiver."),
            422: OpenApiResponse(
                ErrorSerializer, description="Idempotency-Key already used for a different message."
            ),
            429: OpenApiResponse(
                ErrorSerializer, description="Too many sends; retry after Retry-After seconds."
            ),
        },
    )
    def post(self, request):
        serializer = MessageCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        message, replayed = message_send(
            sender=request.user,
            receiver_username=serializer.validated_data["receiver"],
            content=serializer.validated_data["content"],
            idempotency_key=_idempotency_key(request),
        )
        headers = {"Idempotent-Replayed": "true"} if replayed else {}
        return Response(MessageSerializer(message).data, status=status.HTTP_201_CREATED, headers=headers)


class MessageSentListApi(DeliveringListApi):
    filterset_class = SentMessageFilter

    def get_queryset(self):
        return message_sent_by(user=self.request.user)

    @extend_schema(
        responses={200: MessageSerializer(many=True), 400: INVALID, 401: UNAUTHORIZED, 404: NOT_FOUND}
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class MessageReceivedListApi(DeliveringListApi):
    filterset_class = ReceivedMessageFilter

    def get_queryset(self):
        return message_received_by(user=self.request.user)

    @extend_schema(
        responses={200: MessageSerializer(many=True), 400: INVALID, 401: UNAUTHORIZED, 404: NOT_FOUND}
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class MessageDetailApi(generics.RetrieveDestroyAPIView):
    serializer_class = MessageSerializer
    queryset = Message.objects.none()

    def get_queryset(self):
        return message_visible_to(user=self.request.user)

    @extend_schema(responses={200: MessageSerializer, 401: UNAUTHORIZED, 404: NOT_FOUND})
    def get(self, request, *args, **kwargs):
        message = self.get_object()
        _deliver(request, [message])
        return Response(MessageSerializer(message).data)

    @extend_schema(
        responses={
            204: OpenApiResponse(description="Gone for you; the other party keeps it."),
            401: UNAUTHORIZED,
            404: NOT_FOUND,
        }
    )
    def delete(self, request, pk: str):
        message_delete(user=request.user, message_id=int(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


class MessageReadApi(APIView):
    @extend_schema(
        request=MessageReadSerializer,
        responses={200: MarkedSerializer, 400: INVALID, 401: UNAUTHORIZED},
    )
    def post(self, request):
        serializer = MessageReadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        marked = message_mark_read(
            user=request.user,
            ids=data.get("ids"),
            sender_username=data.get("sender"),
            everything=data.get("all", False),
        )
        return Response({"marked": marked})


class MessageUnreadApi(APIView):
    @extend_schema(responses={200: UnreadCountSerializer, 401: UNAUTHORIZED})
    def get(self, request):
        return Response(unread_counts_for(user=request.user))


class ConversationListApi(generics.ListAPIView):
    serializer_class = ConversationSerializer
    queryset = Message.objects.none()

    def get_queryset(self):
        return conversation_list_for(user=self.request.user)

    @extend_schema(responses={200: ConversationSerializer(many=True), 401: UNAUTHORIZED, 404: NOT_FOUND})
    def get(self, request, *args, **kwargs):
        rows = self.paginate_queryset(self.get_queryset())
        entries = conversation_entries(user=request.user, rows=rows)
        _deliver(request, [e["last_message"] for e in entries])
        return self.get_paginated_response(ConversationSerializer(entries, many=True).data)


class ConversationDetailApi(DeliveringListApi):
    pagination_class = NewestFirstCursorPagination

    def get_queryset(self):
        peer = user_get_by_username(username=self.kwargs["username"], include_inactive=True)
        if peer is None:
            raise NotFound(UNKNOWN_USER)
        return message_between(user=self.request.user, peer=peer)

    @extend_schema(
        operation_id="conversation_messages",
        responses={200: ConversationMessageSerializer(many=True), 401: UNAUTHORIZED, 404: NOT_FOUND},
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)


class SyncApi(APIView):
    @extend_schema(
        parameters=[SyncQuerySerializer],
        responses={200: SyncSerializer, 400: INVALID, 401: UNAUTHORIZED},
    )
    def get(self, request):
        query = SyncQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        batch = message_sync_for(user=request.user, **query.validated_data)
        _deliver(request, batch["messages"])
        return Response(SyncSerializer(batch).data)
