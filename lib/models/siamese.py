"""Deep Siamese speaker embeddings (PyTorch): embedder, contrastive loss, baselines, save/load, verification.

The embedder follows the description of the source article: a CNN over the
normalised log-mel spectrogram, an RNN over the CNN's frames, a linear layer to
the embedding and batch normalisation of the embedding.  Two recordings are
compared by the Euclidean distance of their embeddings; the verification score
is the *negative* distance, so that a higher score means "same speaker".

Two baselines share the interface:

* :class:`SpeakerClassifier` — the same embedder trained with cross-entropy over
  the training speakers; its embedding (the layer before the softmax) is scored
  with the same distance;
* :func:`mfcc_stats` + :func:`cosine_scores` — mean and standard deviation of
  MFCCs over time, standardised with training statistics, scored by cosine.

For unseen recordings::

    from lib.models import siamese
    E = siamese.embed_files("runs/book/02_siamese_speakers/artifacts/siamese.pt", ["a.wav", "b.flac"])
    score = siamese.score_pairs(E[[0]], E[[1]])     # higher = more likely the same speaker
    same = score >= threshold                       # threshold chosen on validation pairs
"""
from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from lib import features

#: Front end shared by training and :func:`embed_files` (stored in every checkpoint).
FEATURE_PARAMS = {"sr": 16000, "n_fft": 512, "win_length": 400, "hop_length": 160, "n_mels": 40}


# --------------------------------------------------------------------------
# Front end
# --------------------------------------------------------------------------
def log_mel_normalised(y, params: dict | None = None) -> np.ndarray:
    """Log-mel spectrogram(s) of equal-length waveform(s), each normalised to zero mean and unit variance.

    ``y``: ``(n_samples,)`` or ``(n_clips, n_samples)``; returns ``(..., n_mels, n_frames)`` float32.
    The per-spectrogram mean/std normalisation is the article's "subtract the mean and divide by the
    standard deviation"; it needs no training statistics, so unseen recordings are treated identically.
    """
    p = {**FEATURE_PARAMS, **(params or {})}
    S = features.log_mel(y, sr=p["sr"], n_fft=p["n_fft"], hop_length=p["hop_length"],
                         win_length=p["win_length"], n_mels=p["n_mels"])
    if S.ndim == 2:
        return features.per_clip_normalize(S[None])[0]
    return features.per_clip_normalize(S)


def mfcc_stats(y, n_mfcc: int = 20, params: dict | None = None) -> np.ndarray:
    """Mean and standard deviation over time of ``n_mfcc`` MFCCs: ``(..., 2 * n_mfcc)``."""
    p = {**FEATURE_PARAMS, **(params or {})}
    M = features.mfcc(y, sr=p["sr"], n_mfcc=n_mfcc, n_fft=p["n_fft"], hop_length=p["hop_length"],
                      win_length=p["win_length"], n_mels=p["n_mels"])
    return np.concatenate([M.mean(axis=-1), M.std(axis=-1)], axis=-1).astype(np.float32)


# --------------------------------------------------------------------------
# Networks
# --------------------------------------------------------------------------
class Embedder(nn.Module):
    """CNN → bidirectional GRU → linear → batch norm.

    Input ``(batch, n_mels, n_frames)`` (or with a channel axis); output ``(batch, emb_dim)``.
    Three conv blocks (3×3 conv, batch norm, ReLU) halve the mel and time axes three times — the
    first by a stride-2 convolution, the others by 2×2 max-pooling (40 × 101 → 5 × 12 for a 1-s
    clip); the GRU reads the resulting frame sequence and its final forward and backward states are
    concatenated, so any input of at least 9 frames works.  The sizes are small on purpose: the book
    trains on two CPU cores.

    The batch-normalised embedding is divided by √(2·emb_dim) so that the expected squared distance
    between two independent embeddings is about one: distances start on the scale of the contrastive
    margin (1.0).
    Without this (``scale_embedding=False``) random 128-d unit-variance embeddings lie ≈ 16 apart, far
    beyond the margin, so the different-speaker term of the loss is zero and the margin has no effect
    until training has shrunk the embedding.
    """

    def __init__(self, n_mels: int = 40, emb_dim: int = 128, channels: Sequence[int] = (16, 32, 64),
                 rnn_hidden: int = 128, dropout: float = 0.1, scale_embedding: bool = True):
        super().__init__()
        self.config = {"n_mels": n_mels, "emb_dim": emb_dim, "channels": list(channels),
                       "rnn_hidden": rnn_hidden, "dropout": dropout, "scale_embedding": scale_embedding}
        blocks, c_in, freq_out = [], 1, n_mels
        for k, c_out in enumerate(channels):
            stride = 2 if k == 0 else 1
            blocks += [nn.Conv2d(c_in, c_out, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(c_out),
                       nn.ReLU()]
            if k > 0:
                blocks.append(nn.MaxPool2d(2))
            freq_out = (freq_out - 1) // 2 + 1 if k == 0 else freq_out // 2
            c_in = c_out
        self.cnn = nn.Sequential(*blocks)
        self.rnn = nn.GRU(c_in * freq_out, rnn_hidden, batch_first=True, bidirectional=True)
        self.dropout = nn.Dropout(dropout)
        self.linear = nn.Linear(2 * rnn_hidden, emb_dim)
        self.norm = nn.BatchNorm1d(emb_dim)
        self.scale = 1.0 / np.sqrt(2 * emb_dim) if scale_embedding else 1.0

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.dim() == 3:
            x = x.unsqueeze(1)
        if x.dim() != 4 or x.shape[2] != self.config["n_mels"]:
            raise ValueError(f"expected (batch, {self.config['n_mels']}, frames) features, got {tuple(x.shape)}")
        h = self.cnn(x)                                   # (B, C, F', T')
        h = h.flatten(1, 2).transpose(1, 2)               # (B, T', C·F')
        _, last = self.rnn(h)                             # (2, B, H): final state of each direction
        h = torch.cat([last[0], last[1]], dim=1)
        return self.norm(self.linear(self.dropout(h))) * self.scale


class SpeakerClassifier(nn.Module):
    """Baseline: the same embedder followed by a linear softmax layer over the training speakers."""

    def __init__(self, n_speakers: int, **embedder_kwargs):
        super().__init__()
        self.embedder = Embedder(**embedder_kwargs)
        self.head = nn.Linear(self.embedder.config["emb_dim"], n_speakers)
        self.config = {**self.embedder.config, "n_speakers": n_speakers}

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(F.relu(self.embedder(x)))

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        return self.embedder(x)


# --------------------------------------------------------------------------
# Loss and scores
# --------------------------------------------------------------------------
def contrastive_loss(e1: torch.Tensor, e2: torch.Tensor, same: torch.Tensor, margin: float = 1.0) -> torch.Tensor:
    """Contrastive loss (Hadsell, Chopra & LeCun, 2006) as the article describes it.

    ``d = ||e1 − e2||₂``; a same-speaker pair (``same = 1``) costs ``d²``, a different-speaker pair
    ``max(0, margin − d)²``; the mean over the batch is returned.  ``same`` may be bool or 0/1 and
    must have one entry per pair (a ``(B, 1)`` distance against a ``(B,)`` label would silently
    broadcast to ``(B, B)``, one of the companion code's defects, so shapes are checked).
    """
    if e1.shape != e2.shape or e1.dim() != 2:
        raise ValueError(f"embeddings must both be (batch, dim), got {tuple(e1.shape)} and {tuple(e2.shape)}")
    same = same.reshape(-1).to(e1.dtype)
    if same.shape[0] != e1.shape[0]:
        raise ValueError(f"{same.shape[0]} labels for {e1.shape[0]} pairs")
    d = F.pairwise_distance(e1, e2, eps=0.0)
    loss = same * d.pow(2) + (1 - same) * torch.clamp(margin - d, min=0).pow(2)
    return loss.mean()


def score_pairs(emb_a: np.ndarray, emb_b: np.ndarray) -> np.ndarray:
    """Verification scores of row-aligned embedding pairs: minus the Euclidean distance (higher = same)."""
    emb_a, emb_b = np.asarray(emb_a, dtype=np.float64), np.asarray(emb_b, dtype=np.float64)
    if emb_a.shape != emb_b.shape:
        raise ValueError(f"embedding arrays differ in shape: {emb_a.shape} vs {emb_b.shape}")
    return -np.linalg.norm(emb_a - emb_b, axis=-1)


def cosine_scores(emb_a: np.ndarray, emb_b: np.ndarray) -> np.ndarray:
    """Cosine similarity of row-aligned pairs."""
    a = np.asarray(emb_a, dtype=np.float64)
    b = np.asarray(emb_b, dtype=np.float64)
    a = a / np.maximum(np.linalg.norm(a, axis=-1, keepdims=True), 1e-12)
    b = b / np.maximum(np.linalg.norm(b, axis=-1, keepdims=True), 1e-12)
    return (a * b).sum(axis=-1)


# --------------------------------------------------------------------------
# Training batches
# --------------------------------------------------------------------------
class PairBatches:
    """Mini-batches ``(x1, x2, same)`` of feature pairs; ``sample(epoch)`` draws fresh pairs every epoch.

    ``X``: ``(n_clips, n_mels, n_frames)`` float32; ``sample(epoch) -> (i, j, same)`` index arrays.
    """

    def __init__(self, X: np.ndarray, sample, batch_size: int = 64):
        self.X = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
        self.sample, self.batch_size, self.epoch = sample, batch_size, 0

    def __iter__(self):
        i, j, same = self.sample(self.epoch)
        self.epoch += 1
        same = torch.as_tensor(np.asarray(same, dtype=np.float32))
        for s in range(0, len(i), self.batch_size):
            k = slice(s, s + self.batch_size)
            if len(i[k]) < 2:  # batch norm needs two items
                continue
            yield self.X[i[k]], self.X[j[k]], same[k]


class ClipBatches:
    """Shuffled mini-batches ``(x, label)`` for the classifier baseline (a new order every epoch).

    ``n_per_epoch`` (default: all clips) sets how many clips one epoch draws, cycling through fresh
    permutations, so that the baseline can see exactly as many clips as the Siamese network.
    """

    def __init__(self, X: np.ndarray, y: np.ndarray, batch_size: int = 128, seed: int = 0, shuffle: bool = True,
                 n_per_epoch: int | None = None):
        self.X = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
        self.y = torch.as_tensor(np.asarray(y), dtype=torch.long)
        self.batch_size, self.shuffle = batch_size, shuffle
        self.n_per_epoch = n_per_epoch or len(self.y)
        self.rng = np.random.default_rng(seed)

    def __iter__(self):
        n = len(self.y)
        if self.shuffle:
            reps = int(np.ceil(self.n_per_epoch / n))
            order = np.concatenate([self.rng.permutation(n) for _ in range(reps)])[:self.n_per_epoch]
        else:
            order = np.resize(np.arange(n), self.n_per_epoch)
        for s in range(0, len(order), self.batch_size):
            k = torch.as_tensor(order[s:s + self.batch_size])
            if len(k) < 2:
                continue
            yield self.X[k], self.y[k]


def siamese_loss_fn(margin: float = 1.0):
    """``loss_fn(model, batch)`` for :func:`lib.models.training.fit`: both sides in one forward pass."""
    def loss_fn(model, batch):
        x1, x2, same = batch
        e = model(torch.cat([x1, x2]))
        return contrastive_loss(e[:len(x1)], e[len(x1):], same, margin)
    return loss_fn


def classifier_loss_fn(model, batch):
    x, y = batch
    return F.cross_entropy(model(x), y)


# --------------------------------------------------------------------------
# Embedding
# --------------------------------------------------------------------------
def _embedder(model: nn.Module) -> nn.Module:
    return model.embedder if isinstance(model, SpeakerClassifier) else model


@torch.no_grad()
def embed(model: nn.Module, X, batch_size: int = 256) -> np.ndarray:
    """Embeddings of equal-length feature matrices ``X`` ``(n, n_mels, n_frames)``, eval mode."""
    net = _embedder(model)
    net.eval()
    X = torch.as_tensor(np.asarray(X, dtype=np.float32))
    if len(X) == 0:
        return np.zeros((0, net.config["emb_dim"]), dtype=np.float32)
    return torch.cat([net(X[s:s + batch_size]) for s in range(0, len(X), batch_size)]).numpy()


@torch.no_grad()
def embed_ragged(model: nn.Module, feats: Sequence[np.ndarray], batch_size: int = 64) -> np.ndarray:
    """Embeddings of feature matrices of different lengths (grouped by length, order kept)."""
    net = _embedder(model)
    net.eval()
    out = np.zeros((len(feats), net.config["emb_dim"]), dtype=np.float32)
    lengths = np.array([f.shape[-1] for f in feats])
    for length in np.unique(lengths):
        idx = np.flatnonzero(lengths == length)
        out[idx] = embed(net, np.stack([feats[k] for k in idx]), batch_size)
    return out


# --------------------------------------------------------------------------
# Save / load / verify unseen recordings
# --------------------------------------------------------------------------
def save(model: nn.Module, path: str | os.PathLike, feature_params: dict | None = None, **meta) -> Path:
    """Write the model's weights, architecture and front-end parameters to one file."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    kind = "classifier" if isinstance(model, SpeakerClassifier) else "siamese"
    torch.save({"kind": kind, "config": model.config, "state_dict": model.state_dict(),
                "feature_params": {**FEATURE_PARAMS, **(feature_params or {})}, "meta": meta}, path)
    return path


def load(path: str | os.PathLike) -> tuple[nn.Module, dict]:
    """Rebuild a model saved by :func:`save`; returns ``(model in eval mode, checkpoint dict)``."""
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no such model file")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"{path}: not a model file written by lib.models.siamese.save ({exc})") from exc
    if not isinstance(ckpt, dict) or "state_dict" not in ckpt:
        raise ValueError(f"{path}: not a model file written by lib.models.siamese.save")
    cfg = dict(ckpt["config"])
    if ckpt["kind"] == "classifier":
        n = cfg.pop("n_speakers")
        model = SpeakerClassifier(n, **cfg)
    else:
        model = Embedder(**cfg)
    model.load_state_dict(ckpt["state_dict"])
    model.eval()
    return model, ckpt


def embed_files(model_path: str | os.PathLike, paths: Sequence[str | os.PathLike], max_seconds: float | None = None,
                batch_size: int = 64) -> np.ndarray:
    """Embed audio files with a saved model: one row per file, ``(len(paths), emb_dim)``.

    Each file is decoded with :func:`lib.data.load_audio` (any rate, mono mix), optionally cut to its
    loudest ``max_seconds``, turned into the normalised log-mel spectrogram the model was trained on,
    and embedded whole (the GRU accepts any length; files shorter than 0.1 s are padded).  A file that
    cannot be read raises an error naming it.
    """
    from lib import data

    model, ckpt = load(model_path)
    p = ckpt["feature_params"]
    feats = []
    for path in paths:
        y, _ = data.load_audio(path, sr=p["sr"])
        if max_seconds is not None:
            y = features.loudest_window(y, int(max_seconds * p["sr"]))
        if len(y) < p["sr"] // 10:  # the CNN needs at least 9 frames
            y = features.fix_length(y, p["sr"] // 10)
        feats.append(log_mel_normalised(y, p))
    return embed_ragged(model, feats, batch_size)


def verify(model_path: str | os.PathLike, pairs: Sequence[tuple], threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """Score ``[(path_a, path_b), ...]`` and decide same speaker when ``score >= threshold``.

    Returns ``(scores, decisions)``; ``threshold`` must come from validation pairs (e.g. the value the
    chapter stores next to the model).
    """
    files = sorted({str(p) for pair in pairs for p in pair})
    E = embed_files(model_path, files)
    row = {f: k for k, f in enumerate(files)}
    a = np.array([row[str(p)] for p, _ in pairs])
    b = np.array([row[str(q)] for _, q in pairs])
    scores = score_pairs(E[a], E[b])
    return scores, scores >= threshold
