"""/api/events as Django sees it: documents the long-poll in the OpenAPI schema, and serves it where
the app runs without ASGI (manage.py runserver, the WSGI entry point, Django's test client).

Under `make run` (ASGI) the same path is answered by realtime.consumers.EventLongPollConsumer,
which waits without holding a thread. This view never waits (a waiting sync view would hold a
thread per client): it answers at once, as if `timeout` had run out.
"""

from __future__ import annotations

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from events.selectors import event_latest_id, event_list_after, event_since_is_kept
from events.serializers import EventPageSerializer, EventQuerySerializer, EventSerializer
from oms.serializers import UNAUTHORIZED, ErrorSerializer, ValidationErrorSerializer
from realtime.consumers import RESYNC_DETAIL


class EventListApi(APIView):
    @extend_schema(
        operation_id="events_poll",
        parameters=[EventQuerySerializer],
        responses={
            200: EventPageSerializer,
            400: OpenApiResponse(ValidationErrorSerializer, description="Invalid since or timeout."),
            401: UNAUTHORIZED,
            410: OpenApiResponse(
                ErrorSerializer,
                description=(
                    'Events after `since` are no longer kept: {"detail", "code": "resync_required"}. '
                    "Resynchronise from the lists, then poll without since."
                ),
            ),
        },
        description=(
            "Long-poll: answers at once with up to 100 events after `since`, oldest first, or waits "
            "up to `timeout` seconds for the first one and answers empty at the end."
        ),
    )
    def get(self, request):
        query = EventQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        since = query.validated_data.get("since")
        if since is not None and not event_since_is_kept(since=since):
            return Response({"detail": RESYNC_DETAIL, "code": "resync_required"}, status=410)
        if since is None:
            since = event_latest_id(user_id=request.user.pk)
        events = event_list_after(user_id=request.user.pk, since=since)
        return Response(
            {
                "events": EventSerializer(events, many=True).data,
                "next_since": events[-1].pk if events else since,
            },
            headers={"Cache-Control": "no-store"},
        )
