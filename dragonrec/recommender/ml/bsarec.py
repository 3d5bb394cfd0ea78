"""BSARec (Shin et al., "An Attentive Inductive Bias for Sequential Recommendation beyond the Self-Attention",
AAAI 2024) as a backbone the student's trainer can train: a frequency-domain filter beside self-attention.

Each block mixes two branches of the same input, alpha * filter + (1 - alpha) * attention, each with its own
residual + LayerNorm (post-LN, BERT style), then a 4x GELU feed-forward. The filter splits the sequence into its
lowest `c // 2 + 1` frequencies (an rFFT over the steps, the rest zeroed) and the remainder, and rescales the
remainder by a learned per-dimension beta^2: an inductive bias toward the sequence's slow trends that attention
alone lacks. Published Beauty hyperparameters (its committed log, src/output/BSARec_Beauty_best.log): hidden 64,
2 layers, 1 head, dropout 0.5 / 0.5, c 5, alpha 0.7, lr 5e-4, batch 256, 50 steps (model.bsarec_config).
StudentModel builds this backbone when StudentConfig.backbone is "bsarec".

One deliberate difference, so that it trains through the same code path as our student (a loss at every position
of a sequence at once): BSARec trains on every prefix separately and reads only the last position, so its FFT may
mix all steps of the window. Here the filter is causal: position t gets exactly what BSARec's filter gives the LAST
position of the 50-step window ending at t (steps before the sequence are zeros). A low-pass by FFT is a circular
convolution, so that is one fixed kernel (the last row of the filter's matrix) applied causally. At the last step of
a history, the one that is scored, the first layer's filter is BSARec's; deeper layers see causal inputs where
BSARec's see the whole prefix (as SASRec's causal attention differs from a bidirectional one).

With StudentConfig.prefix_targets (one example per target, the loss at its last step) nothing after a step is a
target, and the backbone is BSARec's own (`circular=True`): the steps left-padded into the 50-step window (the last
one at position 49), position embeddings on the padding too, the filter an rFFT over the whole window, attention
causal with the padding keys masked by an additive -10000 (so a padding row attends to everything, as in BSARec).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn


@dataclass
class BackboneOutput:
    last_hidden_state: torch.Tensor


def lowpass_kernel(window: int, c: int) -> torch.Tensor:
    """(window,) weights w with lowpass(x)[last] = sum_j w[j] * x[j] for a window of `window` steps, where lowpass
    keeps the first c // 2 + 1 rFFT frequencies (norm "ortho", as BSARec) and zeroes the rest."""
    eye = torch.eye(window, dtype=torch.float64)
    spectrum = torch.fft.rfft(eye, dim=0, norm="ortho")
    spectrum[c // 2 + 1 :] = 0
    matrix = torch.fft.irfft(spectrum, n=window, dim=0, norm="ortho")  # column j: the filter's response to step j
    kernel: torch.Tensor = matrix[window - 1].float()
    return kernel


class FrequencyFilter(nn.Module):
    """low + beta^2 * (x - low), dropout, residual, LayerNorm; low is the causal low-pass (see the module doc), or
    with `circular` BSARec's own rFFT low-pass over the whole window."""

    def __init__(self, hidden: int, *, window: int, c: int, dropout: float, circular: bool = False) -> None:
        super().__init__()
        self.circular = circular
        self.keep = c // 2 + 1
        self.register_buffer("kernel", lowpass_kernel(window, c).reshape(1, 1, -1), persistent=True)
        self.sqrt_beta = nn.Parameter(torch.randn(1, 1, hidden))
        self.dropout = nn.Dropout(dropout)
        self.norm = nn.LayerNorm(hidden, eps=1e-12)

    def lowpass(self, x: torch.Tensor) -> torch.Tensor:
        B, L, d = x.shape
        if self.circular:
            spectrum = torch.fft.rfft(x.float(), dim=1, norm="ortho")
            spectrum[:, self.keep :] = 0
            low: torch.Tensor = torch.fft.irfft(spectrum, n=L, dim=1, norm="ortho")
            return low.to(x.dtype)
        kernel: torch.Tensor = self.kernel  # type: ignore[assignment]
        k = kernel.shape[-1]
        # one channel per (sequence, dimension); left zero padding of k - 1 steps makes it causal
        seq = F.pad(x.transpose(1, 2).reshape(B * d, 1, L), (k - 1, 0))
        return F.conv1d(seq, kernel.to(x.dtype)).reshape(B, d, L).transpose(1, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        low = self.lowpass(x)
        out = low + self.sqrt_beta**2 * (x - low)
        y: torch.Tensor = self.norm(self.dropout(out) + x)  # nn.Module.__call__ returns Any
        return y


class CausalAttention(nn.Module):
    def __init__(self, hidden: int, *, heads: int, attn_dropout: float, dropout: float) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(hidden, 3 * hidden)
        self.out = nn.Linear(hidden, hidden)
        self.attn_dropout = attn_dropout
        self.dropout = nn.Dropout(dropout)
        self.norm = nn.LayerNorm(hidden, eps=1e-12)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        """mask: None for right-padded rows (a causal mask: no real step attends to padding), else an additive
        (B, 1, L, L) mask."""
        B, L, d = x.shape
        q, k, v = (t.reshape(B, L, self.heads, -1).transpose(1, 2) for t in self.qkv(x).split(d, dim=2))
        a = F.scaled_dot_product_attention(
            q, k, v, attn_mask=mask, is_causal=mask is None, dropout_p=self.attn_dropout if self.training else 0.0
        )
        y: torch.Tensor = self.norm(self.dropout(self.out(a.transpose(1, 2).reshape(B, L, d))) + x)
        return y


class BSARecBlock(nn.Module):
    def __init__(
        self,
        hidden: int,
        *,
        ffn_mult: int,
        heads: int,
        dropout: float,
        attn_dropout: float,
        window: int,
        c: int,
        alpha: float,
        circular: bool = False,
    ) -> None:
        super().__init__()
        d = hidden
        self.alpha = alpha
        self.filter = FrequencyFilter(d, window=window, c=c, dropout=dropout, circular=circular)
        self.attention = CausalAttention(d, heads=heads, attn_dropout=attn_dropout, dropout=dropout)
        self.ffn_in = nn.Linear(d, ffn_mult * d)
        self.ffn_out = nn.Linear(ffn_mult * d, d)
        self.dropout = nn.Dropout(dropout)
        self.norm = nn.LayerNorm(d, eps=1e-12)

    def forward(self, x: torch.Tensor, mask: torch.Tensor | None = None) -> torch.Tensor:
        h = self.alpha * self.filter(x) + (1 - self.alpha) * self.attention(x, mask)
        y: torch.Tensor = self.norm(self.dropout(self.ffn_out(F.gelu(self.ffn_in(h)))) + h)
        return y


class BSARecBackbone(nn.Module):
    """Learned positions + LayerNorm + dropout, then BSARec blocks; called like the GPT-2 backbone
    (inputs_embeds, position_ids) so StudentModel.encode feeds either."""

    def __init__(
        self,
        hidden: int,
        *,
        n_layers: int,
        max_len: int,
        ffn_mult: int,
        heads: int,
        dropout: float,
        attn_dropout: float,
        c: int,
        alpha: float,
        circular: bool = False,
    ) -> None:
        super().__init__()
        self.window = max_len
        self.circular = circular
        self.positions = nn.Embedding(max_len, hidden)
        self.norm = nn.LayerNorm(hidden, eps=1e-12)
        self.dropout = nn.Dropout(dropout)
        self.blocks = nn.ModuleList(
            BSARecBlock(
                hidden,
                ffn_mult=ffn_mult,
                heads=heads,
                dropout=dropout,
                attn_dropout=attn_dropout,
                window=max_len,
                c=c,
                alpha=alpha,
                circular=circular,
            )
            for _ in range(n_layers)
        )
        for module in self.modules():  # BSARec's init: N(0, 0.02) weights, zero biases
            if isinstance(module, nn.Linear | nn.Embedding):
                nn.init.normal_(module.weight, std=0.02)
            if isinstance(module, nn.Linear) and module.bias is not None:
                nn.init.zeros_(module.bias)

    def forward(
        self,
        *,
        inputs_embeds: torch.Tensor,
        position_ids: torch.Tensor,
        use_cache: bool = False,
        real: torch.Tensor | None = None,
    ) -> BackboneOutput:
        """Right-padded rows in, right-padded rows out. `real` (B, L): which steps are not padding (needed when
        `circular`); a real step's position id is its place in the left-padded window (StudentModel.encode)."""
        if not self.circular:
            h = self.dropout(self.norm(inputs_embeds + self.positions(position_ids)))
            for block in self.blocks:
                h = block(h)
            return BackboneOutput(last_hidden_state=h)
        B, L, d = inputs_embeds.shape
        W = self.window
        if real is None:
            real = torch.ones(B, L, dtype=torch.bool, device=inputs_embeds.device)
        rows = torch.arange(B, device=inputs_embeds.device).unsqueeze(1).expand(B, L)
        x = inputs_embeds.new_zeros(B, W, d)  # padding steps: item row 0 (zeros), as BSARec's padding_idx
        x[rows[real], position_ids[real]] = inputs_embeds[real]
        keys = torch.zeros(B, W, dtype=torch.bool, device=x.device)
        keys[rows[real], position_ids[real]] = True
        causal = torch.ones(W, W, dtype=torch.bool, device=x.device).tril()
        # BSARec's (1 - mask) * -10000: a padding row, with no key left, attends to every step alike
        mask = (~(causal.unsqueeze(0) & keys.unsqueeze(1))).unsqueeze(1).to(x.dtype) * -10000.0
        h = self.dropout(self.norm(x + self.positions.weight[:W]))
        for block in self.blocks:
            h = block(h, mask)
        return BackboneOutput(last_hidden_state=h[rows, position_ids.clamp(max=W - 1)])
