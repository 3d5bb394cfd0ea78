"""Signal receivers: each is one call into a service."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in
from django.dispatch import receiver

from dragonrec.tracking.identity import cookie_session_id
from dragonrec.tracking.services import session_merge_into_user


@receiver(user_logged_in, dispatch_uid="dragonrec.tracking.merge_session_on_login")
def merge_session_on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    # Only the signed shopper cookie of the browser that signs in: a header or an unsigned cookie could name
    # anyone's session and hand their history to this account.
    if request is not None:
        session_merge_into_user(session_id=cookie_session_id(request, create=False), user=user)
