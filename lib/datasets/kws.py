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

**The chapter's training recipe.**  :func:`stratified_unknown` keeps every training `_unknown_`
clip of every word that is not over-represented on disk and caps only :data:`CAPPED_WORDS`, evenly,
to fill the class up to a total; :func:`balanced_unknown` (the AE-SVM's reduced set) applies the same
water-filling to all `_unknown_` words with the largest keyword's count as the total;
:func:`fraction_subset` takes a nested, stratified share of the training clips for the data-scale
curve; :func:`book_split` chains :func:`build_split`, :func:`stratified_unknown` and
:func:`fraction_subset`; :func:`librispeech_negatives` cuts 1-second windows of keyword-free Mini
LibriSpeech utterances as extra `_unknown_` rows, split by speaker.

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
LIBRI_CORPUS = "mini_librispeech"  # extra negatives (:func:`librispeech_negatives`)
CAPPED_WORDS = ("bed", "cat", "happy")  # the extra corpus's plentiful words (:func:`stratified_unknown`)

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


# --------------------------------------------------------------------------
# The chapter's training recipe: `_unknown_` word by word, nested fractions, extra negatives
# --------------------------------------------------------------------------
def _water_fill_unknown(df: pd.DataFrame, total: int, capped_words, seed: int) -> np.ndarray:
    """Boolean mask over ``df``: every training `_unknown_` clip of the words not in ``capped_words``, and
    ``capped_words`` filling the class up to ``total`` as evenly as they can.

    Water-filling: the capped words are visited from the fewest clips to the most (ties in the order
    given); a word with fewer clips than an even share of what is left gives all of them, and the
    rest is shared among the larger ones.  Every other row is kept.  Raises if the uncapped words
    alone exceed ``total``.
    """
    train_unk = (df["split"] == "train").to_numpy() & (df["label"] == "_unknown_").to_numpy()
    words = df["word"].to_numpy()
    capped = train_unk & np.isin(words, list(capped_words))
    n_free = int(np.sum(train_unk & ~capped))
    if n_free > total:
        raise ValueError(f"{n_free} `_unknown_` clips of uncapped words exceed the total {total}")
    left = total - n_free
    rng = np.random.default_rng(seed)
    keep = np.ones(len(df), dtype=bool)
    keep[capped] = False
    avail = {w: np.flatnonzero(capped & (words == w)) for w in capped_words}
    for i, (_w, idx) in enumerate(sorted(avail.items(), key=lambda kv: len(kv[1]))):
        q = min(len(idx), left // (len(avail) - i))
        keep[rng.permutation(idx)[:q]] = True
        left -= q
    return keep


def stratified_unknown(
    df: pd.DataFrame, total: int | None = 2000, capped_words=CAPPED_WORDS, seed: int = 0
) -> pd.DataFrame:
    """Cut the training `_unknown_` clips to ``total``: all clips of the other words, the capped words evenly.

    Only the plentiful words of the extra corpus (:data:`CAPPED_WORDS`, 95 % of the `_unknown_` clips
    on disk) are capped: a random draw would take almost all of `_unknown_` from them, while the test
    `_unknown_` holds 23 different words.  Validation and test rows are untouched; ``total=None`` keeps
    everything.  Raises if the uncapped words alone exceed ``total``.
    """
    if total is None:
        return df.reset_index(drop=True)
    return df[_water_fill_unknown(df, total, capped_words, seed)].reset_index(drop=True)


def balanced_unknown(df: pd.DataFrame, seed: int = 0) -> np.ndarray:
    """The AE-SVM's reduced training set (boolean mask over ``df``): `_unknown_` training clips cut to the
    largest keyword's count, as evenly as possible across **all** its words; every other row is kept.

    The water-filling of :func:`stratified_unknown` with every `_unknown_` word capped, visited from
    the fewest clips to the most, so the class reaches the target when it can.
    """
    train = (df["split"] == "train").to_numpy()
    labels = df["label"].to_numpy()
    kw_counts = pd.Series(labels[train & np.isin(labels, KEYWORDS)]).value_counts()
    target = int(kw_counts.max()) if len(kw_counts) else 0
    words = df["word"].to_numpy()[train & (labels == "_unknown_")]
    fewest_first = list(pd.Series(words).value_counts().sort_values().index)
    return _water_fill_unknown(df, target, fewest_first, seed)


def fraction_subset(df: pd.DataFrame, fraction: float, seed: int = 0) -> pd.DataFrame:
    """``fraction`` of every training class (of every word inside `_unknown_`), nested across fractions.

    For the data-scale curve: a smaller fraction keeps a subset of a larger one for the same ``seed``;
    every stratum keeps at least one clip.  Original clips only are chosen (augmented copies follow
    their originals' selection when :func:`add_augmented` is applied afterwards).  Validation and
    test are unchanged.
    """
    if not 0 < fraction <= 1:
        raise ValueError(f"fraction must be in (0, 1], got {fraction}")
    if fraction == 1:
        return df.reset_index(drop=True)
    rng = np.random.default_rng(seed)
    keep = np.ones(len(df), dtype=bool)
    train = (df["split"] == "train").to_numpy()
    stratum = np.where(df["label"] == "_unknown_", "_unknown_/" + df["word"].astype(str), df["label"].astype(str))
    for s in np.unique(stratum[train]):
        idx = np.flatnonzero(train & (stratum == s))
        order = rng.permutation(idx)
        n = max(1, int(round(fraction * len(idx))))
        keep[order[n:]] = False
    return df[keep].reset_index(drop=True)


def unknown_left_out(df_all: pd.DataFrame, df_kept: pd.DataFrame) -> pd.DataFrame:
    """The training `_unknown_` clips of ``df_all`` that ``df_kept`` does not hold (originals only).

    With ``df_all`` every clip on disk (:func:`build_split`) and ``df_kept`` the capped training set
    (:func:`stratified_unknown`), these are the clips the cap left out: adding them to the capped set gives
    `_unknown_` as the paper has it, every non-keyword clip.  Clips are matched by ``(abs_path, start)``;
    augmented copies (``augment >= 0``) of ``df_all`` are never returned.
    """
    pick = (df_all["split"] == "train") & (df_all["label"] == "_unknown_") & (df_all["augment"] < 0)
    kept = set(zip(df_kept["abs_path"], df_kept["start"]))
    cand = df_all[pick]
    out = cand[[(p, s) not in kept for p, s in zip(cand["abs_path"], cand["start"])]]
    return out.reset_index(drop=True)


def book_split(seed: int = 0, unknown_total: int | None = 2000, fraction: float = 1.0) -> pd.DataFrame:
    """The chapter's split: :func:`build_split`, `_unknown_` stratified by word, a fraction."""
    df = build_split(seed=seed)
    df = stratified_unknown(df, unknown_total, seed=seed)
    return fraction_subset(df, fraction, seed=seed)


def _has_keyword(text: str) -> bool:
    return bool(set(str(text).lower().split()) & set(KEYWORDS))


def librispeech_negatives(
    n_train: int = 1000, n_test: int = 300, test_speakers: int = 6, per_utterance: int = 2, seed: int = 0
) -> pd.DataFrame:
    """1-s windows of keyword-free Mini LibriSpeech utterances as `_unknown_` rows (``split`` train or test).

    Extra negative material in the format of this module's rows (so :func:`compute_features` reads
    them).  An utterance qualifies when its transcript contains none of the ten keywords as a word.
    Speakers are split (``test_speakers`` held out); from each utterance at most ``per_utterance``
    windows at random, non-overlapping positions.  Raises :class:`lib.data.DataMissingError` when
    the corpus is absent.
    """
    man = data.manifest(LIBRI_CORPUS)
    man = man[~man["transcript"].map(_has_keyword)].reset_index(drop=True)
    rng = np.random.default_rng(seed)
    speakers = sorted(man["speaker"].astype(str).unique())
    held = set(rng.permutation(speakers)[:test_speakers])
    rows = []
    for split, n in (("train", n_train), ("test", n_test)):
        part = man[man["speaker"].astype(str).isin(held) == (split == "test")]
        part = part.iloc[rng.permutation(len(part))]
        got = 0
        for r in part.itertuples(index=False):
            if got >= n:
                break
            n_win = int(float(r.duration_s))  # whole seconds
            if n_win < 1:
                continue
            for k in sorted(rng.permutation(n_win)[: min(per_utterance, n - got)]):
                rows.append(
                    {
                        "abs_path": str(r.abs_path),
                        "start": int(k * CLIP),
                        "corpus": LIBRI_CORPUS,
                        "word": "librispeech",
                        "label": "_unknown_",
                        "speaker": f"libri:{r.speaker}",
                        "split": split,
                        "augment": -1,
                    }
                )
                got += 1
    data.record_corpus_use(LIBRI_CORPUS)
    return pd.DataFrame(rows, columns=COLUMNS)


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
