# ---
# jupyter:
#   jupytext:
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # The data
#
# Every chapter of this book trains and tests on real recordings, but rarely on
# the recordings its paper used: TIMIT, IEMOCAP, AudioSet and the full Speech
# Commands training set are licensed or too large for the offline mirror this
# book is built from.  This chapter tours every corpus the other chapters read,
# through the same loaders they use, and shows the traps that would silently
# inflate a score if a chapter ignored them.
#
# What to look for:
#
# * **how much data each chapter really has** — counts per class and per speaker;
# * **imbalance** — the ratio between the largest and the smallest class;
# * **durations** — clips that are shorter or longer than a model's input;
# * **the known traps** — Speech Commands keywords come only from the official
#   *test* set; baby cries were recorded at 8 kHz while every other event is
#   16 kHz; CREMA-D has rater votes but no audio, EmoDB audio but no votes.

# %% tags=["parameters"]
profile = "smoke"  # smoke | book | full
data_dir = None  # folder with one sub-folder per corpus (None: the AUDIO_REPRO_DATA setting)
seed = 0
output_dir = None  # where results.json goes; the runner sets it

# %%
import os
import warnings

if data_dir:
    os.environ["AUDIO_REPRO_DATA"] = str(data_dir)

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import soundfile as sf
from IPython.display import Markdown, display

from lib import data, features, report
from lib.datasets import emotion

sns.set_theme(style="whitegrid", context="notebook")
rng = np.random.default_rng(seed)
run = report.Run("00_data", {"profile": profile, "seed": seed}, output_dir)
# How many files per corpus are opened and decoded: every file for `book`/`full`, a sample for `smoke`.
scan_limit = {"smoke": 40, "book": None, "full": None}[profile]
print("data directory:", data.data_dir())


# %%
def sample(df, n):
    return df if n is None or len(df) <= n else df.sample(n, random_state=seed)


def scan(name, df):
    """Decode (headers of) the files and report rejections: the loaders never drop a file silently."""
    checked = sample(df, scan_limit)
    rejected = data.scan_audio(checked["abs_path"])
    run.log(f"{name}/files_checked", len(checked))
    run.log(f"{name}/files_rejected", len(rejected))
    print(f"{name}: {len(checked)} files opened, {len(rejected)} rejected")
    if len(rejected):
        display(rejected.head())
    return rejected


def durations(df):
    """Duration in seconds, from the manifest when it has one, else from the file header."""
    if "duration_s" in df.columns:
        return df["duration_s"].astype(float)
    return df["abs_path"].map(lambda p: sf.info(p).duration)


def show_spectrograms(rows, title, sr=16000, n_mels=64):
    fig, axes = plt.subplots(1, len(rows), figsize=(3.2 * len(rows), 2.6), squeeze=False)
    for ax, (_, row) in zip(axes[0], rows.iterrows()):
        y, _ = data.load_audio(row["abs_path"], sr=sr)
        S = features.log_mel(y, sr=sr, n_fft=512, hop_length=160, n_mels=n_mels)
        ax.imshow(S, origin="lower", aspect="auto", cmap="magma",
                  extent=[0, len(y) / sr, 0, n_mels])
        ax.set_title(str(row["_caption"]), fontsize=9)
        ax.set_xlabel("time (s)")
    axes[0][0].set_ylabel("mel band")
    fig.suptitle(title, y=1.03)
    plt.show()


def imbalance(counts):
    return counts.max() / counts.min()


corpus_summary = []

# %% [markdown]
# ## Speech Commands
#
# Three folders of the mirror hold Speech Commands clips.  `speech_commands_v0.02`
# is the **official 12-class test set** (ten keywords, `_unknown_` from 25 other
# words, `_silence_`) restored to the dataset's `<word>/<speaker>_nohash_<n>`
# layout, plus the six `_background_noise_` recordings.
# `speech_commands_train_keywords` holds real training-portion clips of eight
# keywords (none for *on* and *off*), and `speech_commands_v0.01_extra` the words
# *bed*, *cat* and *happy*.

# %%
sc = data.manifest("speech_commands_v0.02")
sc_train = data.manifest("speech_commands_train_keywords")
sc_extra = data.manifest("speech_commands_v0.01_extra")
for name, df in [("speech_commands_v0.02", sc), ("speech_commands_train_keywords", sc_train),
                 ("speech_commands_v0.01_extra", sc_extra)]:
    scan(name, df)
    speakers = df["speaker"].replace("", np.nan).dropna()
    corpus_summary.append({"corpus": name, "items": len(df), "speakers": speakers.nunique(),
                           "classes": df["label12"].nunique()})

counts = pd.DataFrame({
    "official test set (v0.02)": sc["label12"].value_counts(),
    "training-portion keywords": sc_train["label12"].value_counts(),
    "v0.01 extra words": sc_extra["label12"].value_counts(),
}).fillna(0).astype(int)
counts["all"] = counts.sum(axis=1)
display(counts.sort_values("all", ascending=False))

# %%
ax = counts.drop(columns="all").plot.barh(stacked=True, figsize=(7, 4.5))
ax.set_xlabel("clips")
ax.set_title("Speech Commands clips per 12-class label, by source folder")
plt.show()

# %% [markdown]
# *On* and *off* exist only in the official test set, so a model trained
# here sees them only from the test set's training speakers: they are the scarce
# keywords of the keyword-spotting chapter.  `_unknown_` outnumbers every keyword,
# as in the real dataset.  Speakers of the test set and of the training-portion
# folder never overlap (the official hash rule put them in different portions):

# %%
overlap = set(sc["speaker"].dropna()) & set(sc_train["speaker"].dropna())
extra_overlap = set(sc["speaker"].dropna()) & set(sc_extra["speaker"].dropna())
print(f"speakers shared by test set and training-portion keywords: {len(overlap)}")
print(f"speakers shared by test set and v0.01 extra words: {len(extra_overlap)} "
      "(their extra clips must not go to training when those speakers are tested)")
run.log("speech_commands/test_train_speaker_overlap", len(overlap))
run.log("speech_commands/test_extra_speaker_overlap", len(extra_overlap))

per_speaker = sc.loc[sc["speaker"].fillna("") != "", "speaker"].value_counts()
fig, axes = plt.subplots(1, 2, figsize=(10, 3))
axes[0].hist(per_speaker, bins=30)
axes[0].set_title("official test set: clips per speaker")
axes[0].set_xlabel("clips")
axes[1].hist(durations(sc_train), bins=40)
axes[1].set_title("training-portion keywords: clip duration")
axes[1].set_xlabel("seconds")
plt.show()
print(f"training-portion clips shorter than 1 s: {(durations(sc_train) < 0.999).sum()}")

# %%
examples = sc[sc["label12"].isin(["yes", "off", "_unknown_", "_silence_"])].groupby("label12").head(1).copy()
examples["_caption"] = examples["label12"] + " / " + examples["word"]
show_spectrograms(examples, "Speech Commands: log-mel spectrograms (1 s)")

# %% [markdown]
# The `_silence_` clips of the test set are cut from the same six background
# recordings that training silence is cut from, so a recall near 100 % on
# `_silence_` says little; the keyword chapter reports macro-F1 without it too.

# %%
noise_files = sorted((data.corpus_dir("speech_commands_v0.02") / "_background_noise_").glob("*.*"))
noise_files = [f for f in noise_files if f.suffix in data.AUDIO_EXTENSIONS]
display(pd.DataFrame({"file": [f.name for f in noise_files],
                      "seconds": [round(sf.info(f).duration, 1) for f in noise_files]}))

# %% [markdown]
# ## Mini LibriSpeech
#
# `train-clean-5`: 28 read-speech speakers with transcripts.  The speech-recognition
# chapter splits it by speaker; the Siamese chapter crops 1–3 s windows from it as
# a second, cross-corpus test of speaker embeddings.

# %%
libri = data.manifest("mini_librispeech")
scan("mini_librispeech", libri)
corpus_summary.append({"corpus": "mini_librispeech", "items": len(libri), "speakers": libri["speaker"].nunique(),
                       "classes": np.nan})
fig, axes = plt.subplots(1, 2, figsize=(10, 3))
libri.groupby("speaker")["duration_s"].sum().div(60).sort_values().plot.bar(ax=axes[0])
axes[0].set_title("minutes per speaker")
axes[0].set_xticklabels([])
axes[1].hist(libri["duration_s"], bins=30)
axes[1].set_title("utterance duration (s)")
plt.show()
print(f"{len(libri)} utterances, {libri['duration_s'].sum() / 3600:.2f} h, {libri['speaker'].nunique()} speakers, "
      f"{libri['transcript'].str.split().str.len().sum()} words")

# %% [markdown]
# ## Acoustic events
#
# Rare events (dog bark, baby cry, gun shot) against background, gathered from four
# corpora.  Two confounds matter: **baby cries are mostly 8 kHz** recordings from
# Donate-a-Cry, while the other classes are 16 kHz, and gun shots come from two corpora.
# A model could separate classes by bandwidth or by corpus alone.

# %%
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    events = data.manifest("acoustic_events")
for w in caught:
    print("data warning:", w.message)
scan("acoustic_events", events)
# The mirror's manifest lists one SESA file twice with two durations; the loader keeps the row
# that matches the file and says so (the warning printed above) instead of dropping it silently.
print("duplicate manifest rows dropped:", events.attrs.get("duplicates", []))
run.log("acoustic_events/duplicate_rows_dropped", len(events.attrs.get("duplicates", [])))
corpus_summary.append({"corpus": "acoustic_events", "items": len(events), "speakers": np.nan,
                       "classes": events["label"].nunique()})
display(pd.crosstab(events["label"], events["corpus"], margins=True))
display(pd.crosstab(events["label"], events["sample_rate"]))

# %%
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
events["label"].value_counts().plot.bar(ax=axes[0])
axes[0].set_title(f"clips per class (imbalance {imbalance(events['label'].value_counts()):.1f}:1)")
sns.histplot(data=events, x="duration_s", hue="label", bins=40, element="step", ax=axes[1])
axes[1].set_title("clip duration (s)")
plt.show()

# %% [markdown]
# The bandwidth confound in one picture: the spectral energy above 4 kHz of an
# 8 kHz baby-cry recording is empty, so "no energy above 4 kHz" alone identifies the
# class.  The events chapter resamples every clip to 8 kHz before any feature
# and tests that a bandwidth-only classifier then fails.

# %%
examples = events.groupby("label").head(1).copy()
examples["_caption"] = examples["label"] + " (" + (examples["sample_rate"] // 1000).astype(str) + " kHz file)"
show_spectrograms(examples, "Acoustic events at 16 kHz analysis rate: note the empty top of the 8 kHz file")

# %% [markdown]
# Source recordings: UrbanSound8K cuts one recording into several slices
# (`fsID-classID-occurrence-slice.wav`); a split by slice would put slices of one
# recording in train and test.  Slices per source recording:

# %%
urban = events[events["corpus"].str.contains("UrbanSound", case=False)]
source_id = urban["path"].map(lambda p: os.path.basename(p).split("-")[0])
per_source = source_id.value_counts()
print(f"UrbanSound8K: {len(urban)} slices from {per_source.size} source recordings; "
      f"median {per_source.median():.0f}, max {per_source.max()} slices per recording")

# %% [markdown]
# ## EmoDB
#
# Ten actors, ten German sentences, seven emotions; `erkennung.txt` gives the share
# of 20 listeners who recognised the intended emotion — an agreement figure, not
# per-rater votes, so no minor emotion can be read from it.

# %%
emodb = emotion.emodb_table()  # the manifest plus numeric recognition rates ("90,00" in erkennung.txt)
scan("emodb", emodb)
corpus_summary.append({"corpus": "emodb", "items": len(emodb), "speakers": emodb["speaker"].nunique(),
                       "classes": emodb["emotion"].nunique()})
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
emodb["emotion"].value_counts().plot.bar(ax=axes[0])
axes[0].set_title(f"utterances per emotion (imbalance {imbalance(emodb['emotion'].value_counts()):.1f}:1)")
sns.boxplot(data=emodb, x="emotion", y="recognition_pct", order=emodb["emotion"].value_counts().index, ax=axes[1])
axes[1].set_title("listeners recognising the emotion (%)")
axes[1].tick_params(axis="x", rotation=45)
plt.show()
display(pd.crosstab(emodb["speaker"], emodb["emotion"]))

# %% [markdown]
# ## CREMA-D votes (no audio)
#
# Crowd ratings of 7,442 voice-only clips, 4–12 raters each.  These are the only
# real per-rater votes in the mirror, so the emotion chapter uses them for the
# paper's clear/ambiguous statistics — but no model can be trained on them.

# %%
votes = data.manifest("crema_d_votes")
vote_cols = [c for c in votes.columns if c.startswith("votes_")]
corpus_summary.append({"corpus": "crema_d_votes", "items": len(votes), "speakers": votes["speaker"].nunique(),
                       "classes": len(vote_cols)})
print("audio available:", votes["audio_available"].value_counts().to_dict())
top = np.sort(votes[vote_cols].to_numpy(), axis=1)[:, ::-1]
votes["clear"] = top[:, 1] == 0
fig, axes = plt.subplots(1, 2, figsize=(10, 3.2))
votes["num_responses"].value_counts().sort_index().plot.bar(ax=axes[0])
axes[0].set_title("raters per clip")
pd.crosstab(votes["label"], votes["clear"]).rename(columns={True: "all raters agree", False: "ambiguous"}).plot.bar(
    stacked=True, ax=axes[1])
axes[1].set_title("clear vs ambiguous clips per intended emotion")
plt.show()
run.log("crema_d/clear_fraction", float(votes["clear"].mean()))
print(f"clips where every rater chose the same emotion: {votes['clear'].mean():.1%}")

# %% [markdown]
# ## Song catalogues
#
# Three small song tables (no audio) for the music-recommendation chapter's search
# experiments.  Lyrics are copyrighted: the book shows counts, never lyrics.
# The lyricsfreak table ends in a truncated row (an unterminated quote); the
# loader skips that row and says so rather than failing or losing it silently.

# %%
song_dir = data.corpus_dir("songs")
data.record_corpus_use("songs")
for f in sorted(song_dir.glob("*.csv")):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = data.read_table(f)
    for w in caught:
        print("data warning:", w.message)
    print(f"{f.name}: {len(table)} rows, {table.attrs['bad_lines']} malformed row(s) skipped; "
          f"columns: {', '.join(c for c in table.columns[:12])}")
    run.log(f"songs/{f.stem}/malformed_rows", table.attrs["bad_lines"])
    corpus_summary.append({"corpus": f"songs/{f.stem}", "items": len(table), "speakers": np.nan,
                           "classes": np.nan})

# %% [markdown]
# ## Summary

# %%
summary = pd.DataFrame(corpus_summary)
display(summary)
run.log_table("corpora", summary)
for row in corpus_summary:
    run.log(f"{row['corpus']}/items", row["items"])
rejected_total = sum(v for k, vals in run.metrics.items() if k.endswith("files_rejected") for v in vals.values())
display(Markdown(f"Files opened across corpora: **{sum(v for k, vals in run.metrics.items() if k.endswith('files_checked') for v in vals.values()):.0f}**, "
                 f"rejected: **{rejected_total:.0f}**."))
print("results:", run.save())
