"""Prometheus metrics at /metrics: off unless DRAGONREC_METRICS_ENABLED, and only for staff or a bearer token
(DRAGONREC_METRICS_TOKEN). Figures that live in the database or Redis are read at scrape time by a custom
collector, so every process answers the same without counters shared across processes."""

from __future__ import annotations

import hmac
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, Sum
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseForbidden
from django.utils import timezone
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily

REGISTRY = CollectorRegistry(auto_describe=True)
WINDOW = timedelta(hours=1)  # database figures cover the last hour: one indexed range scan per scrape

REQUEST_LATENCY = Histogram(
    "dragonrec_request_seconds", "Request latency by endpoint (this process)", ["endpoint", "method"], registry=REGISTRY
)


class RequestLatencyMiddleware:
    """Times each request by its URL route name (not the raw path: ids would explode the label set)."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        start = time.perf_counter()
        response = self.get_response(request)
        match = getattr(request, "resolver_match", None)
        endpoint = (match.route or match.view_name) if match else "unmatched"
        REQUEST_LATENCY.labels(endpoint=endpoint, method=request.method).observe(time.perf_counter() - start)
        return response


class DatabaseCollector:
    def describe(self) -> list[Any]:
        """Nothing up front: registering would otherwise call `collect`, i.e. query the database at import time."""
        return []

    def collect(self) -> Iterator[Any]:
        from dragonrec.recommender.models import ModelVersion, ServedList, TeacherJudgment

        since = timezone.now() - WINDOW
        lists = GaugeMetricFamily(
            "dragonrec_lists_served_last_hour", "Lists served in the last hour", labels=["ranker"]
        )
        served = ServedList.objects.filter(served_at__gte=since).values("policy__ranker").annotate(n=Count("pk"))
        for row in served.order_by():
            lists.add_metric([row["policy__ranker"]], row["n"])
        yield lists
        teacher = TeacherJudgment.objects.filter(created_at__gte=since).aggregate(
            calls=Count("id", filter=Q(cache_hit=False)), errors=Count("id", filter=~Q(error="")), cost=Sum("cost_usd")
        )
        yield GaugeMetricFamily("dragonrec_teacher_calls_last_hour", "Teacher calls (no cache hits)", teacher["calls"])
        yield GaugeMetricFamily("dragonrec_teacher_errors_last_hour", "Teacher errors", teacher["errors"])
        yield GaugeMetricFamily("dragonrec_teacher_cost_usd_last_hour", "Teacher spend", float(teacher["cost"] or 0))
        runs = CounterMetricFamily("dragonrec_training_runs", "Model versions trained, by status", labels=["status"])
        for status_row in ModelVersion.objects.values("status").annotate(n=Count("id")):
            runs.add_metric([status_row["status"]], status_row["n"])
        yield runs
        active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
        info = InfoMetricFamily("dragonrec_active_model", "The student version serving")
        info.add_metric([], {"version": active.version if active else ""})
        yield info
        yield from _buffer()
        yield from _jobs()
        yield from _scored_memo()


def _jobs() -> Iterator[Any]:
    """Per beat job: when it last succeeded and failed, how long it took, when it runs next, whether its last run
    failed and whether it is overdue (services.jobs), labelled by the beat job's name."""
    from dragonrec.recommender.services.jobs import job_health

    gauges = {
        "last_success": GaugeMetricFamily(
            "dragonrec_job_last_success_timestamp_seconds", "Last successful run (Unix time)", labels=["job"]
        ),
        "last_failure": GaugeMetricFamily(
            "dragonrec_job_last_failure_timestamp_seconds", "Last failed run (Unix time)", labels=["job"]
        ),
        "duration": GaugeMetricFamily(
            "dragonrec_job_last_duration_seconds", "Duration of the last run", labels=["job"]
        ),
        "next_run": GaugeMetricFamily(
            "dragonrec_job_next_run_timestamp_seconds", "When the job is next due (Unix time)", labels=["job"]
        ),
        "failing": GaugeMetricFamily("dragonrec_job_last_run_failed", "1 when the last run failed", labels=["job"]),
        "overdue": GaugeMetricFamily(
            "dragonrec_job_overdue", "1 when no success came when one was due", labels=["job"]
        ),
    }
    for job in job_health():
        if job.last_success_at:
            gauges["last_success"].add_metric([job.name], job.last_success_at.timestamp())
        if job.last_failure_at:
            gauges["last_failure"].add_metric([job.name], job.last_failure_at.timestamp())
        if job.last_duration_s is not None:
            gauges["duration"].add_metric([job.name], job.last_duration_s)
        if job.next_run_at:
            gauges["next_run"].add_metric([job.name], job.next_run_at.timestamp())
        gauges["failing"].add_metric([job.name], float(job.failing))
        gauges["overdue"].add_metric([job.name], float(job.overdue))
    yield from gauges.values()


def _buffer() -> Iterator[Any]:
    from dragonrec.recommender.services.impressions import impressions_buffer_state

    try:
        state = impressions_buffer_state()
    except Exception:  # Redis down: say nothing rather than fail the whole scrape
        return
    yield GaugeMetricFamily("dragonrec_impression_buffer_depth", "Impressions waiting in Redis", state.depth)
    yield GaugeMetricFamily(
        "dragonrec_impression_flush_lag_seconds", "Age of the oldest buffered impression", state.lag_s(timezone.now())
    )


def _scored_memo() -> Iterator[Any]:
    """How often this process served a list's scored candidates from its memo (SCORED_CANDIDATES_TTL_S): the share
    of lists that skipped candidate generation and ranking. Counts restart with each catalog snapshot."""
    from dragonrec.recommender.stores import current_snapshot

    snapshot = current_snapshot()
    memo = snapshot.scored if snapshot is not None else None
    if memo is None:
        return
    found = CounterMetricFamily(
        "dragonrec_scored_memo_lookups", "Scored-candidate memo lookups (this process)", labels=["result"]
    )
    found.add_metric(["hit"], memo.hits)
    found.add_metric(["miss"], memo.misses)
    yield found


REGISTRY.register(DatabaseCollector())


def metrics_view(request: HttpRequest) -> HttpResponse:
    if not getattr(settings, "DRAGONREC_METRICS_ENABLED", False):
        raise Http404
    token = getattr(settings, "DRAGONREC_METRICS_TOKEN", "")
    sent = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
    staff = request.user.is_authenticated and request.user.is_staff
    if not staff and not (token and sent and hmac.compare_digest(sent, token)):
        return HttpResponseForbidden("staff or the metrics token only")
    return HttpResponse(generate_latest(REGISTRY), content_type=CONTENT_TYPE_LATEST)
