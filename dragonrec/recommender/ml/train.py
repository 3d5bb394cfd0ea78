"""Training the student: full-softmax next-product cross-entropy at every position, plus listwise distillation.

    >>> result = train_student(sequences=seqs, n_items=n, item_text_vectors=vecs, config=StudentConfig(),
    ...                        valid=[(history, target), ...], teacher_labels=labels, seed=0)
    >>> result.best_valid_ndcg10, result.model

Loss per step = CE + lambda * KD, where
- CE: softmax over the WHOLE catalogue at every position of every sequence, weighted per target by its event type
  (a purchase counts more than a view). Full CE instead of SASRec's one-negative BCE: Klenitskiy & Vasilev 2023.
  Above `sampled_above_items` products (config.loss "auto"), or with loss "sampled": a softmax over the step's
  targets plus `n_negatives` uniform items, logQ-corrected (Mixed Negative Sampling, Yang et al. 2020; the
  eSASRec line, Vasilev et al. 2024), computing only the item rows the step touches: memory and time follow the
  batch, not the catalogue.
- KD: for each teacher judgment (history, candidates, 0-10 scores, confidence): KL(softmax(teacher / tau) ||
  softmax(student scores over the same candidates)), weighted by the teacher's confidence (DLLM2Rec, RecSys 2024).
  Each judgment is used once per epoch, spread evenly over the epoch's steps, and weighs like `distill_weight`
  next-item targets.
Early stopping on validation NDCG@10 (full ranking, history items excluded); the best checkpoint is returned.

The sequences may be a list (held in memory) or a data.SequenceData such as data.ParquetSequences (streamed from a
file one chunk at a time). Training runs on `config.device` ("auto": a GPU when torch sees one, else the CPU).
"""

from __future__ import annotations

import contextlib
import copy
import functools
import itertools
import logging
import random
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
from tqdm.auto import tqdm

from dragonrec.recommender.core.types import HistoryEvent
from dragonrec.recommender.ml.data import (
    EVENT_VOCAB,
    InMemorySequences,
    SequenceData,
    Step,
    TeacherLabel,
    TrainWindows,
    as_steps,
    length_bucketed_batches,
    pad_right,
    prefix_windows_from_arrays,
    windows_from_arrays,
)
from dragonrec.recommender.ml.metrics import RankingEvalSet
from dragonrec.recommender.ml.model import StudentConfig, StudentModel
from dragonrec.recommender.ml.objective import (
    NextItemLoss,
    TeacherBatches,
    bf16_available,
    kd_loss,
    resolve_device,
    use_sampled_softmax,
)
from dragonrec.recommender.ml.optim import SparseReplayAdam

log = logging.getLogger(__name__)


@dataclass
class EpochLog:
    epoch: int
    loss: float
    ce: float
    kd: float  # mean confidence-weighted KL per teacher judgment
    seconds: float  # wall time since training started, at the end of this epoch (validation included)
    valid: dict[str, float] | None = None  # full-ranking metrics when validation ran this epoch


@dataclass
class TrainResult:
    model: StudentModel  # best checkpoint (by valid NDCG@10), in eval mode
    config: StudentConfig
    history: list[EpochLog] = field(default_factory=list)
    best_valid_ndcg10: float | None = None
    best_epoch: int = 0
    train_seconds: float = 0.0
    stopped_because: str = ""


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@contextlib.contextmanager
def _swapped(params: list[torch.Tensor], ema: list[torch.Tensor] | None) -> Iterator[None]:
    """Temporarily put the EMA weights into the model (no-op without EMA)."""
    if ema is None:
        yield
        return
    with torch.no_grad():
        backup = [p.detach().clone() for p in params]
        torch._foreach_copy_(params, ema)
    try:
        yield
    finally:
        with torch.no_grad():
            torch._foreach_copy_(params, backup)


def _rows_per_step(cfg: StudentConfig) -> int:
    """Prefixes (one target each) with prefix_targets, else whole sequences (a target at every step)."""
    return cfg.prefix_batch_size if cfg.prefix_targets else cfg.batch_size


def _chunk_batches(
    data: SequenceData, cfg: StudentConfig, rng: np.random.Generator
) -> Iterator[tuple[TrainWindows, np.ndarray, list[np.ndarray]]]:
    """Per chunk of the data: its windows, their lengths and its length-bucketed batches (one chunk in memory at a
    time)."""
    cut = prefix_windows_from_arrays if cfg.prefix_targets else windows_from_arrays
    for chunk in data.chunks(rng):
        windows = cut(chunk, max_len=cfg.max_len)
        if not len(windows):
            continue
        win_lengths = np.array([len(x) for x in windows.items])
        yield windows, win_lengths, list(length_bucketed_batches(win_lengths, _rows_per_step(cfg), rng))


def train_student(
    *,
    sequences: Iterable[Sequence[HistoryEvent | Step]] | Mapping[str, Sequence[HistoryEvent | Step]] | SequenceData,
    n_items: int,
    item_text_vectors: np.ndarray,
    config: StudentConfig | None = None,
    valid: Sequence[tuple[Sequence[HistoryEvent | Step], int]] | None = None,
    teacher_labels: Sequence[TeacherLabel] = (),
    seed: int = 0,
    progress: bool = False,
) -> TrainResult:
    """Train a student from scratch.

    sequences: per user, oldest first, (dense product id, event type) pairs or HistoryEvents (product_id = dense
        id = row of item_text_vectors); or a SequenceData (e.g. ParquetSequences) streamed chunk by chunk.
    valid: (history, next dense id) pairs for early stopping on full-ranking NDCG@10; without it the model trains
        for config.max_epochs (or the time budget) and the last epoch is returned.
    teacher_labels: TeacherLabels whose history/candidate ids are dense ids.
    """
    cfg = config or StudentConfig()
    threads_before = torch.get_num_threads()
    if cfg.num_threads:
        torch.set_num_threads(cfg.num_threads)
    try:
        return _train(sequences, n_items, item_text_vectors, cfg, valid, teacher_labels, seed, progress)
    finally:
        torch.set_num_threads(threads_before)


def _train(
    sequences: Iterable[Sequence[HistoryEvent | Step]] | Mapping[str, Sequence[HistoryEvent | Step]] | SequenceData,
    n_items: int,
    item_text_vectors: np.ndarray,
    cfg: StudentConfig,
    valid: Sequence[tuple[Sequence[HistoryEvent | Step], int]] | None,
    teacher_labels: Sequence[TeacherLabel],
    seed: int,
    progress: bool,
) -> TrainResult:
    seed_everything(seed)
    rng = np.random.default_rng(seed)
    device = resolve_device(cfg.device)
    if isinstance(sequences, Mapping):
        sequences = [sequences[k] for k in sorted(sequences)]
    data = sequences if isinstance(sequences, SequenceData) else InMemorySequences(as_steps(s) for s in sequences)
    # with prefix_targets a row per target, so an epoch's steps follow the targets
    n_windows = int(data.target_counts(n_items).sum()) if cfg.prefix_targets else data.n_windows(cfg.max_len)
    if not n_windows:
        raise ValueError("no sequence has two or more steps: nothing to learn from")
    valid = [(as_steps(h), int(t)) for h, t in (valid or [])]
    valid_set = RankingEvalSet([h for h, _ in valid], [t for _, t in valid], max_len=cfg.max_len) if valid else None

    model = StudentModel(cfg, n_items=n_items, text_vectors=item_text_vectors, n_event_types=len(EVENT_VOCAB))
    model.to(device)
    tb = TeacherBatches(teacher_labels, max_len=cfg.max_len, n_items=n_items, tau=cfg.distill_temperature)
    use_kd = tb.n > 0 and cfg.distill_weight > 0
    if use_kd and device.type != "cpu":
        tb.to(device)
    sampled = use_sampled_softmax(cfg, n_items)
    next_item = NextItemLoss(
        cfg, n_items=n_items, target_counts=data.target_counts(n_items) if sampled else None, device=device, seed=seed
    )

    params: list[torch.Tensor] = [p for p in model.parameters() if p.requires_grad]
    # Exponential moving average of the weights (Polyak averaging): evaluated and returned instead of the raw
    # weights; smooths the noisy end of training on small, sparse data.
    ema = [p.detach().clone() for p in params] if cfg.ema_epochs else None
    steps_per_epoch = -(-n_windows // _rows_per_step(cfg))
    ema_decay = 1.0 - 1.0 / (cfg.ema_epochs * steps_per_epoch) if cfg.ema_epochs else 0.0
    n_steps = 0
    decay: list[torch.nn.Parameter] = []
    no_decay: list[torch.nn.Parameter] = []
    sparse_ids: list[torch.nn.Parameter] = []
    for name, p in model.named_parameters():
        if sampled and cfg.sparse_ids and name == "id_emb.weight":
            # Sampled: a step touches a few thousand of the catalogue's id rows. Sparse gradients and a sparse Adam
            # update those rows only; dense AdamW would rewrite every row's weights and moments at every step
            # (3 x 512 MB at 1M products and hidden 128). The sparse Adam replays the momentum updates dense Adam
            # makes on the steps that skip a row (optim.SparseReplayAdam): a lazy one (torch's SparseAdam) cost
            # the sampled student 3.8% of Beauty's test NDCG@10 against full softmax.
            sparse_ids.append(p)
            continue
        (decay if p.ndim == 2 and "emb" not in name and "wpe" not in name else no_decay).append(p)
    opt = torch.optim.AdamW(
        [{"params": decay, "weight_decay": cfg.weight_decay}, {"params": no_decay, "weight_decay": 0.0}],
        lr=cfg.lr,
        betas=(0.9, cfg.adam_beta2),
    )
    sparse_opt = SparseReplayAdam(sparse_ids, lr=cfg.lr, betas=(0.9, cfg.adam_beta2)) if sparse_ids else None
    model.id_emb.sparse = bool(sparse_ids)
    weight_of_event = torch.tensor(
        [cfg.target_weights.get(e, 1.0) for e in EVENT_VOCAB], dtype=torch.float32, device=device
    )
    # mixed precision on a GPU: bfloat16 autocast around the transformer (the softmax stays float32)
    autocast = (
        functools.partial(torch.autocast, "cuda", dtype=torch.bfloat16)
        if device.type == "cuda" and cfg.bf16 and bf16_available(device)
        else contextlib.nullcontext
    )
    log.info(
        "student: %d items, %d sequences, %d windows, %d teacher labels, %d params, %s softmax, device %s, bf16=%s",
        n_items,
        len(data),
        n_windows,
        tb.n,
        sum(p.numel() for p in model.parameters()),
        "sampled" if sampled else "full",
        device,
        next_item.bf16,
    )

    result = TrainResult(model=model, config=cfg)
    best_state: dict[str, torch.Tensor] | None = None
    best = -1.0
    bad = 0
    t0 = time.perf_counter()
    epochs = range(1, cfg.max_epochs + 1)
    bar = tqdm(epochs, desc="student", disable=not progress, leave=False)
    for epoch in bar:
        model.train()
        chunks = _chunk_batches(data, cfg, rng)
        first = next(chunks, None)  # the first chunk's batches are drawn before the epoch's teacher slices
        kd_slices = tb.epoch_slices(steps_per_epoch, rng) if use_kd else None
        tot = tot_ce = tot_kd = 0.0
        step = 0
        for windows, win_lengths, batches in itertools.chain([first] if first else [], chunks):
            for b in batches:
                items = pad_right([windows.items[i] for i in b]).to(device)
                events = pad_right([windows.events[i] for i in b]).to(device)
                lengths = torch.from_numpy(win_lengths[b]).to(device)
                targets = torch.from_numpy(np.concatenate([windows.targets[i] for i in b])).to(device)
                w = weight_of_event[torch.from_numpy(np.concatenate([windows.target_events[i] for i in b])).to(device)]
                # sampled: the encoder computes its rows itself (model.item_rows), never the whole catalogue
                M = None if sampled else model.item_matrix()
                candidates = next_item.draw(targets) if sampled else None
                kd_step = kd_slices[min(step, len(kd_slices) - 1)] if kd_slices is not None else None
                if sparse_opt is not None and candidates is not None:
                    # the id rows this step reads, brought to where dense Adam has them before the forward
                    rows = [items.flatten(), candidates + 1]
                    if kd_step is not None and len(kd_step):
                        t = torch.from_numpy(kd_step).to(tb.items.device)
                        rows += [tb.items[t].flatten().to(device), tb.cands[t].flatten().to(device)]
                    sparse_opt.catch_up(torch.cat(rows))
                with autocast():
                    h = model.encode(items, events, lengths, M)
                if cfg.prefix_targets:  # a row's one target follows its last step
                    hv = h[torch.arange(h.shape[0], device=device), lengths - 1].float()
                else:
                    real = torch.arange(items.shape[1], device=device).unsqueeze(0) < lengths.unsqueeze(1)
                    hv = h[real].float()  # row-major order matches the concatenated targets
                ce = next_item(model, hv, targets, w / w.sum(), M, candidates)
                loss = ce
                kd = torch.zeros((), device=device)
                if kd_step is not None and len(kd_step):  # not None exactly when use_kd
                    kd_sum = kd_loss(model, tb, kd_step, M)
                    # One judgment weighs like distill_weight next-item targets (the CE is a mean over the step's
                    # weighted targets): lambda keeps its meaning whatever the ratio of judgments to sequences.
                    loss = ce + cfg.distill_weight * kd_sum / w.sum()
                    kd = kd_sum / len(kd_step)
                opt.zero_grad(set_to_none=True)
                if sparse_opt is not None:
                    sparse_opt.zero_grad(set_to_none=True)
                loss.backward()
                opt.step()
                if sparse_opt is not None:
                    sparse_opt.step()
                step += 1
                n_steps += 1
                if ema is not None:
                    # Warm-up (as in TF's ExponentialMovingAverage with num_updates): early on, the average must not
                    # stay anchored to the random initialisation.
                    d_t = min(ema_decay, (1.0 + n_steps) / (10.0 + n_steps))
                    torch._foreach_lerp_(ema, params, 1.0 - d_t)
                with torch.no_grad():
                    model.id_emb.weight[0].zero_()
                    model.event_emb.weight[0].zero_()
                tot += float(loss.detach())
                tot_ce += float(ce.detach())
                tot_kd += float(kd.detach())
        n = max(step, 1)
        if sparse_opt is not None:
            sparse_opt.flush()  # every id row where dense Adam has it, before validation reads or keeps them
        entry = EpochLog(epoch=epoch, loss=tot / n, ce=tot_ce / n, kd=tot_kd / n, seconds=0.0)
        stop = ""
        if valid_set is not None and (epoch % cfg.eval_every == 0 or epoch == cfg.max_epochs):
            with _swapped(params, ema):
                entry.valid = valid_set.metrics(model, ks=(10,))
            nd = entry.valid["ndcg@10"]
            if nd > best:
                best, bad = nd, 0
                with _swapped(params, ema):
                    best_state = copy.deepcopy(model.state_dict())
                result.best_epoch = epoch
            else:
                bad += 1
                if bad >= cfg.patience and epoch >= cfg.min_epochs:
                    stop = f"no valid NDCG@10 gain in {cfg.patience} evaluations"
        entry.seconds = time.perf_counter() - t0
        result.history.append(entry)
        log.info(
            "epoch %d loss %.4f (ce %.4f kd %.4f) %.0fs%s",
            epoch,
            entry.loss,
            entry.ce,
            entry.kd,
            entry.seconds,
            f" valid ndcg@10 {entry.valid['ndcg@10']:.4f} recall@10 {entry.valid['recall@10']:.4f}"
            if entry.valid
            else "",
        )
        bar.set_postfix(loss=f"{entry.loss:.3f}", ndcg10=f"{best:.4f}" if best >= 0 else "-")
        if not stop and cfg.time_budget_s is not None and entry.seconds >= cfg.time_budget_s:
            stop = f"time budget {cfg.time_budget_s:.0f}s reached"
        if stop:
            result.stopped_because = stop
            break
    else:
        result.stopped_because = "max_epochs reached"
    if best_state is None and ema is not None:
        with torch.no_grad():
            torch._foreach_copy_(params, ema)
    bar.close()
    if best_state is not None:
        model.load_state_dict(best_state)
        result.best_valid_ndcg10 = best
    else:
        result.best_epoch = len(result.history)
    model.id_emb.sparse = False
    model.eval()
    model.to("cpu")  # serving and the artifact are CPU-side
    result.train_seconds = time.perf_counter() - t0
    log.info(
        "student trained in %.0fs (%s); best epoch %d, valid ndcg@10 %s",
        result.train_seconds,
        result.stopped_because,
        result.best_epoch,
        f"{best:.4f}" if best_state is not None else "n/a",
    )
    return result
