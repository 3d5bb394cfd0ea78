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

OPENAI_BASE_URL = "https://api.openai.com/v1"

# Local OpenAI-compatible servers (vLLM, Ollama, llama.cpp) ignore the key, but the SDK refuses to send a request
# without one, so a base URL without a key gets this placeholder.
PLACEHOLDER_API_KEY = "dragonrec-no-key"


@dataclass(frozen=True, slots=True)
class TeacherConfig:
    """Endpoint, model and the resilience knobs of the teacher.

    Defaults suit a Celery worker calling the OpenAI API; tests shrink the timeouts and backoffs to milliseconds.
    """

    api_key: str = ""
    base_url: str = ""  # "" = the OpenAI API (when a key is set)
    model: str = "gpt-4o-mini"

    # One scoring call answers ~40 tokens per candidate; gpt-4o-mini streams ~80 tokens/s, so 20 candidates need
    # ~10 s. 30 s leaves room for a slow minute without holding a worker hostage.
    timeout_s: float = 30.0
    max_retries: int = 3  # retries after the first attempt, only on 429/5xx/timeouts/connection errors
    # Full-jitter exponential backoff (AWS Architecture Blog, "Exponential Backoff And Jitter", 2015):
    # sleep U(0, min(cap, base * 2**attempt)). 1 s base, 20 s cap: three retries finish inside a minute.
    backoff_base_s: float = 1.0
    backoff_cap_s: float = 20.0  # also the longest Retry-After we wait in-process; longer ones go back to Celery

    # Circuit breaker shared by every worker through Redis: 5 failed calls in a row (each after its retries) means
    # the endpoint is down, not unlucky; one probe is let through after a minute.
    breaker_threshold: int = 5
    breaker_cooldown_s: float = 60.0

    # Spend guard: a runaway re-scoring loop must not empty the shop's account. None = no limit.
    hourly_budget_usd: float | None = 1.0
    # gpt-4o-mini list prices (openai.com/api/pricing, 2024-07): $0.15 / 1M input, $0.60 / 1M output tokens.
    # Set both when changing the model; 0 for a self-hosted server.
    price_per_1k_input_usd: float = 0.00015
    price_per_1k_output_usd: float = 0.0006

    temperature: float = 0.0  # judgments are training labels: the same input must give the same scores
    # 20 candidates keep a prompt under ~2k tokens and an answer under ~1k; longer lists are split into calls.
    max_candidates: int = 20
    # Catalogue text and histories change slowly; a day of caching absorbs re-queued tasks and repeated users.
    cache_ttl_s: int = 24 * 3600  # 0 = no cache

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
