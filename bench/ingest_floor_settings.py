"""Settings of bench/ingest.py's gunicorn (`--single`): the project's own (config.settings.dev, which the bench runs
under), with the floor views of bench/ingest_floor_urls.py in front of its URLs. Nothing else differs, so the single
events and the floors are served by the same processes, middleware and settings."""

from __future__ import annotations

from config.settings.dev import *  # noqa: F403

ROOT_URLCONF = "ingest_floor_urls"
