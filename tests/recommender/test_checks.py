"""System checks tell a host project what is missing, with the fix in the message."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.test import override_settings

from dragonrec.recommender import checks


def ids(problems: list) -> list[str]:
    return [p.id for p in problems]


def test_the_project_settings_pass_every_check() -> None:
    call_command("check")


@pytest.mark.django_db
def test_the_database_check_finds_pgvector() -> None:
    assert checks.vector_extension_check(None, databases=["default"]) == []


@override_settings(RECOMMENDER={"PRODUCT_ADAPTER": "shop.nowhere.Adapter"})
def test_an_unimportable_adapter_is_an_error_with_the_fix() -> None:
    problems = [p for p in checks.recommender_settings_check(None) if p.id == "dragonrec.E003"]
    assert len(problems) == 1
    assert "shop.nowhere.Adapter" in problems[0].msg
    assert "docs/extending.md" in problems[0].hint


@override_settings(RECOMMENDER={"PRODUCT_SERIALIZER": "shop.api.Missing", "CANDIDATE_SOURCES": ["x.y.Z"]})
def test_an_unimportable_serializer_or_source_is_an_error() -> None:
    assert ids(checks.recommender_settings_check(None)).count("dragonrec.E003") == 2


@override_settings(
    RECOMMENDER={"RETENTION": {"EVENTS_DAYS": 90, "batch_size": 500}, "ONLINE_UPDATE": {"replay_shares": 0.2}}
)
def test_a_misspelt_option_key_is_a_warning_naming_the_fix() -> None:
    problems = [p for p in checks.recommender_settings_check(None) if p.id == "dragonrec.W002"]
    assert [p.msg for p in problems] == [
        "unknown key 'replay_shares' in RECOMMENDER['ONLINE_UPDATE']: it is ignored",
        "unknown key 'EVENTS_DAYS' in RECOMMENDER['RETENTION']: it is ignored",
    ]
    assert "replay_share" in problems[0].hint and "'events_days'" in problems[1].hint


@override_settings(RECOMMENDER={"EXPLORATION": {"home": {"enabled": True, "temprature": 0.1}}})
def test_an_unknown_exploration_key_is_an_error() -> None:
    assert ids(checks.recommender_settings_check(None)) == ["dragonrec.E011"]


@override_settings(RECOMMENDER={"PRODUCT_ADAPTER": "shop.nowhere.Adapter"})
def test_manage_py_check_fails_on_it() -> None:
    with pytest.raises(SystemCheckError, match="E003"):
        call_command("check")


@override_settings(DRAGONREC_PRODUCT_MODEL="shop.Product")
def test_a_product_model_that_is_not_installed_is_an_error() -> None:
    problems = checks.product_model_check(None)
    assert ids(problems) == ["dragonrec.E004"]
    assert "dragonrec_catalog.Product" in problems[0].hint


@override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}})
def test_a_cache_that_is_not_redis_is_an_error_naming_the_backend() -> None:
    problems = checks.cache_check(None)
    assert ids(problems) == ["dragonrec.E006"]
    assert "LocMemCache" in problems[0].msg and "django_redis.cache.RedisCache" in problems[0].hint


@override_settings(RECOMMENDER={"TEACHER_BASE_URL": "http://127.0.0.1:9/v1"})
def test_a_configured_teacher_needs_the_openai_package(monkeypatch: pytest.MonkeyPatch) -> None:
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "openai" else real(name, *a))
    problems = [p for p in checks.recommender_settings_check(None) if p.id == "dragonrec.E005"]
    assert problems and "dragonrec[teacher]" in problems[0].hint


def test_the_bundled_embedder_fits_the_vector_column() -> None:
    from dragonrec.recommender.models import ProductEmbedding
    from dragonrec.recommender.services.embeddings import embedder_get

    assert embedder_get().dim == ProductEmbedding._meta.get_field("vector").dimensions
    assert checks.embedding_dimension_check(None) == []


def small_model(path: Path, words: list[str]) -> str:
    """A real sentence-transformers model on disk whose vectors have len(words) dimensions (a bag of words)."""
    from sentence_transformers import SentenceTransformer, models

    SentenceTransformer(modules=[models.BoW(vocab=words)], device="cpu").save(str(path))
    return str(path)


def test_an_embedder_of_another_dimension_is_an_error_with_the_fix(tmp_path: Path) -> None:
    with override_settings(RECOMMENDER={"EMBEDDING_MODEL": small_model(tmp_path / "bow", ["shoe", "kettle"])}):
        problems = checks.embedding_dimension_check(None)
        assert ids(problems) == ["dragonrec.E010"]
        assert "2-dimensional" in problems[0].msg and "holds 384" in problems[0].msg
        assert "recommender_embed --force" in problems[0].hint
        with pytest.raises(SystemCheckError, match="E010"):
            call_command("check")


@override_settings(RECOMMENDER={"EMBEDDING_MODEL": "/nowhere/my-model"})
def test_an_embedder_that_cannot_load_is_an_error() -> None:
    problems = checks.embedding_dimension_check(None)
    assert ids(problems) == ["dragonrec.E009"]
    assert "/nowhere/my-model" in problems[0].msg
