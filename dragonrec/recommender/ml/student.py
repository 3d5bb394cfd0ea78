"""`Student`: a trained student model plus its item index, as one saveable/loadable artifact.

    >>> student = Student.fit(sequences=seqs, product_ids=ids, text_vectors=vecs, valid=valid)   # or train_student
    >>> student.save("var/models/student-v3")
    >>> student = Student.load("var/models/student-v3")
    >>> student.score(history, [12, 40, 7])          # one float per candidate, -inf for unknown products
    >>> student.user_vector(history)                 # (hidden,) query for an ANN index of student.item_vectors()
    >>> student.add_items([9001], new_text_vectors)  # products created after training: scored from their text
    >>> student.retrieve(history, k=200)             # (product ids, scores): its top items, from its item index
    >>> student.set_inactive([17, 42])               # deactivated products: never retrieved

Artifact directory (everything needed to score, nothing else):
    backbone/                  GPT-2 backbone, transformers save_pretrained (config.json + model.safetensors)
    item_tables.safetensors    id embeddings (n_items + 1 rows, row 0 = padding), text projection weight/bias,
                               event-type embeddings
    text_vectors.npy           the frozen (n_items, 384) text vectors the model was trained with (dense-id order)
    item_index.json            dense id -> shop product id (and optional sku), event vocabulary
    student.json               StudentConfig, format version, model version, training summary
    ann_index.faiss            the HNSW graph over the item vectors (ml/ann.py), when the catalogue is above the
                               exact-search size; missing or stale: rebuilt at first use
    ann_hidden.npy             dense ids of products left out of retrieval (deactivated when the version was made)
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from transformers import GPT2Model

from dragonrec.recommender.core.types import HistoryEvent, ProductId
from dragonrec.recommender.ml.ann import ItemIndex, RetrievalConfig
from dragonrec.recommender.ml.data import EVENT_VOCAB, Step, TeacherLabel, encode_histories, event_index
from dragonrec.recommender.ml.model import StudentConfig, StudentModel
from dragonrec.recommender.ml.train import TrainResult, train_student

log = logging.getLogger(__name__)

FORMAT_VERSION = 1


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
        self._last_user: tuple[tuple[Step, ...], np.ndarray] | None = None
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
        self.dense_of: dict[ProductId, int] = {p: i for i, p in enumerate(self.product_ids)}
        if len(self.dense_of) != len(self.product_ids):
            raise ValueError("duplicate product ids in the item index")
        # Sorted-array lookup: maps a whole catalogue of ids to dense ids in one vectorised call.
        pids = np.asarray(self.product_ids, dtype=np.int64)
        self._pids = pids  # dense id -> product id, as an array: retrieval maps hundreds of ids per request
        self._order = np.argsort(pids, kind="stable")
        self._sorted = pids[self._order]

    @property
    def n_items(self) -> int:
        return len(self.product_ids)

    @property
    def config(self) -> StudentConfig:
        return self.model.cfg

    def dense_ids(self, product_ids: Sequence[ProductId] | np.ndarray) -> np.ndarray:
        """Dense id of each product id, -1 where the model does not know it."""
        q = np.asarray(product_ids, dtype=np.int64).reshape(-1)
        if not len(self._sorted) or not len(q):
            return np.full(len(q), -1, dtype=np.int64)
        pos = np.searchsorted(self._sorted, q).clip(0, len(self._sorted) - 1)
        found = self._sorted[pos] == q
        return np.where(found, self._order[pos], -1)

    def _steps(self, history: Iterable[HistoryEvent | Step]) -> list[Step]:
        """History as dense steps; products the model does not know are skipped (they carry no id and, here, no
        text vector — call add_items first to make them count)."""
        steps: list[Step] = []
        for ev in history:
            pid, et = (ev.product_id, ev.event_type) if isinstance(ev, HistoryEvent) else (ev[0], ev[1])
            d = self.dense_of.get(int(pid))
            if d is not None:
                steps.append((d, et))
        return steps

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
        self._last_user = None
        self._remembered = {}

    def user_vector(self, history: Iterable[HistoryEvent | Step]) -> np.ndarray:
        """(hidden,) float32: the last hidden state. score(product) = user_vector @ item_vector(product).

        The last answer is memoised: one request asks twice (the student candidate source, then the ranker), and
        the forward pass is most of the student's serving cost."""
        history = list(history)
        steps = tuple(self._steps(history))[-self.config.max_len :]
        last = self._last_user
        if last is not None and last[0] == steps:
            return last[1]
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
        self._last_user = (steps, vector)
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
        tmp = cls.__new__(cls)
        tmp.product_ids = [int(p) for p in product_ids]
        tmp._reindex()
        seqs = [tmp._steps(s) for s in sequences]
        val = []
        for h, t in valid or []:
            d = tmp.dense_of.get(int(t))
            if d is not None:
                val.append((tmp._steps(h), d))
        labels = []
        for lb in teacher_labels:
            keep = [
                (tmp.dense_of[int(c)], s)
                for c, s in zip(lb.candidate_ids, lb.scores, strict=True)
                if int(c) in tmp.dense_of
            ]
            if keep:
                labels.append(
                    TeacherLabel(
                        history=[HistoryEvent(p, e, float(i)) for i, (p, e) in enumerate(tmp._steps(lb.history))],
                        candidate_ids=[c for c, _ in keep],
                        scores=[s for _, s in keep],
                        confidence=lb.confidence,
                    )
                )
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
        meta = {
            "best_valid_ndcg10": result.best_valid_ndcg10,
            "best_epoch": result.best_epoch,
            "train_seconds": round(result.train_seconds, 1),
            "stopped_because": result.stopped_because,
            # the training curve the registry stores on the version (ModelVersion.training_log)
            "history": [
                {"epoch": h.epoch, "loss": h.loss, "valid_ndcg10": (h.valid or {}).get("ndcg@10"), "seconds": h.seconds}
                for h in result.history
            ],
        }
        return cls(result.model, product_ids, skus=skus, version=version, meta=meta)

    # ----- persistence -----
    def save(self, directory: str | Path) -> Path:
        d = Path(directory)
        d.mkdir(parents=True, exist_ok=True)
        m = self.model
        if not isinstance(m.backbone, GPT2Model):
            # the artifact format holds a transformers backbone; BSARec is an offline baseline (harness) only
            raise ValueError(f"only the gpt2 backbone can be saved as an artifact, not {m.cfg.backbone!r}")
        m.backbone.save_pretrained(d / "backbone")
        save_file(
            {
                "id_emb": m.id_emb.weight.detach().contiguous(),
                "text_proj.weight": m.text_proj.weight.detach().contiguous(),
                "text_proj.bias": m.text_proj.bias.detach().contiguous(),
                "event_emb": m.event_emb.weight.detach().contiguous(),
            },
            str(d / "item_tables.safetensors"),
        )
        np.save(d / "text_vectors.npy", m.text_vectors[1:].numpy())
        # the retrieval index travels with the version: serving processes load the graph instead of building it
        self.item_index().save(d)
        (d / "item_index.json").write_text(
            json.dumps(
                {
                    "product_ids": self.product_ids,
                    "skus": self.skus,
                    "event_vocab": list(EVENT_VOCAB),
                    "train_counts": None if self.train_counts is None else self.train_counts.astype(int).tolist(),
                }
            )
        )
        (d / "student.json").write_text(
            json.dumps(
                {"format": FORMAT_VERSION, "version": self.version, "config": m.cfg.to_dict(), "meta": self.meta},
                indent=2,
            )
        )
        return d

    @classmethod
    def load(cls, directory: str | Path) -> Student:
        d = Path(directory)
        info = json.loads((d / "student.json").read_text())
        if info.get("format") != FORMAT_VERSION:
            raise ValueError(f"unsupported student artifact format {info.get('format')!r} in {d}")
        index = json.loads((d / "item_index.json").read_text())
        if list(index.get("event_vocab", EVENT_VOCAB)) != list(EVENT_VOCAB):
            raise ValueError("the artifact was trained with another event vocabulary")
        cfg = StudentConfig.from_dict(info["config"])
        tables = load_file(str(d / "item_tables.safetensors"))
        text_vectors = np.load(d / "text_vectors.npy")
        backbone = GPT2Model.from_pretrained(d / "backbone")
        model = StudentModel(
            cfg,
            n_items=len(text_vectors),
            text_vectors=text_vectors,
            n_event_types=tables["event_emb"].shape[0],
            backbone=backbone,
        )
        with torch.no_grad():
            model.id_emb.weight.copy_(tables["id_emb"])
            model.text_proj.weight.copy_(tables["text_proj.weight"])
            model.text_proj.bias.copy_(tables["text_proj.bias"])
            model.event_emb.weight.copy_(tables["event_emb"])
        student = cls(
            model, index["product_ids"], skus=index.get("skus"), version=info.get("version", ""), meta=info.get("meta")
        )
        if index.get("train_counts") is not None:
            student.train_counts = np.asarray(index["train_counts"], dtype=np.float64)
        student._index_dir = d
        hidden = d / "ann_hidden.npy"
        if hidden.exists():
            student._inactive = {student.product_ids[int(i)] for i in np.load(hidden) if 0 <= int(i) < student.n_items}
        return student
