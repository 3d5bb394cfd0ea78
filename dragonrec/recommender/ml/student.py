"""`Student`: a trained student model plus its item index, as one saveable/loadable artifact.

    >>> student = Student.fit(sequences=seqs, product_ids=ids, text_vectors=vecs, valid=valid)   # or train_student
    >>> student.save("var/models/student-v3")
    >>> student = Student.load("var/models/student-v3")
    >>> student.score(history, [12, 40, 7])          # one float per candidate, -inf for unknown products
    >>> student.user_vector(history)                 # (hidden,) query for an ANN index of student.item_vectors()
    >>> student.add_items([9001], new_text_vectors)  # products created after training: scored from their text
    >>> student.retrieve(history, k=200)             # (product ids, scores): its top items, from its item index
    >>> student.set_inactive([17, 42])               # deactivated products: never retrieved

The artifact's files on disk: ml/artifact.py.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch

from dragonrec.recommender.core.caching import TtlMemo
from dragonrec.recommender.core.types import HistoryEvent, ProductId
from dragonrec.recommender.ml.ann import ItemIndex, RetrievalConfig
from dragonrec.recommender.ml.artifact import artifact_read, artifact_write, training_summary
from dragonrec.recommender.ml.data import Step, TeacherLabel, encode_histories, event_index
from dragonrec.recommender.ml.ids import DenseIds
from dragonrec.recommender.ml.model import StudentConfig, StudentModel
from dragonrec.recommender.ml.train import TrainResult, train_student

log = logging.getLogger(__name__)
RECENT_USERS = 4096  # user vectors memoised per student (a 128-float vector and its history: about 1 KB each)


def _user_memo() -> TtlMemo[tuple[Step, ...], np.ndarray]:
    """The latest RECENT_USERS user vectors by history: deterministic for the weights, so they never expire."""
    return TtlMemo(ttl_s=float("inf"), max_entries=RECENT_USERS)


class Student:
    """A trained student and the mapping between shop product ids and the model's dense item ids."""

    def __init__(
        self,
        model: StudentModel,
        product_ids: Sequence[ProductId],
        *,
        skus: Sequence[str] | None = None,
        version: str = "",
        meta: dict[str, Any] | None = None,
    ) -> None:
        if len(product_ids) != model.n_items:
            raise ValueError(f"{len(product_ids)} product ids for {model.n_items} model items")
        self.model = model.eval()
        self.product_ids: list[ProductId] = [int(p) for p in product_ids]
        self.skus: list[str] | None = list(skus) if skus is not None else None
        self.version = version
        self.meta = meta or {}
        # training interactions per dense item (what its learned id vector rests on); None for old artifacts
        self.train_counts: np.ndarray | None = None
        # the user vectors of the latest histories (a shopper's lists on one page, and their next page before a new
        # event, share one forward pass); bounded, shared by a serving process's threads
        self._recent_users = _user_memo()
        # user vectors computed ahead in batches (remember_user_vectors): offline loops that serve many histories
        self._remembered: dict[tuple[Step, ...], np.ndarray] = {}
        # retrieval over the item vectors (ml/ann.py), built or loaded at first use; `retrieval` says how
        self.retrieval = RetrievalConfig()
        self._item_index: ItemIndex | None = None
        self._index_dir: Path | None = None  # the artifact it was loaded from: a saved HNSW graph is read from there
        self._inactive: set[ProductId] = set()
        self._reindex()
        self.model.freeze_items()

    # ----- ids -----
    def _reindex(self) -> None:
        self._ids = DenseIds(self.product_ids)
        self.dense_of = self._ids.dense_of
        self._pids = self._ids.pids

    @property
    def n_items(self) -> int:
        return len(self.product_ids)

    @property
    def config(self) -> StudentConfig:
        return self.model.cfg

    def dense_ids(self, product_ids: Sequence[ProductId] | np.ndarray) -> np.ndarray:
        """Dense id of each product id, -1 where the model does not know it."""
        return self._ids.dense(product_ids)

    def _steps(self, history: Iterable[HistoryEvent | Step]) -> list[Step]:
        """History as dense steps; products the model does not know are skipped (they carry no id and, here, no
        text vector — call add_items first to make them count)."""
        return self._ids.steps(history)

    def item_support(self, product_ids: Sequence[ProductId] | np.ndarray) -> np.ndarray:
        """Training interactions behind each product's learned vector: 0 for products added after training (or
        unknown); None-safe: an artifact without counts reports every known product as well supported."""
        dense = self.dense_ids(product_ids)
        if self.train_counts is None:
            return np.where(dense >= 0, np.inf, 0.0)
        counts = np.concatenate([self.train_counts, np.zeros(max(0, self.n_items - len(self.train_counts)))])
        return np.where(dense >= 0, counts[dense.clip(0)], 0.0)

    # ----- scoring -----
    @torch.inference_mode()
    def user_vectors(self, histories: Sequence[Iterable[HistoryEvent | Step]]) -> np.ndarray:
        """(len(histories), hidden) float32: each history's last hidden state, in one batched forward pass."""
        if not histories:
            return np.zeros((0, self.config.hidden), dtype=np.float32)
        items, events, lengths = encode_histories([self._steps(h) for h in histories], max_len=self.config.max_len)
        return self.model.user_vectors(items, events, lengths).numpy().astype(np.float32, copy=False)

    def remember_user_vectors(self, histories: Sequence[Iterable[HistoryEvent | Step]], batch: int = 512) -> None:
        """Compute these histories' user vectors in batched forward passes, so that `user_vector` answers them from a
        table: an offline loop (the evaluation harness, the closed-loop simulator) that serves thousands of
        histories one request at a time through the pipeline pays one batched pass instead of one per request.
        Same numbers as the per-request pass up to float rounding. Forgotten when the weights or items change."""
        histories = [list(h) for h in histories]
        for start in range(0, len(histories), batch):
            chunk = histories[start : start + batch]
            for history, vector in zip(chunk, self.user_vectors(chunk), strict=True):
                vector.setflags(write=False)
                self._remembered[tuple(self._steps(history))[-self.config.max_len :]] = vector

    def forget_user_vectors(self) -> None:
        self._recent_users.clear()
        self._remembered = {}

    def user_vector(self, history: Iterable[HistoryEvent | Step]) -> np.ndarray:
        """(hidden,) float32: the last hidden state. score(product) = user_vector @ item_vector(product).

        The latest RECENT_USERS answers are memoised: one request asks twice (the student candidate source, then
        the ranker), a page asks for several lists, and the forward pass is most of the student's serving cost."""
        history = list(history)
        steps = tuple(self._steps(history))[-self.config.max_len :]
        return self._recent_users.get(steps, lambda: self._user_vector(history, steps))

    def _user_vector(self, history: list[HistoryEvent | Step], steps: tuple[Step, ...]) -> np.ndarray:
        remembered = self._remembered.get(steps)
        if remembered is not None:
            return remembered
        if steps and self.model.has_lean_forward:
            # one history: the lean forward (model.last_hidden), a quarter of the generic one's CPU per request
            items = torch.tensor([d + 1 for d, _ in steps], dtype=torch.long)
            events = torch.tensor([event_index(e) for _, e in steps], dtype=torch.long)
            vector = self.model.last_hidden(items, events).numpy().astype(np.float32, copy=False)
        else:
            vector = self.user_vectors([history])[0]
        vector.setflags(write=False)
        return vector

    @torch.inference_mode()
    def item_vectors(self) -> np.ndarray:
        """(n_items, hidden) float32 in dense-id order: what to put in an ANN index for user-vector retrieval
        (inner-product metric)."""
        return self.model.item_matrix()[1:].numpy().astype(np.float32, copy=True)

    @torch.inference_mode()
    def candidate_matrix(
        self, candidate_ids: Sequence[ProductId], *, text_vectors: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray]:
        """((C, hidden) item vectors, (C,) bool scoreable) for candidate product ids. Unknown products use their
        projected text vector when `text_vectors` (C, text_dim) has a non-zero row for them, else are unscoreable."""
        dense = self.dense_ids(candidate_ids)
        M = self.model.item_matrix()
        out = M[torch.from_numpy(dense + 1)].numpy().astype(np.float32, copy=True)  # -1 -> row 0 (zeros)
        ok = dense >= 0
        if text_vectors is not None and not ok.all():
            tv = np.asarray(text_vectors, dtype=np.float32)
            new = np.flatnonzero(~ok & (np.abs(tv).sum(1) > 0))
            if len(new):
                out[new] = self.model.text_proj(torch.from_numpy(tv[new])).numpy()
                ok[new] = True
        return out, ok

    def score_matrix(
        self,
        histories: Sequence[Iterable[HistoryEvent | Step]],
        candidate_ids: Sequence[ProductId],
        *,
        text_vectors: np.ndarray | None = None,
    ) -> np.ndarray:
        """(len(histories), C) scores; -inf for candidates the student cannot score (see candidate_matrix)."""
        # one history (serving): the memoised vector the candidate source already computed for this request
        U = self.user_vector(histories[0])[None, :] if len(histories) == 1 else self.user_vectors(histories)
        C, ok = self.candidate_matrix(candidate_ids, text_vectors=text_vectors)
        s: np.ndarray = U @ C.T
        s[:, ~ok] = -np.inf
        return s

    def score(
        self,
        history: Iterable[HistoryEvent | Step],
        candidate_ids: Sequence[ProductId],
        *,
        text_vectors: np.ndarray | None = None,
    ) -> np.ndarray:
        """One float per candidate (higher is better). Unknown products score -inf, unless `text_vectors`
        (len(candidate_ids), text_dim) is given: then an unknown product with a non-zero row is scored from its
        projected text vector alone, as if it had been added with add_items."""
        row: np.ndarray = self.score_matrix([history], candidate_ids, text_vectors=text_vectors)[0]
        return row

    @torch.inference_mode()
    def score_all(self, history: Iterable[HistoryEvent | Step]) -> np.ndarray:
        """(n_items,) scores in dense-id order (self.product_ids[i] is the product of entry i)."""
        u = torch.from_numpy(np.array(self.user_vector(history)))  # a copy: the memoised vector is read-only
        return (self.model.item_matrix()[1:] @ u).numpy()

    # ----- retrieval -----
    def item_index(self) -> ItemIndex:
        """The index over `item_vectors()`: loaded from the artifact when it holds one for these items, else built
        (exact below `retrieval.exact_max_items`, HNSW above); kept in step by add_items and set_inactive."""
        if self._item_index is None or self._item_index.config != self.retrieval:
            if self._index_dir is not None:
                index = ItemIndex.load(self._index_dir, self.item_vectors(), config=self.retrieval)
            else:
                index = ItemIndex.build(self.item_vectors(), config=self.retrieval)
            index.hide(self.dense_ids(sorted(self._inactive)))
            self._item_index = index
        return self._item_index

    def reset_item_index(self) -> None:
        """Forget the index (the item vectors changed: fine-tuning); the next search or save builds it anew."""
        self._item_index = None
        self._index_dir = None

    def retrieve(self, history: Iterable[HistoryEvent | Step], *, k: int) -> tuple[list[ProductId], np.ndarray]:
        """(product ids, scores) of the k items the student scores highest for this history, best first, from the
        item index (approximate above the exact-search size); inactive products never come back."""
        dense, scores = self.item_index().search(self.user_vector(history), k)
        return self._pids[dense].tolist(), scores

    def set_inactive(self, product_ids: Iterable[ProductId]) -> None:
        """Exactly these products are left out of retrieval from now on (the deactivated part of the catalogue);
        products not in the set are shown again. Saved with the artifact."""
        inactive = {int(p) for p in product_ids}
        if inactive == self._inactive:
            return
        if self._item_index is not None:
            self._item_index.show(self.dense_ids(sorted(self._inactive - inactive)))
            self._item_index.hide(self.dense_ids(sorted(inactive)))
        self._inactive = inactive

    def hide(self, product_ids: Iterable[ProductId]) -> None:
        """Add products to the inactive set (serving found them deactivated)."""
        self.set_inactive(self._inactive | {int(p) for p in product_ids})

    @property
    def inactive(self) -> set[ProductId]:
        return set(self._inactive)

    # ----- catalogue growth -----
    def add_items(
        self, product_ids: Sequence[ProductId], text_vectors: np.ndarray, *, skus: Sequence[str] | None = None
    ) -> None:
        """Make products created after training scoreable (zero id embedding + their projected text vector)
        and usable in histories. Already known ids are ignored."""
        self.forget_user_vectors()  # the item tables change under the memoised user vectors
        tv = np.asarray(text_vectors, dtype=np.float32).reshape(len(product_ids), -1)
        new = [i for i, p in enumerate(product_ids) if int(p) not in self.dense_of]
        if not new:
            return
        n_before = self.n_items
        self.model.add_items(tv[new])
        self.product_ids.extend(int(product_ids[i]) for i in new)
        if self.skus is not None:
            self.skus.extend((skus[i] if skus is not None else "") for i in new)
        self._reindex()
        self.model.freeze_items()
        if self._item_index is not None:
            # the new rows only: an HNSW graph grows in place instead of being rebuilt for the whole catalogue
            self._item_index.add(self.item_vectors()[n_before:])

    # ----- training -----
    @classmethod
    def fit(
        cls,
        *,
        sequences: Iterable[Sequence[HistoryEvent]],
        product_ids: Sequence[ProductId],
        text_vectors: np.ndarray,
        config: StudentConfig | None = None,
        valid: Sequence[tuple[Sequence[HistoryEvent], ProductId]] | None = None,
        teacher_labels: Sequence[TeacherLabel] = (),
        skus: Sequence[str] | None = None,
        version: str = "",
        seed: int = 0,
        progress: bool = False,
    ) -> Student:
        """Train on shop product ids: `product_ids[i]` is the product whose text vector is `text_vectors[i]`.
        Events and teacher candidates on products outside `product_ids` are dropped."""
        ids = DenseIds(product_ids)  # duplicate ids fail here, before any training
        seqs, val, labels = ids.training_data(sequences, valid or (), teacher_labels)
        result = train_student(
            sequences=seqs,
            n_items=len(product_ids),
            item_text_vectors=text_vectors,
            config=config,
            valid=val or None,
            teacher_labels=labels,
            seed=seed,
            progress=progress,
        )
        student = cls.from_result(result, product_ids, skus=skus, version=version)
        trained_on = [d for seq in seqs for d, _ in seq]
        student.train_counts = np.bincount(trained_on, minlength=len(product_ids)).astype(np.float64)
        return student

    @classmethod
    def from_result(
        cls,
        result: TrainResult,
        product_ids: Sequence[ProductId],
        *,
        skus: Sequence[str] | None = None,
        version: str = "",
    ) -> Student:
        return cls(result.model, product_ids, skus=skus, version=version, meta=training_summary(result))

    # ----- persistence -----
    def save(self, directory: str | Path) -> Path:
        d = artifact_write(
            directory,
            model=self.model,
            product_ids=self.product_ids,
            skus=self.skus,
            train_counts=self.train_counts,
            version=self.version,
            meta=self.meta,
        )
        # the retrieval index travels with the version: serving processes load the graph instead of building it
        self.item_index().save(d)
        return d

    @classmethod
    def load(cls, directory: str | Path) -> Student:
        d = Path(directory)
        saved = artifact_read(d)
        student = cls(saved.model, saved.product_ids, skus=saved.skus, version=saved.version, meta=saved.meta)
        student.train_counts = saved.train_counts
        student._index_dir = d
        hidden = d / "ann_hidden.npy"
        if hidden.exists():
            student._inactive = {student.product_ids[int(i)] for i in np.load(hidden) if 0 <= int(i) < student.n_items}
        return student
