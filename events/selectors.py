"""Reads of the event log: replay after an id, the newest id, and whether an id is still covered."""

from __future__ import annotations

from events.models import Event, EventHorizon

REPLAY_BATCH = 100


def event_list_after(*, user_id: int, since: int, limit: int = REPLAY_BATCH) -> list[Event]:
    """The user's events with an id above `since`, oldest first."""
    return list(
        Event.objects.filter(user_id=user_id, id__gt=since)
        .order_by("id")
        .only("id", "type", "created", "data")[:limit]
    )


def event_latest_id(*, user_id: int) -> int:
    """The id of the user's newest event, 0 if none: pass it as `since` to get only what comes next."""
    latest = Event.objects.filter(user_id=user_id).order_by("-id").values_list("id", flat=True).first()
    return latest or 0


def event_since_is_kept(*, since: int) -> bool:
    """Whether the log still holds everything after `since`; if not, the client resyncs from the lists."""
    horizon = EventHorizon.objects.filter(pk=1).values_list("purged_through", flat=True).first()
    return since >= (horizon or 0)
