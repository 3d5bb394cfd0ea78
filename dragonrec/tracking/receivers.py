"""Signal receivers: each is one call into a service."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.dispatch import receiver

from dragonrec.tracking.services import shopper_sign_in, shopper_sign_out


@receiver(user_logged_in, dispatch_uid="dragonrec.tracking.merge_session_on_login")
def merge_session_on_login(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    # Every sign-in through Django's `login` (the storefront's /api/auth/login/, /admin/login/, a host's own view)
    if request is not None:
        shopper_sign_in(request=request, user=user)


@receiver(user_logged_out, dispatch_uid="dragonrec.tracking.rotate_shopper_on_logout")
def rotate_shopper_on_logout(sender: Any, request: Any, user: Any, **kwargs: Any) -> None:
    if request is not None:
        shopper_sign_out(request=request)


def preferences_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    # post_save / post_delete of UserPreference (connected in apps.ready): the shopper's cached state is stale
    from dragonrec.tracking.state import preference_state_changed

    preference_state_changed(sender, instance)


def api_keys_changed(sender: Any, instance: Any, **kwargs: Any) -> None:
    # post_save / post_delete of ApiKey (a revocation, new scopes): every process's cached keys are stale
    from dragonrec.tracking.authentication import api_keys_changed as changed

    changed()


def event_saved(sender: Any, instance: Any, **kwargs: Any) -> None:
    # post_save of one Event: its shoppers' cached state is stale
    from dragonrec.tracking.state import events_state_changed

    events_state_changed([instance])
