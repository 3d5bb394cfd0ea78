"""Datasets in the common format of ../shared/data (items.jsonl + events.csv), and the leave-one-out split.

Contract shared by the harness, the baselines and the student.

    >>> dataset = load_dataset("../shared/data/amazon_beauty")
    >>> split = leave_one_out(dataset, max_users=5000, seed=0)
    >>> split.test_input(split.users[0]), split.test_target[split.users[0]]
"""

from __future__ import annotations

import csv
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from dragonrec.recommender.core.text import product_text
from dragonrec.recommender.core.types import HistoryEvent, Product, ProductId


@dataclass
class Dataset:
    name: str
    products: list[Product]  # dense ids: products[i].id == i
    item_ids: list[str]  # dense id -> the dataset's item_id
    texts: list[str]  # dense id -> embedding text (recommender.core.text.product_text)
    sequences: dict[str, list[HistoryEvent]]  # user_id -> events, oldest first, dense product ids

    @property
    def n_items(self) -> int:
        return len(self.products)


@dataclass
class Split:
    """Leave-one-out by time: last event = test target, second-to-last = validation target, rest = train."""

    dataset: Dataset
    train: dict[str, list[HistoryEvent]]  # user -> history without the last two events
    valid_target: dict[str, ProductId]
    test_target: dict[str, ProductId]
    users: list[str] = field(default_factory=list)  # evaluated users, sorted, after --max-users sampling

    def valid_input(self, user: str) -> list[HistoryEvent]:
        return self.train[user]

    def test_input(self, user: str) -> list[HistoryEvent]:
        """History used to predict the test target: train + the validation event (SASRec convention)."""
        return self.dataset.sequences[user][:-1]


def _text_or_empty(value: object) -> str:
    return "" if value is None else str(value)


def load_dataset(path: str | Path) -> Dataset:
    """Read `items.jsonl` + `events.csv` from a dataset folder (format: ../shared/data/README.md).

    Products get dense ids in file order (products[i].id == i). Each user's events are sorted by
    (timestamp, file order): Amazon timestamps are positions in the user's sequence, MovieLens ones unix seconds
    with many equal values, whose file order is kept. Events on unknown items are dropped.
    """
    path = Path(path)
    products: list[Product] = []
    item_ids: list[str] = []
    texts: list[str] = []
    with open(path / "items.jsonl", encoding="utf-8") as handle:
        for line in handle:
            if not line.strip():
                continue
            row = json.loads(line)
            fields = {key: _text_or_empty(row.get(key)) for key in ("title", "brand", "category", "description")}
            products.append(
                Product(id=len(products), title=fields["title"], category=fields["category"], brand=fields["brand"])
            )
            item_ids.append(str(row["item_id"]))
            texts.append(
                product_text(
                    title=fields["title"],
                    brand=fields["brand"],
                    category=fields["category"],
                    description=fields["description"],
                )
            )
    dense = {item_id: index for index, item_id in enumerate(item_ids)}
    rows: dict[str, list[tuple[float, int, int, str]]] = defaultdict(list)
    with open(path / "events.csv", encoding="utf-8", newline="") as handle:
        for line_no, row in enumerate(csv.DictReader(handle)):
            product_id = dense.get(row["item_id"])
            if product_id is not None:
                rows[row["user_id"]].append((float(row["timestamp"]), line_no, product_id, row["event_type"]))
    sequences = {
        user: [HistoryEvent(product_id=pid, event_type=kind, timestamp=ts) for ts, _, pid, kind in sorted(events)]
        for user, events in rows.items()
    }
    return Dataset(name=path.name, products=products, item_ids=item_ids, texts=texts, sequences=sequences)


MIN_EVENTS = 3  # one training event, one validation target, one test target


def leave_one_out(dataset: Dataset, *, max_users: int | None = None, seed: int = 0) -> Split:
    """Leave-one-out by time for every user with >= 3 events; `max_users` evaluates a seeded random sample of
    them (training still uses every user's train part, as a deployed model would)."""
    train: dict[str, list[HistoryEvent]] = {}
    valid: dict[str, ProductId] = {}
    test: dict[str, ProductId] = {}
    for user, events in dataset.sequences.items():
        if len(events) < MIN_EVENTS:
            continue
        train[user] = events[:-2]
        valid[user] = events[-2].product_id
        test[user] = events[-1].product_id
    users = sorted(train)
    if max_users is not None and max_users < len(users):
        chosen = np.random.default_rng(seed).choice(len(users), size=max_users, replace=False)
        users = [users[i] for i in sorted(chosen)]
    return Split(dataset=dataset, train=train, valid_target=valid, test_target=test, users=users)
