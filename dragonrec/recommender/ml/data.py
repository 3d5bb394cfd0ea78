"""Turning (product, event type) sequences into padded tensors: event vocabulary, training windows, batches; and
the training sequences themselves, in memory or streamed from a columnar file in chunks.

Product ids here are DENSE ids (0..n_items-1, the row of the text-vector matrix); the model's item rows are
dense id + 1 (row 0 = padding). `Student` maps shop product ids to dense ids.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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
    return windows_from_arrays((step_arrays(seq) for seq in sequences), max_len=max_len)


def step_arrays(seq: Sequence[Step]) -> tuple[np.ndarray, np.ndarray]:
    """(dense product ids, event indices) of one sequence, as int64 arrays."""
    return (
        np.fromiter((p for p, _ in seq), dtype=np.int64, count=len(seq)),
        np.fromiter((event_index(e) for _, e in seq), dtype=np.int64, count=len(seq)),
    )


def n_windows(length: int, max_len: int) -> int:
    """How many windows make_windows cuts from a sequence of `length` steps."""
    return math.ceil((length - 1) / max_len) if length >= 2 else 0


def windows_from_arrays(sequences: Iterable[tuple[np.ndarray, np.ndarray]], *, max_len: int) -> TrainWindows:
    """make_windows over (dense ids, event indices) array pairs."""
    w = TrainWindows([], [], [], [])
    for dense, event_idx in sequences:
        if len(dense) < 2:
            continue
        items = np.asarray(dense, dtype=np.int64) + 1
        events = np.asarray(event_idx, dtype=np.int64)
        end = len(items)
        while end >= 2:
            start = max(0, end - max_len - 1)
            w.items.append(items[start : end - 1])
            w.events.append(events[start : end - 1])
            w.targets.append(items[start + 1 : end] - 1)
            w.target_events.append(events[start + 1 : end])
            end = start + 1
    return w


def prefix_windows_from_arrays(sequences: Iterable[tuple[np.ndarray, np.ndarray]], *, max_len: int) -> TrainWindows:
    """One example per next-item target, as SASRec's and BSARec's own trainers build them: the last `max_len` steps
    before the target are the input, the target alone is the example's (StudentConfig.prefix_targets; the loss reads
    each row's last position). A sequence of n steps gives n - 1 rows where make_windows gives one."""
    w = TrainWindows([], [], [], [])
    for dense, event_idx in sequences:
        items = np.asarray(dense, dtype=np.int64) + 1
        events = np.asarray(event_idx, dtype=np.int64)
        for end in range(1, len(items)):
            start = max(0, end - max_len)
            w.items.append(items[start:end])
            w.events.append(events[start:end])
            w.targets.append(items[end : end + 1] - 1)
            w.target_events.append(events[end : end + 1])
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


# ----------------------------------------------------------------------------------------------- training data


class SequenceData:
    """Training sequences, handed to train_student one chunk at a time (each chunk a list of (dense ids, event
    indices) pairs). Training holds one chunk's windows at a time, so its memory follows the chunk, not the history."""

    def __len__(self) -> int:
        raise NotImplementedError

    def chunks(self, rng: np.random.Generator) -> Iterator[list[tuple[np.ndarray, np.ndarray]]]:
        """The whole data set once (one epoch), chunk by chunk; the order of the chunks may be drawn from `rng`."""
        raise NotImplementedError

    def n_windows(self, max_len: int) -> int:
        """Training windows in one epoch (make_windows's count): the steps per epoch, before reading the data."""
        raise NotImplementedError

    def target_counts(self, n_items: int) -> np.ndarray:
        """(n_items,) how often each dense id is a next-item target (every step but a sequence's first)."""
        raise NotImplementedError


class InMemorySequences(SequenceData):
    """Sequences held in memory: one chunk, the whole history (what a shop-sized or Beauty-sized data set needs)."""

    def __init__(self, sequences: Iterable[Sequence[Step]]) -> None:
        self.arrays = [step_arrays(seq) for seq in sequences]

    def __len__(self) -> int:
        return len(self.arrays)

    def chunks(self, rng: np.random.Generator) -> Iterator[list[tuple[np.ndarray, np.ndarray]]]:
        yield self.arrays  # draws nothing from rng: the batches alone do, as before streaming existed

    def n_windows(self, max_len: int) -> int:
        return sum(n_windows(len(d), max_len) for d, _ in self.arrays)

    def target_counts(self, n_items: int) -> np.ndarray:
        targets = [d[1:] for d, _ in self.arrays if len(d) >= 2]
        flat = np.concatenate(targets) if targets else np.zeros(0, dtype=np.int64)
        return np.bincount(flat, minlength=n_items)[:n_items]


PARQUET_COLUMNS = ("items", "events")  # list<int32> dense product ids, list<int8> event indices (EVENT_VOCAB)


def write_sequences(
    path: str | Path,
    sequences: Iterable[Sequence[Step] | tuple[np.ndarray, np.ndarray]],
    *,
    rows_per_chunk: int = 20_000,
) -> Path:
    """Write training sequences to a Parquet file, `rows_per_chunk` sequences per row group, as they arrive (a
    generator reading PostgreSQL in chunks never holds the whole history). Each row group is a training chunk.

    rows_per_chunk: 20k sequences of ~10 steps is ~2 MB of arrays and ~25k windows: a chunk's windows take less
    memory than one training step's activations, and 80 batches of 256 between chunk switches keep the shuffle
    mixed (batches are drawn in random order within a chunk, chunks in random order within an epoch)."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    schema = pa.schema(
        [("items", pa.list_(pa.int32())), ("events", pa.list_(pa.int8()))],
        metadata={b"event_vocab": ",".join(EVENT_VOCAB).encode()},
    )
    path = Path(path)
    buffer: list[tuple[np.ndarray, np.ndarray]] = []

    def flush(writer: pq.ParquetWriter) -> None:
        items = pa.array([d.astype(np.int32) for d, _ in buffer], type=pa.list_(pa.int32()))
        events = pa.array([e.astype(np.int8) for _, e in buffer], type=pa.list_(pa.int8()))
        writer.write_table(pa.Table.from_arrays([items, events], schema=schema), row_group_size=len(buffer))
        buffer.clear()

    with pq.ParquetWriter(path, schema) as writer:
        for seq in sequences:
            if isinstance(seq, tuple) and isinstance(seq[0], np.ndarray):
                buffer.append((np.asarray(seq[0]), np.asarray(seq[1])))
            else:
                buffer.append(step_arrays(seq))  # type: ignore[arg-type]  # a Sequence[Step], not an array pair
            if len(buffer) >= rows_per_chunk:
                flush(writer)
        if buffer:
            flush(writer)
    return path


def sequences_from_sorted_rows(
    batches: Iterable[tuple[np.ndarray, np.ndarray, np.ndarray]],
) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Per shopper, (dense ids, event indices), from event rows sorted by (shopper, time) and read in batches of
    (shopper keys, dense ids, event indices) arrays: what a `COPY (... ORDER BY shopper, timestamp)` gives when read
    a block at a time. A shopper whose rows straddle two batches comes out once, whole; nothing but the current
    batch and one unfinished shopper is held, so write_sequences(path, sequences_from_sorted_rows(...)) turns the
    event table into a training file in memory that follows the batch, not the history."""
    carry: tuple[Any, np.ndarray, np.ndarray] | None = None  # the last shopper of the previous batch, unfinished
    for keys, dense, events in batches:
        if not len(keys):
            continue
        keys, dense, events = np.asarray(keys), np.asarray(dense, dtype=np.int64), np.asarray(events, dtype=np.int64)
        if carry is not None:
            same = np.flatnonzero(keys != carry[0])
            head = int(same[0]) if len(same) else len(keys)  # rows still belonging to the carried shopper
            carry = (carry[0], np.concatenate([carry[1], dense[:head]]), np.concatenate([carry[2], events[:head]]))
            if head == len(keys):
                continue
            yield carry[1], carry[2]
            keys, dense, events = keys[head:], dense[head:], events[head:]
        starts = np.concatenate([[0], np.flatnonzero(keys[1:] != keys[:-1]) + 1])
        for a, b in itertools.pairwise(starts):
            yield dense[a:b], events[a:b]
        carry = (keys[starts[-1]], dense[starts[-1] :], events[starts[-1] :])
    if carry is not None:
        yield carry[1], carry[2]


class ParquetSequences(SequenceData):
    """Training sequences streamed from a Parquet file written by write_sequences, one row group per chunk (pyarrow
    reads a row group and its list columns as flat arrays: no per-step Python objects)."""

    def __init__(self, path: str | Path) -> None:
        import pyarrow.parquet as pq

        self.path = Path(path)
        meta = pq.ParquetFile(self.path).schema_arrow.metadata or {}
        vocab = meta.get(b"event_vocab", b"").decode()
        if vocab != ",".join(EVENT_VOCAB):
            raise ValueError(f"{self.path} was written with another event vocabulary")
        self._lengths: np.ndarray | None = None

    def _file(self) -> Any:  # pyarrow.parquet.ParquetFile, imported lazily
        import pyarrow.parquet as pq

        return pq.ParquetFile(self.path, memory_map=True)

    def __len__(self) -> int:
        return int(self._file().metadata.num_rows)

    def _read(self, group: int, columns: Sequence[str]) -> list[tuple[np.ndarray, ...]]:
        table = self._file().read_row_group(group, columns=list(columns))
        out = []
        for name in columns:
            col = table.column(name).combine_chunks()
            offsets = col.offsets.to_numpy()
            flat = col.values.to_numpy().astype(np.int64)
            out.append([flat[offsets[i] : offsets[i + 1]] for i in range(len(col))])
        return list(zip(*out, strict=True))

    def chunks(self, rng: np.random.Generator) -> Iterator[list[tuple[np.ndarray, np.ndarray]]]:
        for group in rng.permutation(self._file().num_row_groups):
            yield [(d, e) for d, e in self._read(int(group), PARQUET_COLUMNS)]

    def lengths(self) -> np.ndarray:
        """Steps per sequence, file order (one pass over the `items` offsets, group by group)."""
        if self._lengths is None:
            f = self._file()
            parts = []
            for group in range(f.num_row_groups):
                col = f.read_row_group(group, columns=["items"]).column("items").combine_chunks()
                parts.append(np.diff(col.offsets.to_numpy()))
            self._lengths = np.concatenate(parts) if parts else np.zeros(0, dtype=np.int64)
        return self._lengths

    def n_windows(self, max_len: int) -> int:
        lengths = self.lengths()
        return int(np.where(lengths >= 2, np.ceil((lengths - 1) / max_len), 0).sum())

    def target_counts(self, n_items: int) -> np.ndarray:
        counts = np.zeros(n_items, dtype=np.int64)
        f = self._file()
        for group in range(f.num_row_groups):
            col = f.read_row_group(group, columns=["items"]).column("items").combine_chunks()
            offsets = col.offsets.to_numpy()
            flat = col.values.to_numpy().astype(np.int64)
            first = np.zeros(len(flat), dtype=bool)
            first[offsets[:-1][np.diff(offsets) > 0]] = True  # a sequence's first step is nobody's target
            counts += np.bincount(flat[~first], minlength=n_items)[:n_items]
        return counts
