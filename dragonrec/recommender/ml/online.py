"""Online updates of the student from what shoppers did with what we showed (warm start, bounded time).

    >>> update = OnlineUpdate(form="listwise", steps=60, clip=10.0)
    >>> student = online_update(student, sequences=recent_sequences, rewards=reward_examples, new_items=(ids, vecs),
    ...                         update=update, seed=round_no)

Two kinds of training signal, each a weighted softmax cross-entropy (over the catalogue as in training, or over
the shown page for the listwise form), summed into one loss:
1. the events since the last update: each shopper's recent sequence, every position predicting the next product
   (the nightly objective, on fresh data: follows shifting tastes and learns new products' id embeddings);
2. rewards: a clicked (or bought) item of a served list is a positive target for the history the list was made
   from. How much one counts is the form:
   - "naive": weight 1 (what a recommender without propensities does: it learns its own ranking back, since it
     only ever sees clicks on what it chose to show);
   - "ips": weight min(1 / propensity, clip): an item shown only because exploration drew it counts as the many
     times it would have been clicked had it been shown as often as the ranker's favourites. This is the
     importance-weighted softmax policy gradient of Chen et al., "Top-K Off-Policy Correction for a REINFORCE
     Recommender System" (WSDM 2019), without their top-K multiplier (we show the page we rank); the clip bounds
     the variance (they used e^3 ~ 20).
   - "listwise": the same importance weight, but the clicked item competes only with the other items of the page
     it was clicked on (a softmax over the shown page): clicked vs shown-and-ignored. This is the one thing the
     reward log knows that the event sequences do not (a clicked item is also an event, so the next-item term
     already learns it as a target); what was shown and passed over is new.
   Purchases weigh `purchase_weight` clicks.
New products are added first (text path, zero id embedding) so the update can learn their id embeddings.

Scale: the next-item and "ips"/"naive" terms go through objective.NextItemLoss, so the update takes the nightly
training's path: full softmax on a small catalogue, logQ-corrected sampled softmax above `sampled_above_items`
(the student's config), on the student's `device`. The item index is rebuilt for the tuned weights when the new
version is saved (every item vector moves with the text projection), and `inactive` products are left out of it.

Replay: fine-tuning only on the last hour's shoppers forgets what they did not show (tests/recommender/ml/
test_online.py: a pattern absent from the hour drops from 100% to ~55% next-item accuracy). With `replay`
sequences (older shoppers', e.g. the ones the active version was trained on), `replay_share` of every next-item
batch is drawn from them: rehearsal, the usual remedy for catastrophic forgetting in continual training.
"""

from __future__ import annotations

import copy
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from dragonrec.recommender.core.defaults import DEFAULTS
from dragonrec.recommender.core.types import HistoryEvent, ProductId
from dragonrec.recommender.ml.data import encode_histories, make_windows, pad_right
from dragonrec.recommender.ml.model import StudentModel
from dragonrec.recommender.ml.objective import NextItemLoss, resolve_device, use_sampled_softmax
from dragonrec.recommender.ml.student import Student

FORMS = ("naive", "ips", "listwise")


@dataclass(frozen=True)
class RewardExample:
    history: list[HistoryEvent]  # what the list was made from
    product_id: ProductId  # the item acted on
    propensity: float  # its logged propensity at its position
    purchased: bool = False
    shown: tuple[ProductId, ...] = ()  # the page it was clicked on, in order (the listwise form's negatives)


_SETTING = DEFAULTS["ONLINE_UPDATE"]  # the served defaults of the keys below (and why each value)


@dataclass(frozen=True)
class OnlineUpdate:
    form: str = _SETTING["form"]
    steps: int = _SETTING["steps"]  # optimizer steps per update: bounded work, whatever the traffic
    batch_size: int = 128
    lr: float = _SETTING["lr"]  # a third of the training rate: nudge the active model, don't re-learn it
    clip: float = _SETTING["clip"]  # max importance weight
    reward_weight: float = 1.0  # rewards vs next-item targets, per example
    purchase_weight: float = 2.0
    replay_share: float = _SETTING["replay_share"]  # of each next-item batch, from the replay sequences when given
    time_budget_s: float = _SETTING["time_budget_s"]  # the fine-tuning's bound: the whole job stays under 60 s

    def __post_init__(self) -> None:
        if self.form not in FORMS:
            raise ValueError(f"form must be one of {FORMS}")
        if not 0.0 <= self.replay_share < 1.0:
            raise ValueError("replay_share must be in [0, 1)")


def online_update(
    student: Student,
    *,
    sequences: Sequence[Sequence[HistoryEvent]],
    rewards: Sequence[RewardExample] = (),
    replay: Sequence[Sequence[HistoryEvent]] = (),
    new_items: tuple[Sequence[ProductId], np.ndarray] | None = None,
    inactive: Iterable[ProductId] | None = None,
    update: OnlineUpdate | None = None,
    seed: int = 0,
) -> Student:
    """A fine-tuned copy of `student` (the input is left as it is: it may be serving). `inactive`: the products
    the new version's retrieval leaves out (None: the parent's set)."""
    update = update or OnlineUpdate()
    tuned = copy.deepcopy(student)
    tuned.reset_item_index()  # built again for the tuned weights, when first searched or saved
    if new_items is not None and len(new_items[0]):
        tuned.add_items(list(new_items[0]), new_items[1])
    if inactive is not None:
        tuned.set_inactive(inactive)
    model = tuned.model
    cfg = model.cfg
    device = resolve_device(cfg.device)
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)

    windows = make_windows([tuned._steps(s) for s in sequences], max_len=cfg.max_len)
    older = make_windows([tuned._steps(s) for s in replay], max_len=cfg.max_len) if update.replay_share else None
    n_replay = round(update.batch_size * update.replay_share) if older is not None and len(older) else 0
    reward_rows = [
        (tuned._steps(r.history)[-cfg.max_len :], int(tuned.dense_ids([r.product_id])[0]), r)
        for r in rewards
        if r.history
    ]
    reward_rows = [(h, d, r) for h, d, r in reward_rows if h and d >= 0]
    pages: list[np.ndarray] = []  # listwise: per reward row, its page's dense ids with the clicked item first
    if update.form == "listwise":
        kept = []
        for row in reward_rows:
            clicked = row[1]
            others = [x for x in tuned.dense_ids(list(row[2].shown)).tolist() if x >= 0 and x != clicked]
            if others:  # a click whose page held nothing else the model knows says nothing listwise
                kept.append(row)
                pages.append(np.array([clicked, *others], dtype=np.int64))
        reward_rows = kept
    if not len(windows) and not reward_rows:
        return tuned

    sampled = use_sampled_softmax(cfg, tuned.n_items)
    counts = None
    if sampled:
        targets_seen = [t for w in (windows, older) if w is not None for t in w.targets]
        flat = np.concatenate(targets_seen) if targets_seen else np.zeros(0, dtype=np.int64)
        counts = np.bincount(flat, minlength=tuned.n_items)[: tuned.n_items]
    # bf16 off: the update's full softmax has always run in float32 (a small step; rounding would only add noise)
    next_item = NextItemLoss(cfg, n_items=tuned.n_items, target_counts=counts, device=device, seed=seed, bf16=False)
    model.to(device)
    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=update.lr, weight_decay=0.0)
    model.train()
    started = time.perf_counter()
    losses: list[float] = []  # per step: the update's training curve (ModelVersion.training_log)
    for _ in range(update.steps):
        if time.perf_counter() - started > update.time_budget_s:
            break
        # sampled: only the rows a step touches are computed (model.item_rows), never the whole catalogue
        M = None if sampled else model.item_matrix()
        loss = torch.zeros((), device=device)
        n_terms = 0.0
        if len(windows):
            b = rng.choice(len(windows), size=min(update.batch_size - n_replay, len(windows)), replace=False)
            batch = [(windows.items[i], windows.events[i], windows.targets[i]) for i in b]
            if n_replay and older is not None:
                r = rng.choice(len(older), size=min(n_replay, len(older)), replace=False)
                batch += [(older.items[i], older.events[i], older.targets[i]) for i in r]
            items = pad_right([x for x, _, _ in batch]).to(device)
            events = pad_right([e for _, e, _ in batch]).to(device)
            lengths = torch.tensor([len(x) for x, _, _ in batch], device=device)
            targets = torch.from_numpy(np.concatenate([t for _, _, t in batch])).to(device)
            h = model.encode(items, events, lengths, M)
            real = torch.arange(items.shape[1], device=device).unsqueeze(0) < lengths.unsqueeze(1)
            w = torch.ones(len(targets), device=device)
            loss = loss + next_item(model, h[real], targets, w, M)
            n_terms += float(len(targets))
        if reward_rows:
            pick = rng.choice(len(reward_rows), size=min(update.batch_size, len(reward_rows)), replace=False)
            chosen = [reward_rows[i] for i in pick]
            items, events, lengths = encode_histories([h for h, _, _ in chosen], max_len=cfg.max_len)
            u = model.user_vectors(items.to(device), events.to(device), lengths.to(device), M)
            w = torch.tensor([_reward_weight(r, update) for _, _, r in chosen], dtype=torch.float32, device=device)
            if update.form == "listwise":
                per_row = _page_ce(u, model, M, [pages[int(i)] for i in pick])
                loss = loss + update.reward_weight * (w * per_row).sum()
            else:
                targets = torch.tensor([d for _, d, _ in chosen], device=device)
                loss = loss + update.reward_weight * next_item(model, u, targets, w, M)
            n_terms += float(w.sum()) * update.reward_weight
        loss = loss / max(n_terms, 1.0)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        losses.append(float(loss.detach()))
        with torch.no_grad():
            model.id_emb.weight[0].zero_()
            model.event_emb.weight[0].zero_()
    model.to("cpu")
    model.eval()
    model.freeze_items()
    tuned.forget_user_vectors()  # the copy's memoised vectors are the old weights' answers
    tuned.meta = {**tuned.meta, "online_log": [{"step": k, "loss": v} for k, v in enumerate(losses, 1)]}
    return tuned


def _page_ce(u: torch.Tensor, model: StudentModel, M: torch.Tensor | None, pages: Sequence[np.ndarray]) -> torch.Tensor:
    """Per row: cross-entropy of its page's first item (the clicked one) under a softmax over the page's items.
    M: the full item matrix, or None to compute the pages' rows only."""
    width = max(len(p) for p in pages)
    index = np.zeros((len(pages), width), dtype=np.int64)
    real = np.zeros((len(pages), width), dtype=bool)
    for i, p in enumerate(pages):
        index[i, : len(p)] = p
        real[i, : len(p)] = True
    rows = torch.from_numpy(index + 1).to(u.device)  # model rows
    vectors = M[rows] if M is not None else model.item_rows(rows)
    logits = torch.einsum("bd,bpd->bp", u, vectors)
    logits = logits.masked_fill(~torch.from_numpy(real).to(u.device), float("-inf"))
    return -torch.log_softmax(logits, dim=1)[:, 0]


def _reward_weight(example: RewardExample, update: OnlineUpdate) -> float:
    base = update.purchase_weight if example.purchased else 1.0
    if update.form == "naive":
        return base
    return base * min(1.0 / max(example.propensity, 1e-6), update.clip)
