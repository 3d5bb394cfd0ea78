"""System checks: misconfigurations a shop developer should hear about at `manage.py check`, not in production."""

from __future__ import annotations

from typing import Any

from django.core.checks import Error, Warning, register


@register()
def recommender_settings_check(app_configs: Any, **kwargs: Any) -> list[Any]:
    from django.conf import settings

    from dragonrec.recommender.conf import DEFAULTS, recommender_settings

    problems: list[Any] = []
    unknown = set(getattr(settings, "RECOMMENDER", {})) - set(DEFAULTS)
    for key in sorted(unknown):
        problems.append(Warning(f"unknown RECOMMENDER setting {key!r}", id="dragonrec.W001"))
    if recommender_settings.TEACHER_BASE_URL and not str(recommender_settings.TEACHER_BASE_URL).startswith("http"):
        problems.append(Error("RECOMMENDER['TEACHER_BASE_URL'] must be an http(s) URL", id="dragonrec.E001"))
    if recommender_settings.TEACHER_API_KEY and not recommender_settings.TEACHER_MODEL:
        problems.append(Error("the LLM teacher has a key but no TEACHER_MODEL", id="dragonrec.E002"))
    return problems
