"""Every default is written once: the dataclasses that mirror a RECOMMENDER setting start from the same values as
the settings (core/defaults.py, served through recommender/conf.py). A library caller who builds `OnlineUpdate()`
and a shop running the defaults must get the same update; before this test the exploration pool was 8 in the core
and 10 in the settings, and the online update's time budget 60 s and 30 s.

The walk is by field name, so a new field named like a settings key is compared without touching this file."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any

import pytest

from dragonrec.recommender.conf import DEFAULTS, recommender_settings
from dragonrec.recommender.core import defaults as core_defaults
from dragonrec.recommender.core.aggregates import DEFAULT_EVENT_WEIGHTS, AggregateConfig
from dragonrec.recommender.core.exploration import ExplorationConfig
from dragonrec.recommender.core.pipeline import PipelineConfig, pipeline_config_from_settings
from dragonrec.recommender.core.rerank import RerankConfig
from dragonrec.recommender.ml.ann import RetrievalConfig
from dragonrec.recommender.ml.model import StudentConfig
from dragonrec.recommender.ml.online import OnlineUpdate
from dragonrec.recommender.teacher.config import TeacherConfig

# (dataclass, the settings it mirrors, field name -> settings key where the two names differ; None: a field built from
# the setting, compared whole by test_the_default_pipeline_is_the_served_pipeline)
MIRRORS: list[tuple[type, Callable[[], Mapping[str, Any]], dict[str, str | None]]] = [
    (ExplorationConfig, lambda: DEFAULTS["EXPLORATION"]["home"], {}),
    (OnlineUpdate, lambda: DEFAULTS["ONLINE_UPDATE"], {}),
    (RetrievalConfig, lambda: DEFAULTS["STUDENT_ANN"], {}),
    (StudentConfig, lambda: DEFAULTS["STUDENT_TRAINING"], {"n_negatives": "negatives"}),
    (
        RerankConfig,
        lambda: DEFAULTS,
        {"keep_top": "DIVERSITY_KEEP_TOP", "threshold": "DIVERSITY_THRESHOLD"},
    ),
    (PipelineConfig, lambda: DEFAULTS, {"sources": "SCENARIO_SOURCES", "scenario_rerank": None}),
    (TeacherConfig, lambda: _teacher(), {"max_candidates": "CANDIDATES"}),
    (
        AggregateConfig,
        lambda: {
            "half_life_s": DEFAULTS["TRENDING_HALF_LIFE_HOURS"] * 3600.0,
            "event_weights": DEFAULTS["EVENT_WEIGHTS"],
            "min_count": DEFAULTS["COMPLEMENTS_MIN_COUNT"],
        },
        {},
    ),
]


def _teacher() -> dict[str, Any]:
    return {k.removeprefix("TEACHER_"): v for k, v in DEFAULTS.items()}


def _default(f: dataclasses.Field[Any]) -> Any:
    if f.default is not dataclasses.MISSING:
        return f.default
    if f.default_factory is not dataclasses.MISSING:
        return f.default_factory()
    return dataclasses.MISSING


def _plain(value: Any) -> Any:
    """Tuples and lists, mappings and dicts compare alike (the settings are JSON-shaped)."""
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _keys(name: str, renamed: Mapping[str, str | None]) -> tuple[str, ...]:
    key = renamed.get(name, name)
    return () if key is None else (key, key.upper())


def disagreements(cls: type, setting: Mapping[str, Any], renamed: Mapping[str, str | None]) -> list[str]:
    """Fields whose default differs from the setting of the same name (upper-case names match too)."""
    found = []
    for f in dataclasses.fields(cls):
        for candidate in _keys(f.name, renamed):
            if candidate in setting:
                if _plain(_default(f)) != _plain(setting[candidate]):
                    found.append(f"{cls.__name__}.{f.name} = {_default(f)!r} but {candidate} = {setting[candidate]!r}")
                break
    return found


def compared(cls: type, setting: Mapping[str, Any], renamed: Mapping[str, str | None]) -> set[str]:
    return {f.name for f in dataclasses.fields(cls) if any(k in setting for k in _keys(f.name, renamed))}


@pytest.mark.parametrize(("cls", "setting", "renamed"), MIRRORS, ids=[m[0].__name__ for m in MIRRORS])
def test_a_dataclass_default_is_the_settings_default(
    cls: type, setting: Callable[[], Mapping[str, Any]], renamed: dict[str, str | None]
) -> None:
    # given the dataclass's field defaults and the RECOMMENDER defaults
    # then every field that mirrors a setting starts from the same value
    problems = disagreements(cls, setting(), renamed)
    assert not problems, "defaults written twice, differently:\n" + "\n".join(problems)


def test_the_walk_compares_what_it_should() -> None:
    # the settings each dataclass mirrors are all reached (a rename that hid a field would pass silently)
    assert compared(RerankConfig, DEFAULTS, MIRRORS[4][2]) == {
        "diversity",
        "keep_top",
        "threshold",
        "category_cap",
        "category_bonus",
    }
    assert compared(ExplorationConfig, DEFAULTS["EXPLORATION"]["home"], {}) == {
        "enabled",
        "deterministic_slots",
        "pool",
        "temperature",
    }
    assert {"form", "steps", "lr", "clip", "replay_share", "time_budget_s"} <= compared(
        OnlineUpdate, DEFAULTS["ONLINE_UPDATE"], {}
    )
    assert {"preference_bonus", "content_blend", "substitute_window_days", "sources", "source_bonus"} <= compared(
        PipelineConfig, DEFAULTS, {"sources": "SCENARIO_SOURCES"}
    )
    assert {"timeout_s", "cache_ttl_s", "max_candidates"} <= compared(
        TeacherConfig, _teacher(), {"max_candidates": "CANDIDATES"}
    )

    # and a disagreement is reported
    @dataclasses.dataclass
    class Drifted:
        pool: int = 8

    assert disagreements(Drifted, {"pool": 10}, {}) == ["Drifted.pool = 8 but pool = 10"]


def test_the_default_pipeline_is_the_served_pipeline() -> None:
    # the library's PipelineConfig() and the one the default settings build are the same object, re-rank included
    assert PipelineConfig() == pipeline_config_from_settings(DEFAULTS)
    assert PipelineConfig().rerank == RerankConfig.from_settings(DEFAULTS)


def test_every_exploring_scenario_shares_the_core_defaults() -> None:
    for scenario, options in DEFAULTS["EXPLORATION"].items():
        assert {k: v for k, v in options.items() if k != "enabled"} == {
            k: v for k, v in ExplorationConfig().as_dict().items() if k != "enabled"
        }, scenario


def test_settings_serve_the_core_defaults() -> None:
    # conf.py serves the one dict (not a copy that could be edited apart)
    assert DEFAULTS is core_defaults.DEFAULTS
    assert recommender_settings.ONLINE_UPDATE["time_budget_s"] == OnlineUpdate().time_budget_s == 30.0
    assert dict(DEFAULT_EVENT_WEIGHTS) == DEFAULTS["EVENT_WEIGHTS"]
