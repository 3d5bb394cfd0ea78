"""Local development and `make demo`: embedded services, DEBUG from env (off by default so the demo behaves
like production)."""

from config.settings.base import *  # noqa: F403
