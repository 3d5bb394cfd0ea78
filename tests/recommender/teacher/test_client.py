"""TeacherClient against the fake OpenAI-compatible server over real HTTP, with its state in the real Redis."""

from __future__ import annotations

import dataclasses
import socket
import time

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from dragonrec.recommender.core.types import Preferences, Product
from dragonrec.recommender.teacher import ErrorKind, TeacherClient, TeacherConfig
from dragonrec.recommender.teacher.client import NOT_SENT
from dragonrec.recommender.teacher.protocol import MISSING_ID, OUT_OF_RANGE, UNKNOWN_ID
from tests.llm_server import LLMServer
from tests.recommender.teacher.shop import (
    ARM,
    CABLE,
    CANDIDATES,
    EXPECTED_GOOD_SCORES,
    HISTORY,
    KEYBOARD,
    PREFERENCES,
    SECOND_MONITOR,
)


def make_client(config: TeacherConfig, redis_client: redis.Redis, **changes: object) -> TeacherClient:
    return TeacherClient(dataclasses.replace(config, **changes), redis_client)  # type: ignore[arg-type]


def score(client: TeacherClient, candidates: list[Product] = CANDIDATES) -> object:
    return client.score(HISTORY, PREFERENCES, candidates)


def test_a_good_answer_is_parsed_into_scores_by_product_id(
    llm_server: LLMServer, teacher_config: TeacherConfig, redis_client: redis.Redis
) -> None:
    # given
    client = make_client(teacher_config, redis_client, price_per_1k_input_usd=0.5, price_per_1k_output_usd=1.0)

    # when
    result = client.score(HISTORY, PREFERENCES, CANDIDATES)

    # then
    assert result.ok, result.error_detail
    assert result.scores == EXPECTED_GOOD_SCORES
    assert max(result.scores, key=result.scores.__getitem__) == SECOND_MONITOR.id
    assert result.reasons[CABLE.id] == "shares 0 word(s) with the history"
    assert result.candidate_ids == [ARM.id, KEYBOARD.id, CABLE.id, SECOND_MONITOR.id]
    assert (result.model, result.prompt_version, result.attempts) == ("fake-teacher-1", "v1", 1)
    assert not result.cache_hit
    assert result.prompt_tokens > 100 and result.completion_tokens > 10
    assert result.cost_usd == pytest.approx(result.prompt_tokens / 1000 * 0.5 + result.completion_tokens / 1000)
    assert result.raw_answer.startswith('{"scores": [')
    assert len(result.cache_key) == 64


def test_the_request_uses_the_configured_model_temperature_0_and_json_response_format(
    llm_server: LLMServer, teacher_config: TeacherConfig, redis_client: redis.Redis
) -> None:
    make_client(teacher_config, redis_client).score(HISTORY, PREFERENCES, CANDIDATES)

    body = llm_server.last_request
    assert body is not None
    assert body["model"] == "fake-teacher"
    assert body["temperature"] == 0
    assert body["response_format"] == {"type": "json_object"}
    assert [m["role"] for m in body["messages"]] == ["system", "user"]
    assert body["max_tokens"] >= 60 * len(CANDIDATES)


def test_a_slow_server_gives_a_timeout_error_within_the_time_budget(
    llm_server: LLMServer, teacher_config: TeacherConfig, redis_client: redis.Redis
) -> None:
    # given: a server slower than the timeout, one retry allowed
    llm_server.mode, llm_server.slow_s = "slow", 3.0
    client = make_client(teacher_config, redis_client, timeout_s=0.2, max_retries=1)

    # when
    started = time.monotonic()
    result = score(client)
    elapsed = time.monotonic() - started

    # then: two attempts of 0.2 s plus a short backoff, nowhere near the server's 3 s
    assert result.error is ErrorKind.TIMEOUT
    assert result.attempts == 2
    assert elapsed < 1.5
    assert result.scores == {}


def test_a_429_is_retried_and_the_retry_succeeds(
    llm_server: LLMServer, teacher_config: TeacherConfig, redis_client: redis.Redis
) -> None:
    llm_server.then("429")
    llm_server.retry_after = 0.05

    result = score(make_client(teacher_config, redis_client))

    assert result.ok
    assert result.scores == EXPECTED_GOOD_SCORES
    assert result.attempts == 2
    assert llm_server.request_count == 2


def test_retry_after_is_honoured(
    llm_server: LLMServer, teacher_config: TeacherConfig, redis_client: redis.Redis
) -> None:
    # given: exponential backoff alone would wait ~1 ms; the server asks for 0.4 s
    llm_server.then("429")
    llm_server.retry_after = 0.4
    client = make_client(teacher_config, redis_client, backoff_base_s=0.001)

    started = time.monotonic()
    result = score(client)

    assert result.ok
    assert time.monotonic() - started >= 0.4


def test_a_retry_after_longer_than_the_backoff_cap_goes_back_to_the_caller(
    llm_server: LLMServer, teacher_config: TeacherConfig, redis_client: redis.Redis
) -> None:
    # given: the server wants 30 s; a worker should re-queue the task rather than sleep that long
    llm_server.mode, llm_server.retry_after = "429", 30

    result = score(make_client(teacher_config, redis_client))

    assert result.error is ErrorKind.RATE_LIMITED
    assert result.retry_after_s == 30
    assert llm_server.request_count == 1


def test_429_without_retry_after_uses_backoff_and_reports_rate_limited(
    llm_server: LLMServer, teacher_config: TeacherConfig, redis_client: redis.Redis
) -> None:
    llm_server.mode, llm_server.retry_after = "429", None

    result = score(make_client(teacher_config, redis_client))

    assert result.error is ErrorKind.RATE_LIMITED
    assert result.retry_after_s is None
    assert llm_server.request_count == 1 + teacher_config.max_retries


def test_repeated_500s_open_the_circuit_which_fails_fast_then_a_half_open_probe_recovers(
    llm_server: LLMServer, teacher_config: TeacherConfig, redis_client: redis.Redis
) -> None:
    # given: threshold 2, one retry per call
    llm_server.mode = "500"
    client = make_client(teacher_config, redis_client, max_retries=1)

    # when: two failed calls (two requests each)
    first, second = score(client), score(client)

    # then: the circuit is open
    assert first.error is second.error is ErrorKind.SERVER_ERROR
    assert llm_server.request_count == 4
    assert client.breaker.state() == "open"

    # and: later calls, from any worker (the state is in Redis), fail fast without an HTTP request
    other_worker = make_client(teacher_config, redis_client, max_retries=1)
    started = time.monotonic()
    fast = score(other_worker, [ARM])
    assert fast.error is ErrorKind.CIRCUIT_OPEN
    assert (fast.attempts, llm_server.request_count) == (0, 4)
    assert time.monotonic() - started < 0.1

    # when: the cooldown passes and the endpoint has recovered
    time.sleep(teacher_config.breaker_cooldown_s + 0.05)
    assert client.breaker.state() == "half_open"
    llm_server.mode = "good"
    probe = score(other_worker)

    # then: the probe goes through and closes the circuit
    assert probe.ok and probe.attempts == 1
    assert client.breaker.state() == "closed"
    assert score(client, [KEYBOARD]).ok


def test_a_failed_half_open_probe_reopens_the_circuit_after_a_single_attempt(
    llm_server: LLMServer, teacher_config: TeacherConfig, redis_client: redis.Redis
) -> None:
    llm_server.mode = "500"
    client = make_client(teacher_config, redis_client, max_retries=0)
    score(client), score(client)
    time.sleep(teacher_config.breaker_cooldown_s + 0.05)

    probe = score(client)

    assert probe.error is ErrorKind.SERVER_ERROR and probe.attempts == 1
    assert client.breaker.state() == "open"
    assert score(client).error is ErrorKind.CIRCUIT_OPEN
    assert llm_server.request_count == 3


def test_only_one_worker_probes_a_half_open_circuit(
    llm_server: LLMServer, teacher_config: TeacherConfig, redis_client: redis.Redis
) -> None:
    # given: an open circuit past its cooldown
    client = make_client(teacher_config, redis_client)
    for _ in range(teacher_config.breaker_threshold):
        client.breaker.record_failure()
    time.sleep(teacher_config.breaker_cooldown_s + 0.05)

    # when: two workers ask at once
    decisions = [client.breaker.allow(), make_client(teacher_config, redis_client).breaker.allow()]

    # then
    assert decisions == ["probe", None]


@pytest.mark.parametrize("mode", ["malformed", "partial"])
def test_unreadable_answers_are_bad_answers_kept_raw_and_not_retried(
    mode: str, llm_server: LLMServer, teacher_config: TeacherConfig, redis_client: redis.Redis
) -> None:
    llm_server.mode = mode
    client = make_client(teacher_config, redis_client)

    results = [score(client) for _ in range(teacher_config.breaker_threshold + 1)]

    assert all(r.error is ErrorKind.BAD_ANSWER for r in results)
    assert results[0].raw_answer and "not valid JSON" in results[0].error_detail
    assert results[0].prompt_tokens > 0  # the answer was billed: it is still counted
    # one request per call, and the endpoint is up, so the circuit stays closed
    assert llm_server.request_count == len(results)
    assert client.breaker.state() == "closed"


def test_unknown_ids_in_the_answer_are_ignored(
    llm_server: LLMServer, teacher_config: TeacherConfig, redis_client: redis.Redis
) -> None:
    llm_server.mode = "unknown_ids"

    result = score(make_client(teacher_config, redis_client))

    assert result.ok
    assert result.scores == EXPECTED_GOOD_SCORES
    assert {(p.kind, p.id) for p in result.problems} == {(UNKNOWN_ID, "999999"), (UNKNOWN_ID, "ghost-product")}


def test_out_of_range_scores_are_clipped(
    llm_server: LLMServer, teacher_config: TeacherConfig, redis_client: redis.Redis
) -> None:
    llm_server.mode = "out_of_range"

    result = score(make_client(teacher_config, redis_client))

    assert result.ok
    assert (result.scores[ARM.id], result.scores[KEYBOARD.id]) == (10.0, 0.0)
    assert [(p.kind, p.id) for p in result.problems] == [(OUT_OF_RANGE, "10"), (OUT_OF_RANGE, "11")]


def test_a_cache_hit_makes_no_second_request(
    llm_server: LLMServer, teacher_config: TeacherConfig, redis_client: redis.Redis
) -> None:
    # given: one scored question
    client = make_client(teacher_config, redis_client)
    first = score(client)

    # when: the same question again, from another worker
    again = score(make_client(teacher_config, redis_client))

    # then
    assert again.cache_hit and not first.cache_hit
    assert again.scores == first.scores and again.reasons == first.reasons
    assert again.cache_key == first.cache_key
    assert (again.cost_usd, again.prompt_tokens, again.attempts) == (0.0, 0, 0)
    assert llm_server.request_count == 1


def test_a_different_question_or_model_misses_the_cache(
    llm_server: LLMServer, teacher_config: TeacherConfig, redis_client: redis.Redis
) -> None:
    score(make_client(teacher_config, redis_client))

    other_candidates = score(make_client(teacher_config, redis_client), [ARM, KEYBOARD])
    other_model = score(make_client(teacher_config, redis_client, model="fake-teacher-2"))
    other_history = make_client(teacher_config, redis_client).score(HISTORY[:1], PREFERENCES, CANDIDATES)

    assert not (other_candidates.cache_hit or other_model.cache_hit or other_history.cache_hit)
    assert llm_server.request_count == 4


def test_failures_are_not_cached(
    llm_server: LLMServer, teacher_config: TeacherConfig, redis_client: redis.Redis
) -> None:
    llm_server.then("malformed")
    client = make_client(teacher_config, redis_client)

    assert score(client).error is ErrorKind.BAD_ANSWER
    retried = score(client)

    assert retried.ok and not retried.cache_hit


def test_spend_is_tracked_in_redis_from_token_usage(
    llm_server: LLMServer, teacher_config: TeacherConfig, redis_client: redis.Redis
) -> None:
    client = make_client(teacher_config, redis_client, price_per_1k_input_usd=0.01, price_per_1k_output_usd=0.03)

    result = score(client)

    assert result.cost_usd > 0
    assert client.budget.spent_usd() == pytest.approx(result.cost_usd, abs=1e-6)


def test_an_exhausted_hourly_budget_refuses_calls_without_a_request(
    llm_server: LLMServer, teacher_config: TeacherConfig, redis_client: redis.Redis
) -> None:
    # given: another worker already spent this hour's $0.05
    client = make_client(teacher_config, redis_client, hourly_budget_usd=0.05, price_per_1k_input_usd=0.01)
    assert client.budget.reserve(0.05) is not None

    # when
    result = score(make_client(teacher_config, redis_client, hourly_budget_usd=0.05, price_per_1k_input_usd=0.01))

    # then
    assert result.error is ErrorKind.BUDGET_EXCEEDED
    assert llm_server.request_count == 0


def test_calls_stop_before_the_budget_is_overshot(
    llm_server: LLMServer, teacher_config: TeacherConfig, redis_client: redis.Redis
) -> None:
    # given: prices such that a call costs a noticeable part of a $0.02 budget, and no cache
    config = dataclasses.replace(
        teacher_config, hourly_budget_usd=0.02, price_per_1k_input_usd=0.01, price_per_1k_output_usd=0.01, cache_ttl_s=0
    )
    client = TeacherClient(config, redis_client)

    # when: scoring until refused
    results = [score(client) for _ in range(30)]

    # then: some calls went through, then the budget refused, and the hour's spend stayed within it
    served = [r for r in results if r.ok]
    refused = [r for r in results if r.error is ErrorKind.BUDGET_EXCEEDED]
    assert served and refused and len(served) + len(refused) == len(results)
    assert llm_server.request_count == len(served)
    assert sum(r.cost_usd for r in served) == pytest.approx(client.budget.spent_usd(), abs=1e-6)
    assert client.budget.spent_usd() <= 0.02


def test_a_disabled_teacher_does_nothing(redis_client: redis.Redis) -> None:
    # given: no key and no base URL
    client = TeacherClient(TeacherConfig(), redis_client)

    # when
    result = score(client)

    # then: no SDK client, no Redis state, an error the caller can store
    assert not client.config.enabled
    assert result.error is ErrorKind.DISABLED
    assert result.scores == {}
    assert client._openai is None
    assert redis_client.dbsize() == 0


def test_an_unreachable_endpoint_is_a_connection_error(
    teacher_config: TeacherConfig, redis_client: redis.Redis
) -> None:
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    client = make_client(teacher_config, redis_client, base_url=f"http://127.0.0.1:{port}/v1", max_retries=1)

    result = score(client)

    assert result.error is ErrorKind.CONNECTION_ERROR
    assert result.attempts == 2


def test_redis_trouble_comes_back_as_an_error_never_an_exception(teacher_config: TeacherConfig) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    # no reconnect retries: the point is the error path, not redis-py's patience
    broken_redis = redis.Redis(host="127.0.0.1", port=port, socket_connect_timeout=0.2, retry=Retry(NoBackoff(), 0))

    result = score(TeacherClient(teacher_config, broken_redis))

    assert result.error is ErrorKind.INTERNAL_ERROR
    assert "ConnectionError" in result.error_detail


def test_candidates_over_the_limit_are_not_sent_and_score_batches_covers_them_all(
    llm_server: LLMServer, teacher_config: TeacherConfig, redis_client: redis.Redis
) -> None:
    client = make_client(teacher_config, redis_client, max_candidates=3)

    single = score(client)
    batches = client.score_batches(HISTORY, PREFERENCES, [*CANDIDATES, ARM])

    assert single.candidate_ids == [ARM.id, KEYBOARD.id, CABLE.id]
    assert [(p.kind, p.id) for p in single.problems] == [(NOT_SENT, "13")]
    assert [b.candidate_ids for b in batches] == [[ARM.id, KEYBOARD.id, CABLE.id], [SECOND_MONITOR.id]]
    assert {pid: s for b in batches for pid, s in b.scores.items()} == EXPECTED_GOOD_SCORES


def test_no_candidates_means_no_call(
    llm_server: LLMServer, teacher_config: TeacherConfig, redis_client: redis.Redis
) -> None:
    result = make_client(teacher_config, redis_client).score(HISTORY, Preferences(), [])

    assert result.ok and result.scores == {}
    assert llm_server.request_count == 0


def test_a_partly_scored_answer_keeps_what_was_scored_and_reports_the_rest(
    llm_server: LLMServer, teacher_config: TeacherConfig, redis_client: redis.Redis
) -> None:
    llm_server.mode = "missing_ids"  # the last candidate is skipped

    result = score(make_client(teacher_config, redis_client))

    assert result.ok
    assert result.scores == {pid: s for pid, s in EXPECTED_GOOD_SCORES.items() if pid != SECOND_MONITOR.id}
    assert [(p.kind, p.id) for p in result.problems] == [(MISSING_ID, "13")]
