"""Message, conversation and sync endpoints: HTTP in, a selector or service call, HTTP out."""

from __future__ import annotations

from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema, extend_schema_view
from rest_framework import generics, status
from rest_framework.exceptions import NotFound
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.selectors import UNKNOWN_USER, user_get_by_username
from messageservice.filters import MessageFilter, ReceivedMessageFilter, SentMessageFilter, query_of
from messageservice.models import Conversation, IdempotencyKey, Message
from messageservice.selectors import (
    MessageList,
    conversation_list_for,
    message_between,
    message_list_for,
    message_received_list,
    message_rows,
    message_sent_list,
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
    conversations_data,
    message_model_data,
    messages_data,
    sync_data,
)
from messageservice.services import (
    IDEMPOTENCY_WINDOW,
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
IDEMPOTENCY_WINDOW_HOURS = int(IDEMPOTENCY_WINDOW.total_seconds() // 3600)

INVALID = OpenApiResponse(ValidationErrorSerializer, description="Invalid input; see the field errors.")
NOT_FOUND = OpenApiResponse(ErrorSerializer, description="Not found, or not yours.")
LIST_RESPONSES = {
    200: MessageSerializer(many=True),
    400: INVALID,
    401: UNAUTHORIZED,
    404: OpenApiResponse(ErrorSerializer, description="A page past the end."),
}


class MessageListApi(generics.ListAPIView):
    """A list of messages: showing a page to its receiver marks those messages delivered."""

    serializer_class = MessageSerializer
    queryset = Message.objects.none()  # names the model for the schema; get_queryset scopes it

    def get_queryset(self):
        return message_visible_to(user=self.request.user)

    def query(self) -> dict:
        """The list's filters from the query string, validated by its FilterSet (None where absent)."""
        return query_of(self.filterset_class, self.request.query_params)

    def page_response(self, messages: MessageList) -> Response:
        page = self.paginate_queryset(messages)
        deliver(self.request, page)
        return self.get_paginated_response(messages_data(page))


def deliver(request, messages) -> None:
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


@extend_schema_view(
    get=extend_schema(operation_id="message_list", responses=LIST_RESPONSES),
    post=extend_schema(
        operation_id="message_send",
        request=MessageCreateSerializer,
        parameters=[
            OpenApiParameter(
                "Idempotency-Key",
                location=OpenApiParameter.HEADER,
                required=False,
                description=(
                    f"Up to {IDEMPOTENCY_KEY_MAX_LENGTH} characters. Repeating a send with the same key "
                    f"within {IDEMPOTENCY_WINDOW_HOURS} hours returns the first message, with the header "
                    "Idempotent-Replayed: true, and stores nothing new."
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
    ),
)
class MessageListCreateApi(MessageListApi):
    filterset_class = MessageFilter
    throttle_classes = (SendRateThrottle,)

    def get(self, request):
        query = self.query()
        return self.page_response(message_list_for(user=request.user, peer=query["peer"], day=query["date"]))

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
        return Response(message_model_data(message), status=status.HTTP_201_CREATED, headers=headers)


@extend_schema_view(get=extend_schema(responses={**LIST_RESPONSES, 404: NOT_FOUND}))
class MessageSentListApi(MessageListApi):
    filterset_class = SentMessageFilter

    def get(self, request):
        query = self.query()
        return self.page_response(
            message_sent_list(user=request.user, receiver=query["receiver"], day=query["date"])
        )


@extend_schema_view(get=extend_schema(responses={**LIST_RESPONSES, 404: NOT_FOUND}))
class MessageReceivedListApi(MessageListApi):
    filterset_class = ReceivedMessageFilter

    def get(self, request):
        query = self.query()
        return self.page_response(
            message_received_list(
                user=request.user, sender=query["sender"], day=query["date"], unread=query["unread"]
            )
        )


@extend_schema_view(
    get=extend_schema(responses={200: MessageSerializer, 401: UNAUTHORIZED, 404: NOT_FOUND}),
    delete=extend_schema(
        responses={
            204: OpenApiResponse(description="Gone for you; the other party keeps it."),
            401: UNAUTHORIZED,
            404: NOT_FOUND,
        }
    ),
)
class MessageDetailApi(generics.RetrieveDestroyAPIView):
    serializer_class = MessageSerializer
    queryset = Message.objects.none()

    def get_queryset(self):
        return message_visible_to(user=self.request.user)

    def get(self, request, *args, **kwargs):
        message = self.get_object()
        deliver(request, [message])
        return Response(message_model_data(message))

    def delete(self, request, pk: str):
        message_delete(user=request.user, message_id=int(pk))
        return Response(status=status.HTTP_204_NO_CONTENT)


@extend_schema_view(
    post=extend_schema(
        request=MessageReadSerializer, responses={200: MarkedSerializer, 400: INVALID, 401: UNAUTHORIZED}
    )
)
class MessageReadApi(APIView):
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


@extend_schema_view(get=extend_schema(responses={200: UnreadCountSerializer, 401: UNAUTHORIZED}))
class MessageUnreadApi(APIView):
    def get(self, request):
        counts = unread_counts_for(user=request.user)
        return Response({"count": counts.count, "by_sender": counts.by_sender})


@extend_schema_view(
    get=extend_schema(responses={200: ConversationSerializer(many=True), 401: UNAUTHORIZED, 404: NOT_FOUND})
)
class ConversationListApi(generics.ListAPIView):
    serializer_class = ConversationSerializer
    queryset = Conversation.objects.none()

    def get_queryset(self):
        return conversation_list_for(user=self.request.user)

    def get(self, request, *args, **kwargs):
        entries = self.paginate_queryset(self.get_queryset())
        deliver(request, [entry.last_message for entry in entries])
        return self.get_paginated_response(conversations_data(entries))


@extend_schema_view(
    get=extend_schema(
        operation_id="conversation_messages",
        responses={200: ConversationMessageSerializer(many=True), 401: UNAUTHORIZED, 404: NOT_FOUND},
    )
)
class ConversationDetailApi(MessageListApi):
    pagination_class = NewestFirstCursorPagination

    def get_queryset(self):
        peer = user_get_by_username(username=self.kwargs["username"], include_inactive=True)
        if peer is None:
            raise NotFound(UNKNOWN_USER)
        return message_between(user=self.request.user, peer=peer)

    def get(self, request, *args, **kwargs):
        page = message_rows(self.paginate_queryset(self.get_queryset()))
        deliver(request, page)
        return self.get_paginated_response(messages_data(page))


@extend_schema_view(
    get=extend_schema(
        parameters=[SyncQuerySerializer], responses={200: SyncSerializer, 400: INVALID, 401: UNAUTHORIZED}
    )
)
class SyncApi(APIView):
    def get(self, request):
        query = SyncQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        batch = message_sync_for(user=request.user, **query.validated_data)
        deliver(request, batch.messages)
        return Response(sync_data(batch))
