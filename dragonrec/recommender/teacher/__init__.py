"""The LLM teacher: scores retrieved candidates with an OpenAI-compatible chat model, from Celery tasks only.

Django-free: `dragonrec.recommender.conf` builds the `TeacherConfig` from settings, tasks call `TeacherClient.score` and
store each `TeacherResult` as a TeacherJudgment (failures included) to distil the student from.

    >>> from recommender.teacher import TeacherClient, TeacherConfig, resolve_history
    >>> client = TeacherClient(TeacherConfig(api_key=key, hourly_budget_usd=2.0), redis_client)
    >>> result = client.score(resolve_history(events, products), preferences, candidates)
    >>> result.scores  # {product_id: 0-10}, result.error is None when ok

Modules: `config` (settings), `prompt` (versioned prompt, product text sanitising), `protocol` (answer format and
validation, the public protocol doc), `client` (retries, breaker, budget, cache), `breaker`, `budget`.
"""

from __future__ import annotations

from dragonrec.recommender.teacher.client import TeacherClient
from dragonrec.recommender.teacher.config import TeacherConfig
from dragonrec.recommender.teacher.prompt import PROMPT_VERSION, Prompt, build_prompt, resolve_history
from dragonrec.recommender.teacher.protocol import ParsedAnswer, Problem, TeacherAnswerError, parse_answer
from dragonrec.recommender.teacher.result import ErrorKind, TeacherResult

__all__ = [
    "PROMPT_VERSION",
    "ErrorKind",
    "ParsedAnswer",
    "Problem",
    "Prompt",
    "TeacherAnswerError",
    "TeacherClient",
    "TeacherConfig",
    "TeacherResult",
    "build_prompt",
    "parse_answer",
    "resolve_history",
]
