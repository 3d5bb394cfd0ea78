"""The student: a small causal transformer over a user's (product, event type) steps that scores every product.

SASRec (Kang & McAuley, ICDM 2018) trained with full-softmax cross-entropy instead of sampled BCE — "Turning Dross
Into Gold Loss: is BERT4Rec really better than SASRec?" (Klenitskiy & Vasilev, RecSys 2023) — with one change for a
shop whose catalogue keeps growing: a product's representation is a learned id embedding PLUS a learned projection of
its frozen text embedding (MiniLM of "title. brand. category"). A product created after training gets a zero id
embedding and its projected text vector, so it can be scored without retraining.

The same item matrix is used on the input side and as the output (tied) layer, so the last hidden state is a "user
vector" in item space: scores = user_vector @ item_matrix.T, and the user vector can be an ANN (pgvector) query.

The backbone is a `transformers` GPT-2 decoder built from a config (pre-LN, learned positions, causal attention),
fed through `inputs_embeds`; its word-token table is unused and kept at one row.

    >>> model = StudentModel(StudentConfig(), n_items=len(vecs), text_vectors=vecs, n_event_types=len(EVENT_VOCAB))
    >>> u = model.user_vectors(items, events, lengths)   # right-padded rows: dense id + 1, 0 = padding
    >>> scores = u @ model.item_matrix()[1:].T           # (batch, n_items), dense-id order
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from transformers import GPT2Config, GPT2Model

from dragonrec.recommender.core.defaults import DEFAULTS
from dragonrec.recommender.core.types import ADD_TO_CART, CLICK, PURCHASE, RATING, REMOVE_FROM_CART, SEARCH, VIEW
from dragonrec.recommender.ml.bsarec import BSARecBackbone

PAD = 0  # item row 0 and event index 0 are padding; product with dense id i lives in row i + 1


def _default_target_weights() -> dict[str, float]:
    # How much predicting the next product counts, by what the user did with it. Purchases/carts express intent,
    # views mostly browsing (Tmall/RetailRocket practice: buy > cart > click). A public dataset with one event type
    # ("rating" = a review, the literature's implicit purchase) is unaffected: the loss is a weighted mean.
    return {
        PURCHASE: 2.0,
        RATING: 1.0,
        ADD_TO_CART: 1.5,
        CLICK: 0.5,
        VIEW: 0.5,
        SEARCH: 0.5,
        REMOVE_FROM_CART: 0.25,
    }


@dataclass
class StudentConfig:
    """Every hyperparameter of the student, model and training. Defaults were selected by validation NDCG@10 on
    amazon_beauty (leave-one-out, full ranking) under a 10-minute, 2-core CPU training budget; see bench/."""

    # --- model ---
    # "gpt2": the student's pre-LN causal transformer; "bsarec": BSARec's frequency filter beside attention
    # (ml/bsarec.py), the in-harness baseline of issue #23 (bsarec_config) and an option to ablate
    backbone: str = "gpt2"
    bsarec_c: int = 5  # BSARec's low-pass keeps the first c // 2 + 1 frequencies of the 50-step window
    bsarec_alpha: float = 0.7  # weight of the filter branch; 1 - alpha goes to attention
    hidden: int = 128  # item/user vector size; 128 beat 64 on Beauty valid NDCG@10 (0.0705 vs 0.0684) once text is in
    n_layers: int = 2
    n_heads: int = 1
    ffn_mult: int = 1  # feed-forward width = ffn_mult * hidden (SASRec uses 1x; GPT-2's 4x only adds overfitting)
    max_len: int = 50  # most recent steps the model reads
    dropout: float = 0.5  # embedding/residual dropout; Amazon sets are sparse (~9 events/user), high dropout wins
    attn_dropout: float = 0.5
    text_dim: int = 384  # all-MiniLM-L6-v2
    id_dropout: float = 0.1  # P(an input step shows only its text part): keeps the text path useful for new products
    # --- training ---
    lr: float = 1e-3
    adam_beta2: float = 0.98  # Adam's second-moment decay (BSARec's code uses torch's 0.999: bsarec_config)
    weight_decay: float = 0.0  # AdamW decay on matrices (not embeddings/norms/biases); 0.1 changed nothing on Beauty
    batch_size: int = 256  # sequences per step (~1,500 next-item targets on Beauty)
    max_epochs: int = 200
    patience: int = 3  # evaluations without a better valid NDCG@10 before stopping (3 x eval_every = 6 epochs)
    eval_every: int = 2  # epochs between validation runs (a full-ranking pass over the valid users)
    ema_epochs: float | None = 6.0  # EMA of the weights over ~this many epochs, evaluated and returned; None = off.
    # Beauty valid NDCG@10 0.0705 -> 0.0726 (per-step decay 0.998 there): raw weights overfit soon after their best
    min_epochs: int = 10  # never stop before (CE-SASRec's valid curve is noisy early)
    time_budget_s: float | None = None  # stop (keeping the best checkpoint) once training has run this long
    num_threads: int | None = None  # torch threads while training; None = torch's setting (see train_student)
    bf16: bool = True  # bfloat16 autocast for the big (positions x catalogue) matmul when the CPU has AMX/AVX512-BF16
    target_weights: dict[str, float] = field(default_factory=_default_target_weights)
    # True: one example per next-item target (its prefix, the loss at its last step), as SASRec's and BSARec's own
    # trainers do: each target gets its own dropout masks, and BSARec's filter becomes its own circular FFT over the
    # left-padded window (ml/bsarec.py), which may read every step of a prefix. Beauty test NDCG@10 0.0582 -> 0.0628
    # (seeds 0-2, docs/operations.md). False: every position of a sequence at once (causal), ~40% of the work an
    # epoch on Beauty
    prefix_targets: bool = DEFAULTS["STUDENT_TRAINING"]["prefix_targets"]
    # rows per step with prefix_targets (one target each): 1,536 ~ the targets of 256 whole Beauty sequences
    prefix_batch_size: int = 1536
    # --- scale (docs/configuration.md, STUDENT_TRAINING) ---
    # "full": softmax over the whole catalogue at every position; "sampled": over the step's targets plus
    # `n_negatives` uniform items, logQ-corrected (losses.sampled_softmax_ce); "auto": sampled above
    # `sampled_above_items` products. Full is exact and, on a Beauty-sized catalogue, as fast; at 1M products it
    # does not fit a CPU step (bench/student_scale.py)
    loss: str = DEFAULTS["STUDENT_TRAINING"]["loss"]
    sampled_above_items: int = DEFAULTS["STUDENT_TRAINING"]["sampled_above_items"]
    # negatives per step, shared by every position of the batch
    n_negatives: int = DEFAULTS["STUDENT_TRAINING"]["negatives"]
    # how the negatives are drawn: in proportion to (times the item was a training target + 1) ** power. 0: uniform;
    # between 0 and 1, popular items (the ones a softmax's partition sum is made of) are drawn more often and rare
    # ones still can be: a proposal nearer the model's own softmax leaves less of the sampled estimate's error.
    # Whatever the proposal, the logQ correction uses each candidate's true probability of being drawn
    negatives_popularity_power: float = 0.0
    # which logits of the sampled softmax the logQ correction applies to: "all" (every candidate, the row's own
    # target included: Yi et al. 2019), "negatives" (the target's logit as is: Khrylchenko et al. 2025) or "drawn"
    # (given the step's batch: every target of the step exact, only the drawn negatives corrected; the default: on
    # amazon_beauty it is the best of the three on validation, seeds 0-2, docs/operations.md)
    logq_correction: str = "drawn"
    # sampled softmax: update the id embeddings with a sparse Adam that works on the rows a step touches and replays
    # the momentum updates dense Adam makes on the steps that skip a row (ml/optim.py: the same weights as dense Adam
    # up to eps); False: dense AdamW as the full softmax does (rewrites every row's weights and moments at every
    # step: fine on a small catalogue, 3 x 512 MB per step at 1M products)
    sparse_ids: bool = True
    # "auto": cuda when torch sees a GPU, else cpu; or "cpu", "cuda", "cuda:1"
    device: str = DEFAULTS["STUDENT_TRAINING"]["device"]
    # --- distillation from teacher judgments (DLLM2Rec, Cui et al., RecSys 2024) ---
    distill_weight: float = 1.0  # lambda: loss = CE + lambda * confidence-weighted KL(teacher || student)
    distill_temperature: float = 1.0  # tau in softmax(teacher_score / tau); teacher scores are on a 0-10 scale

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> StudentConfig:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in d.items() if k in known})


def backbone_config(cfg: StudentConfig) -> GPT2Config:
    return GPT2Config(
        vocab_size=1,  # the word-token table is never used (inputs_embeds)
        n_positions=cfg.max_len,
        n_embd=cfg.hidden,
        n_layer=cfg.n_layers,
        n_head=cfg.n_heads,
        n_inner=cfg.ffn_mult * cfg.hidden,
        activation_function="gelu_new",
        resid_pdrop=cfg.dropout,
        embd_pdrop=cfg.dropout,
        attn_pdrop=cfg.attn_dropout,
        use_cache=False,
        bos_token_id=0,
        eos_token_id=0,
    )


def build_backbone(cfg: StudentConfig) -> nn.Module:
    if cfg.backbone == "gpt2":
        return GPT2Model(backbone_config(cfg))
    if cfg.backbone == "bsarec":
        return BSARecBackbone(
            cfg.hidden,
            n_layers=cfg.n_layers,
            max_len=cfg.max_len,
            ffn_mult=cfg.ffn_mult,
            heads=cfg.n_heads,
            dropout=cfg.dropout,
            attn_dropout=cfg.attn_dropout,
            c=cfg.bsarec_c,
            alpha=cfg.bsarec_alpha,
            circular=cfg.prefix_targets,
        )
    raise ValueError(f"StudentConfig.backbone must be 'gpt2' or 'bsarec', not {cfg.backbone!r}")


def bsarec_config(**overrides: object) -> StudentConfig:
    """BSARec's published Beauty hyperparameters (ml/bsarec.py) on our trainer (its batch of 256 targets as ~40 of
    our sequences, see below). What BSARec has no part for is off:
    no EMA of the weights, no id dropout; a 4x feed-forward; full softmax; early stopping after 10 epochs without a
    better validation NDCG@10 (its `patience 10`, here 5 validations 2 epochs apart). The harness gives it zero text
    vectors: BSARec's items are ids alone."""
    cfg = StudentConfig(
        backbone="bsarec",
        hidden=64,
        n_layers=2,
        n_heads=1,
        ffn_mult=4,
        max_len=50,
        dropout=0.5,
        attn_dropout=0.5,
        bsarec_c=5,
        bsarec_alpha=0.7,
        lr=5e-4,
        adam_beta2=0.999,  # its trainer's torch.optim.Adam defaults
        # ids only: the harness gives it zero text vectors, and a 1-wide zero column keeps the model's text path
        # without its cost (a 384-wide one spends a (12,101 x 384) @ (384 x 64) product and its gradient on zeros
        # at every step: as many multiply-adds as the step's full softmax over 256 targets)
        text_dim=1,
        # BSARec's batch is 256 prefixes, i.e. 256 next-item targets per step (~590 steps per Beauty epoch); ours
        # counts sequences, each a target at every step (~6 on Beauty), so 256 of them would be ~1,500 targets and
        # 7x fewer steps per epoch at the same learning rate: a first run with 256 sat at valid N@10 0.006 after 4
        # epochs (352 steps) where BSARec's log is at 0.010 after its first 590. 40 sequences ~ 256 targets per step
        batch_size=40,
        prefix_batch_size=256,  # with prefix_targets: BSARec's own batch, 256 prefixes
        weight_decay=0.0,
        ema_epochs=None,
        id_dropout=0.0,
        eval_every=2,
        patience=5,
        min_epochs=10,
        loss="full",
    )
    for key, value in overrides.items():
        setattr(cfg, key, value)
    return cfg


class StudentModel(nn.Module):
    """Item tables (id embeddings, frozen text vectors + projection, event types) around a GPT-2 backbone."""

    text_vectors: torch.Tensor  # a buffer (register_buffer), which nn.Module's typing cannot see

    def __init__(
        self,
        cfg: StudentConfig,
        *,
        n_items: int,
        text_vectors: np.ndarray | torch.Tensor,
        n_event_types: int,
        backbone: nn.Module | None = None,
    ) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.hidden
        tv = torch.as_tensor(np.asarray(text_vectors, dtype=np.float32))
        if tv.shape != (n_items, cfg.text_dim):
            raise ValueError(f"text_vectors must be ({n_items}, {cfg.text_dim}), got {tuple(tv.shape)}")
        # Frozen text vectors, row 0 = padding. Not a parameter: saved next to the weights by Student.save.
        self.register_buffer("text_vectors", torch.cat([torch.zeros(1, cfg.text_dim), tv]), persistent=False)
        self.id_emb = nn.Embedding(n_items + 1, d, padding_idx=PAD)
        self.text_proj = nn.Linear(cfg.text_dim, d)
        self.event_emb = nn.Embedding(n_event_types, d, padding_idx=PAD)
        self.backbone: nn.Module = backbone if backbone is not None else build_backbone(cfg)
        # SASRec/GPT-2 scale input embeddings by sqrt(d); BSARec adds positions to the raw ones and normalises
        self.input_scale = 1.0 if cfg.backbone == "bsarec" else math.sqrt(d)
        self._reset_item_tables()
        if cfg.backbone == "bsarec":
            # BSARec's init (zero biases): the text projection's bias is a constant added to every item row, and
            # torch's default draws it from U(+-1/sqrt(text_dim)), i.e. +-1 for the ids-only baseline's 1-wide zero
            # text column, fifty times its N(0, 0.02) item embeddings
            nn.init.zeros_(self.text_proj.bias)
        self._frozen_items: torch.Tensor | None = None  # cached item matrix for inference (see freeze_items)

    def _reset_item_tables(self) -> None:
        nn.init.normal_(self.id_emb.weight, std=0.02)
        nn.init.normal_(self.event_emb.weight, std=0.02)
        with torch.no_grad():
            self.id_emb.weight[PAD].zero_()
            self.event_emb.weight[PAD].zero_()

    @property
    def n_items(self) -> int:
        return self.id_emb.num_embeddings - 1

    def item_matrix(self) -> torch.Tensor:
        """(n_items + 1, hidden): id embedding + projected text vector, row 0 = padding (zeros)."""
        if self._frozen_items is not None and not self.training:
            return self._frozen_items
        m = self.id_emb.weight + self.text_proj(self.text_vectors)
        return torch.cat([torch.zeros_like(m[:1]), m[1:]])

    def item_rows(self, rows: torch.Tensor) -> torch.Tensor:
        """item_matrix()[rows] without building the whole matrix: the training step of a large catalogue touches
        only the rows of its batch and its sampled candidates (row 0 = padding -> zeros)."""
        if self._frozen_items is not None and not self.training:
            return self._frozen_items[rows]
        m: torch.Tensor = self.id_emb(rows) + self.text_proj(self.text_vectors[rows])  # Module.__call__ is Any
        return m * (rows != PAD).unsqueeze(-1)

    def freeze_items(self) -> None:
        """Cache the item matrix for serving (weights are fixed); call again after changing the item tables."""
        self._frozen_items = None
        with torch.no_grad():
            self._frozen_items = self.item_matrix().detach().clone()

    def train(self, mode: bool = True) -> StudentModel:
        if mode:
            self._frozen_items = None
        return super().train(mode)

    def encode(
        self,
        items: torch.Tensor,
        events: torch.Tensor,
        lengths: torch.Tensor,
        item_matrix: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Hidden states (B, L, hidden) for RIGHT-padded rows (items[b, :lengths[b]] are real, oldest first).

        Right padding + causal attention means no real step ever attends to padding, so no padding mask is needed.
        Positions count back from the most recent step (SASRec's left-padded layout): the last real step is always
        position max_len - 1, so the position embedding encodes recency.
        """
        x = item_matrix[items] if item_matrix is not None else self.item_rows(items)
        if self.training and self.cfg.id_dropout > 0:
            # Show some steps through their text part only, as a product added after training would be seen.
            drop = (torch.rand(items.shape, device=items.device) < self.cfg.id_dropout) & (items != PAD)
            x = x - drop.unsqueeze(-1) * self.id_emb(items)
        x = x * self.input_scale + self.event_emb(events)
        L = items.shape[1]
        pos = torch.arange(L, device=items.device).unsqueeze(0) + (self.cfg.max_len - lengths).unsqueeze(1)
        pos = pos.clamp(0, self.cfg.max_len - 1)
        # BSARec's circular filter reads its window left-padded, so it needs to know which steps are real
        real = {"real": items != PAD} if isinstance(self.backbone, BSARecBackbone) else {}
        out = self.backbone(inputs_embeds=x, position_ids=pos, use_cache=False, **real)
        hidden: torch.Tensor = out.last_hidden_state
        return hidden

    def user_vectors(
        self, items: torch.Tensor, events: torch.Tensor, lengths: torch.Tensor, item_matrix: torch.Tensor | None = None
    ) -> torch.Tensor:
        """(B, hidden): the hidden state at each row's last real step."""
        h = self.encode(items, events, lengths, item_matrix)
        return h[torch.arange(h.shape[0], device=h.device), (lengths - 1).clamp(min=0)]

    @property
    def has_lean_forward(self) -> bool:
        """Whether `last_hidden` reproduces this backbone (a stock GPT-2 block with the tanh GELU we build)."""
        return isinstance(self.backbone, GPT2Model) and self.backbone.config.activation_function == "gelu_new"

    @torch.inference_mode()
    def last_hidden(self, items: torch.Tensor, events: torch.Tensor) -> torch.Tensor:
        """(hidden,): `user_vectors` for ONE history (1-D items/events, dense id + 1, oldest first, at most max_len,
        no padding) in eval mode, without going through `transformers`' generic forward.

        Serving asks one history per request, and there the backbone's own forward (mask building, output objects,
        module hooks) cost more than its arithmetic: ~2 ms of CPU for 20 steps at hidden 128, this path ~0.5 ms
        (bench/student_scale.py). Same GPT-2 maths on the module's own weights (tests/recommender/ml/test_model.py
        checks it against `user_vectors`): pre-LN blocks, causal attention, tanh GELU; the last block computes only the
        last step's row, the only one asked for (its attention sees every step, so it needs no mask)."""
        bb = self.backbone
        assert isinstance(bb, GPT2Model), "last_hidden is GPT-2's forward: check has_lean_forward first"
        d = self.cfg.hidden
        L = items.shape[0]
        x = self.item_rows(items)
        pos = torch.arange(self.cfg.max_len - L, self.cfg.max_len)
        h = x * self.input_scale + self.event_emb.weight[events] + bb.wpe.weight[pos]
        n_heads = bb.config.n_head
        hd = d // n_heads
        blocks: list[Any] = list(bb.h)  # transformers GPT2Block: its submodules are typed as Module | Tensor
        for i, block in enumerate(blocks):
            a = F.layer_norm(h, (d,), block.ln_1.weight, block.ln_1.bias, block.ln_1.eps)
            q, k, v = torch.addmm(block.attn.c_attn.bias, a, block.attn.c_attn.weight).split(d, dim=1)
            last = i == len(blocks) - 1
            if last:
                q, h = q[-1:], h[-1:]
            q, k, v = (t.reshape(-1, n_heads, hd).transpose(0, 1) for t in (q, k, v))
            attn = F.scaled_dot_product_attention(q, k, v, is_causal=not last)
            attn = attn.transpose(0, 1).reshape(-1, d)
            h = h + torch.addmm(block.attn.c_proj.bias, attn, block.attn.c_proj.weight)
            m = F.layer_norm(h, (d,), block.ln_2.weight, block.ln_2.bias, block.ln_2.eps)
            m = F.gelu(torch.addmm(block.mlp.c_fc.bias, m, block.mlp.c_fc.weight), approximate="tanh")
            h = h + torch.addmm(block.mlp.c_proj.bias, m, block.mlp.c_proj.weight)
        h = F.layer_norm(h, (d,), bb.ln_f.weight, bb.ln_f.bias, bb.ln_f.eps)
        return h[-1]

    @torch.no_grad()
    def add_items(self, text_vectors: np.ndarray | torch.Tensor) -> None:
        """Append products created after training: zero id embedding, their own (frozen) text vector."""
        tv = torch.as_tensor(np.asarray(text_vectors, dtype=np.float32)).reshape(-1, self.cfg.text_dim)
        if len(tv) == 0:
            return
        old = self.id_emb
        new = nn.Embedding(old.num_embeddings + len(tv), old.embedding_dim, padding_idx=PAD)
        new.weight.zero_()
        new.weight[: old.num_embeddings] = old.weight
        self.id_emb = new
        self.text_vectors = torch.cat([self.text_vectors, tv])
        if self._frozen_items is not None:
            self.freeze_items()
