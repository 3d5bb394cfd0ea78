"""Signal receivers: each is one call into a service."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from dragonrec.tracking.services import session_merge_into_user

SESSION_HEADER = "X-Session-Id"  # the storefront's own session id, the one it sends with events
SESSION_COOKIE = "dragonrec_session"


@receiver(user_logged_in, dispatch_uid="dragonrec.tracking.merge_session_on_login")
def merge_session_on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is None:
        return
    session_id = request.headers.get(SESSION_HEADER) or request.COOKIES.get(SESSION_COOKIE) or ""
    session_merge_into_user(session_id=session_id, user=user)
