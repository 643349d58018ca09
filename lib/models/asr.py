"""Character-level CTC speech recognisers (CNN + LSTM, CNN + BiGRU, CNN + residual CNN + BiGRU).

The three models of the voice-controlled music recommendation paper, in the
DeepSpeech2-like layout the paper follows: a strided 2-D convolution over the
log-mel spectrogram, optional residual CNN blocks, a linear projection, a stack
of recurrent layers and a per-frame classifier over the character map plus the
CTC blank.  Training uses CTC loss, AdamW and a one-cycle learning-rate
schedule through :func:`lib.models.training.fit`; decoding is greedy.

Public pieces:

* :class:`TextTransform` — the character map with ``<SPACE>``, ``text_to_int`` / ``int_to_text``;
* :func:`asr_features` — normalised log-mel features of a waveform;
* :func:`build_model` — one of ``"cnn_lstm"``, ``"cnn_bigru"``, ``"cnn_rescnn_bigru"``;
* :func:`train_ctc` — the training loop with SpecAugment on training batches only;
* :func:`greedy_decode`, :func:`transcribe`, :func:`evaluate` — inference and CER/WER;
* :func:`transcribe_files` — audio files in, transcripts out, with the recogniser shipped in
  ``book/models/music_recogniser.pt`` (:data:`DEFAULT_MODEL`) by default.

A recogniser file (:func:`save_recogniser`) stores its feature settings with the weights;
:func:`load_recogniser` attaches them to the model (``model.feature_cfg``), and :func:`transcribe`,
:func:`utterance_log_probs` and :func:`transcribe_files` use them unless a ``cfg`` is passed.
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn
from torch.nn import functional as F

from lib import features, metrics
from lib.datasets.librispeech import CHARS, TEXT, FeatureConfig, TextTransform, asr_features  # noqa: F401 (re-exported: asr.TEXT, ...)
from lib.models import shipped, training

#: The recogniser shipped with the book (the music chapter's ``book`` run writes it).
DEFAULT_MODEL = shipped.FOLDER / "music_recogniser.pt"


# --------------------------------------------------------------------------
# Models
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class ModelConfig:
    kind: str = "cnn_rescnn_bigru"  # cnn_lstm | cnn_bigru | cnn_rescnn_bigru
    n_mels: int = 64
    cnn_channels: int = 32
    time_stride: int = 2  # the stem convolution's stride along time (2: 20 ms output frames)
    n_res_blocks: int = 3
    rnn_dim: int = 256
    n_rnn_layers: int = 3
    dropout: float = 0.1
    n_classes: int = TEXT.n_classes


class _FeatureLayerNorm(nn.Module):
    """LayerNorm over the feature (mel) axis of a ``(batch, channel, feature, time)`` tensor."""

    def __init__(self, n_feats: int):
        super().__init__()
        self.norm = nn.LayerNorm(n_feats)

    def forward(self, x):
        return self.norm(x.transpose(2, 3)).transpose(2, 3)


class ResidualCNN(nn.Module):
    """Pre-activation residual block: (LayerNorm, GELU, dropout, 3×3 conv) twice, plus the input."""

    def __init__(self, channels: int, n_feats: int, dropout: float):
        super().__init__()
        self.norm1, self.norm2 = _FeatureLayerNorm(n_feats), _FeatureLayerNorm(n_feats)
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        h = self.conv1(self.drop(F.gelu(self.norm1(x))))
        h = self.conv2(self.drop(F.gelu(self.norm2(h))))
        return x + h


class RecurrentBlock(nn.Module):
    """LayerNorm, GELU, one recurrent layer (GRU/LSTM, uni- or bidirectional), dropout."""

    def __init__(self, cell: str, input_dim: int, hidden: int, bidirectional: bool, dropout: float):
        super().__init__()
        rnn = {"gru": nn.GRU, "lstm": nn.LSTM}[cell]
        self.norm = nn.LayerNorm(input_dim)
        self.rnn = rnn(input_dim, hidden, batch_first=True, bidirectional=bidirectional)
        self.drop = nn.Dropout(dropout)

    def forward(self, x):
        out, _ = self.rnn(F.gelu(self.norm(x)))
        return self.drop(out)


class SpeechRecognizer(nn.Module):
    """Spectrogram ``(batch, 1, n_mels, time)`` → per-frame log-probabilities ``(batch, time', n_classes)``.

    The stem convolution has stride 2 along frequency and ``cfg.time_stride`` along time,
    so ``time' = (time - 1) // time_stride + 1``.
    """

    def __init__(self, cfg: ModelConfig):
        super().__init__()
        if cfg.kind not in {"cnn_lstm", "cnn_bigru", "cnn_rescnn_bigru"}:
            raise ValueError(f"unknown model kind {cfg.kind!r}")
        self.cfg = cfg
        n_feats = (cfg.n_mels - 1) // 2 + 1
        self.stem = nn.Conv2d(1, cfg.cnn_channels, 3, stride=(2, cfg.time_stride), padding=1)
        n_res = cfg.n_res_blocks if cfg.kind == "cnn_rescnn_bigru" else 0
        self.res = nn.Sequential(*[ResidualCNN(cfg.cnn_channels, n_feats, cfg.dropout) for _ in range(n_res)])
        self.proj = nn.Linear(cfg.cnn_channels * n_feats, cfg.rnn_dim)
        bidirectional = cfg.kind != "cnn_lstm"
        cell = "lstm" if cfg.kind == "cnn_lstm" else "gru"
        width = cfg.rnn_dim * (2 if bidirectional else 1)
        self.rnns = nn.Sequential(
            *[
                RecurrentBlock(cell, cfg.rnn_dim if i == 0 else width, cfg.rnn_dim, bidirectional, cfg.dropout)
                for i in range(cfg.n_rnn_layers)
            ]
        )
        self.classifier = nn.Sequential(
            nn.Linear(width, cfg.rnn_dim), nn.GELU(), nn.Dropout(cfg.dropout), nn.Linear(cfg.rnn_dim, cfg.n_classes)
        )

    def output_lengths(self, lengths: torch.Tensor) -> torch.Tensor:
        return torch.div(lengths - 1, self.cfg.time_stride, rounding_mode="floor") + 1

    def forward(self, x):
        x = self.res(self.stem(x))  # (B, C, F', T')
        b, c, f, t = x.shape
        x = self.proj(x.permute(0, 3, 1, 2).reshape(b, t, c * f))
        x = self.rnns(x)
        return F.log_softmax(self.classifier(x), dim=-1)


def build_model(kind: str, **overrides) -> SpeechRecognizer:
    return SpeechRecognizer(ModelConfig(kind=kind, **overrides))


# --------------------------------------------------------------------------
# Data
# --------------------------------------------------------------------------
class UtteranceSet(torch.utils.data.Dataset):
    """Feature matrices and transcripts; SpecAugment is applied only when ``augment`` is given."""

    def __init__(self, feats: list[np.ndarray], texts: list[str], augment: dict | None = None, seed: int = 0):
        if len(feats) != len(texts):
            raise ValueError(f"{len(feats)} feature matrices but {len(texts)} transcripts")
        self.feats, self.texts, self.augment = feats, texts, augment
        self.labels = [TEXT.text_to_int(t) for t in texts]
        self.rng = np.random.default_rng(seed)

    def __len__(self):
        return len(self.feats)

    def __getitem__(self, i):
        S = np.asarray(self.feats[i], dtype=np.float32)
        if self.augment:
            S = features.spec_augment(S, self.rng, value=0.0, **self.augment)
        return S, self.labels[i]


def collate(items):
    """Pad a list of ``(features, labels)`` into ``(x, y, x_lengths, y_lengths)`` tensors."""
    lengths = torch.tensor([s.shape[1] for s, _ in items])
    n_mels = items[0][0].shape[0]
    x = torch.zeros(len(items), 1, n_mels, int(lengths.max()))
    for i, (s, _) in enumerate(items):
        x[i, 0, :, : s.shape[1]] = torch.from_numpy(s)
    y_lengths = torch.tensor([len(lab) for _, lab in items])
    y = torch.zeros(len(items), int(y_lengths.max()), dtype=torch.long)
    for i, (_, lab) in enumerate(items):
        y[i, : len(lab)] = torch.tensor(lab)
    return x, y, lengths, y_lengths


class BucketBatchSampler(torch.utils.data.Sampler):
    """Batches of similar length (less padding), in a shuffled order each epoch."""

    def __init__(self, lengths, batch_size: int, shuffle: bool, seed: int = 0):
        self.lengths, self.batch_size, self.shuffle = np.asarray(lengths), batch_size, shuffle
        self.rng = np.random.default_rng(seed)

    def _batches(self):
        order = np.argsort(self.lengths, kind="stable")
        if self.shuffle:  # jitter so batches differ between epochs
            noisy = self.lengths * self.rng.uniform(0.9, 1.1, len(self.lengths))
            order = np.argsort(noisy, kind="stable")
        batches = [order[i : i + self.batch_size].tolist() for i in range(0, len(order), self.batch_size)]
        if self.shuffle:
            self.rng.shuffle(batches)
        return batches

    def __iter__(self):
        return iter(self._batches())

    def __len__(self):
        return (len(self.lengths) + self.batch_size - 1) // self.batch_size


def make_loader(dataset: UtteranceSet, batch_size: int, shuffle: bool, seed: int = 0):
    sampler = BucketBatchSampler([f.shape[1] for f in dataset.feats], batch_size, shuffle, seed)
    return torch.utils.data.DataLoader(dataset, batch_sampler=sampler, collate_fn=collate)


# --------------------------------------------------------------------------
# Loss, decoding, evaluation
# --------------------------------------------------------------------------
_CTC = nn.CTCLoss(blank=TEXT.blank, zero_infinity=True)


def ctc_loss(model: SpeechRecognizer, batch, autocast: bool = False) -> torch.Tensor:
    """Mean CTC loss of a batch (``(x, y, x_lengths, y_lengths)`` from :func:`collate`).

    ``autocast`` runs the network in bfloat16 (autocast on the model's device); the loss itself is computed in float32.
    """
    x, y, x_len, y_len = batch
    with training.autocast(model, autocast):
        log_probs = model(x)  # (B, T', C)
    log_probs = log_probs.float()
    out_len = model.output_lengths(x_len).clamp(max=log_probs.shape[1])
    return _CTC(log_probs.transpose(0, 1), y, out_len, y_len)


def greedy_decode(log_probs: torch.Tensor | np.ndarray, lengths=None) -> list[str]:
    """Best path: arg-max per frame, merge repeats, drop blanks.  ``log_probs``: ``(batch, time, classes)``."""
    best = torch.as_tensor(log_probs).argmax(-1).numpy()
    out = []
    for i, row in enumerate(best):
        if lengths is not None:
            row = row[: int(lengths[i])]
        keep = [c for j, c in enumerate(row) if c != TEXT.blank and (j == 0 or c != row[j - 1])]
        out.append(" ".join(TEXT.int_to_text(keep).split()))
    return out


@torch.no_grad()
def decode_features(model: SpeechRecognizer, feats: list[np.ndarray], batch_size: int = 16) -> list[str]:
    """Greedy transcripts of a list of feature matrices (in the input order)."""
    model.eval()
    device = training.device_of(model)
    order = np.argsort([f.shape[1] for f in feats])
    hyps: dict[int, str] = {}
    for start in range(0, len(order), batch_size):
        idx = order[start : start + batch_size]
        x, _, x_len, _ = collate([(np.asarray(feats[i], dtype=np.float32), [0]) for i in idx])
        for i, h in zip(idx, greedy_decode(model(x.to(device)).cpu(), model.output_lengths(x_len))):
            hyps[int(i)] = h
    return [hyps[i] for i in range(len(feats))]


def evaluate(model: SpeechRecognizer, feats: list[np.ndarray], texts: list[str]) -> dict:
    """Corpus CER and WER (lib.metrics, Levenshtein) and the hypotheses."""
    refs = [TEXT.normalize(t) for t in texts]
    hyps = decode_features(model, feats)
    return {"cer": metrics.cer(refs, hyps), "wer": metrics.wer(refs, hyps), "hypotheses": hyps, "references": refs}


def feature_config(model: SpeechRecognizer, cfg: FeatureConfig | None = None) -> FeatureConfig:
    """The feature settings to run ``model`` with: ``cfg`` when given, else the ones stored with the model
    (``model.feature_cfg``, set by :func:`load_recogniser`), else :class:`FeatureConfig`'s defaults with the
    model's own number of mel bands.  A ``cfg`` whose mel bands do not match the model raises ``ValueError``."""
    if cfg is None:
        cfg = getattr(model, "feature_cfg", None) or FeatureConfig(n_mels=model.cfg.n_mels)
    if cfg.n_mels != model.cfg.n_mels:
        raise ValueError(
            f"feature settings have n_mels={cfg.n_mels} but the model was built for n_mels={model.cfg.n_mels}: "
            "pass the model's own settings (load_recogniser returns them) or cfg=None"
        )
    return cfg


def _waveform(y, sr: int, cfg: FeatureConfig) -> np.ndarray:
    """A waveform (resampled from ``sr`` to ``cfg.sr``) or an audio file path (decoded at ``cfg.sr``)."""
    if isinstance(y, (str, os.PathLike)):
        from lib import data

        return data.load_audio(y, sr=cfg.sr)[0]
    y = np.asarray(y, dtype=np.float32)
    if sr != cfg.sr:
        import librosa

        y = librosa.resample(y, orig_sr=sr, target_sr=cfg.sr).astype(np.float32)
    return y


def _model(model) -> SpeechRecognizer:
    """A loaded recogniser, or one loaded (and cached) from a path; ``None``: the shipped one."""
    return model if isinstance(model, SpeechRecognizer) else load_recogniser_cached(model)[0]


def transcribe(model, y, sr: int = 16000, cfg: FeatureConfig | None = None) -> str:
    """Transcribe one utterance with greedy CTC decoding.

    ``model``: a :class:`SpeechRecognizer`, a recogniser file, or ``None`` for the shipped one
    (:data:`DEFAULT_MODEL`); ``y``: a waveform at ``sr`` Hz (resampled to the model's rate) or an audio
    file path (any format :func:`lib.data.load_audio` reads; ``sr`` is then ignored).  ``cfg``: the
    feature settings, by default the model's own (see :func:`feature_config`).
    """
    return greedy_decode(utterance_log_probs(model, y, sr, cfg)[None])[0]


@torch.no_grad()
def utterance_log_probs(model, y, sr: int = 16000, cfg: FeatureConfig | None = None) -> np.ndarray:
    """Per-frame CTC log-probabilities ``(frames, classes)`` of one utterance, decoded alone (no padding).

    ``model``, ``y``, ``sr`` and ``cfg`` as in :func:`transcribe`.
    """
    model = _model(model)
    cfg = feature_config(model, cfg)
    y = _waveform(y, sr, cfg)
    model.eval()
    x = torch.as_tensor(asr_features(y, cfg), dtype=torch.float32)[None, None]
    return model(x)[0].numpy()


def transcribe_files(paths, model_path=None) -> pd.DataFrame:
    """Greedy transcripts of audio files with a saved recogniser (default: the shipped one, :data:`DEFAULT_MODEL`).

    Any format :func:`lib.data.load_audio` reads, any sample rate (resampled to the model's), stereo
    mixed to mono; the feature settings stored with the model are used.  Each file is decoded on its own
    (a zero-padded batch would change the bidirectional layers' output).  ``model_path`` may also be a
    loaded :class:`SpeechRecognizer`.  A file that cannot be read raises an error naming it.  Returns a
    DataFrame with ``path``, ``transcript`` and ``duration_s``.
    """
    model = _model(model_path)
    cfg = feature_config(model)
    rows = []
    for p in [paths] if isinstance(paths, (str, os.PathLike)) else paths:
        y = _waveform(p, cfg.sr, cfg)
        rows.append({"path": str(p), "transcript": transcribe(model, y, cfg.sr, cfg), "duration_s": len(y) / cfg.sr})
    return pd.DataFrame(rows, columns=["path", "transcript", "duration_s"])


def save_recogniser(model: SpeechRecognizer, path, feature_cfg: FeatureConfig, **meta) -> None:
    """Weights (float16, to keep the file small), model and feature settings, and ``meta``, written atomically."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.half() if v.is_floating_point() else v for k, v in model.state_dict().items()}
    tmp = path.with_suffix(path.suffix + ".tmp")
    torch.save({"state": state, "model": asdict(model.cfg), "features": asdict(feature_cfg), "meta": meta}, tmp)
    os.replace(tmp, path)


def load_recogniser(path=None) -> tuple[SpeechRecognizer, FeatureConfig, dict]:
    """The model, its feature settings and metadata from :func:`save_recogniser`; a bad file raises naming it.

    ``path``: default the shipped recogniser (:data:`DEFAULT_MODEL`); a relative path is also looked up
    from the project root (:func:`lib.models.shipped.resolve`).  The feature settings are attached to the model as
    ``model.feature_cfg`` (used by :func:`transcribe` and :func:`utterance_log_probs`), the metadata as
    ``model.meta`` (e.g. ``decoder_bonus`` and ``request_words`` for :mod:`lib.models.spoken_search`).
    """
    path = shipped.resolve(path, DEFAULT_MODEL)
    if not path.is_file():
        raise FileNotFoundError(f"{path}: no recogniser here (the music chapter's book run writes it)")
    try:
        ckpt = torch.load(path, map_location="cpu", weights_only=True)
        model = SpeechRecognizer(ModelConfig(**ckpt["model"]))
        model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in ckpt["state"].items()})
    except Exception as exc:  # noqa: BLE001 (any unreadable checkpoint gets the same clear message)
        raise ValueError(f"{path}: not a recogniser saved by lib.models.asr.save_recogniser ({exc})") from exc
    model.eval()
    cfg = FeatureConfig(**ckpt["features"])
    model.feature_cfg, model.meta = cfg, dict(ckpt["meta"])
    return model, cfg, ckpt["meta"]


_LOADED: dict = {}


def load_recogniser_cached(path=None) -> tuple[SpeechRecognizer, FeatureConfig, dict]:
    """:func:`load_recogniser`, loaded once per process for each file (reloaded when the file changes)."""
    path = shipped.resolve(path, DEFAULT_MODEL).resolve()
    if not path.is_file():
        return load_recogniser(path)  # raises, naming the file
    st = path.stat()
    key = (str(path), st.st_mtime_ns, st.st_size)
    if key not in _LOADED:
        _LOADED.clear()  # one recogniser at a time: a few MB, but no reason to keep stale ones
        _LOADED[key] = load_recogniser(path)
    return _LOADED[key]


# --------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------
def train_ctc(
    model: SpeechRecognizer,
    train: UtteranceSet,
    dev: UtteranceSet,
    epochs: int,
    batch_size: int = 16,
    max_lr: float = 5e-4,
    weight_decay: float = 1e-2,
    seed: int = 0,
    eval_every: int = 1,
    dev_eval_limit: int | None = None,
    autocast: bool = False,
    log=print,
) -> list[dict]:
    """CTC training with AdamW and OneCycleLR (stepped per batch); keeps the weights with the best dev loss.

    After each epoch the dev set is decoded greedily and its CER/WER added to the history
    (on the first ``dev_eval_limit`` dev utterances when given, to save time).
    ``autocast`` trains in bfloat16 (autocast); the dev loss and decoding stay in float32.
    """
    training.set_seed(seed)
    train_loader = make_loader(train, batch_size, shuffle=True, seed=seed)
    dev_loader = make_loader(dev, batch_size, shuffle=False)
    optimizer = torch.optim.AdamW(model.parameters(), lr=max_lr, weight_decay=weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(
        optimizer,
        max_lr=max_lr,
        epochs=epochs,
        steps_per_epoch=len(train_loader),
        pct_start=0.3,
        anneal_strategy="linear",
    )
    n_eval = len(dev) if dev_eval_limit is None else min(dev_eval_limit, len(dev))

    def dev_metrics(m):
        res = evaluate(m, dev.feats[:n_eval], dev.texts[:n_eval])
        return {"dev_cer": res["cer"], "dev_wer": res["wer"]}

    return training.fit(
        model,
        train_loader,
        dev_loader,
        (lambda m, b: ctc_loss(m, b, autocast=True)) if autocast else ctc_loss,
        optimizer,
        epochs,
        scheduler=scheduler,
        step_scheduler_per_batch=True,
        metrics=dev_metrics,
        log=log,
        val_loss_fn=ctc_loss,
    )


def synthetic_utterances(
    texts: list[str],
    voices: list[str],
    cfg: FeatureConfig = FeatureConfig(),  # noqa: B008 (a frozen config)
    seed: int = 0,
) -> tuple[list[np.ndarray], list[str], float]:
    """eSpeak NG renderings of ``texts`` as recogniser features: voice ``i`` of ``voices`` for text ``i`` (cyclic),
    speaking rate 130–190 words per minute and pitch 30–70 drawn per text.  Returns the features, the
    normalised texts and the seconds of audio.  For adapting a recogniser to synthetic voices; synthesis is
    not bit-reproducible across eSpeak builds, so neither are the features."""
    import librosa

    from lib.models.song_search import synthesize

    rng = np.random.default_rng(seed)
    feats, norm, seconds = [], [], 0.0
    for i, text in enumerate(texts):
        text = TEXT.normalize(text)
        y, sr = synthesize(
            text, voice=voices[i % len(voices)], rate=int(rng.integers(130, 191)), pitch=int(rng.integers(30, 71))
        )
        y = librosa.resample(y, orig_sr=sr, target_sr=cfg.sr).astype(np.float32)
        feats.append(asr_features(y, cfg))
        norm.append(text)
        seconds += len(y) / cfg.sr
    return feats, norm, seconds


def model_summary(model: SpeechRecognizer) -> dict:
    return {**asdict(model.cfg), "parameters": training.count_parameters(model)}


def throughput(
    model: SpeechRecognizer,
    feats: list[np.ndarray],
    texts: list[str],
    batch_size: int = 16,
    steps: int = 3,
    frames_per_s: float = 100.0,
) -> dict:
    """Training throughput (forward + backward + AdamW step) in seconds of audio per second of wall time
    (``wall``) and per second of this process's CPU time (``cpu``; less sensitive to a busy machine)."""
    ds = UtteranceSet(feats, texts)
    loader = make_loader(ds, batch_size, shuffle=True)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4)
    model.train()
    audio = 0.0
    t0, c0 = time.perf_counter(), time.process_time()
    for i, batch in enumerate(loader):
        if i >= steps:
            break
        opt.zero_grad()
        ctc_loss(model, batch).backward()
        opt.step()
        audio += float(batch[2].sum()) / frames_per_s
    return {"wall": audio / (time.perf_counter() - t0), "cpu": audio / (time.process_time() - c0)}


# --------------------------------------------------------------------------
# Baseline: CMU PocketSphinx (the English model bundled in the pocketsphinx wheel)
# --------------------------------------------------------------------------
_SPHINX = {}


def pocketsphinx_transcribe(y: np.ndarray, sr: int = 16000) -> str:
    """Transcribe one waveform with PocketSphinx's bundled US-English acoustic model, dictionary and 3-gram LM.

    The text is normalised like the references (lower case, letters and apostrophes).
    """
    if "decoder" not in _SPHINX:
        from pocketsphinx import Decoder

        _SPHINX["decoder"] = Decoder(samprate=16000, loglevel="FATAL")
    y = np.asarray(y, dtype=np.float32)
    if sr != 16000:
        import librosa

        y = librosa.resample(y, orig_sr=sr, target_sr=16000)
    decoder = _SPHINX["decoder"]
    decoder.start_utt()
    decoder.process_raw((np.clip(y, -1, 1) * 32767).astype(np.int16).tobytes(), full_utt=True)
    decoder.end_utt()
    hyp = decoder.hyp()
    return TEXT.normalize(hyp.hypstr if hyp is not None else "")


def pocketsphinx_dictionary() -> frozenset:
    """The words of PocketSphinx's bundled US-English pronunciation dictionary (alternates folded)."""
    if "dictionary" not in _SPHINX:
        import pocketsphinx

        with open(os.path.join(pocketsphinx.get_model_path(), "en-us", "cmudict-en-us.dict")) as fh:
            _SPHINX["dictionary"] = frozenset(line.split(" ", 1)[0].split("(")[0] for line in fh)
    return _SPHINX["dictionary"]


def write_keyword_list(phrases, path, exponent_per_char: float) -> list[str]:
    """A PocketSphinx keyphrase file for the ``phrases`` whose words are all in :func:`pocketsphinx_dictionary`.

    A phrase's detection threshold is ``1e-(exponent_per_char × characters)``: a longer phrase accumulates more
    acoustic cost, so one threshold for all would let only short phrases through.  Returns the phrases written.
    """
    words = pocketsphinx_dictionary()
    kept = [p for p in dict.fromkeys(phrases) if p and all(w in words for w in p.split())]
    with open(path, "w") as fh:
        for p in kept:
            fh.write(f"{p} /1e-{max(1, round(exponent_per_char * len(p)))}/\n")
    return kept


def pocketsphinx_spot(y: np.ndarray, sr: int, keyword_file) -> list[tuple[str, float]]:
    """The keyphrases of ``keyword_file`` (see :func:`write_keyword_list`) PocketSphinx spots in one waveform,
    with their posterior probabilities, in time order (keyword-spotting search, bundled US-English model)."""
    key = ("kws", str(keyword_file))
    if key not in _SPHINX:
        from pocketsphinx import Decoder

        _SPHINX[key] = Decoder(samprate=16000, loglevel="FATAL", kws=str(keyword_file))
    y = np.asarray(y, dtype=np.float32)
    if sr != 16000:
        import librosa

        y = librosa.resample(y, orig_sr=sr, target_sr=16000)
    decoder = _SPHINX[key]
    decoder.start_utt()
    decoder.process_raw((np.clip(y, -1, 1) * 32767).astype(np.int16).tobytes(), full_utt=True)
    decoder.end_utt()
    return [(seg.word.strip(), float(seg.prob)) for seg in (decoder.seg() or [])]
