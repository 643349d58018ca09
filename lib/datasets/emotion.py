"""Emotion-recognition task data for the PDDS chapter.

* **EmoDB** (``emodb``): real audio, 10 speakers, 7 emotions; a fixed speaker-independent split
  (6 training, 2 validation, 2 test speakers, one man and one woman in each held-out pair) and
  cached frame-sequence features: log-mel (25 ms / 20 ms frames, four frames stacked into one 80 ms
  step) and the pretrained speech embedding (96-dim every 80 ms, :class:`SpeechEmbedding`).
  EmoDB has only the share of listeners who recognised the intended emotion, no per-rater votes:
  every sample is *clear* for PDDS.
* **CREMA-D votes** (``crema_d_votes``): real crowd votes, no audio; used for the clear/ambiguous
  statistics (Fig. 1/2 of the paper).
* **IEMOCAP** (profile ``full``, user-owned): :func:`iemocap_manifest` reads the official release's
  per-evaluator ``dialog/EmoEvaluation/*.txt`` files into six-class vote counts; sessions 1–4 train,
  session 5 tests.  Expected at ``$AUDIO_REPRO_DATA/iemocap/`` (``Session1`` … ``Session5`` inside,
  or inside ``IEMOCAP_full_release/``).
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import numpy as np
import pandas as pd

from lib import data, features

# --------------------------------------------------------------------------
# EmoDB
# --------------------------------------------------------------------------
EMODB_CLASSES = ["anger", "boredom", "disgust", "fear", "happiness", "neutral", "sadness"]
# Speaker ids: 03 10 11 12 15 are men, 08 09 13 14 16 women (EmoDB documentation).
EMODB_SPLIT = {"train": ["03", "08", "11", "12", "14", "16"], "val": ["09", "10"], "test": ["13", "15"]}
EMODB_CLIP_S = 2.0  # the mirror's clips are the first 2 s of each utterance
# Cross-validation: five speaker pairs (one man, one woman each).  Fold k tests pair k, stops early
# on pair k+1 (mod 5) and trains on the other three pairs, so every speaker is tested exactly once.
EMODB_FOLD_PAIRS = [("03", "08"), ("10", "09"), ("11", "13"), ("12", "14"), ("15", "16")]


def emodb_table() -> pd.DataFrame:
    """EmoDB manifest with the fixed speaker split, integer labels and numeric recognition rates."""
    df = data.manifest("emodb").copy()
    where = {s: split for split, speakers in EMODB_SPLIT.items() for s in speakers}
    unknown = sorted(set(df["speaker"]) - set(where))
    if unknown:
        raise data.DataError(f"emodb: speakers {unknown} are not in the fixed split {EMODB_SPLIT}")
    df["split"] = df["speaker"].map(where)
    df["label"] = df["emotion"].map({c: i for i, c in enumerate(EMODB_CLASSES)}).astype(int)
    if "recognition_pct" in df.columns:  # "90,00" (decimal comma) in erkennung.txt
        df["recognition_pct"] = pd.to_numeric(
            df["recognition_pct"].astype(str).str.strip().str.replace(",", ".", regex=False), errors="coerce"
        )
    data.check_disjoint(df["speaker"], df["split"])
    return df


def emodb_folds(speakers, pairs=EMODB_FOLD_PAIRS) -> list[dict]:
    """Leave-two-speakers-out folds over ``speakers`` (one id per utterance).

    Fold ``k``: ``test`` = utterances of pair ``k``, ``val`` = pair ``k + 1`` (mod the number of
    pairs; early stopping and model selection only), ``train`` = every other speaker.  Returns one
    dict per fold with boolean masks ``train``, ``val``, ``test`` and the speaker ids of each part.
    Every utterance is in exactly one test part; no speaker is in two parts of a fold.
    """
    speakers = np.asarray(speakers).astype(str)
    known = {s for pair in pairs for s in pair}
    unknown = sorted(set(speakers) - known)
    if unknown:
        raise data.DataError(f"speakers {unknown} are in no fold pair of {pairs}")
    folds = []
    for k, pair in enumerate(pairs):
        val_pair = pairs[(k + 1) % len(pairs)]
        test = np.isin(speakers, pair)
        val = np.isin(speakers, val_pair)
        folds.append(
            {
                "fold": k,
                "test": test,
                "val": val,
                "train": ~(test | val),
                "test_speakers": list(pair),
                "val_speakers": list(val_pair),
                "train_speakers": sorted(set(speakers[~(test | val)])),
            }
        )
    return folds


def stack_frames(S: np.ndarray, k: int) -> np.ndarray:
    """``(n, n_bins, T)`` -> ``(n, T // k, k * n_bins)``: k consecutive frames concatenated per step."""
    n, bins, T = S.shape
    T2 = T // k
    return S[:, :, : T2 * k].reshape(n, bins, T2, k).transpose(0, 2, 3, 1).reshape(n, T2, k * bins)


def clip_waveforms(paths, clip_s: float) -> np.ndarray:
    """Load 16 kHz clips and crop / zero-pad each to its first ``clip_s`` seconds: ``(n, samples)``."""
    n = int(round(clip_s * 16000))
    return np.stack([features.fix_length(y, n) for y in data.load_many(list(paths), sr=16000, n_jobs=2)])


# --------------------------------------------------------------------------
# Pretrained speech representation (stand-in for data2vec)
# --------------------------------------------------------------------------
def openwakeword_model_dir() -> Path:
    """Folder of the ONNX models bundled in the openwakeword wheel (found without importing the package)."""
    spec = importlib.util.find_spec("openwakeword")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError(
            "the pretrained speech embedding needs `openwakeword==0.4.0` and `onnxruntime` "
            "(pip install openwakeword==0.4.0 onnxruntime)"
        )
    folder = Path(list(spec.submodule_search_locations)[0]) / "resources" / "models"
    for name in ("melspectrogram.onnx", "embedding_model.onnx"):
        if not (folder / name).is_file():
            raise FileNotFoundError(f"{folder / name}: not in the installed openwakeword wheel")
    return folder


class SpeechEmbedding:
    """Google's ``speech_embedding`` (trained on ~200 M keyword clips) from the openwakeword wheel.

    ``__call__(waves)`` takes float waveforms at 16 kHz, ``(n, samples)`` in [-1, 1], and returns
    ``(n, frames, 96)``: one embedding per 76-frame (775 ms) mel window, every 8 frames (80 ms),
    computed exactly as openwakeword does (mel model, ``x/10 + 2``, embedding model).
    """

    window, step, dim = 76, 8, 96

    def __init__(self, threads: int = 1):
        import onnxruntime as ort

        folder = openwakeword_model_dir()
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = opts.inter_op_num_threads = threads
        self.mel = ort.InferenceSession(str(folder / "melspectrogram.onnx"), opts, providers=["CPUExecutionProvider"])
        self.emb = ort.InferenceSession(str(folder / "embedding_model.onnx"), opts, providers=["CPUExecutionProvider"])

    def melspectrogram(self, waves) -> np.ndarray:
        x = np.atleast_2d(np.asarray(waves, np.float32))
        pcm = np.clip(np.round(x * 32767), -32768, 32767).astype(np.float32)  # the model expects int16 scale
        out = np.stack([self.mel.run(None, {"input": row[None]})[0].squeeze() for row in pcm])
        return (out / 10 + 2).astype(np.float32)

    def __call__(self, waves, batch: int = 512) -> np.ndarray:
        mel = self.melspectrogram(waves)
        n, frames, _ = mel.shape
        if frames < self.window:
            raise ValueError(f"clips give {frames} mel frames; the embedding needs at least {self.window} (~0.8 s)")
        starts = range(0, frames - self.window + 1, self.step)
        windows = np.stack([mel[:, s : s + self.window] for s in starts], axis=1)  # (n, w, 76, 32)
        flat = windows.reshape(-1, self.window, mel.shape[2], 1)
        out = np.concatenate(
            [
                self.emb.run(None, {"input_1": flat[i : i + batch]})[0].reshape(-1, self.dim)
                for i in range(0, len(flat), batch)
            ]
        )
        return out.reshape(n, len(starts), self.dim).astype(np.float32)


FEATURE_KINDS = ("embedding", "logmel")


def frame_features(waves: np.ndarray, kind: str, n_mels: int = 40, stack: int = 4) -> np.ndarray:
    """Frame sequences ``(n, frames, dims)`` of equal-length waveforms.

    ``kind="logmel"``: ``n_mels`` log-mel bands, 25 ms windows every 20 ms (the paper's data2vec
    framing), ``stack`` consecutive frames concatenated -> one step every 80 ms (2 s: ``(25, 160)``).
    ``kind="embedding"``: the pretrained speech embedding, 96 dims every 80 ms (2 s: ``(16, 96)``).
    """
    if kind == "logmel":
        S = features.log_mel(waves, sr=16000, n_fft=512, win_length=400, hop_length=320, n_mels=n_mels)
        return stack_frames(S, stack)
    if kind == "embedding":
        return SpeechEmbedding(threads=2)(waves)
    raise ValueError(f"unknown feature kind {kind!r}: use one of {FEATURE_KINDS}")


def emodb_features(kind: str, df: pd.DataFrame | None = None, clip_s: float = EMODB_CLIP_S) -> np.ndarray:
    """:func:`frame_features` of the EmoDB rows of ``df`` (default: all), cached on disk per file list."""
    df = emodb_table() if df is None else df
    files = [Path(p).name for p in df["abs_path"]]
    out = features.cached(
        f"emodb_{kind}",
        lambda: {"X": frame_features(clip_waveforms(df["abs_path"], clip_s), kind)},
        fingerprint=data.fingerprint("emodb"),
        files=files,
        clip_s=clip_s,
        kind=kind,
        version=1,
    )
    return out["X"]


def load_task(
    corpus: str, kind: str, per_speaker_emotion: int | None = None, clip_s: float | None = None, seed: int = 0
) -> dict:
    """Everything a training run needs, for ``corpus`` "emodb" or "iemocap" (user-owned, profile ``full``).

    Returns ``X`` (n, frames, dims), ``votes`` (n, c: one-hot for EmoDB, evaluator votes for IEMOCAP),
    ``y`` (majority class index), ``split`` (train / val / test), ``groups`` (speaker or dialog),
    ``classes`` and the table ``df``.  ``per_speaker_emotion`` keeps at most that many utterances of
    each speaker and emotion (small CI runs).  IEMOCAP: sessions 1–4 train (10 % of their dialogs held
    out for early stopping), session 5 test.
    """
    if corpus == "emodb":
        df = emodb_table()
        if per_speaker_emotion is not None:
            df = (
                df.sample(frac=1.0, random_state=seed)
                .groupby(["speaker", "emotion"])
                .head(per_speaker_emotion)
                .sort_index()
                .reset_index(drop=True)
            )
        X = emodb_features(kind, df, clip_s or EMODB_CLIP_S)
        classes = EMODB_CLASSES
        votes = np.eye(len(classes), dtype=np.float32)[df["label"].to_numpy()]
        groups = df["speaker"].to_numpy()
    elif corpus == "iemocap":
        df = iemocap_manifest()
        if per_speaker_emotion is not None:
            df["speaker"] = df["utterance"].str[:5] + df["utterance"].str.split("_").str[-1].str[0]
            df = df.groupby(["speaker", "label"]).head(per_speaker_emotion).reset_index(drop=True)
        classes = IEMOCAP_CLASSES
        df["label_index"] = df["label"].map({c: i for i, c in enumerate(classes)})
        train_dialogs = np.array(sorted(df.loc[df["split"] == "train", "dialog"].unique()))
        rng = np.random.default_rng(seed)
        val = set(rng.choice(train_dialogs, size=max(1, len(train_dialogs) // 10), replace=False))
        df.loc[df["dialog"].isin(val), "split"] = "val"
        clip = clip_s or 6.0
        X = features.cached(
            f"iemocap_{kind}",
            lambda: {"X": frame_features(clip_waveforms(df["abs_path"], clip), kind)},
            files=df["path"].tolist(),
            clip_s=clip,
            kind=kind,
            version=1,
        )["X"]
        votes = iemocap_votes(df, classes)
        df["label"] = df["label_index"]
        groups = df["dialog"].to_numpy()
    else:
        raise ValueError(f"unknown corpus {corpus!r}: use 'emodb' or 'iemocap'")
    return {
        "X": X,
        "votes": votes,
        "y": df["label"].to_numpy().astype(int),
        "split": df["split"].to_numpy(),
        "groups": groups,
        "classes": list(classes),
        "df": df,
    }


# --------------------------------------------------------------------------
# CREMA-D votes
# --------------------------------------------------------------------------
CREMA_CODES = ["A", "D", "F", "H", "N", "S"]
CREMA_CLASSES = ["anger", "disgust", "fear", "happiness", "neutral", "sadness"]


def crema_votes() -> tuple[pd.DataFrame, np.ndarray]:
    """CREMA-D voice-only ratings: the table and the ``(n_clips, 6)`` vote counts (classes :data:`CREMA_CLASSES`)."""
    df = data.manifest("crema_d_votes")
    cols = [f"votes_{c}" for c in CREMA_CODES]
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise data.DataError(f"{data.corpus_dir('crema_d_votes') / 'manifest.csv'}: missing columns {missing}")
    votes = df[cols].to_numpy(dtype=int)
    bad = np.flatnonzero(votes.sum(1) != df["num_responses"].to_numpy())
    df.attrs["vote_sum_mismatch"] = len(bad)
    return df, votes


# --------------------------------------------------------------------------
# IEMOCAP (user-owned; profile `full`)
# --------------------------------------------------------------------------
IEMOCAP_CLASSES = ["anger", "happiness", "sadness", "neutral", "excited", "frustration"]
IEMOCAP_CODES = {
    "ang": "anger",
    "hap": "happiness",
    "sad": "sadness",
    "neu": "neutral",
    "exc": "excited",
    "fru": "frustration",
}
_EVALUATOR_WORDS = {
    "anger": "anger",
    "happiness": "happiness",
    "sadness": "sadness",
    "neutral": "neutral",
    "excited": "excited",
    "frustration": "frustration",
    "surprise": None,
    "fear": None,
    "disgust": None,
    "other": None,
}
_HEADER = re.compile(r"^\[(\d+(?:\.\d+)?)\s*-\s*(\d+(?:\.\d+)?)\]\s+(\S+)\s+(\S+)\s+\[")


def iemocap_root(root: str | Path | None = None) -> Path:
    """The IEMOCAP folder holding ``Session1``..``Session5`` (default ``$AUDIO_REPRO_DATA/iemocap``)."""
    base = Path(root) if root is not None else data.data_dir() / "iemocap"
    for cand in (base, base / "IEMOCAP_full_release"):
        if (cand / "Session1").is_dir():
            return cand
    raise data.DataMissingError(
        f"IEMOCAP not found at {base} (looked for Session1/ there and in IEMOCAP_full_release/). IEMOCAP is "
        f"licensed: request it from https://sail.usc.edu/iemocap/ and unpack it into {data.DATA_ENV}/iemocap."
    )


def read_emo_evaluation(path: str | Path, include_self: bool = False) -> list[dict]:
    """Parse one ``EmoEvaluation/<dialog>.txt``: per utterance the consensus code and the evaluators' votes.

    Each categorical line ``C-E<k>:\\tFrustration; Anger;\\t(...)`` is one evaluator; an evaluator who
    names several categories gives each ``1/k`` of a vote.  Categories outside the six classes
    (surprise, fear, disgust, other) are counted in ``votes_outside``.  The actors' self-assessments
    (``C-F``/``C-M``) are ignored unless ``include_self``.
    """
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise data.DataMissingError(f"{path}: cannot read ({exc})") from exc
    rows, current = [], None
    for number, line in enumerate(lines, 1):
        line = line.rstrip()
        if line.startswith("["):
            m = _HEADER.match(line)
            if not m:
                raise data.DataError(f"{path}:{number}: malformed utterance header {line[:80]!r}")
            current = {
                "utterance": m.group(3),
                "start_s": float(m.group(1)),
                "end_s": float(m.group(2)),
                "code": m.group(4),
                "evaluators": 0,
                "votes_outside": 0.0,
                **{f"votes_{c}": 0.0 for c in IEMOCAP_CLASSES},
            }
            rows.append(current)
        elif line.startswith("C-"):
            who = line[2:].split(":", 1)[0]
            if current is None:
                raise data.DataError(f"{path}:{number}: evaluation line before any utterance header")
            if who.startswith("E") or include_self:
                text = line.split(":", 1)[1].split("(", 1)[0]
                cats = [c.strip().lower() for c in text.replace("\t", " ").split(";") if c.strip()]
                if not cats:
                    continue
                current["evaluators"] += 1
                for cat in cats:
                    key = next((k for k in _EVALUATOR_WORDS if cat.startswith(k)), "other")
                    target = _EVALUATOR_WORDS[key]
                    if target is None:
                        current["votes_outside"] += 1.0 / len(cats)
                    else:
                        current[f"votes_{target}"] += 1.0 / len(cats)
    if not rows:
        raise data.DataError(f"{path}: no utterance found (is this an IEMOCAP EmoEvaluation file?)")
    return rows


def read_transcriptions(path: str | Path) -> dict:
    """``dialog/transcriptions/<dialog>.txt`` -> {utterance: text}."""
    out = {}
    for line in Path(path).read_text(encoding="utf-8", errors="replace").splitlines():
        utt, sep, text = line.partition(":")
        if sep and utt.split(" ")[0].startswith("Ses"):
            out[utt.split(" ")[0]] = text.strip()
    return out


def iemocap_manifest(
    root: str | Path | None = None, include_self: bool = False, classes: list[str] = IEMOCAP_CLASSES
) -> pd.DataFrame:
    """One row per utterance whose consensus label is one of the six classes.

    Columns: session, utterance, path (``SessionN/sentences/wav/<dialog>/<utt>.wav``), abs_path,
    label (class name), votes_<class> (six columns), votes_outside, evaluators, transcript,
    split (sessions 1–4 ``train``, session 5 ``test``).
    """
    base = iemocap_root(root)
    rows = []
    for s in range(1, 6):
        folder = base / f"Session{s}" / "dialog" / "EmoEvaluation"
        if not folder.is_dir():
            raise data.DataMissingError(f"{folder}: missing (IEMOCAP session {s})")
        for file in sorted(folder.glob("Ses*.txt")):
            dialog = file.stem
            trans_file = base / f"Session{s}" / "dialog" / "transcriptions" / f"{dialog}.txt"
            transcripts = read_transcriptions(trans_file) if trans_file.exists() else {}
            for r in read_emo_evaluation(file, include_self):
                code = IEMOCAP_CODES.get(r["code"])
                if code is None or code not in classes:
                    continue
                rel = f"Session{s}/sentences/wav/{dialog}/{r['utterance']}.wav"
                rows.append(
                    {
                        "session": s,
                        "dialog": dialog,
                        **r,
                        "label": code,
                        "path": rel,
                        "abs_path": str(base / rel),
                        "transcript": transcripts.get(r["utterance"], ""),
                        "split": "test" if s == 5 else "train",
                    }
                )
    df = pd.DataFrame(rows)
    if df.empty:
        raise data.DataError(f"{base}: no utterance with one of the classes {classes}")
    missing = [p for p in df["abs_path"] if data._existing(Path(p)) is None]
    if missing:
        raise data.DataMissingError(f"{base}: {len(missing)} utterance audio files are missing, e.g. {missing[:3]}")
    df["abs_path"] = [str(data.resolve_audio(p)) for p in df["abs_path"]]
    return df


def iemocap_votes(df: pd.DataFrame, classes: list[str] = IEMOCAP_CLASSES) -> np.ndarray:
    """The ``(n, 6)`` vote matrix of :func:`iemocap_manifest`'s table (input of :class:`lib.balancing.PDDS`)."""
    return df[[f"votes_{c}" for c in classes]].to_numpy(dtype=float)


# --------------------------------------------------------------------------
# Listening: the same sentence by the same actor in two emotions
# --------------------------------------------------------------------------
LISTENING_MAX_S = 3.0  # a player on the page holds at most this much audio (page weight)


def same_sentence_pairs(df: pd.DataFrame, emotion_a: str, emotion_b: str) -> pd.DataFrame:
    """Every recording of ``emotion_a`` whose actor read the same sentence in ``emotion_b`` (EmoDB: ten
    sentences, each read by every actor in several emotions).

    ``df`` has columns ``speaker``, ``text`` and ``emotion`` (:func:`emodb_table`).  Returns one row per
    (recording a, recording b) with ``speaker``, ``text`` and ``index_a``, ``index_b`` — row *positions* in
    ``df`` — sorted by speaker, sentence and positions, so that the first row is a deterministic choice.
    """
    missing = {"speaker", "text", "emotion"} - set(df.columns)
    if missing:
        raise ValueError(f"same_sentence_pairs needs columns speaker, text and emotion; missing {sorted(missing)}")
    pos = df.reset_index(drop=True).assign(position=np.arange(len(df)))
    a = pos[pos["emotion"] == emotion_a][["speaker", "text", "position"]]
    b = pos[pos["emotion"] == emotion_b][["speaker", "text", "position"]]
    out = a.merge(b, on=["speaker", "text"], suffixes=("_a", "_b"))
    out = out.rename(columns={"position_a": "index_a", "position_b": "index_b"})
    return out.sort_values(["speaker", "text", "index_a", "index_b"], kind="stable").reset_index(drop=True)


def listening_clip(path, seconds: float = EMODB_CLIP_S, sr: int = 16000) -> np.ndarray:
    """The first ``seconds`` (at most :data:`LISTENING_MAX_S`) of a recording, mono at ``sr``: what a page
    player embeds (16-bit WAV at 16 kHz: 32 kB per second before base64)."""
    if not 0 < seconds <= LISTENING_MAX_S:
        raise ValueError(f"a listening clip lasts more than 0 and at most {LISTENING_MAX_S:g} s, got {seconds}")
    y, _ = data.load_audio(path, sr=sr)
    return y[: int(round(seconds * sr))].astype(np.float32)
