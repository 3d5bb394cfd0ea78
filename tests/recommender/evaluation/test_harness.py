"""The evaluation harness on a tiny synthetic dataset with known answers (oracle, random), plus determinism,
outputs, and graceful handling of a missing student."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from dragonrec.recommender.core.embedder import HashingEmbedder
from dragonrec.recommender.evaluation.dataset import leave_one_out, load_dataset
from dragonrec.recommender.evaluation.harness import CROSS_CATEGORY, cross_category, make_task, run_evaluation

REPO = Path(__file__).resolve().parents[3]
N_CATEGORIES, PER_CATEGORY, N_USERS = 6, 10, 90
N_ITEMS = N_CATEGORIES * PER_CATEGORY
CATEGORIES = ["Skin Care > Face", "Skin Care > Body", "Hair Care > Shampoos", "Hair Care > Conditioners",
              "Makeup > Nails", "Makeup > Eyes"]  # fmt: skip


def write_dataset(root: Path, name: str = "amazon_beauty") -> Path:
    """Users walk through one category, item after item (what itemknn and the pipeline can learn); events are
    written in shuffled order so the loader must sort them by timestamp."""
    folder = root / name
    folder.mkdir(parents=True)
    with open(folder / "items.jsonl", "w", encoding="utf-8") as handle:
        for i in range(N_ITEMS):
            category = CATEGORIES[i // PER_CATEGORY]
            title = f"{category.split(' > ')[-1]} product {i % PER_CATEGORY}"
            row = {"item_id": str(100 + i), "title": title, "brand": None, "category": category, "description": None}
            handle.write(json.dumps(row) + "\n")
    rng = np.random.default_rng(7)
    rows = []
    for user in range(N_USERS):
        category = user % N_CATEGORIES
        start = int(rng.integers(0, PER_CATEGORY))
        length = int(rng.integers(5, 9))
        for t in range(length):
            item = category * PER_CATEGORY + (start + t) % PER_CATEGORY
            rows.append((str(user), str(100 + item), "rating", t))
    rng.shuffle(rows)
    with open(folder / "events.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "item_id", "event_type", "timestamp"])
        writer.writerows(rows)
    return folder


def evaluate(tmp_path: Path, rankers: list[str], out: str = "out", **kwargs) -> dict:  # type: ignore[no-untyped-def]
    return run_evaluation(
        dataset_path=tmp_path / "amazon_beauty",
        rankers=rankers,
        out_dir=tmp_path / out,
        progress=False,
        embedder=HashingEmbedder(dim=64),
        cache_dir=tmp_path / "cache",
        **kwargs,
    )


def test_loader_sorts_by_time_and_splits_leave_one_out(tmp_path: Path) -> None:
    dataset = load_dataset(write_dataset(tmp_path))

    split = leave_one_out(dataset)
    sample = leave_one_out(dataset, max_users=20, seed=3)

    assert dataset.n_items == N_ITEMS and dataset.products[5].id == 5 and dataset.item_ids[5] == "105"
    user = split.users[0]
    sequence = dataset.sequences[user]
    assert [e.timestamp for e in sequence] == sorted(e.timestamp for e in sequence)
    assert split.train[user] == sequence[:-2]
    assert split.valid_target[user] == sequence[-2].product_id
    assert split.test_input(user) == sequence[:-1] and split.test_target[user] == sequence[-1].product_id
    assert len(sample.users) == 20 and sample.users == sorted(sample.users)
    assert sample.users == leave_one_out(dataset, max_users=20, seed=3).users
    assert len(sample.train) == N_USERS  # rankers still train on everyone


def test_oracle_is_perfect_and_random_matches_its_expectation(tmp_path: Path) -> None:
    dataset = load_dataset(write_dataset(tmp_path))
    split = leave_one_out(dataset)

    results = evaluate(tmp_path, ["oracle", "random"])

    oracle, random = results["rankers"]["oracle"], results["rankers"]["random"]
    assert oracle["recall@10"] == oracle["ndcg@10"] == oracle["mrr"] == 1.0
    # random: the target is uniform over the items outside the user's input history
    hit_chance = np.array([10 / (N_ITEMS - len(split.test_input(u))) for u in split.users])
    expected, sigma = hit_chance.mean(), np.sqrt((hit_chance * (1 - hit_chance)).sum()) / len(hit_chance)
    assert abs(random["recall@10"] - expected) < 4 * sigma
    assert random["recall@20"] > random["recall@10"] > random["recall@5"]


def test_learned_rankers_beat_popularity_and_runs_are_deterministic(tmp_path: Path) -> None:
    write_dataset(tmp_path)
    names = ["popularity", "itemknn", "embedding", "pipeline", "random"]

    first = evaluate(tmp_path, names, out="a", seed=1)
    second = evaluate(tmp_path, names, out="b", seed=1)

    assert first["rankers"] == second["rankers"]
    metrics = first["rankers"]
    assert metrics["itemknn"]["ndcg@10"] > metrics["popularity"]["ndcg@10"]
    assert metrics["pipeline"]["recall@20"] > metrics["popularity"]["recall@20"]
    assert set(metrics["pipeline"]["slices"]) == {
        "cold users (<= 3 train items)",
        "rare targets (<= 5 train users)",
        CROSS_CATEGORY,
    }
    # every synthetic user walks through one category: nobody's next item is something else
    assert metrics["pipeline"]["slices"][CROSS_CATEGORY]["users"] == 0


def test_the_cross_category_slice_holds_the_users_whose_next_item_is_in_another_category(tmp_path: Path) -> None:
    # given: the synthetic walks, where every third user's test target is moved to the next category
    folder = write_dataset(tmp_path)
    with open(folder / "events.csv", encoding="utf-8") as handle:
        rows = list(csv.reader(handle))[1:]
    last: dict[str, list[str]] = {}
    for row in rows:
        if row[0] not in last or int(row[3]) > int(last[row[0]][3]):
            last[row[0]] = row
    switched = {user for user in last if int(user) % 3 == 0}
    for user in switched:
        item = int(last[user][1]) - 100
        last[user][1] = str(100 + (item + PER_CATEGORY) % N_ITEMS)
    with open(folder / "events.csv", "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["user_id", "item_id", "event_type", "timestamp"])
        writer.writerows(rows)
    # when
    split = leave_one_out(load_dataset(folder))
    task = make_task(split, "loo")
    mask = cross_category(split, task)
    # then: exactly the switched users
    assert {user for user, hit in zip(task.users, mask, strict=True) if hit} == switched


def test_outputs_json_markdown_with_anchors_and_plot(tmp_path: Path) -> None:
    write_dataset(tmp_path)

    results = evaluate(tmp_path, ["popularity", "itemknn"], max_users=30)

    out = tmp_path / "out"
    saved = json.loads((out / "results.json").read_text())
    markdown = (out / "results.md").read_text()
    assert saved["rankers"]["itemknn"]["ndcg@10"] == results["rankers"]["itemknn"]["ndcg@10"]
    assert saved["settings"]["users_evaluated"] == 30 and saved["settings"]["sampled"]
    assert "| itemknn |" in markdown and "seeded random sample of 30" in markdown
    assert "TIGER" in markdown and "0.0384" in markdown  # published anchors beside our numbers
    assert (out / "results.png").read_bytes()[:4] == b"\x89PNG"


def test_missing_student_is_reported_not_fatal(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write_dataset(tmp_path)
    monkeypatch.setitem(sys.modules, "dragonrec.recommender.ml.evaluation", None)  # makes the import fail

    results = evaluate(tmp_path, ["popularity", "student"])

    assert "student" in results["unavailable"]
    assert "popularity" in results["rankers"]
    with pytest.raises(ValueError, match="unknown rankers"):
        evaluate(tmp_path, ["nope"])


def test_bench_script_runs_without_django_settings(tmp_path: Path) -> None:
    dataset = write_dataset(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    command = [sys.executable, "bench/evaluate.py", "--dataset", str(dataset), "--rankers", "popularity,itemknn",
               "--out", str(tmp_path / "bench"), "--no-progress"]  # fmt: skip

    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, text=True, timeout=240)

    assert done.returncode == 0, done.stderr
    assert "| itemknn |" in done.stdout
    # the protocol beside the figures: split, full ranking, history masked, seeds
    assert "protocol: amazon_beauty, split loo:" in done.stdout
    assert "full ranking over all 60 items" in done.stdout and "history items masked" in done.stdout
    assert "seeds [0]" in done.stdout
    assert json.loads((tmp_path / "bench" / "results.json").read_text())["settings"]["dataset"] == "amazon_beauty"


def test_served_ranker_runs_the_serving_pipeline_with_the_trained_student(tmp_path: Path) -> None:
    import torch

    from dragonrec.recommender.ml import StudentConfig

    write_dataset(tmp_path)
    tiny = StudentConfig(hidden=32, n_layers=1, max_len=10, dropout=0.1, attn_dropout=0.1, id_dropout=0.0, lr=3e-3,
                         batch_size=32, max_epochs=25, eval_every=5, min_epochs=5, bf16=False, text_dim=64)  # fmt: skip
    torch.set_num_threads(1)

    results = evaluate(tmp_path, ["student", "served"], student_config=tiny, student_cache_dir=tmp_path / "students")
    again = evaluate(tmp_path, ["served"], out="again", student_config=tiny, student_cache_dir=tmp_path / "students")

    student, served = results["rankers"]["student"], results["rankers"]["served"]
    # the pipeline's answers came from the student (its label), not the trending fallback
    assert served["pipeline_labels"] == {"student:amazon_beauty-seed0": N_USERS}
    assert served["ndcg@10"] >= 0.9 * student["ndcg@10"] > 0.5
    # the category cap (3 of 10) holds on every served page: at least 4 leaf categories per list
    assert served["category_coverage@10"] >= 4.0
    # the second run loaded the cached student and served the same lists
    assert again["rankers"]["served"] == served
    assert len(list((tmp_path / "students").iterdir())) == 1


def test_bsarec_is_a_harness_baseline_trained_by_the_students_trainer(tmp_path: Path) -> None:
    import torch

    write_dataset(tmp_path)
    torch.set_num_threads(1)

    results = evaluate(tmp_path, ["popularity", "bsarec"], split="loo-valid")

    assert "bsarec" in results["rankers"], results["unavailable"]
    # users walk their category item after item: a sequence model learns the next one, popularity cannot
    assert results["rankers"]["bsarec"]["ndcg@10"] > 2 * results["rankers"]["popularity"]["ndcg@10"]
