"""The keyword-spotting chapter's training recipe on top of :mod:`lib.datasets.kws` (which stays unchanged).

* :func:`stratified_unknown` — the training `_unknown_` class keeps **every** clip of every word
  that is not over-represented on disk, and only the three plentiful words of the extra corpus
  (``bed``, ``cat``, ``happy``) are capped, evenly, to fill the class up to ``total``.  A random
  draw would take ~96 % of `_unknown_` from those three words (they are 95 % of the clips on
  disk), while the test `_unknown_` holds 23 different words.
* :func:`fraction_subset` — a nested, stratified share of the training clips (by label, and by
  word inside `_unknown_`) for the data-scale curve; validation and test are untouched.
* :func:`book_split` — both of the above on :func:`lib.datasets.kws.build_split`.
* :func:`librispeech_negatives` — 1-second windows of Mini LibriSpeech utterances whose
  transcripts contain none of the ten keywords, as extra `_unknown_` material (rows in the
  format of :mod:`lib.datasets.kws`, so :func:`lib.datasets.kws.compute_features` reads them),
  split by speaker into a training part and a held-out part.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from lib import data
from lib.datasets import kws as kd

CAPPED_WORDS = ("bed", "cat", "happy")
LIBRI_CORPUS = "mini_librispeech"


def stratified_unknown(
    df: pd.DataFrame, total: int | None = 2000, capped_words=CAPPED_WORDS, seed: int = 0
) -> pd.DataFrame:
    """Cut the training `_unknown_` clips to ``total``: all clips of the other words, the capped words evenly.

    Validation and test rows are untouched.  Raises if the uncapped words alone exceed ``total``.
    """
    if total is None:
        return df.reset_index(drop=True)
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
    # water-filling: a word with fewer clips than an even share gives all of them
    for i, (_w, idx) in enumerate(sorted(avail.items(), key=lambda kv: len(kv[1]))):
        q = min(len(idx), left // (len(avail) - i))
        keep[rng.permutation(idx)[:q]] = True
        left -= q
    return df[keep].reset_index(drop=True)


def fraction_subset(df: pd.DataFrame, fraction: float, seed: int = 0) -> pd.DataFrame:
    """``fraction`` of every training class (of every word inside `_unknown_`), nested across fractions.

    Original clips only are chosen (augmented copies follow their originals' selection when
    :func:`lib.datasets.kws.add_augmented` is applied afterwards).  Validation and test unchanged.
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


def book_split(seed: int = 0, unknown_total: int | None = 2000, fraction: float = 1.0) -> pd.DataFrame:
    """The chapter's split: :func:`lib.datasets.kws.build_split`, `_unknown_` stratified by word, a fraction."""
    df = kd.build_split(seed=seed)
    df = stratified_unknown(df, unknown_total, seed=seed)
    return fraction_subset(df, fraction, seed=seed)


def _has_keyword(text: str) -> bool:
    return bool(set(str(text).lower().split()) & set(kd.KEYWORDS))


def librispeech_negatives(
    n_train: int = 1000, n_test: int = 300, test_speakers: int = 6, per_utterance: int = 2, seed: int = 0
) -> pd.DataFrame:
    """1-s windows of keyword-free Mini LibriSpeech utterances as `_unknown_` rows (``split`` train or test).

    An utterance qualifies when its transcript contains none of the ten keywords as a word.
    Speakers are split (``test_speakers`` held out); from each utterance at most
    ``per_utterance`` windows at random, non-overlapping positions.  Raises
    :class:`lib.data.DataMissingError` when the corpus is absent.
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
                        "start": int(k * kd.CLIP),
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
    return pd.DataFrame(rows, columns=kd.COLUMNS)
