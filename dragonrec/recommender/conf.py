"""RECOMMENDER settings, read like DRF's `api_settings`: one dict in the host project's settings, defaults in
core/defaults.py,
import strings for pluggable classes, lazy access, reloaded on `setting_changed` so tests can override it.

    from dragonrec.recommender.conf import recommender_settings
    recommender_settings.DIVERSITY
    recommender_settings.pipeline_settings()   # the pipeline keys as a dict, for core.pipeline_config_from_settings

Every key is documented in docs/configuration.md; keep the two in step.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.signals import setting_changed
from django.utils.module_loading import import_string

# Every key's default is written once, in the Django-free core (its dataclasses read the same module).
from dragonrec.recommender.core.defaults import DEFAULTS as DEFAULTS
from dragonrec.recommender.core.defaults import PIPELINE_DEFAULTS

IMPORT_STRINGS = {"PRODUCT_ADAPTER", "PRODUCT_SERIALIZER", "CANDIDATE_SOURCES"}


class RecommenderSettings:
    def __init__(self, user_settings: dict[str, Any] | None = None) -> None:
        self._user = user_settings
        self._cached: set[str] = set()

    @property
    def user_settings(self) -> dict[str, Any]:
        if self._user is None:
            self._user = dict(getattr(settings, "RECOMMENDER", {}))
        return self._user

    def __getattr__(self, attr: str) -> Any:
        if attr not in DEFAULTS:
            raise AttributeError(f"invalid RECOMMENDER setting: {attr!r}")
        value = self.user_settings.get(attr, DEFAULTS[attr])
        if attr in IMPORT_STRINGS:
            value = [import_string(v) for v in value] if isinstance(value, list) else import_string(value)
        self._cached.add(attr)
        setattr(self, attr, value)
        return value

    def reload(self) -> None:
        for attr in self._cached:
            delattr(self, attr)
        self._cached.clear()
        self._user = None

    def pipeline_settings(self) -> dict[str, Any]:
        """The pipeline keys as given (import strings unresolved), for core.pipeline.pipeline_config_from_settings
        and build_pipeline: the same function the evaluation harness's `served` ranker calls with the defaults."""
        return {key: self.user_settings.get(key, default) for key, default in PIPELINE_DEFAULTS.items()}

    @property
    def teacher_enabled(self) -> bool:
        return bool(self.TEACHER_API_KEY or self.TEACHER_BASE_URL)


recommender_settings = RecommenderSettings()


def _reload(*, setting: str, **kwargs: Any) -> None:
    if setting == "RECOMMENDER":
        recommender_settings.reload()


setting_changed.connect(_reload)
