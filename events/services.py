"""Writes to the event log: record the events of one change, purge old ones.

Every change writes its events with ONE statement, inside the change's own transaction. On
PostgreSQL that statement first locks the row of every user it writes an event for (the same
row lock message sends take), so a user's events commit in id order and a reader replaying
"everything after id N" can never skip an event that commits late. SQLite serialises all
writers already. The push to online clients happens only after the transaction commits.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.utils import timezone
from rest_framework.fields import DateTimeField

from events import notify
from events.models import Event, EventHorizon

logger = logging.getLogger(__name__)

_TIMESTAMP = DateTimeField()


def event_timestamp(value: datetime) -> str:
    """A timestamp as the API writes it everywhere else."""
    return _TIMESTAMP.to_representation(value)


@dataclass(frozen=True)
class NewEvent:
    user_id: int
    type: str
    data: dict


def _tables() -> tuple[str, str]:
    return Event._meta.db_table, get_user_model()._meta.db_table


def event_write(*, ctes: str, rows: str, params: Sequence, type: str, created: datetime) -> None:
    """Insert the events that `rows` selects, with one statement, and wake their users after commit.

    `ctes` (may be empty) are common table expressions `rows` may use; `rows` is a SELECT of
    `user_id, data` (data a JSON text or JSON value) that ends in a WHERE clause, so the lock
    condition can be appended to it. Placeholders are %s.
    """
    event_table, user_table = _tables()
    with_ctes = f"{ctes}, " if ctes else ""
    if connection.vendor == "postgresql":
        wake = (
            f"pg_notify('{notify.PG_CHANNEL}', CASE WHEN count(DISTINCT user_id) > 500 THEN 'w:*' "
            "ELSE 'w:' || string_agg(DISTINCT user_id::text, ',') END)"
            if notify.transport() == notify.POSTGRES
            else "NULL"
        )
        # Only our own SQL fragments and table names are interpolated; values go as parameters.
        sql = (
            f"WITH {with_ctes}rows AS MATERIALIZED ({rows}), "
            f"locked AS MATERIALIZED (SELECT id FROM {user_table} WHERE id IN (SELECT user_id FROM rows) "
            "ORDER BY id FOR NO KEY UPDATE), "
            f"ins AS (INSERT INTO {event_table} (user_id, type, created, data) "
            "SELECT user_id, %s, %s, data::jsonb FROM rows WHERE (SELECT count(*) FROM locked) >= 0 "
            "ORDER BY user_id RETURNING user_id) "
            f"SELECT {wake}, array_agg(DISTINCT user_id) FROM ins"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, type, created])
            user_ids = cursor.fetchone()[1] or []
    else:
        sql = (
            f"WITH {with_ctes}rows AS ({rows}) "
            f"INSERT INTO {event_table} (user_id, type, created, data) "
            "SELECT user_id, %s, %s, data FROM rows WHERE true ORDER BY user_id RETURNING user_id"
        )
        with connection.cursor() as cursor:
            cursor.execute(sql, [*params, type, connection.ops.adapt_datetimefield_value(created)])
            user_ids = sorted({row[0] for row in cursor.fetchall()})
    if user_ids:
        transaction.on_commit(lambda: notify.users_woken(user_ids=user_ids))


def event_record(*, events: Sequence[NewEvent]) -> None:
    """Store the events of one change (all of one type) in one query, inside the caller's transaction."""
    if not events:
        return
    types = {e.type for e in events}
    if len(types) != 1:
        raise ValueError("one change, one event type")
    if connection.vendor == "postgresql":
        rows = "SELECT v.user_id, v.data FROM unnest(%s::bigint[], %s::text[]) AS v(user_id, data) WHERE true"
    else:
        rows = (
            "SELECT json_extract(value, '$[0]') AS user_id, json_extract(value, '$[1]') AS data "
            "FROM json_each(%s) WHERE true"
        )
    user_ids = [e.user_id for e in events]
    datas = [json.dumps(e.data, cls=DjangoJSONEncoder) for e in events]
    if connection.vendor == "postgresql":
        params = [user_ids, datas]
    else:
        params = [json.dumps(list(zip(user_ids, datas, strict=True)))]
    event_write(ctes="", rows=rows, params=params, type=types.pop(), created=timezone.now())


def events_purge(*, now: datetime | None = None) -> int:
    """Delete the events older than EVENT_RETENTION_DAYS; returns how many went.

    Deletes by id (everything up to the newest expired event), so the kept log is one range and
    "is this `since` still covered" is one comparison with the horizon.
    """
    cutoff = (now or timezone.now()) - timedelta(days=settings.EVENT_RETENTION_DAYS)
    through = Event.objects.filter(created__lt=cutoff).order_by("-id").values_list("id", flat=True).first()
    if through is None:
        return 0
    with transaction.atomic():
        horizon, _ = EventHorizon.objects.select_for_update().get_or_create(pk=1)
        if through > horizon.purged_through:
            horizon.purged_through = through
            horizon.save(update_fields=["purged_through"])
        deleted, _ = Event.objects.filter(id__lte=through).delete()
    logger.info("events purged through id=%s deleted=%s", through, deleted, extra={"through": through})
    return deleted


def json_object_sql(*keys_and_exprs: str) -> str:
    """SQL building a JSON object from alternating key literals and expressions, on either database."""
    function = "json_build_object" if connection.vendor == "postgresql" else "json_object"
    return f"{function}({', '.join(keys_and_exprs)})"


def json_array_sql(expr: str) -> str:
    """SQL aggregating `expr` into a JSON array (of a subquery already in the wanted order)."""
    return f"json_agg({expr})" if connection.vendor == "postgresql" else f"json_group_array({expr})"


def json_value_sql(column: str) -> str:
    """A column holding JSON (from json_array_sql through a subquery), to nest in json_object_sql."""
    return column if connection.vendor == "postgresql" else f"json({column})"


def text_param_sql() -> str:
    """A %s placeholder typed as text, which PostgreSQL needs inside JSON builders."""
    return "CAST(%s AS TEXT)"
