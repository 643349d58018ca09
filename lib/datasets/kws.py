"""Keyword spotting (Speech Commands, 12 classes): the split, `_silence_` chunks, augmentation and features.

The 12 classes are the ten keywords, ``_silence_`` and ``_unknown_`` (every other word).

**Split** (:func:`build_split`, ``scheme="mirror"``).  The offline mirror holds the keywords of
the official *test* set only, plus training-portion clips of eight keywords and three extra
words.  Validation and test therefore come only from ``speech_commands_v0.02`` (the official
12-class test set), split by speaker with a fixed seed; ``speech_commands_train_keywords`` and
the extra words (``bed``/``cat``/``happy`` → ``_unknown_``) go to training only, minus every
extra-word clip of a validation or test speaker.  ``on`` and ``off`` thus have training clips
only from the test set's training speakers.  ``scheme="official"`` uses the dataset's own
``validation_list.txt``/``testing_list.txt`` when the full dataset (with its training clips) is
in ``speech_commands_v0.02/``.

**`_silence_`**: the six ``_background_noise_`` recordings are cut into consecutive 1-second
chunks (training only) and the ``_silence_`` clips of the test set are split like any other clip.

**Features** (:func:`features`): trim/pad to 1 s → mel power spectrogram (40 bands, 25 ms
windows, 10 ms hop) → dB relative to the clip's maximum (the level normalisation) → MFCC
(DCT-II, 20 coefficients) → delta (9 frames) → MFCCs and deltas stacked into 40 rows × 101
frames.  Computed once per clip list and cached on disk (:func:`lib.features.cached`).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pandas as pd

from lib import data
from lib import features as F

KEYWORDS = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]
LABELS = KEYWORDS + ["_silence_", "_unknown_"]
SR = 16000
CLIP = SR  # samples per 1-second clip
TEST_CORPUS = "speech_commands_v0.02"
TRAIN_CORPUS = "speech_commands_train_keywords"
EXTRA_CORPUS = "speech_commands_v0.01_extra"

# Feature parameters (section IV-C of the paper; the values the paper leaves open are ours).
FEATURE_PARAMS = {
    "sr": SR,
    "n_fft": 512,
    "win_length": 400,
    "hop_length": 160,
    "n_mels": 40,
    "n_mfcc": 20,
    "delta_width": 9,
    "n_frames": 101,
    "top_db": 80.0,
}
N_ROWS = 2 * FEATURE_PARAMS["n_mfcc"]  # MFCCs + deltas = 40
N_FRAMES = FEATURE_PARAMS["n_frames"]

COLUMNS = ["abs_path", "start", "corpus", "word", "label", "speaker", "split", "augment"]


# --------------------------------------------------------------------------
# Split
# --------------------------------------------------------------------------
def label_index(labels) -> np.ndarray:
    """Integer class index (position in :data:`LABELS`) of each label."""
    lookup = {lab: i for i, lab in enumerate(LABELS)}
    try:
        return np.array([lookup[lab] for lab in labels], dtype=np.int64)
    except KeyError as exc:
        raise ValueError(f"unknown label {exc.args[0]!r}; expected one of {LABELS}") from None


def _label12(word: str) -> str:
    return word if word in KEYWORDS or word == "_silence_" else "_unknown_"


def _rows(df: pd.DataFrame, corpus: str) -> pd.DataFrame:
    out = pd.DataFrame(
        {
            "abs_path": df["abs_path"].astype(str),
            "start": -1,
            "corpus": corpus,
            "word": df["word"].astype(str),
            "label": df["word"].astype(str).map(_label12),
            "speaker": df["speaker"].fillna("").astype(str),
        }
    )
    return out


def noise_files(folder: Path | None = None) -> list[Path]:
    folder = folder or data.corpus_dir(TEST_CORPUS) / "_background_noise_"
    files = sorted(f for f in Path(folder).iterdir() if f.suffix.lower() in data.AUDIO_EXTENSIONS)
    if not files:
        raise data.DataMissingError(f"{folder}: no background-noise recordings (needed for `_silence_`)")
    return files


def silence_chunks(folder: Path | None = None) -> pd.DataFrame:
    """Consecutive, non-overlapping 1-s chunks of every ``_background_noise_`` recording (training rows)."""
    rows = []
    for f in noise_files(folder):
        import soundfile as sf

        n = sf.info(f).frames * SR // sf.info(f).samplerate
        for k in range(int(n // CLIP)):
            rows.append(
                {
                    "abs_path": str(f),
                    "start": k * CLIP,
                    "corpus": TEST_CORPUS,
                    "word": "_background_noise_",
                    "label": "_silence_",
                    "speaker": "",
                }
            )
    return pd.DataFrame(rows)


def build_split(seed: int = 0, fractions: dict | None = None, scheme: str = "mirror") -> pd.DataFrame:
    """All clips with their split (``train``/``val``/``test``); see the module docstring.

    ``fractions`` are shares of the official test set's speakers (default 50/15/35 %).
    Raises if a validation or test speaker also appears in training, or a class is
    missing from validation or test.
    """
    if scheme == "official":
        return official_split()
    if scheme != "mirror":
        raise ValueError(f"scheme must be 'mirror' or 'official', got {scheme!r}")
    fractions = fractions or {"train": 0.50, "val": 0.15, "test": 0.35}
    sc = _rows(data.manifest(TEST_CORPUS), TEST_CORPUS)
    # _silence_ clips have no speaker: each clip is its own group.
    groups = np.where(sc["speaker"] == "", "clip:" + sc["abs_path"], "spk:" + sc["speaker"])
    sc["split"] = data.speaker_disjoint_split(groups, fractions, seed=seed)
    held_out = set(sc.loc[sc["split"] != "train", "speaker"]) - {""}

    kw = _rows(data.manifest(TRAIN_CORPUS), TRAIN_CORPUS)
    kw["split"] = "train"
    extra = _rows(data.manifest(EXTRA_CORPUS), EXTRA_CORPUS)
    extra = extra[~extra["speaker"].isin(held_out)].copy()
    extra["split"] = "train"
    chunks = silence_chunks()
    chunks["split"] = "train"

    df = pd.concat([sc, kw, extra, chunks], ignore_index=True)
    df["augment"] = -1
    _check(df)
    return df[COLUMNS]


def official_split(folder: Path | None = None) -> pd.DataFrame:
    """The dataset's own split: ``testing_list.txt`` → test, ``validation_list.txt`` → val, the rest → train.

    Needs the full Speech Commands v0.02 (every word folder with its training clips); the
    offline mirror holds only the test portion, so this raises there.
    """
    folder = Path(folder) if folder else data.corpus_dir(TEST_CORPUS)
    lists = {}
    for split, name in [("test", "testing_list.txt"), ("val", "validation_list.txt")]:
        f = folder / name
        if not f.is_file():
            raise data.DataMissingError(f"{f}: the official split list is missing")
        lists[split] = {Path(line.strip()).with_suffix("").as_posix() for line in f.read_text().split()}
    rows = []
    for word_dir in sorted(p for p in folder.iterdir() if p.is_dir() and p.name != "_background_noise_"):
        for f in sorted(word_dir.iterdir()):
            if f.suffix.lower() not in data.AUDIO_EXTENSIONS:
                continue
            key = f"{word_dir.name}/{f.stem}"
            split = "test" if key in lists["test"] else "val" if key in lists["val"] else "train"
            speaker = f.stem.split("_nohash_")[0] if "_nohash_" in f.stem else ""
            rows.append(
                {
                    "abs_path": str(f),
                    "start": -1,
                    "corpus": TEST_CORPUS,
                    "word": word_dir.name,
                    "label": _label12(word_dir.name),
                    "speaker": speaker,
                    "split": split,
                }
            )
    df = pd.DataFrame(rows, columns=COLUMNS[:-1])
    n_train_kw = int(((df["split"] == "train") & df["label"].isin(KEYWORDS)).sum())
    if n_train_kw == 0:
        raise data.DataMissingError(
            f"{folder}: no official training clips of the keywords (only the test portion is here); "
            "the official split needs the full dataset (set AUDIO_REPRO_DOWNLOAD=1 to fetch "
            "speech_commands_v0.02.tar.gz), or use scheme='mirror'"
        )
    # The full dataset has no _silence_ clips: noise chunks go to every split (10 % val, 10 % test),
    # as the paper distributes its silence instances "across all sets".
    chunks = silence_chunks(folder / "_background_noise_")
    chunks["corpus"] = TEST_CORPUS
    order = np.random.default_rng(0).permutation(len(chunks))
    n_held = max(1, int(round(0.1 * len(chunks))))
    split_of = np.array(["train"] * len(chunks), dtype=object)
    split_of[order[:n_held]] = "val"
    split_of[order[n_held : 2 * n_held]] = "test"
    chunks["split"] = split_of
    df = pd.concat([df, chunks], ignore_index=True)
    df["augment"] = -1
    data.record_corpus_use(TEST_CORPUS)
    _check(df)
    return df[COLUMNS]


def _check(df: pd.DataFrame) -> None:
    speech = df[df["speaker"] != ""]
    data.check_disjoint(speech["speaker"], speech["split"])
    for split in ("val", "test"):
        missing = sorted(set(LABELS) - set(df.loc[df["split"] == split, "label"]))
        if missing:
            raise data.DataError(f"split {split!r} lacks classes {missing}")


def split_lists(df: pd.DataFrame, folder: Path) -> dict[str, Path]:
    """Write the split as ``train_list.txt``/``validation_list.txt``/``testing_list.txt`` (path[@start])."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    root = data.data_dir()
    out = {}
    for split, name in [("train", "train_list.txt"), ("val", "validation_list.txt"), ("test", "testing_list.txt")]:
        part = df[(df["split"] == split) & (df["augment"] < 0)]
        lines = [_relative(p, root) + (f"@{s}" if s >= 0 else "") for p, s in zip(part["abs_path"], part["start"])]
        (folder / name).write_text("\n".join(lines) + "\n")
        out[split] = folder / name
    return out


def _relative(path: str, root: Path) -> str:
    try:
        return Path(path).relative_to(root).as_posix()
    except ValueError:
        return str(path)


def subsample_train(
    df: pd.DataFrame, keyword_fraction: float = 1.0, max_unknown: int | None = None, seed: int = 0
) -> pd.DataFrame:
    """Keep ``keyword_fraction`` of each keyword's training clips and at most ``max_unknown`` `_unknown_` ones.

    Validation and test rows are untouched (the data-scale sweep keeps them fixed).  Nested:
    a smaller fraction keeps a subset of a larger one for the same ``seed``.
    """
    rng = np.random.default_rng(seed)
    keep = np.ones(len(df), dtype=bool)
    train = (df["split"] == "train").to_numpy()
    for lab in LABELS:
        idx = np.flatnonzero(train & (df["label"] == lab).to_numpy())
        order = rng.permutation(idx)
        if lab in KEYWORDS:
            n = int(round(keyword_fraction * len(idx)))
        elif lab == "_unknown_" and max_unknown is not None:
            n = min(max_unknown, len(idx))
        else:
            n = len(idx)
        keep[order[n:]] = False
    return df[keep].reset_index(drop=True)


def balanced_unknown(df: pd.DataFrame, seed: int = 0) -> np.ndarray:
    """The AE-SVM's training rows (boolean mask over ``df``): `_unknown_` training clips cut to the
    largest keyword's count, as evenly as possible across words; every other row is kept.

    Words with fewer clips than an even share give all of theirs and the remainder is spread
    over the larger words (water-filling), so the class reaches the target when it can.
    """
    train = (df["split"] == "train").to_numpy()
    labels = df["label"].to_numpy()
    kw_counts = pd.Series(labels[train & np.isin(labels, KEYWORDS)]).value_counts()
    target = int(kw_counts.max()) if len(kw_counts) else 0
    unknown = np.flatnonzero(train & (labels == "_unknown_"))
    words = df["word"].to_numpy()[unknown]
    available = pd.Series(words).value_counts().sort_values()
    quota, left = {}, target
    for i, (w, n) in enumerate(available.items()):
        share = left // (len(available) - i)
        quota[w] = int(min(n, share))
        left -= quota[w]
    rng = np.random.default_rng(seed)
    keep = np.ones(len(df), dtype=bool)
    keep[unknown] = False
    for w, q in quota.items():
        idx = unknown[words == w]
        keep[rng.permutation(idx)[:q]] = True
    return keep


# --------------------------------------------------------------------------
# Augmentation
# --------------------------------------------------------------------------
def augment(
    y: np.ndarray,
    rng: np.random.Generator,
    noises: list[np.ndarray],
    p: float = 0.5,
    max_shift_s: float = 0.1,
    speed=(0.9, 1.1),
    noise_volume=(0.0, 0.1),
    gain_db=(-6.0, 6.0),
) -> np.ndarray:
    """A random mix of the paper's four augmentations, each applied with probability ``p``.

    Time shift (±``max_shift_s``), speed tuning (``speed`` range; the clip is then trimmed/padded
    back to 1 s), background-noise mixing (a random excerpt of a random noise recording at
    ``noise_volume``) and volume tuning (``gain_db``).  At least one is always applied.
    """
    y = F.fix_length(np.asarray(y, dtype=np.float32), CLIP)
    chosen = rng.random(4) < p
    if not chosen.any():
        chosen[rng.integers(4)] = True
    if chosen[1]:
        y = F.fix_length(F.change_speed(y, float(rng.uniform(*speed))), CLIP)
    if chosen[0]:
        y = F.time_shift(y, int(max_shift_s * SR), rng)
    if chosen[2] and noises:
        y = F.mix_background(y, noises[int(rng.integers(len(noises)))], rng, float(rng.uniform(*noise_volume)))
    if chosen[3]:
        y = F.change_volume(y, float(rng.uniform(*gain_db)))
    return y.astype(np.float32)


def add_augmented(df: pd.DataFrame, fraction: float, silence_target: int | None = None, seed: int = 0) -> pd.DataFrame:
    """Append augmented copies of training rows (column ``augment`` = the copy's random seed).

    ``fraction`` of every class's training clips gets one augmented copy; `_silence_` is in
    addition topped up to ``silence_target`` clips (the paper augments background noise to
    make the silence class less rare).
    """
    rng = np.random.default_rng(seed + 7919)
    train = df[(df["split"] == "train") & (df["augment"] < 0)]
    picks = []
    for lab, part in train.groupby("label"):
        n = int(round(fraction * len(part)))
        if lab == "_silence_" and silence_target is not None:
            n = max(n, silence_target - len(part))
        if n > 0:
            picks.append(part.sample(n, replace=n > len(part), random_state=int(rng.integers(2**31))))
    if not picks:
        return df
    copies = pd.concat(picks).copy()
    copies["augment"] = rng.integers(0, 2**31 - 1, size=len(copies))
    return pd.concat([df, copies], ignore_index=True)


# --------------------------------------------------------------------------
# Audio and features
# --------------------------------------------------------------------------
def load_clip(path: str, start: int = -1, enhance: bool = False) -> np.ndarray:
    """One second of audio: the chunk at ``start`` (samples) or the whole clip trimmed/padded to 1 s."""
    y, _ = data.load_audio(path, sr=SR)
    if start >= 0:
        y = y[start : start + CLIP]
    y = F.fix_length(y, CLIP)
    return enhance_clip(y) if enhance else y


def enhance_clip(y: np.ndarray, spike_quantile: float = 0.999) -> np.ndarray:
    """The paper's optional enhancement: spectral subtraction, then thresholding of sudden spikes
    (samples beyond the clip's ``spike_quantile`` absolute amplitude are clipped to it)."""
    y = F.spectral_subtraction(np.asarray(y, dtype=np.float32))
    t = float(np.quantile(np.abs(y), spike_quantile))
    return np.clip(y, -t, t).astype(np.float32) if t > 0 else y


def load_for_prediction(path) -> np.ndarray:
    """Any file → 1 s at 16 kHz mono; a longer recording is cut to its loudest second."""
    y, _ = data.load_audio(path, sr=SR, mono=True)
    return F.loudest_window(y, CLIP) if len(y) > CLIP else F.fix_length(y, CLIP)


def features(waves: np.ndarray, params: dict | None = None) -> np.ndarray:
    """MFCC + delta features of 1-s clips: ``(n, 40, 101)`` float32 (rows: 20 MFCCs then 20 deltas).

    mel spectrogram → dB relative to each clip's maximum (floor ``top_db`` below it) →
    DCT-II (orthonormal) → first ``n_mfcc`` coefficients → deltas → crop/pad to ``n_frames``.
    """
    p = {**FEATURE_PARAMS, **(params or {})}
    waves = np.atleast_2d(np.asarray(waves, dtype=np.float32))
    waves = F.fix_length(waves, CLIP)
    S = F.log_mel(
        waves,
        sr=p["sr"],
        n_fft=p["n_fft"],
        hop_length=p["hop_length"],
        win_length=p["win_length"],
        n_mels=p["n_mels"],
        top_db=p["top_db"],
        ref="max",
    )
    import scipy.fft

    mfcc = scipy.fft.dct(S, type=2, axis=-2, norm="ortho")[:, : p["n_mfcc"], :].astype(np.float32)
    d = F.deltas(mfcc, width=p["delta_width"])
    out = np.concatenate([mfcc, d], axis=1)
    return F.fix_frames(out, p["n_frames"]).astype(np.float32)


def _waves(rows: pd.DataFrame, noises: list[np.ndarray], n_jobs: int = 2, enhance: bool = False) -> np.ndarray:
    from concurrent.futures import ThreadPoolExecutor

    def one(row):
        y = load_clip(row.abs_path, int(row.start))
        if row.augment >= 0:
            y = augment(y, np.random.default_rng(int(row.augment)), noises)
        return enhance_clip(y) if enhance else y

    with ThreadPoolExecutor(n_jobs) as pool:
        return np.stack(list(pool.map(one, rows.itertuples(index=False))))


def compute_features(
    df: pd.DataFrame, batch: int = 512, n_jobs: int = 2, cache: bool = True, enhance: bool = False
) -> np.ndarray:
    """Features of every row of ``df`` (original or augmented), cached on disk by clip list and parameters.

    ``enhance=True`` applies :func:`enhance_clip` (after augmentation) before the features."""
    need = df[COLUMNS].reset_index(drop=True)
    ident = hashlib.sha256(
        "\n".join(
            f"{Path(p).relative_to(data.data_dir()) if str(p).startswith(str(data.data_dir())) else p}|{s}|{a}"
            for p, s, a in zip(need["abs_path"], need["start"], need["augment"])
        ).encode()
    ).hexdigest()[:20]

    def compute():
        noises = [load_clip_full(f) for f in noise_files()] if (need["augment"] >= 0).any() else []
        out = np.empty((len(need), N_ROWS, N_FRAMES), dtype=np.float32)
        for i in range(0, len(need), batch):
            out[i : i + batch] = features(_waves(need.iloc[i : i + batch], noises, n_jobs, enhance))
        return {"X": out}

    if not cache:
        return compute()["X"]
    corpora = sorted(set(need["corpus"]))
    return F.cached(
        "kws_mfcc_delta",
        compute,
        clips=ident,
        n=len(need),
        params=FEATURE_PARAMS,
        fingerprint=data.data_fingerprint(corpora),
        enhance=enhance,
        version=1,
    )["X"]


def load_clip_full(path) -> np.ndarray:
    return data.load_audio(path, sr=SR)[0]


def to_model_input(X: np.ndarray) -> np.ndarray:
    """``(n, 40, 101)`` features → ``(n, 101, 40, 1)``: time first (the 20×8 kernels are long in time)."""
    return np.ascontiguousarray(np.transpose(X, (0, 2, 1))[..., None], dtype=np.float32)
