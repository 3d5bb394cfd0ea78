"""Concurrent trainings get distinct version numbers (the unique constraint + retry in model_version_create)."""

from __future__ import annotations

import threading

import pytest
from django.db import connection

from dragonrec.recommender.models import ModelVersion
from dragonrec.recommender.services.registry import versions as registry


@pytest.mark.django_db(transaction=True)
def test_concurrent_version_allocation_gives_distinct_numbers(monkeypatch: pytest.MonkeyPatch) -> None:
    # given: four trainings that all read the current maximum before any of them inserts (the race)
    workers = 4
    barrier = threading.Barrier(workers, timeout=30)
    first_read = threading.local()
    next_version = registry._next_version

    def racing_next_version() -> str:
        number = next_version()
        if not getattr(first_read, "done", False):
            first_read.done = True
            barrier.wait()  # everyone has read "v1" before anyone writes it
        return number

    monkeypatch.setattr(registry, "_next_version", racing_next_version)
    made: list[str] = []
    errors: list[BaseException] = []

    def train() -> None:
        try:
            made.append(registry.model_version_create(status=ModelVersion.Status.TRAINING).version)
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=train) for _ in range(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    # then
    assert not errors
    assert sorted(made) == ["v1", "v2", "v3", "v4"]
    assert ModelVersion.objects.count() == workers
