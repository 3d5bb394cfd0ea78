"""Project-level settings DragonRec reads outside `RECOMMENDER`, with their defaults.

Applied when an app config module is imported (before any model is), so a host that uses DragonRec's own product
model needs no setting at all, the way `AUTH_USER_MODEL` defaults to `auth.User`.
"""

from __future__ import annotations

from django.conf import settings

DEFAULTS = {
    # The product model recommendations are about (swappable, like AUTH_USER_MODEL).
    "DRAGONREC_PRODUCT_MODEL": "dragonrec_catalog.Product",
}


def apply() -> None:
    for name, value in DEFAULTS.items():
        if not hasattr(settings, name):
            setattr(settings, name, value)
