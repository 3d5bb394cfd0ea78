"""The student artifact on disk: one directory per model version, written by `Student.save` and read by
`Student.load` (which add the retrieval index: ann_index.faiss, ann_hidden.npy, through ml/ann.py).

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
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from safetensors.torch import load_file, save_file
from transformers import GPT2Model

from dragonrec.recommender.core.types import ProductId
from dragonrec.recommender.ml.data import EVENT_VOCAB
from dragonrec.recommender.ml.model import StudentConfig, StudentModel
from dragonrec.recommender.ml.train import TrainResult

FORMAT_VERSION = 1


@dataclass(frozen=True)
class SavedStudent:
    """What an artifact directory holds, before it is a `Student` again."""

    model: StudentModel
    product_ids: list[ProductId]
    skus: list[str] | None
    version: str
    meta: dict[str, Any] | None
    train_counts: np.ndarray | None  # None for artifacts written before the counts were kept


def training_summary(result: TrainResult) -> dict[str, Any]:
    """student.json's "meta": how training went."""
    return {
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


def artifact_write(
    directory: str | Path,
    *,
    model: StudentModel,
    product_ids: Sequence[ProductId],
    skus: Sequence[str] | None,
    train_counts: np.ndarray | None,
    version: str,
    meta: dict[str, Any],
) -> Path:
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    if not isinstance(model.backbone, GPT2Model):
        # the artifact format holds a transformers backbone; BSARec is an offline baseline (harness) only
        raise ValueError(f"only the gpt2 backbone can be saved as an artifact, not {model.cfg.backbone!r}")
    model.backbone.save_pretrained(d / "backbone")
    save_file(
        {
            "id_emb": model.id_emb.weight.detach().contiguous(),
            "text_proj.weight": model.text_proj.weight.detach().contiguous(),
            "text_proj.bias": model.text_proj.bias.detach().contiguous(),
            "event_emb": model.event_emb.weight.detach().contiguous(),
        },
        str(d / "item_tables.safetensors"),
    )
    np.save(d / "text_vectors.npy", model.text_vectors[1:].numpy())
    (d / "item_index.json").write_text(
        json.dumps(
            {
                "product_ids": list(product_ids),
                "skus": None if skus is None else list(skus),
                "event_vocab": list(EVENT_VOCAB),
                "train_counts": None if train_counts is None else train_counts.astype(int).tolist(),
            }
        )
    )
    (d / "student.json").write_text(
        json.dumps(
            {"format": FORMAT_VERSION, "version": version, "config": model.cfg.to_dict(), "meta": meta}, indent=2
        )
    )
    return d


def artifact_read(directory: str | Path) -> SavedStudent:
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
    counts = index.get("train_counts")
    return SavedStudent(
        model=model,
        product_ids=index["product_ids"],
        skus=index.get("skus"),
        version=info.get("version", ""),
        meta=info.get("meta"),
        train_counts=None if counts is None else np.asarray(counts, dtype=np.float64),
    )
