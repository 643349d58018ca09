# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python (audio-repro book)
#     language: python
#     name: audio-repro
# ---

# %% [markdown]
# (data-chapter)=
# # The data

# %% [markdown]
# ```{glue:md} result_box
# :format: myst
# ```

# %% [markdown]
# Every chapter of this book trains and tests on real recordings, but rarely on the recordings
# its paper used: TIMIT, IEMOCAP, AudioSet and the full Speech Commands training set are
# licensed or too large for the offline mirror the book is built from (see
# {doc}`/book/data_and_licences`).  This chapter reads every corpus through the same loaders
# the chapters use and answers three questions: **how much of each corpus the `book` profile
# really uses**, how the classes and speakers are distributed, and **which traps** would
# silently inflate a score if a chapter ignored them.  Every number on this page is computed
# when the chapter runs — from the corpora themselves and from the results files of the
# chapters' own `book` runs.

# %% tags=["parameters"]
profile = "smoke"  # smoke | book | full
data_dir = None  # folder with one sub-folder per corpus (None: the data setting of the README)
seed = 0
output_dir = None  # where results.json goes; the runner sets it

# %% tags=["remove-cell"]
import io
import json
import os
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import soundfile as sf
from IPython.display import Audio, Image, display

from lib import chapter, data, features, page, provenance
from lib.datasets import emotion

# How many files per corpus are opened and decoded: every file for `book`/`full`, a sample for `smoke`.
SIZES = {"smoke": {"scan_limit": 40}, "book": {"scan_limit": None}, "full": {"scan_limit": None}}
ch = chapter.start("00_data", profile, SIZES, seed=seed, output_dir=output_dir, data_dir=data_dir)
run, size = ch.run, ch.size
# The chapters' committed `book` runs: what each of them actually used.
RESULTS = provenance.ROOT / "book" / "results" / "book"
CHAPTER_NAMES = {
    "01_keyword_spotting": "Keyword spotting [P0]",
    "02_siamese_speakers": "Siamese speakers [P1]",
    "03_triple_header_events": "Rare acoustic events [P2]",
    "04_voice_music_search": "Voice music search [P3]",
    "05_pdds_emotion": "PDDS emotion [P4]",
    "06_imbalance_head_to_head": "Head to head",
}


# %% tags=["remove-cell"]
from lib.formatting import count, share
from lib.page import md


def sample(df, limit):
    return df if limit is None or len(df) <= limit else df.sample(limit, random_state=seed)


scan_log = []


def scan(name, df):
    """Decode the files (all of them for `book`) and keep the rejections: the loaders never drop a file silently."""
    checked = sample(df, size["scan_limit"])
    rejected = data.scan_audio(checked["abs_path"])
    run.log(f"{name}/files_checked", len(checked))
    run.log(f"{name}/files_rejected", len(rejected))
    root = str(data.data_dir())
    scan_log.append({"corpus": name, "files opened": len(checked), "rejected": len(rejected),
                     "first rejection": rejected["reason"].iloc[0].replace(root + os.sep, "")
                     if len(rejected) else "—"})
    return rejected


def durations(df):
    """Duration in seconds, from the manifest when it has one, else from the file header."""
    if "duration_s" in df.columns:
        return df["duration_s"].astype(float)
    return df["abs_path"].map(lambda p: sf.info(p).duration)


def show_spectrograms(rows, title, sr=16000, n_mels=64):
    fig, axes = plt.subplots(1, len(rows), figsize=(7.6, 2.3), squeeze=False, sharey=True)
    for ax, (_, row) in zip(axes[0], rows.iterrows()):
        y, _ = data.load_audio(row["abs_path"], sr=sr)
        S = features.log_mel(y, sr=sr, n_fft=512, hop_length=160, n_mels=n_mels)
        ax.imshow(S, origin="lower", aspect="auto", cmap="magma", extent=[0, len(y) / sr, 0, n_mels])
        ax.set_title(str(row["_caption"]), fontsize=9)
        ax.set_xlabel("time (s)")
        ax.grid(False)
    axes[0][0].set_ylabel("mel band")
    fig.suptitle(title, fontsize=10)
    refuse_unreadable(fig)
    # Spectrograms compress badly as PNG (~200 kB each): show them as JPEG to keep the page small.
    buffer = io.BytesIO()
    fig.savefig(buffer, format="jpeg", dpi=chapter.FIGURE_DPI, pil_kwargs={"quality": 80})
    plt.close(fig)
    display(Image(data=buffer.getvalue(), format="jpeg"))


def refuse_unreadable(fig):
    """The check `lib.page.show` makes (`lib.page.check_figure`), for this page's own image formats."""
    problems = page.check_figure(fig)
    if problems:
        plt.close(fig)
        raise ValueError("figure not readable in the book's column:\n- " + "\n- ".join(problems))


def show(fig):
    """Show a chart as a 128-colour PNG: it looks the same and weighs a third of matplotlib's own PNG."""
    from PIL import Image as PILImage

    refuse_unreadable(fig)
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=chapter.FIGURE_DPI)
    plt.close(fig)
    small = io.BytesIO()
    PILImage.open(buffer).convert("RGB").quantize(colors=128).save(small, format="PNG", optimize=True)
    display(Image(data=small.getvalue(), format="png"))


def player(path, seconds=1.0, sr=16000, end=False):
    """A small embedded player: `seconds` of the clip (its start, or its end), at 16 kHz (~43 kB per second)."""
    y, _ = data.load_audio(path, sr=sr)
    y = y[-int(seconds * sr):] if end else y[: int(seconds * sr)]
    return Audio(y / max(1e-6, float(np.abs(y).max())) * 0.9, rate=sr, normalize=False)


def imbalance(counts):
    return counts.max() / counts.min()


corpus_summary = []

# %% tags=["remove-cell"]
# Every manifest, once.  Warnings the loaders raise (a duplicated manifest row) become sentences below.
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    sc = data.manifest("speech_commands_v0.02")
    sc_train = data.manifest("speech_commands_train_keywords")
    sc_extra = data.manifest("speech_commands_v0.01_extra")
    libri = data.manifest("mini_librispeech")
    events = data.manifest("acoustic_events")
    emodb = emotion.emodb_table()  # the manifest, the fixed speaker split, numeric recognition rates
    votes = data.manifest("crema_d_votes")
data_warnings = [str(w.message).replace(str(data.data_dir()) + os.sep, "") for w in caught]

sc_all = pd.concat([sc, sc_train, sc_extra])
song_dir = data.corpus_dir("songs")
data.record_corpus_use("songs")
songs = {}
for f in sorted(song_dir.glob("*.csv")):
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        songs[f.stem] = data.read_table(f)

# How the emotion chapter splits EmoDB: folds over speaker pairs (when the loader has them), else one split.
if hasattr(emotion, "emodb_folds"):
    emo_folds = emotion.emodb_folds(emodb["speaker"])
    emo_protocol = (f"{len(emo_folds)} folds by speaker pair: each tests {len(emo_folds[0]['test_speakers'])} "
                    f"speakers, validates on {len(emo_folds[0]['val_speakers'])} and trains on "
                    f"{len(emo_folds[0]['train_speakers'])}")
    tested_in = {s: f"fold {f['fold'] + 1}" for f in emo_folds for s in f["test_speakers"]}
else:
    emo_split = {k: len(v) for k, v in emotion.EMODB_SPLIT.items()}
    emo_protocol = (f"one split by speaker: {emo_split['train']} training, {emo_split['val']} validation, "
                    f"{emo_split['test']} test speakers")
    tested_in = {s: split for split, spk in emotion.EMODB_SPLIT.items() for s in spk}

# What the mirror holds, per corpus as the chapters group them.
MIRROR = {
    "Speech Commands": len(sc_all),
    "Mini LibriSpeech": len(libri),
    "acoustic events": len(events),
    "EmoDB": len(emodb),
    "CREMA-D votes": len(votes),
    "song tables": sum(len(t) for t in songs.values()),
}
UNIT = {"Speech Commands": "clips", "Mini LibriSpeech": "utterances", "acoustic events": "clips",
        "EmoDB": "utterances", "CREMA-D votes": "rated clips", "song tables": "songs"}

# %% [markdown]
# ## How much of each corpus the book uses
#
# The chapters' `book` runs record their parameters, split sizes and training counts in their
# results files (`book/results/book/`).  The table below is computed from those files: for each
# chapter, the items it trained, validated and tested on, and what share of the mirror's copy of
# the corpus that is.  A chapter whose committed run predates the book's claims standard is
# marked *awaiting re-run*: its numbers may still change when it is re-run.

# %% tags=["remove-cell"]
def metric(res, name):
    m = res.get("metrics", {}).get(name)
    return None if m is None else m["mean"]


def table(res, name):
    return pd.DataFrame(res.get("tables", {}).get(name, []))


def usage(stem, res):
    """Rows (corpus, training, validation, test, how the profile limits it) from one results file.

    A results file whose tables changed shape (a chapter re-run with new names) gives a row per corpus it
    read, saying that it does not record how much was used — never a crash of this chapter.
    """
    try:
        rows = _usage(stem, res)
    except (KeyError, TypeError, ValueError, IndexError, AttributeError):
        rows = []
    if not rows:
        for corpus in res.get("provenance", {}).get("data_fingerprint", {}):
            rows.append({"corpus": corpus, "training": None, "validation": None, "test": None, "used": None,
                         "share": None, "how the profile limits it": "the results file does not record how much was used"})
    return rows


def _usage(stem, res):
    p, rows = res.get("params", {}), []

    def row(corpus, train=None, val=None, test=None, note="", share_of=None):
        used = sum(x for x in (train, val, test) if x is not None)
        rows.append({"corpus": corpus, "training": train, "validation": val, "test": test,
                     "used": used if used else None, "share": share_of, "how the profile limits it": note})

    if stem == "01_keyword_spotting":
        t = table(res, "class_counts")
        if "training, original" in t.columns:  # the re-run chapter's table
            tr, av = t["training, original"].sum(), t["on disk (training speakers)"].sum()
            row("Speech Commands", tr, t["validation"].sum(), t["test"].sum(),
                f"{count(tr)} of the {count(av)} clips of the training speakers ({share(tr, av)}); speaker-disjoint splits")
        elif len(t):  # the table of runs before the claims standard
            tr, av = t["train (original)"].sum(), t["train available"].sum()
            row("Speech Commands", tr, t["val (original)"].sum(), t["test (original)"].sum(),
                f"keyword fraction {p.get('keyword_fraction')}: {count(tr)} of {count(av)} training-split clips "
                f"({share(tr, av)}); at most {p.get('max_unknown')} unknown and {p.get('max_silence')} "
                f"silence clips")
    elif stem == "02_siamese_speakers":
        t = table(res, "splits")
        if len(t):
            c = t.set_index("split")["recordings"]
            spk = t.set_index("split")["speakers"]
            row("Speech Commands", c.get("train"), c.get("val"), c.get("test"),
                f"every recording; {count(spk.sum())} speakers, disjoint between splits")
        per = p.get("libri_per_speaker")
        if per:
            k = int(libri.groupby("speaker").size().clip(upper=per).sum())
            trials = metric(res, "trials/libri_n") or p.get("libri_pairs")
            row("Mini LibriSpeech", None, None, k,
                f"test only: at most {per} utterances per speaker, cropped to 1–3 s"
                + (f"; {count(trials)} trials" if trials else ""))
    elif stem == "03_triple_header_events":
        s, t = table(res, "split_counts"), table(res, "training_counts")
        if len(s):
            tot = s.set_index("label").loc["All"]
            notes = []
            train = val = None
            if len(t):  # the ratio with the most training clips
                by_ratio = t.groupby("ratio")[["train", "validation"]].sum()
                largest = by_ratio["train"].idxmax()
                train, val = int(by_ratio.loc[largest, "train"]), int(by_ratio.loc[largest, "validation"])
                notes = [f"{r}: {count(v)}" for r, v in by_ratio["train"].items()]
            row("acoustic events", train, val, int(tot["test"]),
                f"training clips drawn at the paper's class ratios ({'; '.join(notes)}) from a "
                f"{count(tot['train'])}-clip training split; split by source recording")
    elif stem == "04_voice_music_search":
        tr, dv, te = (metric(res, f"data/{k}_utterances") for k in ("train", "dev", "test"))
        if tr is not None:
            hours = metric(res, "data/train_hours")
            row("Mini LibriSpeech", tr, dv, te, f"utterances up to {p.get('max_train_s')} s: "
                f"{hours:.1f} h of training speech; speaker-disjoint splits")
        songs_used = metric(res, "search/catalogue_songs")
        if songs_used is not None:
            row("song tables", None, None, songs_used, "the merged catalogue searched (no training)")
    elif stem == "05_pdds_emotion":
        tr, va, te = (metric(res, f"data/{k}_utterances") for k in ("train", "val", "test"))
        total = metric(res, "data/utterances")
        if total is not None:  # the re-run chapter: cross-validation over speaker pairs
            row("EmoDB", None, None, total, f"{emo_protocol}; every utterance is tested once")
        elif tr is not None:
            split = {k: len(v) for k, v in emotion.EMODB_SPLIT.items()}
            row("EmoDB", tr, va, te, f"fixed split by speaker: {split['train']} training, {split['val']} "
                f"validation, {split['test']} test speakers")
        if "crema_d_votes" in res.get("provenance", {}).get("data_fingerprint", {}):
            row("CREMA-D votes", None, None, None, "vote statistics of every clip (no audio, no model)")
    elif stem == "06_imbalance_head_to_head":
        t = table(res, "training_counts")
        corpus = {"kws": "Speech Commands", "events": "acoustic events", "emotion": "EmoDB"}
        for task, g in (t.groupby("task", sort=False) if len(t) else []):
            row(corpus.get(task, task), None, None, None,
                f"{task}: {g['common clips/class'].iloc[0]} clips per common class, rare classes down to "
                f"{str(g['rare clips/class'].iloc[-1]).split('–')[0]} (ratios {', '.join(g['ratio'])}); "
                f"balanced test, {g['balanced test clips/class'].iloc[0]} clips per class")
    return rows


results, usage_rows, awaiting = {}, [], []
for f in sorted(RESULTS.glob("0[1-9]_*.json")):
    if f.stem not in CHAPTER_NAMES:  # pages that train nothing and read no corpus (07: using the models)
        continue
    res = json.loads(f.read_text())
    results[f.stem] = res
    prov = res.get("provenance", {})
    waiting = not res.get("claims")
    if waiting:
        awaiting.append(CHAPTER_NAMES.get(f.stem, f.stem))
    status = ("awaiting re-run" if waiting else "re-run") + f" ({prov.get('finished_utc', '')[:10]})"
    for r in usage(f.stem, res):
        r["used"] = r["used"] if r["used"] is not None else np.nan
        mirror = MIRROR.get(r["corpus"])
        usage_rows.append({"chapter": CHAPTER_NAMES.get(f.stem, f.stem), "run": status, **r,
                           "in the mirror": mirror,
                           "share": share(r["used"], mirror) if mirror and r["used"] == r["used"] else "—"})
usage_df = pd.DataFrame(usage_rows)
run.log("usage/chapters_read", len(results))
run.log("usage/chapters_awaiting_rerun", len(awaiting))
run.log_table("usage", usage_df.astype(object).where(usage_df.notna(), None))

# %% tags=["remove-input"]
def cell(x):
    return "—" if x is None or (isinstance(x, float) and np.isnan(x)) else count(x)


shown = usage_df.copy()
for c in ["training", "validation", "test"]:
    shown[c] = shown[c].map(cell)
shown["used, of the mirror"] = [f"{cell(u)} of {cell(m)} ({s})" if u == u else f"— of {cell(m)}"
                                for u, m, s in zip(usage_df["used"], usage_df["in the mirror"], usage_df["share"])]
page.show_table(shown[["chapter", "corpus", "training", "validation", "test", "used, of the mirror",
                         "how the profile limits it", "run"]])
units = "; ".join(f"{k}: {v}" for k, v in UNIT.items())
md(f"Items are counted in each corpus's own unit ({units}).  "
   + (f"**Awaiting re-run** ({len(awaiting)} of {len(results)} chapters): {', '.join(awaiting)}. Their rows show "
      "the last committed `book` run and may change." if awaiting else
      f"All {len(results)} chapters have been re-run under the claims standard."))

# %% [markdown]
# (data-traps)=
# ## The traps, in short
#
# Each of these would make a number look better, or different, than the method deserves.  The
# sections below show the evidence for each.
#
# The first guard runs in every chapter: a split in which any speaker (or source recording) sits on
# two sides is refused before anything trains.
#
# :::{dropdown} `check_disjoint` and `speaker_disjoint_split` (`lib/manifests.py`)
# ```{literalinclude} /lib/manifests.py
# :pyobject: check_disjoint
# :language: python
# ```
#
# ```{literalinclude} /lib/manifests.py
# :pyobject: speaker_disjoint_split
# :language: python
# ```
# :::

# %% tags=["remove-cell"]
# Speech Commands: speaker overlaps between folders, short clips.
overlap = set(sc["speaker"].dropna()) & set(sc_train["speaker"].dropna())
extra_overlap = set(sc["speaker"].dropna()) & set(sc_extra["speaker"].dropna())
run.log("speech_commands/test_train_speaker_overlap", len(overlap))
run.log("speech_commands/test_extra_speaker_overlap", len(extra_overlap))
short_train = int((durations(sc_train) < 0.999).sum())
kw_train = sorted(set(sc_train["label12"]) - {"_unknown_", "_silence_"})
kw_missing = sorted(set(sc["label12"]) - set(sc_train["label12"]) - {"_unknown_", "_silence_"})
noise_files = sorted((data.corpus_dir("speech_commands_v0.02") / "_background_noise_").glob("*.*"))
noise_files = [f for f in noise_files if f.suffix in data.AUDIO_EXTENSIONS]
run.log("speech_commands_train_keywords/clips_shorter_than_1s", short_train)

# EmoDB: the mirror's clip lengths, and whether the speech runs to the clip's last 100 ms.
emo_dur = emodb["abs_path"].map(lambda p: sf.info(p).duration)


def tail_level_db(path, tail_s=0.1):
    """Level of the clip's last `tail_s` seconds relative to the whole clip (dB)."""
    y, sr = sf.read(path, dtype="float32")
    y = y if y.ndim == 1 else y.mean(axis=1)
    rms = lambda z: np.sqrt(np.mean(z ** 2)) + 1e-9  # noqa: E731
    return 20 * np.log10(rms(y[-int(tail_s * sr):]) / rms(y))


emo_tail = emodb["abs_path"].map(tail_level_db)
emo_cut = int((emo_tail > -20).sum())
run.log("emodb/duration_min_s", float(emo_dur.min()))
run.log("emodb/duration_max_s", float(emo_dur.max()))
run.log("emodb/clips_ending_in_speech", emo_cut)
dur_text = (f"exactly {emo_dur.min():.3f} s long" if emo_dur.max() - emo_dur.min() < 5e-4 else
            f"{emo_dur.min():.3f}–{emo_dur.max():.3f} s long")

# Acoustic events: sample rates per class, and the confound check of the events chapter.
rate_table = pd.crosstab(events["label"], events["sample_rate"])
cry_8k = int(rate_table.loc["baby_cry"].get(8000, 0))
cry_all = int(rate_table.loc["baby_cry"].sum())
others_8k = int(rate_table.drop(index="baby_cry").get(8000, pd.Series(dtype=int)).sum())
run.log("acoustic_events/baby_cry_8khz", cry_8k)
ev_res = results.get("03_triple_header_events", {})
confound = {k: metric(ev_res, f"confound/{k}/rate/balanced_accuracy") for k in ("before", "resampled", "after")}

# CREMA-D: the votes, clear vs ambiguous.
vote_cols = [c for c in votes.columns if c.startswith("votes_")]
top = np.sort(votes[vote_cols].to_numpy(), axis=1)[:, ::-1]
votes["clear"] = top[:, 1] == 0
run.log("crema_d/clear_fraction", float(votes["clear"].mean()))
crema_audio = int((votes["audio_available"].astype(str).str.lower() == "yes").sum())

# %% tags=["remove-input"]
other_8k_text = ("while no clip of another class is" if others_8k == 0 else
                 f"against {count(others_8k)} clips of the other classes")
conf_text = (
    f"the events chapter's check — a classifier that sees only bandwidth descriptors, telling 8 kHz from 16 kHz "
    f"cries — reaches balanced accuracy **{confound['before']:.2f}** at 16 kHz, still "
    f"**{confound['resampled']:.2f}** after resampling every clip to 8 kHz, and **{confound['after']:.2f}** "
    f"(chance 0.5) only once its features are limited to 0–3.5 kHz"
    if None not in confound.values() else
    "the events chapter's results file does not (yet) record its bandwidth check")
md("\n".join([
    f"* **Speech Commands keywords come from the official *test* set.** {count(len(sc))} test-set clips plus "
    f"{count(len(sc_train))} training-portion clips of {len(kw_train)} keywords (none of "
    f"{', '.join(f'*{k}*' for k in kw_missing)}) and {count(len(sc_extra))} clips of {sc_extra['word'].nunique()} "
    f"extra words.  Chapters split by speaker: the test set and the training-portion folder "
    f"share **{len(overlap)}** speakers, but the test set and the extra words share **{len(extra_overlap)}**, "
    f"so those clips must follow their speaker into the same split.",
    f"* **`_silence_` is easy**: the test set's silence clips are cut from the same {len(noise_files)} noise "
    f"recordings that training silence is cut from, so the keyword chapter also reports macro-F1 without silence.",
    f"* **Baby cries are a recording-chain signature**: {count(cry_8k)} of {count(cry_all)} baby cries are 8 kHz "
    f"recordings, {other_8k_text}.  Resampling does not remove that: {conf_text}.",
    f"* **Every EmoDB clip in the mirror is {dur_text}**: the mirror holds only the "
    f"first 2 s of each utterance.  In **{count(emo_cut)} of {count(len(emodb))}** clips the last 100 ms is still within "
    f"20 dB of the clip's average level — the utterance was cut mid-speech.  The emotion chapter never puts a "
    f"speaker in two parts: {emo_protocol}.",
    f"* **Votes without audio, audio without votes**: CREMA-D gives the crowd votes of {count(len(votes))} clips "
    f"({'none' if crema_audio == 0 else count(crema_audio)} with audio in the mirror); EmoDB gives audio but only the share of listeners who "
    f"recognised the intended emotion, so on EmoDB every ambiguous training sample of PDDS is synthetic.",
    f"* **Manifests are not perfect**: " + ("; ".join(data_warnings) if data_warnings else "no manifest warnings")
    + "; the loaders say so instead of dropping rows silently.",
]))

# %% [markdown]
# ## Speech Commands
#
# Three folders of the mirror hold Speech Commands clips.  `speech_commands_v0.02` is the
# official 12-class test set (ten keywords, `_unknown_` from 25 other words, `_silence_`)
# restored to the dataset's `<word>/<speaker>_nohash_<n>` layout, plus the six
# `_background_noise_` recordings.  `speech_commands_train_keywords` holds real
# training-portion clips of eight keywords (none for *on* and *off*), and
# `speech_commands_v0.01_extra` the words *bed*, *cat* and *happy*.

# %% tags=["remove-input"]
for name, df in [("speech_commands_v0.02", sc), ("speech_commands_train_keywords", sc_train),
                 ("speech_commands_v0.01_extra", sc_extra)]:
    scan(name, df)
    speakers = df["speaker"].replace("", np.nan).dropna()
    corpus_summary.append({"corpus": name, "items": len(df), "speakers": speakers.nunique(),
                           "classes": df["label12"].nunique()})
counts = pd.DataFrame({
    "official test set": sc["label12"].value_counts(),
    "training-portion keywords": sc_train["label12"].value_counts(),
    "v0.01 extra words": sc_extra["label12"].value_counts(),
}).fillna(0).astype(int)
counts["all"] = counts.sum(axis=1)
counts = counts.sort_values("all")
fig, ax = plt.subplots(figsize=(7.6, 3.4))
counts.drop(columns="all").plot.barh(stacked=True, ax=ax, width=0.8)
ax.set_xlabel("clips")
ax.set_ylabel("")
ax.set_title("Speech Commands clips per 12-class label, by source folder")
ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1))
show(fig)

# %% tags=["remove-input"]
md(f"*On* and *off* exist only in the official test set ({count(counts.loc['on', 'all'])} and "
   f"{count(counts.loc['off', 'all'])} clips, against a median of {count(counts.drop(index=['on', 'off', '_unknown_', '_silence_'], errors='ignore')['all'].median())} "
   f"for the other keywords): they are the scarce keywords of the keyword-spotting chapter.  `_unknown_` "
   f"outnumbers every keyword ({count(counts.loc['_unknown_', 'all'])} clips), as in the real dataset.  "
   f"{count(short_train)} of the {count(len(sc_train))} training-portion clips are shorter than 1 s; the loaders pad "
   f"them.  A keyword, then the four kinds of test-set clip as the models see them (log-mel, 1 s):")
display(player(sc[sc["label12"] == "yes"]["abs_path"].iloc[0], seconds=1.0))

# %% tags=["remove-input"]
examples = sc[sc["label12"].isin(["yes", "off", "_unknown_", "_silence_"])].groupby("label12").head(1).copy()
examples["_caption"] = examples["label12"] + " / " + examples["word"]
show_spectrograms(examples, "Speech Commands test set: log-mel spectrograms")

# %% tags=["remove-input"]
noise = pd.DataFrame({"background noise recording": [f.stem for f in noise_files],
                      "minutes": [round(sf.info(f).duration / 60, 1) for f in noise_files]})
md(f"The {len(noise)} background-noise recordings that `_silence_` clips (test and training) are cut from:")
page.show_table(noise)

# %% [markdown]
# ## Mini LibriSpeech
#
# `train-clean-5`: read speech with transcripts.  The speech-recognition chapter splits it by
# speaker; the Siamese chapter crops 1–3 s windows from it as a second, cross-corpus test of
# speaker embeddings.

# %% tags=["remove-input"]
scan("mini_librispeech", libri)
corpus_summary.append({"corpus": "mini_librispeech", "items": len(libri), "speakers": libri["speaker"].nunique(),
                       "classes": np.nan})
minutes = libri.groupby("speaker")["duration_s"].sum().div(60)
fig, axes = plt.subplots(1, 2, figsize=(7.6, 2.6))
axes[0].hist(minutes, bins=12)
axes[0].set_title("minutes of speech per speaker")
axes[0].set_xlabel("minutes")
axes[0].set_ylabel("speakers")
axes[1].hist(libri["duration_s"], bins=30)
axes[1].set_title("utterance duration")
axes[1].set_xlabel("seconds")
axes[1].set_ylabel("utterances")
show(fig)
md(f"{count(len(libri))} utterances, {libri['duration_s'].sum() / 3600:.2f} h, {libri['speaker'].nunique()} speakers "
   f"({minutes.min():.0f}–{minutes.max():.0f} min each), "
   f"{count(libri['transcript'].str.split().str.len().sum())} words of transcript; the longest utterance is "
   f"{libri['duration_s'].max():.1f} s.")

# %% [markdown]
# ## Acoustic events
#
# Rare events (dog bark, baby cry, gun shot) against background, gathered from four corpora.
# Two confounds matter: most baby cries are 8 kHz recordings from Donate-a-Cry while the other
# classes are 16 kHz, and gun shots come from two corpora.  A model could separate classes by
# bandwidth or by corpus alone.

# %% tags=["remove-input"]
scan("acoustic_events", events)
run.log("acoustic_events/duplicate_rows_dropped", len(events.attrs.get("duplicates", [])))
corpus_summary.append({"corpus": "acoustic_events", "items": len(events), "speakers": np.nan,
                       "classes": events["label"].nunique()})
by_corpus = pd.crosstab(events["label"], events["corpus"], margins=True, margins_name="all").reset_index()
page.show_table(by_corpus.rename(columns={"label": "class"}))
rates = rate_table.rename(columns=lambda r: f"{r // 1000} kHz files").reset_index().rename(columns={"label": "class"})
page.show_table(rates)

# %% tags=["remove-input"]
fig, axes = plt.subplots(1, 2, figsize=(7.6, 2.8))
ev_counts = events["label"].value_counts()
ev_counts.plot.bar(ax=axes[0], rot=0)
axes[0].set_title(f"clips per class (imbalance {imbalance(ev_counts):.1f}:1)")
axes[0].set_xlabel("")
axes[0].tick_params(axis="x", labelsize=8)
for label, g in events.groupby("label"):
    axes[1].hist(g["duration_s"], bins=np.linspace(0, 5.5, 45), histtype="step", label=label)
axes[1].set_yscale("log")
axes[1].set_ylabel("clips (log scale)")
axes[1].set_title("clip duration")
axes[1].set_xlabel("seconds")
axes[1].legend(loc="upper left", bbox_to_anchor=(1.01, 1))
show(fig)

# %% [markdown]
# The bandwidth confound, heard and seen.  First a baby cry recorded at 8 kHz, then a dog bark
# recorded at 16 kHz (both played at 16 kHz, the first second): the cry sounds muffled because it
# has no energy above 4 kHz at all.

# %% tags=["remove-input"]
cry = events[(events["label"] == "baby_cry") & (events["sample_rate"] == 8000)].iloc[0]
bark = events[events["label"] == "dog_bark"].iloc[0]
md("**Baby cry** (8 kHz file):")
display(player(cry["abs_path"]))
md("**Dog bark** (16 kHz file):")
display(player(bark["abs_path"]))

# %% tags=["remove-input"]
examples = events.groupby("label").head(1).copy()
examples["_caption"] = examples["label"] + " (" + (examples["sample_rate"] // 1000).astype(str) + " kHz file)"
show_spectrograms(examples, "Acoustic events at a 16 kHz analysis rate: the top half of the 8 kHz file is empty")

# %% tags=["remove-input"]
if None not in confound.values():
    md(f"\"No energy above 4 kHz\" alone identifies the class.  The events chapter therefore resamples every "
       f"clip to 8 kHz — but that is not enough: a logistic regression on five bandwidth descriptors still tells "
       f"8 kHz from 16 kHz cries with balanced accuracy **{confound['resampled']:.2f}** after resampling "
       f"({confound['before']:.2f} before), because the two recording chains differ near the new band edge too.  "
       f"Only with every feature limited to 0–3.5 kHz does it fall to **{confound['after']:.2f}** (chance 0.5); "
       f"the chapter's models see that band only.")
else:
    md("The events chapter's results file does not record its bandwidth check yet; see that chapter.")
urban = events[events["corpus"].str.contains("UrbanSound", case=False)]
per_source = urban["path"].map(lambda p: os.path.basename(p).split("-")[0]).value_counts()
md(f"Source recordings matter too: UrbanSound8K cuts one recording into several slices "
   f"(`fsID-classID-occurrence-slice`), so a split by slice would put slices of one recording in training and "
   f"test.  Here {count(len(urban))} slices come from {count(per_source.size)} source recordings (median "
   f"{per_source.median():.0f}, at most {per_source.max()} slices each); the chapter splits by source recording.")

# %% [markdown]
# ## EmoDB
#
# Ten actors, ten German sentences, seven emotions.  `erkennung.txt` gives the share of 20
# listeners who recognised the intended emotion — an agreement figure, not per-rater votes, so
# no minor emotion can be read from it.

# %% tags=["remove-input"]
scan("emodb", emodb)
corpus_summary.append({"corpus": "emodb", "items": len(emodb), "speakers": emodb["speaker"].nunique(),
                       "classes": emodb["emotion"].nunique()})
emo_counts = emodb["emotion"].value_counts()
fig, axes = plt.subplots(1, 2, figsize=(7.6, 3.2))
emo_counts.plot.bar(ax=axes[0], rot=90)
axes[0].set_title(f"utterances per emotion (imbalance {imbalance(emo_counts):.1f}:1)")
axes[0].set_xlabel("")
order = list(emo_counts.index)
axes[1].boxplot([emodb.loc[emodb["emotion"] == e, "recognition_pct"].dropna() for e in order], showfliers=False)
axes[1].set_xticks(range(1, len(order) + 1), order, rotation=90)
axes[1].set_title("listeners recognising the emotion (%)")
show(fig)

# %% tags=["remove-input"]
md(f"Every utterance was recognised by at least **{emodb['recognition_pct'].min():.0f} %** of the listeners "
   f"(median {emodb['recognition_pct'].median():.0f} %): the corpus keeps well-recognised portrayals only, and "
   f"without per-rater votes it has no ambiguous samples to offer the emotion chapter.  "
   f"Durations, measured from the files: shortest **{emo_dur.min():.3f} s**, longest **{emo_dur.max():.3f} s** — "
   f"every clip is the first 2 s of its utterance, and {count(emo_cut)} of {count(len(emodb))} are cut mid-speech "
   f"(last 100 ms within 20 dB of the clip's level).  The emotion chapter therefore classifies 2-s openings, not "
   f"whole utterances.  It never puts a speaker in two parts: {emo_protocol}.  Utterances per speaker and "
   f"emotion, and where each speaker is tested:")
per_spk = pd.crosstab(emodb["speaker"], emodb["emotion"])
per_spk.insert(0, "tested in", per_spk.index.map(lambda s: tested_in.get(s, "—")))
page.show_table(per_spk.reset_index())

# %% tags=["remove-input"]
cut_examples = emodb[(emo_tail > -20) & (emodb["emotion"] == "anger")]
md("The last second of an anger utterance as the mirror holds it — listen to where it stops:")
display(player((cut_examples if len(cut_examples) else emodb)["abs_path"].iloc[0], seconds=1.0, end=True))

# %% [markdown]
# ## CREMA-D votes (no audio)
#
# Crowd ratings of the voice-only CREMA-D clips.  These are the only real per-rater votes in the
# mirror, so the emotion chapter uses them for the paper's clear/ambiguous statistics — but no
# model can be trained on them.

# %% tags=["remove-input"]
corpus_summary.append({"corpus": "crema_d_votes", "items": len(votes), "speakers": votes["speaker"].nunique(),
                       "classes": len(vote_cols)})
fig, axes = plt.subplots(1, 2, figsize=(7.6, 2.8))
votes["num_responses"].value_counts().sort_index().plot.bar(ax=axes[0], rot=0)
axes[0].set_title("raters per clip")
axes[0].set_xlabel("raters")
pd.crosstab(votes["label"], votes["clear"]).rename(columns={True: "all raters agree", False: "ambiguous"}).plot.bar(
    stacked=True, ax=axes[1], rot=0)
axes[1].set_title("clear vs ambiguous clips per intended emotion")
axes[1].set_xlabel("")
axes[1].legend(loc="upper left", bbox_to_anchor=(1.01, 1))
show(fig)
md(f"{count(len(votes))} clips from {votes['speaker'].nunique()} actors, {votes['num_responses'].min()}–"
   f"{votes['num_responses'].max()} raters each (median {votes['num_responses'].median():.0f}); in "
   f"**{votes['clear'].mean():.1%}** of them every rater chose the same emotion.  Audio in the mirror: "
   f"{'none' if crema_audio == 0 else count(crema_audio)}.")

# %% [markdown]
# ## Song catalogues
#
# Three small song tables (no audio) for the music-search chapter.  Lyrics are copyrighted: the
# book shows counts, never lyrics.  A table that ends in a truncated row (an unterminated
# quote) loses that row, and the loader says so rather than failing or losing it silently.

# %% tags=["remove-input"]
song_rows = []
for stem, t in songs.items():
    run.log(f"songs/{stem}/malformed_rows", t.attrs["bad_lines"])
    corpus_summary.append({"corpus": f"songs/{stem}", "items": len(t), "speakers": np.nan, "classes": np.nan})
    song_rows.append({"table": stem, "songs": len(t), "malformed rows skipped": t.attrs["bad_lines"],
                      "columns": ", ".join(str(c) for c in t.columns[:8]) + (" …" if len(t.columns) > 8 else "")})
page.show_table(pd.DataFrame(song_rows))

# %% [markdown]
# ## Summary

# %% tags=["remove-input"]
summary = pd.DataFrame(corpus_summary)
run.log_table("corpora", summary)
for r in corpus_summary:
    run.log(f"{r['corpus']}/items", r["items"])
shown = summary.copy()
for c in ["items", "speakers", "classes"]:
    shown[c] = shown[c].map(cell)
page.show_table(shown.rename(columns={"items": "items in the mirror"}))
scans = pd.DataFrame(scan_log)
scope = "every file" if size["scan_limit"] is None else f"a sample of {size['scan_limit']} per corpus"
md(f"Files opened and decoded ({scope}): **{count(scans['files opened'].sum())}**, rejected: **{count(scans['rejected'].sum())}**.")
if scans["rejected"].sum():
    page.show_table(scans[scans["rejected"] > 0])

# %% tags=["remove-cell"]
shares = usage_df.dropna(subset=["used"]).assign(f=lambda d: d["used"] / d["in the mirror"])
low, high = shares.loc[shares["f"].idxmin()], shares.loc[shares["f"].idxmax()]
lead = (
    f"Per chapter, the `book` profile uses between {100 * low['f']:.0f} % ({low['chapter']}, {low['corpus']}) "
    f"and {100 * high['f']:.0f} % of a corpus's copy in the mirror.  The traps are real: every EmoDB clip is "
    f"{dur_text} ({count(emo_cut)} of {count(len(emodb))} cut mid-speech), and {count(cry_8k)} of {count(cry_all)} "
    f"baby cries are 8 kHz recordings whose signature survives resampling"
    + (f" (balanced accuracy {confound['resampled']:.2f}) and vanishes only in the 0–3.5 kHz band "
       f"({confound['after']:.2f})." if None not in confound.values() else ".")
    + (f"  {len(awaiting)} of {len(results)} chapters await a re-run, so their rows of the usage table may change."
       if awaiting else "")
)
page.publish_result_box(run, lead=lead)
_ = run.save()
