"""Audio features: log-mel, dB, MFCC, deltas, normalisation, crop/pad, SpecAugment, waveform augmentation.

The spectral functions work on a batch of equal-length waveforms at once
(``y`` of shape ``(n_clips, n_samples)`` or a single 1-D clip) with one
vectorised STFT, and reproduce ``librosa.feature.melspectrogram`` /
``librosa.feature.mfcc`` (centered frames, zero padding, Hann window, Slaney
mel filters, orthonormal DCT-II) — the tests check the match.  Deltas use
``librosa.feature.delta``, which is already vectorised.

Features that many runs need are cached on disk by :func:`cached`.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Callable
from pathlib import Path

import librosa
import numpy as np
import scipy.fft
import torch

CACHE_ENV = "AUDIO_REPRO_CACHE"


# --------------------------------------------------------------------------
# Length
# --------------------------------------------------------------------------
def fix_length(y: np.ndarray, n: int, mode: str = "start") -> np.ndarray:
    """Crop or zero-pad the last axis to ``n`` samples (``mode``: keep the "start" or the "center")."""
    size = y.shape[-1]
    if size >= n:
        start = 0 if mode == "start" else (size - n) // 2
        return y[..., start : start + n]
    pad = [(0, 0)] * (y.ndim - 1)
    before = 0 if mode == "start" else (n - size) // 2
    return np.pad(y, pad + [(before, n - size - before)])


def loudest_window(y: np.ndarray, n: int, hop: int = 160) -> np.ndarray:
    """The ``n``-sample window of ``y`` with the highest energy (for clips longer than ``n``)."""
    if len(y) <= n:
        return fix_length(y, n)
    # Running sums, not np.convolve: a direct convolution costs len(y)*n operations (seconds for a
    # 15-s recording and a 1-s window); the cumulative sum is linear in len(y).
    running = np.concatenate([[0.0], np.cumsum(y.astype(np.float64) ** 2)])
    energy = (running[n:] - running[:-n])[::hop]
    start = int(np.argmax(energy)) * hop
    return y[start : start + n]


def fix_frames(features: np.ndarray, n_frames: int) -> np.ndarray:
    """Crop or zero-pad the time (last) axis of a feature matrix to ``n_frames``."""
    return fix_length(features, n_frames, mode="start")


# --------------------------------------------------------------------------
# Spectra (batched)
# --------------------------------------------------------------------------
def _as_batch(y) -> tuple[np.ndarray, bool]:
    y = np.asarray(y, dtype=np.float32)
    return (y[None], True) if y.ndim == 1 else (y, False)


def power_spectrogram(
    y, n_fft: int = 512, hop_length: int = 160, win_length: int | None = None, power: float = 2.0
) -> np.ndarray:
    """|STFT|**power of a batch, centered frames with zero padding (librosa's defaults)."""
    batch, single = _as_batch(y)
    win_length = win_length or n_fft
    window = torch.hann_window(win_length, periodic=True, dtype=torch.float32)
    x = torch.from_numpy(np.ascontiguousarray(batch))
    spec = torch.stft(
        x,
        n_fft=n_fft,
        hop_length=hop_length,
        win_length=win_length,
        window=window,
        center=True,
        pad_mode="constant",
        return_complex=True,
    )
    out = spec.abs().pow(power).numpy()
    return out[0] if single else out


def mel_spectrogram(
    y,
    sr: int = 16000,
    n_fft: int = 512,
    hop_length: int = 160,
    win_length: int | None = None,
    n_mels: int = 40,
    fmin: float = 0.0,
    fmax: float | None = None,
) -> np.ndarray:
    """Mel power spectrogram, shape ``(..., n_mels, n_frames)``."""
    mel_basis = librosa.filters.mel(sr=sr, n_fft=n_fft, n_mels=n_mels, fmin=fmin, fmax=fmax).astype(np.float32)
    spec = power_spectrogram(y, n_fft, hop_length, win_length)
    return np.einsum("mf,...ft->...mt", mel_basis, spec, optimize=True)


def power_to_db(S: np.ndarray, top_db: float | None = 80.0, amin: float = 1e-10, ref: str = "max") -> np.ndarray:
    """10·log10 with a floor of ``top_db`` below each clip's maximum (librosa.power_to_db per clip).

    ``ref="max"`` scales each clip to its own peak (librosa's ``ref=np.max``); ``ref="one"`` keeps absolute dB.
    """
    log = 10.0 * np.log10(np.maximum(S, amin))
    if ref == "max":
        peak = np.max(S, axis=(-2, -1), keepdims=True)
        log = log - 10.0 * np.log10(np.maximum(peak, amin))
    if top_db is not None:
        log = np.maximum(log, log.max(axis=(-2, -1), keepdims=True) - top_db)
    return log.astype(np.float32)


def log_mel(
    y,
    sr: int = 16000,
    n_fft: int = 512,
    hop_length: int = 160,
    win_length: int | None = None,
    n_mels: int = 40,
    fmin: float = 0.0,
    fmax: float | None = None,
    top_db: float | None = 80.0,
    ref: str = "one",
) -> np.ndarray:
    """Log-mel energies in dB."""
    return power_to_db(mel_spectrogram(y, sr, n_fft, hop_length, win_length, n_mels, fmin, fmax), top_db, ref=ref)


def mfcc(
    y,
    sr: int = 16000,
    n_mfcc: int = 40,
    n_fft: int = 512,
    hop_length: int = 160,
    win_length: int | None = None,
    n_mels: int = 40,
    fmin: float = 0.0,
    fmax: float | None = None,
    top_db: float | None = 80.0,
) -> np.ndarray:
    """MFCCs as ``librosa.feature.mfcc`` computes them: DCT-II (ortho) of the dB mel spectrogram."""
    S = log_mel(y, sr, n_fft, hop_length, win_length, n_mels, fmin, fmax, top_db, ref="one")
    return scipy.fft.dct(S, type=2, axis=-2, norm="ortho")[..., :n_mfcc, :].astype(np.float32)


def deltas(features: np.ndarray, order: int = 1, width: int = 9) -> np.ndarray:
    """Time derivative of a feature matrix (librosa's Savitzky-Golay delta along the last axis)."""
    width = min(width, features.shape[-1] - (1 - features.shape[-1] % 2))
    return librosa.feature.delta(features, order=order, width=max(width, 3), axis=-1).astype(np.float32)


# --------------------------------------------------------------------------
# Normalisation
# --------------------------------------------------------------------------
class Standardizer:
    """Mean/std normalisation fitted on training features only.

    ``axis`` are the axes averaged over; the default ``(0, -1)`` keeps one mean
    per feature row (e.g. per mel band), averaged over clips and frames.
    """

    def __init__(self, axis=(0, -1), eps: float = 1e-6):
        self.axis, self.eps = axis, eps

    def fit(self, X: np.ndarray) -> Standardizer:
        self.mean_ = X.mean(axis=self.axis, keepdims=True).astype(np.float32)
        self.std_ = X.std(axis=self.axis, keepdims=True).astype(np.float32)
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        return ((X - self.mean_) / (self.std_ + self.eps)).astype(np.float32)

    def fit_transform(self, X: np.ndarray) -> np.ndarray:
        return self.fit(X).transform(X)


def per_clip_normalize(X: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Zero mean and unit variance within each clip (over all but the first axis)."""
    axes = tuple(range(1, X.ndim))
    return ((X - X.mean(axis=axes, keepdims=True)) / (X.std(axis=axes, keepdims=True) + eps)).astype(np.float32)


# --------------------------------------------------------------------------
# Augmentation
# --------------------------------------------------------------------------
def spec_augment(
    S: np.ndarray,
    rng: np.random.Generator,
    n_freq_masks: int = 2,
    freq_width: int = 8,
    n_time_masks: int = 2,
    time_width: int = 10,
    value: float | None = None,
) -> np.ndarray:
    """SpecAugment frequency and time masks (Park et al., 2019) on a ``(n_bins, n_frames)`` matrix.

    Mask widths are drawn uniformly from ``[0, width]``; masked cells take ``value``
    (default: the matrix mean).  Returns a copy.
    """
    S = S.copy()
    fill = S.mean() if value is None else value
    n_bins, n_frames = S.shape[-2:]
    for _ in range(n_freq_masks):
        w = int(rng.integers(0, freq_width + 1))
        f0 = int(rng.integers(0, max(1, n_bins - w + 1)))
        S[..., f0 : f0 + w, :] = fill
    for _ in range(n_time_masks):
        w = int(rng.integers(0, min(time_width, n_frames) + 1))
        t0 = int(rng.integers(0, max(1, n_frames - w + 1)))
        S[..., :, t0 : t0 + w] = fill
    return S


def time_shift(y: np.ndarray, max_shift: int, rng: np.random.Generator) -> np.ndarray:
    """Shift left or right by up to ``max_shift`` samples, zero-filling (length kept)."""
    shift = int(rng.integers(-max_shift, max_shift + 1))
    out = np.zeros_like(y)
    if shift >= 0:
        out[shift:] = y[: len(y) - shift]
    else:
        out[:shift] = y[-shift:]
    return out


def change_speed(y: np.ndarray, rate: float) -> np.ndarray:
    """Play ``rate`` times faster (pitch moves with it, like tape), by linear-interpolation resampling."""
    n_out = max(1, int(round(len(y) / rate)))
    positions = np.linspace(0, len(y) - 1, n_out)
    return np.interp(positions, np.arange(len(y)), y).astype(np.float32)


def change_volume(y: np.ndarray, gain_db: float) -> np.ndarray:
    return (y * 10.0 ** (gain_db / 20.0)).astype(np.float32)


def mix_background(y: np.ndarray, noise: np.ndarray, rng: np.random.Generator, volume: float = 0.1) -> np.ndarray:
    """Add a random excerpt of ``noise`` (looped if short) scaled by ``volume``."""
    if len(noise) < len(y):
        noise = np.tile(noise, int(np.ceil(len(y) / len(noise))))
    start = int(rng.integers(0, len(noise) - len(y) + 1))
    return (y + volume * noise[start : start + len(y)]).astype(np.float32)


def random_chunks(noise: np.ndarray, n_chunks: int, length: int, rng: np.random.Generator) -> np.ndarray:
    """``n_chunks`` random windows of ``length`` samples cut from a long recording."""
    starts = rng.integers(0, len(noise) - length + 1, size=n_chunks)
    return np.stack([noise[s : s + length] for s in starts]).astype(np.float32)


def spectral_subtraction(
    y: np.ndarray, n_fft: int = 512, hop_length: int = 128, noise_frames: int = 10, floor: float = 0.02
) -> np.ndarray:
    """Simple spectral subtraction: estimate the noise magnitude from the quietest frames and subtract it."""
    D = librosa.stft(y, n_fft=n_fft, hop_length=hop_length)
    mag, phase = np.abs(D), np.angle(D)
    quiet = np.argsort(mag.sum(axis=0))[:noise_frames]
    noise = mag[:, quiet].mean(axis=1, keepdims=True)
    cleaned = np.maximum(mag - noise, floor * mag)
    return librosa.istft(cleaned * np.exp(1j * phase), hop_length=hop_length, length=len(y)).astype(np.float32)


# --------------------------------------------------------------------------
# Cache
# --------------------------------------------------------------------------
def cache_dir() -> Path:
    default = Path(__file__).resolve().parents[1] / ".cache"
    return Path(os.environ.get(CACHE_ENV, default)).expanduser()


def cache_key(**parts) -> str:
    text = json.dumps(parts, sort_keys=True, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def cached(name: str, compute: Callable[[], dict[str, np.ndarray]], **key_parts) -> dict[str, np.ndarray]:
    """Return ``compute()``'s arrays, computed once per (name, key_parts) and kept as a .npz.

    Key parts should name everything the features depend on: corpus fingerprint,
    file list, feature parameters.  The file is written atomically.
    """
    folder = cache_dir() / "features"
    folder.mkdir(parents=True, exist_ok=True)
    file = folder / f"{name}-{cache_key(name=name, **key_parts)}.npz"
    if file.exists():
        with np.load(file, allow_pickle=False) as z:
            return {k: z[k] for k in z.files}
    arrays = compute()
    tmp = file.with_name(file.name + f".{os.getpid()}.tmp.npz")
    np.savez(tmp, **arrays)
    os.replace(tmp, file)
    return arrays
