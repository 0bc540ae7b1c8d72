"""Querysets compiled to SQL once per process, then run with new values: for the hot read path.

Building and compiling a queryset costs several times what the database takes to run a small
indexed read, and the read path runs the same few shapes of query on every request. A `Prepared`
query is written as an ordinary queryset (so the rules it uses, such as
`Message.objects.visible_to`, stay in one place); the ORM compiles it once with placeholder values,
and each run binds the real values to that SQL and converts the rows with the ORM's own converters.
"""

from __future__ import annotations

import datetime as dt
from collections import OrderedDict
from collections.abc import Callable
from threading import Lock

from django.conf import settings
from django.db import connections
from django.db.models import Model, QuerySet
from django.db.models.sql import InsertQuery
from django.utils.dateparse import parse_datetime

# Placeholders no real value takes: ids are positive, days are recent.
_INT_BASE = -(2**62)
_DAY_BASE = dt.datetime(1001, 1, 1, tzinfo=dt.UTC)
_TEXT_BASE = "\x00prepared-placeholder-"
_CACHE_SIZE = 64


class Prepared:
    """`Prepared(build, ids=(...), times=(...))`: `build(*key, **placeholders)` returns a values or
    values_list queryset; `rows(key, **values)` runs it with `values` in place of the placeholders.

    Each name in `ids` reaches `build` as a placeholder int (the ORM takes an int wherever it takes
    a model instance), each in `times` as a placeholder aware datetime, each in `texts` as a
    placeholder string; `rows` takes ints or model instances, datetimes, and strings. `key` holds
    whatever else shapes the SQL (which filters, a slice):
    one compiled query is kept per key, a few dozen at most. `build` must use each placeholder as a
    plain value (never compare or order them: the real values are bound later), and a name the
    key's shape does not use is simply not bound.
    """

    def __init__(
        self,
        build: Callable[..., QuerySet],
        *,
        ids: tuple[str, ...] = (),
        times: tuple[str, ...] = (),
        texts: tuple[str, ...] = (),
    ):
        self.build = build
        self.ids, self.times, self.texts = ids, times, texts
        self._compiled: OrderedDict[tuple, tuple] = OrderedDict()
        self._lock = Lock()

    def rows(self, key: tuple = (), *, using: str = "default", **values) -> list[tuple]:
        connection = connections[using]
        compiled = self._compiled_for((using, *key), connection)
        sql, params, slots, converters = compiled
        bound = list(params)
        for index, name, adapt in slots:
            value = values[name]
            bound[index] = adapt(getattr(value, "pk", value))  # a model instance binds its pk
        with connection.cursor() as cursor:
            cursor.execute(sql, bound)
            rows = cursor.fetchall()
        if converters:
            rows = [_converted(row, converters, connection) for row in rows]
        return rows

    def _compiled_for(self, key: tuple, connection) -> tuple:
        with self._lock:
            compiled = self._compiled.get(key)
            if compiled is not None:
                self._compiled.move_to_end(key)
                return compiled
        compiled = self._compile(key[1:], connection)
        with self._lock:
            self._compiled[key] = compiled
            while len(self._compiled) > _CACHE_SIZE:
                self._compiled.popitem(last=False)
        return compiled

    def _compile(self, key: tuple, connection) -> tuple:
        placeholders: dict[str, object] = {}
        adapters: dict[str, tuple[object, Callable]] = {}
        counter = 0
        for name in self.ids:
            counter += 1
            value = _INT_BASE - counter
            placeholders[name] = value
            adapters[name] = (value, int)
        for name in self.times:
            counter += 1
            value = _DAY_BASE + dt.timedelta(days=counter)
            placeholders[name] = value
            adapt = connection.ops.adapt_datetimefield_value
            adapters[name] = (adapt(value), adapt)
        for name in self.texts:
            counter += 1
            value = f"{_TEXT_BASE}{counter}"
            placeholders[name] = value
            adapters[name] = (value, str)
        names = (*self.ids, *self.times, *self.texts)
        queryset = self.build(*key, **{name: placeholders[name] for name in names})
        compiler = queryset.query.get_compiler(connection=connection)
        sql, params = compiler.as_sql()
        slots = []
        for index, param in enumerate(params):
            for name, (compiled_value, adapt) in adapters.items():
                if param == compiled_value:
                    slots.append((index, name, adapt))
        fields = [column for column, _, _ in compiler.select[: compiler.col_count]]
        return sql, tuple(params), tuple(slots), _row_converters(compiler, fields, connection)


class PreparedInsert:
    """`PreparedInsert(Model).save(obj)`: what `obj.save()` does for a new row, with its INSERT
    compiled once per database: the same columns and the same preparation of each value
    (`pre_save`, `get_db_prep_save`), and what the database computes (the id, generated columns)
    read back onto `obj` by the same INSERT ... RETURNING. No pre_save or post_save signal is
    sent: for models nothing listens to.
    """

    def __init__(self, model: type[Model]):
        meta = model._meta
        self.model = model
        self.fields = [f for f in meta.local_concrete_fields if not f.generated and f is not meta.auto_field]
        self.returning = meta.db_returning_fields
        self._compiled: dict[str, tuple] = {}

    def save(self, obj: Model, *, using: str = "default") -> None:
        connection = connections[using]
        if not connection.features.can_return_columns_from_insert:
            obj.save(using=using, force_insert=True)
            return
        compiled = self._compiled.get(using)
        if compiled is None:  # two threads compiling at once compile the same thing
            compiled = self._compiled[using] = self._compile(obj, connection)
        sql, converters = compiled
        params = [field.get_db_prep_save(field.pre_save(obj, True), connection) for field in self.fields]
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            row = cursor.fetchone()
        if converters:
            row = _converted(row, converters, connection)
        for field, value in zip(self.returning, row, strict=True):
            setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = using

    def _compile(self, obj: Model, connection) -> tuple:
        query = InsertQuery(self.model)
        query.insert_values(self.fields, [obj])
        compiler = query.get_compiler(connection=connection)
        compiler.returning_fields = self.returning
        [(sql, _)] = compiler.as_sql()
        columns = [field.get_col(self.model._meta.db_table) for field in self.returning]
        return sql, _row_converters(compiler, columns, connection)


def _row_converters(compiler, columns: list, connection) -> tuple:
    """The ORM's converters for these columns of a row, as (position, function, expression)."""
    return tuple(
        (position, convert, expression)
        for position, (functions, expression) in compiler.get_converters(columns).items()
        for convert in _quicker(functions, connection)
    )


def _converted(row: tuple, converters: tuple, connection) -> tuple:
    """What the ORM's `apply_converters` does to one row."""
    values = list(row)
    for position, convert, expression in converters:
        values[position] = convert(values[position], expression, connection)
    return tuple(values)


def _quicker(functions: list, connection) -> list:
    """The ORM's converters, with SQLite's datetime converter (twenty rows of three times each
    on every page) replaced by the two steps it takes there: the driver already parses the text
    (Django registers that), and a naive time from the database is in the connection's zone."""
    if connection.vendor != "sqlite" or not settings.USE_TZ:
        return functions
    zone = connection.timezone

    def aware(value, expression, connection):
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            value = parse_datetime(value)
        return value if value.tzinfo is not None else value.replace(tzinfo=zone)

    return [
        aware if getattr(function, "__name__", "") == "convert_datetimefield_value" else function
        for function in functions
    ]
