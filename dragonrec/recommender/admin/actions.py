"""An admin action's service call: its refusal shown to the owner as a message instead of a 500, its success
logged and told."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.http import HttpRequest

REFUSED = object()  # what action_call answers when the service refused: the message has been shown


def action_call(
    modeladmin: admin.ModelAdmin[Any], request: HttpRequest, call: Callable[[], Any], *, level: int = messages.ERROR
) -> Any:
    """`call()`'s result, or REFUSED when it raised a ValueError (ExperimentError is one; a version without an
    artifact is another): its text becomes a message at `level`."""
    try:
        return call()
    except ValueError as exc:
        modeladmin.message_user(request, str(exc), level)
        return REFUSED


def action_done(
    modeladmin: admin.ModelAdmin[Any],
    request: HttpRequest,
    obj: Any,
    log: str,
    message: str,
    level: int = messages.SUCCESS,
) -> None:
    """An action's success: in the object's admin history, and told to the owner."""
    modeladmin.log_change(request, obj, log)
    modeladmin.message_user(request, message, level)
