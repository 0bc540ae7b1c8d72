"""Pagination styles beyond the default page numbers."""

from datetime import UTC

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from rest_framework.exceptions import NotFound
from rest_framework.pagination import CursorPagination


class NewestFirstCursorPagination(CursorPagination):
    """Opaque cursors over a newest-first list: each page costs the same at any depth."""

    ordering = ("-created", "-id")
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100

    def decode_cursor(self, request):
        # DRF checks the cursor's encoding but not the position inside it; a forged position
        # that is not a timestamp must be a bad cursor, not a database error.
        cursor = super().decode_cursor(request)
        if cursor is not None and cursor.position is not None and not _is_storable_time(cursor.position):
            raise NotFound(self.invalid_cursor_message)
        return cursor


def _is_storable_time(text: str) -> bool:
    """A timestamp the database can compare with: parseable, and still within years 1 to 9999 once
    converted to UTC (9999-12-31T23:59:59-01:00 is not, and makes the database fail)."""
    try:
        moment = parse_datetime(text)
        if moment is None:
            return False
        if timezone.is_naive(moment):
            moment = timezone.make_aware(moment)
        moment.astimezone(UTC)
    except (ValueError, OverflowError):
        return False
    return True
