"""Job health: every beat job listed with its runs as Celery's task signals recorded them, a failure's error shown,
an overdue job flagged on the admin index and in /metrics."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from dragonrec.recommender.models import JobRun
from dragonrec.recommender.services.jobs import job_health, jobs_overdue
from dragonrec.recommender.services.schedule import periodic_tasks_install, schedule

pytestmark = pytest.mark.django_db

PAGE = "/admin/dragonrec_recommender/jobrun/"


def test_the_job_health_page_lists_every_beat_job_and_a_failed_runs_error(admin_client) -> None:  # type: ignore[no-untyped-def]
    from dragonrec.recommender.tasks import trending_recompute

    periodic_tasks_install()
    # given: a run that fails (a wrong argument: a real TypeError inside Celery's tracer), then one that succeeds
    trending_recompute.apply(args=["oops"])
    row = JobRun.objects.get(task="dragonrec.recommender.tasks.trending_recompute")
    assert row.last_outcome == "failure" and "TypeError" in row.last_error and row.last_success_at is None
    page = admin_client.get(PAGE).content.decode()
    assert "takes 0 positional arguments but 1 was given" in page
    trending_recompute.apply()
    row.refresh_from_db()
    assert row.last_outcome == "success" and row.runs == 2 and row.failures == 1
    assert row.last_duration_s is not None and row.last_duration_s >= 0
    # then: every job of the schedule is on the page; the failure and its error stay beside the later success
    page = admin_client.get(PAGE).content.decode()
    for name in schedule():
        assert f"<strong>{name}</strong>" in page
    assert "TypeError" in page and page.count("never") >= len(schedule()) - 1
    jobs = {job.name: job for job in job_health()}
    trending = jobs["dragonrec: trending"]
    assert trending.last_success_at is not None and trending.last_failure_at is not None
    assert trending.next_run_at is not None and trending.next_run_at > timezone.now()
    assert not trending.overdue and not trending.failing


def test_an_overdue_job_is_flagged_on_the_admin_index_and_in_metrics(admin_client, settings) -> None:  # type: ignore[no-untyped-def]
    periodic_tasks_install()
    assert "overdue" not in admin_client.get("/admin/").content.decode()  # just installed: nothing is due yet
    # given: trending (every 15 minutes) last succeeded an hour ago, past its 15-minute grace
    JobRun.objects.filter(task="dragonrec.recommender.tasks.trending_recompute").update(
        last_success_at=timezone.now() - timedelta(hours=1), last_outcome="success"
    )
    assert [job.name for job in jobs_overdue()] == ["dragonrec: trending"]
    index = admin_client.get("/admin/").content.decode()
    assert "Scheduled job overdue: <strong>dragonrec: trending</strong>" in index
    settings.DRAGONREC_METRICS_ENABLED = True
    body = admin_client.get("/metrics").content.decode()
    assert 'dragonrec_job_overdue{job="dragonrec: trending"} 1.0' in body
    assert 'dragonrec_job_overdue{job="dragonrec: complements"} 0.0' in body
    assert 'dragonrec_job_last_success_timestamp_seconds{job="dragonrec: trending"}' in body
