"""SQLite with django-prometheus's query metrics, as its own backend counts them, but with the
counting cursor class built once per connection: the library builds a new class for every query,
which on SQLite (a cursor per query) cost more than a short query itself."""

from django.utils.functional import cached_property
from django_prometheus.db.backends.sqlite3 import base
from django_prometheus.db.common import ExportingCursorWrapper


class DatabaseWrapper(base.DatabaseWrapper):
    @cached_property
    def _counting_cursor_class(self):
        return ExportingCursorWrapper(self.CURSOR_CLASS, self.alias, self.vendor)

    def create_cursor(self, name=None):
        return self.connection.cursor(factory=self._counting_cursor_class)
