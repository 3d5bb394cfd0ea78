"""Everything the teacher client needs to know, as one plain dataclass (no Django).

The lead's `dragonrec/recommender/conf.py` builds it from `settings.RECOMMENDER`; tests build it directly.

    >>> TeacherConfig().enabled  # no key and no base URL: the teacher is off, nothing is called
    False
    >>> TeacherConfig(api_key="sk-...").enabled  # the OpenAI API
    True
    >>> TeacherConfig(base_url="http://vllm:8000/v1", model="qwen2.5-7b-instruct").enabled  # any compatible server
    True
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from dragonrec.recommender.core.defaults import DEFAULTS

OPENAI_BASE_URL = "https://api.openai.com/v1"

# Local OpenAI-compatible servers (vLLM, Ollama, llama.cpp) ignore the key, but the SDK refuses to send a request
# without one, so a base URL without a key gets this placeholder.
PLACEHOLDER_API_KEY = "dragonrec-no-key"


@dataclass(frozen=True, slots=True)
class TeacherConfig:
    """Endpoint, model and the resilience knobs of the teacher.

    Defaults are the RECOMMENDER["TEACHER_*"] settings' (core/defaults.py says why each value); tests shrink the
    timeouts and backoffs to milliseconds.
    """

    api_key: str = DEFAULTS["TEACHER_API_KEY"]
    base_url: str = DEFAULTS["TEACHER_BASE_URL"]  # "" = the OpenAI API (when a key is set)
    model: str = DEFAULTS["TEACHER_MODEL"]

    timeout_s: float = DEFAULTS["TEACHER_TIMEOUT_S"]
    max_retries: int = DEFAULTS["TEACHER_MAX_RETRIES"]
    # Full-jitter exponential backoff (AWS Architecture Blog, "Exponential Backoff And Jitter", 2015):
    # sleep U(0, min(cap, base * 2**attempt)).
    backoff_base_s: float = DEFAULTS["TEACHER_BACKOFF_BASE_S"]
    backoff_cap_s: float = DEFAULTS["TEACHER_BACKOFF_CAP_S"]  # also the longest Retry-After waited in-process

    # Circuit breaker shared by every worker through Redis.
    breaker_threshold: int = DEFAULTS["TEACHER_BREAKER_THRESHOLD"]
    breaker_cooldown_s: float = DEFAULTS["TEACHER_BREAKER_COOLDOWN_S"]

    # Spend guard: a runaway re-scoring loop must not empty the shop's account. None = no limit.
    hourly_budget_usd: float | None = DEFAULTS["TEACHER_HOURLY_BUDGET_USD"]
    price_per_1k_input_usd: float = DEFAULTS["TEACHER_PRICE_PER_1K_INPUT_USD"]
    price_per_1k_output_usd: float = DEFAULTS["TEACHER_PRICE_PER_1K_OUTPUT_USD"]

    temperature: float = 0.0  # judgments are training labels: the same input must give the same scores
    max_candidates: int = DEFAULTS["TEACHER_CANDIDATES"]
    cache_ttl_s: int = DEFAULTS["TEACHER_CACHE_TTL_S"]  # 0 = no cache

    # Every Redis key starts with this, so several shops or environments can share one Redis.
    redis_prefix: str = "dragonrec:teacher"

    @property
    def enabled(self) -> bool:
        """Off unless a key or a base URL is set: an empty integration variable switches the teacher off."""
        return bool(self.api_key or self.base_url)

    @property
    def resolved_base_url(self) -> str:
        return self.base_url or OPENAI_BASE_URL

    @property
    def resolved_api_key(self) -> str:
        return self.api_key or PLACEHOLDER_API_KEY

    @property
    def endpoint_id(self) -> str:
        """Short stable id of (endpoint, model): the circuit breaker of one endpoint must not trip another's."""
        return hashlib.sha256(f"{self.resolved_base_url}|{self.model}".encode()).hexdigest()[:12]

    def cost_usd(self, prompt_tokens: int, completion_tokens: int) -> float:
        return (
            prompt_tokens / 1000 * self.price_per_1k_input_usd + completion_tokens / 1000 * self.price_per_1k_output_usd
        )
