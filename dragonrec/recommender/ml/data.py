"""Turning (product, event type) sequences into padded tensors: event vocabulary, training windows, batches.

Product ids here are DENSE ids (0..n_items-1, the row of the text-vector matrix); the model's item rows are
dense id + 1 (row 0 = padding). `Student` maps shop product ids to dense ids.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from dragonrec.recommender.core.types import EVENT_TYPES, HistoryEvent

# Index 0 = padding, 1 = an event type this model version does not know (a shop's custom event).
EVENT_VOCAB: tuple[str, ...] = ("<pad>", "<unk>", *EVENT_TYPES)
_EVENT_INDEX = {e: i for i, e in enumerate(EVENT_VOCAB)}
UNKNOWN_EVENT = 1

Step = tuple[int, str]  # (dense product id, event type)


@dataclass(frozen=True, slots=True)
class TeacherLabel:
    """One listwise teacher judgment: for this history, how good (0-10) is each candidate, and how sure is the
    teacher (0-1). Plain data: the LLM teacher, cached judgments or the simulated teacher all produce it.
    Ids are shop product ids at the Student level and dense ids inside train_student."""

    history: list[HistoryEvent]
    candidate_ids: list[int]
    scores: list[float]
    confidence: float = 1.0

    def __post_init__(self) -> None:
        if len(self.candidate_ids) != len(self.scores):
            raise ValueError("one teacher score per candidate")


def event_index(event_type: str) -> int:
    return _EVENT_INDEX.get(event_type, UNKNOWN_EVENT)


def as_steps(seq: Iterable[HistoryEvent | Step]) -> list[Step]:
    """Accept HistoryEvent lists or (product, event type) pairs."""
    out: list[Step] = []
    for s in seq:
        if isinstance(s, HistoryEvent):
            out.append((s.product_id, s.event_type))
        else:
            out.append((int(s[0]), str(s[1])))
    return out


@dataclass
class TrainWindows:
    """Next-step training examples, one row per window: inputs s[:-1], targets s[1:], both of length <= max_len."""

    items: list[np.ndarray]  # model rows (dense + 1)
    events: list[np.ndarray]
    targets: list[np.ndarray]  # dense ids of the next product
    target_events: list[np.ndarray]  # event index of the next step (for per-target loss weights)

    def __len__(self) -> int:
        return len(self.items)

    @property
    def n_targets(self) -> int:
        return int(sum(len(t) for t in self.targets))


def make_windows(sequences: Iterable[Sequence[Step]], *, max_len: int) -> TrainWindows:
    """Every position of every sequence predicts the next step (causal, SASRec-style). Sequences longer than
    max_len + 1 are cut into windows from the most recent end backwards (overlapping by one step), so no target
    is dropped."""
    w = TrainWindows([], [], [], [])
    for seq in sequences:
        if len(seq) < 2:
            continue
        items = np.array([p + 1 for p, _ in seq], dtype=np.int64)
        events = np.array([event_index(e) for _, e in seq], dtype=np.int64)
        end = len(seq)
        while end >= 2:
            start = max(0, end - max_len - 1)
            w.items.append(items[start : end - 1])
            w.events.append(events[start : end - 1])
            w.targets.append(items[start + 1 : end] - 1)
            w.target_events.append(events[start + 1 : end])
            end = start + 1
    return w


def pad_right(rows: Sequence[np.ndarray], *, fill: int = 0) -> torch.Tensor:
    L = max(len(r) for r in rows)
    out = np.full((len(rows), L), fill, dtype=np.int64)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return torch.from_numpy(out)


def encode_histories(histories: Sequence[Sequence[Step]], *, max_len: int) -> tuple[torch.Tensor, ...]:
    """(items, events, lengths) for inference: the last max_len steps of each history, right-padded. An empty
    history becomes one padding step (its user vector then comes from position embeddings alone)."""
    items, events = [], []
    for h in histories:
        h = list(h)[-max_len:]
        items.append(np.array([p + 1 for p, _ in h] or [0], dtype=np.int64))
        events.append(np.array([event_index(e) for _, e in h] or [0], dtype=np.int64))
    lengths = torch.tensor([len(r) for r in items], dtype=torch.long)
    return pad_right(items), pad_right(events), lengths


def length_bucketed_batches(lengths: np.ndarray, batch_size: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
    """Shuffled batches of similar-length rows (less padding, so less transformer work), in random order.

    Rows are shuffled, then sorted by length inside chunks of 50 batches, so batches stay random from epoch to
    epoch while padding stays small."""
    idx = rng.permutation(len(lengths))
    chunk = batch_size * 50
    batches: list[np.ndarray] = []
    for s in range(0, len(idx), chunk):
        part = idx[s : s + chunk]
        part = part[np.argsort(lengths[part], kind="stable")]
        batches.extend(part[i : i + batch_size] for i in range(0, len(part), batch_size))
    for b in rng.permutation(len(batches)):
        yield batches[b]
