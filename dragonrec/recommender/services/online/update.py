"""The hourly update's run: fine-tune the active student on what happened since its data cutoff and hand the
candidate to the one model lifecycle (registry.lifecycle), as the nightly retrain does."""

from __future__ import annotations

import time
from dataclasses import asdict
from datetime import timedelta

from dragonrec.recommender.core.types import HistoryEvent
from dragonrec.recommender.models import ModelVersion
from dragonrec.recommender.services.offpolicy_check import online_settings
from dragonrec.recommender.services.online.data import (
    data_cutoff,
    new_products,
    nothing_new,
    recent_sequences,
    reward_examples,
)
from dragonrec.recommender.services.registry.lifecycle import Built, lifecycle_run
from dragonrec.recommender.services.registry.selectors import training_sequences, training_split
from dragonrec.recommender.services.registry.versions import model_version_create
from dragonrec.recommender.services.students import inactive_products, load_student
from dragonrec.tracking.selectors import events_span


def student_update(*, promote: bool = True, seed: int = 0) -> ModelVersion | None:
    """One online update on top of the active version; the registered candidate, or None when there is no
    active version, updates are off, or nothing happened since the last update."""
    from dragonrec.recommender.ml.online import OnlineUpdate, online_update

    conf = online_settings()
    active = ModelVersion.objects.filter(status=ModelVersion.Status.ACTIVE).first()
    if not conf["enabled"] or active is None or nothing_new(active):
        return None
    started = time.perf_counter()
    since = data_cutoff(active)
    until = events_span()["received"] or since
    sequences, gate_targets, n_events = recent_sequences(
        since=since, until=until, max_shoppers=int(conf["max_shoppers"])
    )
    rewards = reward_examples(
        since=since,
        gate_targets=gate_targets,
        limit=int(conf["max_rewards"]),
        with_pages=conf["form"] == "listwise",
    )
    replay: list[list[HistoryEvent]] = []
    if float(conf["replay_share"]) > 0:
        replay, _, _ = recent_sequences(
            since=since - timedelta(days=float(conf["replay_days"])),
            until=since,
            max_shoppers=int(conf["replay_shoppers"]),
        )
    parent = load_student(active)  # as serving loads it
    new_ids, new_vectors = new_products(set(parent.product_ids))
    if not sequences and not rewards and not new_ids:
        return None
    update = OnlineUpdate(
        form=str(conf["form"]),
        steps=int(conf["steps"]),
        lr=float(conf["lr"]),
        clip=float(conf["clip"]),
        replay_share=float(conf["replay_share"]),
        time_budget_s=float(conf["time_budget_s"]),
    )
    version = model_version_create(
        status=ModelVersion.Status.TRAINING,
        kind=ModelVersion.Kind.ONLINE,
        parent=active,
        architecture=active.architecture,
        hyperparameters={**active.hyperparameters, "online_update": asdict(update)},
        data_snapshot={
            "events": n_events,
            "sequences": len(sequences),
            "rewards": len(rewards),
            "replay_sequences": len(replay),
            "new_products": len(new_ids),
            "since": since.isoformat(),
            "gate_received_until": until.isoformat(),  # this update's data cutoff; the gate is rebuilt from it
        },
        notes=f"online update of {active.version}",
    )
    loaded = time.perf_counter()

    def build() -> Built:
        student = online_update(
            parent,
            sequences=sequences,
            rewards=rewards,
            replay=replay,
            new_items=(new_ids, new_vectors) if new_ids else None,
            inactive=inactive_products(set(parent.product_ids) | set(new_ids)),
            update=update,
            seed=seed,
        )
        tuned = time.perf_counter()
        student.version = version.version
        student.meta = {**student.meta, "parent": active.version, "online_update": asdict(update)}
        # the gate's figures beside popularity and item-kNN, on the gate split rebuilt from this update's data cutoff
        train, _, gate = training_split(training_sequences(received_until=until))
        return Built(
            student=student,
            train=train,
            gate=gate,
            metrics={
                "data_seconds": round(loaded - started, 2),
                "fine_tune_seconds": round(tuned - loaded, 2),
                "update_seconds": round(time.perf_counter() - started, 2),  # until the candidate is built
            },
            training_log=list(student.meta.get("online_log", [])),  # loss per step
            data_snapshot={"products": student.n_items},
        )

    return lifecycle_run(version=version, build=build, promote=promote, students={active.pk: parent})
