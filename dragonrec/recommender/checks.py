"""System checks: misconfigurations a shop developer should hear about at `manage.py check`, not in production.
Every message names the fix."""

from __future__ import annotations

import importlib.util
from dataclasses import fields
from typing import Any

from django.core.checks import Error, Tags, Warning, register

REDIS_CACHE_BACKEND = "django_redis.cache.RedisCache"


@register()
def recommender_settings_check(app_configs: Any, **kwargs: Any) -> list[Any]:
    from django.conf import settings

    from dragonrec.recommender.conf import DEFAULTS, IMPORT_STRINGS, recommender_settings

    problems: list[Any] = []
    unknown = set(getattr(settings, "RECOMMENDER", {})) - set(DEFAULTS)
    for key in sorted(unknown):
        problems.append(Warning(f"unknown RECOMMENDER setting {key!r}", id="dragonrec.W001"))
    problems.extend(_option_key_problems(getattr(settings, "RECOMMENDER", {}), DEFAULTS))
    if recommender_settings.TEACHER_BASE_URL and not str(recommender_settings.TEACHER_BASE_URL).startswith("http"):
        problems.append(Error("RECOMMENDER['TEACHER_BASE_URL'] must be an http(s) URL", id="dragonrec.E001"))
    if recommender_settings.TEACHER_API_KEY and not recommender_settings.TEACHER_MODEL:
        problems.append(Error("the LLM teacher has a key but no TEACHER_MODEL", id="dragonrec.E002"))
    for key in sorted(IMPORT_STRINGS):
        problems.extend(_import_string_problems(key, recommender_settings.user_settings.get(key, DEFAULTS[key])))
    if recommender_settings.teacher_enabled and importlib.util.find_spec("openai") is None:
        problems.append(
            Error(
                "the LLM teacher is configured (TEACHER_API_KEY or TEACHER_BASE_URL) but the openai package is missing",
                hint="pip install 'dragonrec[teacher]', or clear TEACHER_API_KEY and TEACHER_BASE_URL",
                id="dragonrec.E005",
            )
        )
    return problems


# settings whose value is a dict of options with a fixed set of (lower-case) keys; a host may give only some
OPTION_DICTS = ("ONLINE_UPDATE", "GUARDRAIL", "RETENTION", "SEARCH")


def _option_key_problems(user: dict[str, Any], defaults: dict[str, Any]) -> list[Any]:
    """A misspelt option key would silently leave its default in force: W002 names it and the known keys. In
    EXPLORATION an unknown key is an error (E011): the exploration step refuses it when it serves."""
    from dragonrec.recommender.core.exploration import ExplorationConfig

    exploration_keys = {f.name for f in fields(ExplorationConfig)}
    problems: list[Any] = []
    for name in OPTION_DICTS:
        given = user.get(name)
        if not isinstance(given, dict):
            continue
        known = set(defaults[name])
        for key in sorted(set(given) - known):
            lower = str(key).lower()
            problems.append(
                Warning(
                    f"unknown key {key!r} in RECOMMENDER[{name!r}]: it is ignored",
                    hint=f"did you mean {lower!r}? Option keys are lower case"
                    if lower in known
                    else f"known keys: {', '.join(sorted(known))} (docs/configuration.md)",
                    id="dragonrec.W002",
                )
            )
    for scenario, options in (user.get("EXPLORATION") or {}).items():
        for key in sorted(set(options or {}) - exploration_keys):
            problems.append(
                Error(
                    f"unknown key {key!r} in RECOMMENDER['EXPLORATION'][{scenario!r}]",
                    hint=f"known keys: {', '.join(sorted(exploration_keys))} (docs/configuration.md)",
                    id="dragonrec.E011",
                )
            )
    return problems


def _import_string_problems(key: str, value: Any) -> list[Error]:
    from django.utils.module_loading import import_string

    problems = []
    for path in value if isinstance(value, list | tuple) else [value]:
        try:
            import_string(path)
        except ImportError as exc:
            problems.append(
                Error(
                    f"RECOMMENDER[{key!r}] = {path!r} cannot be imported: {exc}",
                    hint="Give a dotted path to a class that exists, e.g. 'shop.recommend.ProductAdapter' "
                    "(see docs/extending.md)",
                    id="dragonrec.E003",
                )
            )
    return problems


@register()
def product_model_check(app_configs: Any, **kwargs: Any) -> list[Any]:
    from django.apps import apps
    from django.conf import settings

    label = settings.DRAGONREC_PRODUCT_MODEL
    try:
        apps.get_model(label, require_ready=False)
    except (LookupError, ValueError) as exc:
        return [
            Error(
                f"DRAGONREC_PRODUCT_MODEL = {label!r} is not an installed model: {exc}",
                hint="Set it to 'app_label.ModelName' of your product model, or add 'dragonrec.catalog' to "
                "INSTALLED_APPS to use DragonRec's own ('dragonrec_catalog.Product')",
                id="dragonrec.E004",
            )
        ]
    return []


@register()
def embedding_dimension_check(app_configs: Any, **kwargs: Any) -> list[Any]:
    """The configured embedder's vectors must fit the pgvector column: otherwise every embedding write and every
    similarity search fails, in a Celery job or a request, long after deployment."""
    from dragonrec.recommender.conf import recommender_settings
    from dragonrec.recommender.models import EMBEDDING_DIM
    from dragonrec.recommender.services.embeddings import embedder_get

    model = recommender_settings.EMBEDDING_MODEL
    if model is None:
        return []  # the bundled all-MiniLM-L6-v2, which the column is made for (tests/recommender/test_checks.py)
    column = EMBEDDING_DIM  # ProductEmbedding.vector's dimensions
    try:
        dim = embedder_get().dim  # loads the model once per process (~1 s); serving reuses it
    except Exception as exc:
        return [
            Error(
                f"RECOMMENDER['EMBEDDING_MODEL'] = {model!r} cannot be loaded: {exc}",
                hint="Give the path of a local sentence-transformers model (nothing is downloaded at run time), or "
                "None for the bundled all-MiniLM-L6-v2",
                id="dragonrec.E009",
            )
        ]
    if dim != column:
        return [
            Error(
                f"RECOMMENDER['EMBEDDING_MODEL'] = {model!r} makes {dim}-dimensional vectors, but the pgvector "
                f"column ProductEmbedding.vector holds {column}",
                hint=f"Use a model with {column} dimensions, or set EMBEDDING_DIM in dragonrec/recommender/models.py "
                "to the model's, make a migration and re-embed (manage.py recommender_embed --force)",
                id="dragonrec.E010",
            )
        ]
    return []


@register()
def cache_check(app_configs: Any, **kwargs: Any) -> list[Any]:
    from django.conf import settings

    backend = settings.CACHES.get("default", {}).get("BACKEND", "")
    if backend != REDIS_CACHE_BACKEND:
        # Impressions are buffered, fatigue rings and teacher circuit-breaker state are kept, in the default cache's
        # Redis (lists, sets, Lua-free pipelines): a local-memory or memcached cache cannot hold them.
        return [
            Error(
                f"CACHES['default'] uses {backend or 'nothing'}; DragonRec needs Redis through django-redis",
                hint=f"CACHES = {{'default': {{'BACKEND': '{REDIS_CACHE_BACKEND}', "
                "'LOCATION': 'redis://your-redis:6379/1'}}",
                id="dragonrec.E006",
            )
        ]
    return []


@register(Tags.database)
def vector_extension_check(app_configs: Any, databases: Any = None, **kwargs: Any) -> list[Any]:
    """Runs with `manage.py check --database default` and before `migrate`: pgvector must be available to create."""
    from django.db import connections

    problems: list[Any] = []
    for alias in databases or []:
        connection = connections[alias]
        if connection.vendor != "postgresql":
            problems.append(
                Error(
                    f"database {alias!r} is {connection.vendor}; DragonRec needs PostgreSQL with pgvector",
                    hint="Point DATABASES (or DATABASE_URL) at PostgreSQL 14+ with the vector extension installed",
                    id="dragonrec.E007",
                )
            )
            continue
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
            available = cursor.fetchone() is not None
        if not available:
            problems.append(
                Error(
                    f"database {alias!r} has no 'vector' extension available (pgvector)",
                    hint="Install pgvector on the server (e.g. apt install postgresql-16-pgvector, or the "
                    "pgvector/pgvector Docker image); `migrate` then runs CREATE EXTENSION vector",
                    id="dragonrec.E008",
                )
            )
    return problems
