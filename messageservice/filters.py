"""Query-string filters of the message lists.

These FilterSets turn the query string into typed values (a User, a date, a boolean) with one error
shape, and document it in the schema; the selectors do the filtering itself.
"""

from __future__ import annotations

import functools
import re

import django_filters
from django import forms
from django_filters.utils import translate_validation
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

from accounts.models import USERNAME_MAX_LENGTH
from accounts.selectors import UNKNOWN_USER, user_get_by_username
from messageservice.models import Message


class UsernameField(forms.CharField):
    """A username in the query string, cleaned to the user it names."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_length", USERNAME_MAX_LENGTH)
        super().__init__(**kwargs)

    def clean(self, value):
        value = super().clean(value)
        if not value:
            return None
        user = user_get_by_username(username=value, include_inactive=True)
        if user is None:
            raise forms.ValidationError(UNKNOWN_USER, code="unknown_user")
        return user


class DayField(forms.DateField):
    """A calendar day written exactly as YYYY-MM-DD."""

    default_error_messages = {"invalid": "Enter a real calendar day as YYYY-MM-DD."}
    input_formats = ["%Y-%m-%d"]

    def to_python(self, value):
        if value and not re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(value).strip()):
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return super().to_python(value)


class StrictBooleanField(forms.Field):
    """`true`/`false` (or 1/0); anything else is an error rather than silently ignored."""

    default_error_messages = {"invalid": "Must be true or false."}
    _values = {"true": True, "1": True, "false": False, "0": False}

    def to_python(self, value):
        if value in (None, ""):
            return None
        try:
            return self._values[str(value).lower()]
        except KeyError:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None


@extend_schema_field(OpenApiTypes.STR)
class UserFilter(django_filters.Filter):
    field_class = UsernameField


@extend_schema_field(OpenApiTypes.DATE)
class DayFilter(django_filters.Filter):
    field_class = DayField

    def __init__(self, **kwargs):
        kwargs.setdefault("help_text", "Calendar day (YYYY-MM-DD) in the server's time zone.")
        super().__init__(**kwargs)


@extend_schema_field(OpenApiTypes.BOOL)
class BooleanFilter(django_filters.Filter):
    field_class = StrictBooleanField


class MessageFilter(django_filters.FilterSet):
    peer = UserFilter(help_text="Only messages exchanged with this user.")
    date = DayFilter()

    class Meta:
        model = Message
        fields = ("peer", "date")


class SentMessageFilter(django_filters.FilterSet):
    receiver = UserFilter(help_text="Only messages sent to this user.")
    date = DayFilter()

    class Meta:
        model = Message
        fields = ("receiver", "date")


class ReceivedMessageFilter(django_filters.FilterSet):
    sender = UserFilter(help_text="Only messages from this user.")
    date = DayFilter()
    unread = BooleanFilter(help_text="true: only unread messages; false: only read ones.")

    class Meta:
        model = Message
        fields = ("sender", "date", "unread")


@functools.cache
def _form_class(filterset_class: type[django_filters.FilterSet]) -> type[forms.Form]:
    # The FilterSet's own form, built once: a FilterSet deep-copies its filters and builds a new
    # form class on every instance, which costs more than the query it would filter.
    return filterset_class().form.__class__


def query_of(filterset_class: type[django_filters.FilterSet], data) -> dict:
    """The FilterSet's values by name from `data` (None where not given); invalid input is a 400
    with the same errors django-filter's backend gives."""
    if not data:  # the common case: nothing to validate
        return dict.fromkeys(filterset_class.base_filters)
    form = _form_class(filterset_class)(data=data)
    if not form.is_valid():
        raise translate_validation(form.errors)
    return form.cleaned_data
