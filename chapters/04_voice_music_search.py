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
# # Voice-controlled music recommendation: a CTC recogniser and song search

# %% [markdown]
# ```{glue:md} result_box
# :format: myst
# ```

# %% [markdown]
# The paper {ref}`[P3] <ref-p3>` builds a two-stage system.  A character-level speech recogniser, trained with CTC
# loss on [LibriSpeech](https://www.openslr.org/12/) `train-clean-100`, turns a spoken request into text; a search stage then finds
# songs whose title or artist matches the text (fuzzy string matching) or whose sentence embedding
# is close to it (all-MiniLM-L6-v2 with FAISS).  It compares three recognisers — CNN + LSTM (CER
# 1.00), CNN + bidirectional GRU (0.23) and CNN + residual CNN blocks + BiGRU (0.20) — and shows two
# example queries, but measures no search accuracy; it names recognition errors that spoil the
# search as the system's main weakness.
#
# We re-run the three recognisers on [Mini LibriSpeech](https://www.openslr.org/31/) (3.9 h, split by speaker), measure song search
# on queries that differ from the indexed text, and then measure what the paper only demonstrates:
# whether a *spoken* request finds its song.  The requests are synthetic ([eSpeak NG](https://github.com/espeak-ng/espeak-ng) voices, labelled
# as such), in the generator's own phrasing and in wordings it never uses.  Beside the paper's
# pipeline (greedy transcript, then text search) we measure a decoder that knows the catalogue: it
# scores every title, artist and mood directly against the recogniser's CTC output; and, because the
# requests are synthetic, we adapt the final recogniser to synthetic voices (other accents than the
# test voices) before it hears them.

# %% tags=["parameters"]
profile = "smoke"  # smoke | book | full
data_dir = None  # folder with one sub-folder per corpus (None: the data setting of lib.data)
seed = 0  # seed of the recognisers, the request sets and the search evaluation
output_dir = None  # where results.json goes; the runner sets it

# %% tags=["remove-cell"]
import os
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import jiwer
import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import soundfile as sf
from IPython.display import Markdown, display

from lib import chapter, data, features, metrics, page
from lib.datasets import librispeech
from lib.formatting import interval, percent
from lib.models import asr, song_search, spoken_search, training

# Only sizes differ between profiles.  One-cycle schedules end at their last epoch, so "converged"
# is read off the dev-loss curve at the end of the schedule (the convergence table).
SIZES = {
    "smoke": dict(corpus="mini_librispeech", train_utts=12, max_train_s=8.0, dev_utts=4, test_utts=6,
                  rnn_dim=32, n_rnn_layers=1, cnn_channels=4, n_res_blocks=1, time_stride=3, n_mels=40,
                  epochs=2, batch_size=8, max_lr=2e-3, bf16=True, adapt_epochs=1, adapt_lr=1e-3, sphinx_utts=2, catalogue_rows=300,
                  n_title=12, n_artist=8, n_tag=4, n_probe=4, template=(3, 2, 1), free=(2, 1, 1), dev=(2, 1, 1),
                  n_boot=200, ship_model=False),
    "book": dict(corpus="mini_librispeech", train_utts=None, max_train_s=16.0, dev_utts=None, test_utts=None,
                 rnn_dim=256, n_rnn_layers=2, cnn_channels=8, n_res_blocks=2, time_stride=3, n_mels=40,
                 epochs=22, batch_size=16, max_lr=3e-3, bf16=True, adapt_epochs=4, adapt_lr=1e-3, sphinx_utts=60, catalogue_rows=None,
                 n_title=150, n_artist=80, n_tag=11, n_probe=60, template=(120, 60, 40), free=(60, 30, 20),
                 dev=(40, 20, 10), n_boot=2000, ship_model=True),
    # The paper's scale: train-clean-100 (100 h), DeepSpeech2-sized models (a GPU job).
    "full": dict(corpus="librispeech_100", train_utts=None, max_train_s=None, dev_utts=None, test_utts=None,
                 rnn_dim=512, n_rnn_layers=5, cnn_channels=32, n_res_blocks=3, time_stride=2, n_mels=128,
                 epochs=10, batch_size=20, max_lr=5e-4, bf16=False, adapt_epochs=2, adapt_lr=2e-4, sphinx_utts=200, catalogue_rows=None,
                 n_title=500, n_artist=200, n_tag=11, n_probe=200, template=(400, 200, 100), free=(200, 100, 50),
                 dev=(40, 20, 10), n_boot=2000, ship_model=False),
}
BONUS_GRID = [1.0, 2.0, 3.0, 3.5, 4.0, 4.5, 5.0, 6.0]
ch = chapter.start("04_voice_music_search", profile, SIZES, seed=seed, output_dir=output_dir, data_dir=data_dir,
                   extra_params={"bonus_grid": BONUS_GRID})
run, size = ch.run, ch.size
chapter_started = time.time()
MODELS = {"cnn_lstm": "CNN + LSTM", "cnn_bigru": "CNN + BiGRU", "cnn_rescnn_bigru": "CNN + ResCNN + BiGRU"}
PAPER = {"cnn_lstm": (1.00, 0.8335), "cnn_bigru": (0.2314, 0.6465), "cnn_rescnn_bigru": (0.2035, 0.5787)}


# %% [markdown]
# ## Part 1 — the speech recogniser
#
# ### Data: Mini LibriSpeech, split by speaker
#
# Mini LibriSpeech `train-clean-5` has 28 speakers.  We split the *speakers* into training,
# development and test groups, so every test voice is new to the model.  Transcripts are
# lower-cased; the alphabet is the 26 letters, the apostrophe and the space (as in the paper's
# character map), plus the CTC blank.  All development and test utterances are scored.

# %% tags=["hide-input"]
corpus = size["corpus"]
utts = librispeech.load_manifest(corpus)
utts = librispeech.official_split(utts) if corpus == "librispeech_100" else librispeech.speaker_split(utts, seed=0)
data.check_disjoint(utts["speaker"], utts["split"])
train_df = librispeech.select(utts, "train", size["train_utts"], size["max_train_s"], seed=seed)
dev_df = librispeech.select(utts, "dev", size["dev_utts"], seed=seed)
test_df = librispeech.select(utts, "test", size["test_utts"], seed=seed)
split_rows = []
for name, d in [("train", train_df), ("dev", dev_df), ("test", test_df)]:
    split_rows.append({"split": name, "utterances": len(d), "speakers": d["speaker"].nunique(),
                       "hours": round(d["duration_s"].sum() / 3600, 2), "median seconds": d["duration_s"].median()})
    run.log(f"data/{name}_utterances", len(d))
    run.log(f"data/{name}_hours", d["duration_s"].sum() / 3600)
page.show_table(pd.DataFrame(split_rows), digits=2)
length_limit = f"up to {size['max_train_s']:g} s" if size["max_train_s"] else "of every length"
display(Markdown(f"Training uses the training speakers' utterances {length_limit} "
                 f"({len(train_df)} of {int((utts['split'] == 'train').sum())}); no speaker is in two splits."))

# %% [markdown]
# (ch04-features)=
# ### Features and SpecAugment
#
# Each utterance becomes a log-mel spectrogram (25 ms windows every 10 ms), normalised per
# utterance.  During training only, two frequency and two time masks blank random bands and
# stretches (SpecAugment; the paper's recipe, whose mask widths are not stated — ours are in the
# code).
#
# The features of one waveform, and the masking applied to a training spectrogram (the widths used
# here: two masks of up to a fifth of the mel bands, two of up to 40 frames):
#
# ```{literalinclude} /lib/datasets/librispeech.py
# :pyobject: asr_features
# :language: python
# :caption: "`lib/datasets/librispeech.py`: `asr_features`"
# ```
#
# ```{literalinclude} /lib/features.py
# :pyobject: spec_augment
# :language: python
# :caption: "`lib/features.py`: `spec_augment`"
# ```

# %% tags=["hide-input"]
feat_cfg = asr.FeatureConfig(n_mels=size["n_mels"])
with run.time("features"):
    train_feats = librispeech.cached_features(train_df, corpus, feat_cfg)
    dev_feats = librispeech.cached_features(dev_df, corpus, feat_cfg)
    test_feats = librispeech.cached_features(test_df, corpus, feat_cfg)
AUGMENT = dict(n_freq_masks=2, freq_width=size["n_mels"] // 5, n_time_masks=2, time_width=40)
S = np.asarray(train_feats[0], dtype=np.float32)
S_aug = features.spec_augment(S, np.random.default_rng(seed), value=0.0, **AUGMENT)
fig, axes = plt.subplots(1, 2, figsize=(7.6, 2.4), sharey=True)
for ax, M, title in [(axes[0], S, "normalised log-mel"), (axes[1], S_aug, "with SpecAugment (training only)")]:
    ax.imshow(M, origin="lower", aspect="auto", cmap="magma", extent=[0, M.shape[1] / 100, 0, M.shape[0]])
    ax.set_title(title)
    ax.set_xlabel("time (s)")
axes[0].set_ylabel("mel band")
plt.tight_layout()
plt.show()
plt.close()

# %% [markdown]
# (ch04-models)=
# ### The three models, at one CPU size
#
# All three share the paper's layout: a strided 3×3 convolution over the spectrogram, a linear
# projection per frame, two recurrent layers and a small classifier over the 29 classes.  They
# differ only where the paper's do: unidirectional LSTM layers; bidirectional GRU layers; residual
# CNN blocks (layer norm, GELU, dropout, 3×3 convolution, twice, plus the skip) before the BiGRU.
#
# The two building blocks, then the whole recogniser (one class for all three models: `kind`
# decides the recurrent cell, its direction and whether residual blocks are present):
#
# ```{literalinclude} /lib/models/asr.py
# :pyobject: ResidualCNN
# :language: python
# :caption: "`lib/models/asr.py`: `ResidualCNN`"
# ```
#
# ```{literalinclude} /lib/models/asr.py
# :pyobject: RecurrentBlock
# :language: python
# :caption: "`lib/models/asr.py`: `RecurrentBlock`"
# ```
#
# :::{dropdown} The recogniser: `ModelConfig`, `SpeechRecognizer` and `build_model` (`lib/models/asr.py`)
# ```{literalinclude} /lib/models/asr.py
# :pyobject: ModelConfig
# :language: python
# ```
#
# ```{literalinclude} /lib/models/asr.py
# :pyobject: SpeechRecognizer
# :language: python
# ```
#
# ```{literalinclude} /lib/models/asr.py
# :pyobject: build_model
# :language: python
# ```
# :::
#
# The paper's text gives the layer types and the results; the DeepSpeech2-sized widths (32
# channels, 3 residual blocks, 5 × 512 GRU units, 128 mel bands, about 23 M parameters) and the
# one-cycle schedule come from the public tutorial its training logs follow, not from the paper.
# Two CPU cores cannot train that size, so all three models here have the widths below (the
# `full` profile keeps the tutorial's).  The LSTM is unidirectional, as in the paper, so it has
# fewer parameters than the BiGRU models: "LSTM worst" mixes direction, cell and size.
# Training runs in bfloat16 (CPU autocast; the loss, the dev loss and all decoding in float32): on
# this machine it trains the final model at about 300 s of audio per second against 190 in float32
# (measured side by side before this run).  We did not train a float32 twin to check accuracy
# parity — that would double the chapter's main cost — so a small bf16 penalty cannot be excluded.

# %% tags=["hide-input"]
model_kw = {k: size[k] for k in ["n_mels", "cnn_channels", "n_res_blocks", "rnn_dim", "n_rnn_layers", "time_stride"]}
size_rows = []
for kind, label in MODELS.items():
    m = asr.build_model(kind, **model_kw)
    summary = asr.model_summary(m)
    size_rows.append({"model": label, "parameters": summary["parameters"],
                      "residual blocks": summary["n_res_blocks"] if kind == "cnn_rescnn_bigru" else 0,
                      "recurrent": f"{summary['n_rnn_layers']} × {summary['rnn_dim']}"
                                   + (" (bidirectional)" if kind != "cnn_lstm" else " (one direction)")})
    run.log(f"asr/{kind}/parameters", summary["parameters"])
page.show_table(pd.DataFrame(size_rows))

# %% [markdown]
# (ch04-training)=
# ### Training
#
# CTC loss, AdamW (weight decay 0.01) and a one-cycle learning rate (warm-up over the first 30 % of
# the steps, then linear decay to zero), batches of similar length; the weights of the epoch with
# the lowest development loss are kept.  One seed per model: training is this chapter's expensive
# part, so the intervals below cover test-utterance sampling, not training noise.
#
# The loss of one batch: the network may run in bfloat16, the CTC loss itself is computed in
# float32 on the frames each utterance really has after the stride.
#
# ```{literalinclude} /lib/models/asr.py
# :pyobject: ctc_loss
# :language: python
# :caption: "`lib/models/asr.py`: `ctc_loss`"
# ```
#
# :::{dropdown} The training function: `train_ctc` (`lib/models/asr.py`) and the shared loop it calls, `fit` (`lib/models/training.py`)
# `train_ctc` sets up the optimiser, the one-cycle schedule (stepped after every batch) and the
# development CER/WER recorded after each epoch; `training.fit` is the loop every chapter uses,
# which keeps the weights of the epoch with the lowest development loss.
#
# ```{literalinclude} /lib/models/asr.py
# :pyobject: train_ctc
# :language: python
# ```
#
# ```{literalinclude} /lib/models/training.py
# :pyobject: fit
# :language: python
# ```
# :::
#
# The chapter trains the three models one after the other with the same seed, then scores each on
# the development and test speakers (the cell below; its results are the tables that follow).

# %% tags=["hide-input"]
train_set = asr.UtteranceSet(train_feats, train_df["text"].tolist(), augment=AUGMENT, seed=seed)
dev_set = asr.UtteranceSet(dev_feats, dev_df["text"].tolist())
models, histories, test_results, dev_results = {}, [], {}, {}
for kind in ["cnn_rescnn_bigru", "cnn_bigru", "cnn_lstm"]:
    training.set_seed(seed)
    model = asr.build_model(kind, **model_kw)
    with run.time(f"train/{kind}"):
        hist = asr.train_ctc(model, train_set, dev_set, epochs=size["epochs"], batch_size=size["batch_size"],
                             max_lr=size["max_lr"], seed=seed, autocast=size["bf16"], log=None)
    models[kind] = model
    histories += [{"model": MODELS[kind], **row} for row in hist]
    with run.time(f"test/{kind}"):
        test_results[kind] = asr.evaluate(model, test_feats, test_df["text"].tolist())
    dev_results[kind] = asr.evaluate(model, dev_feats, dev_df["text"].tolist())
history = pd.DataFrame(histories)
run.log_table("asr_history", history)

# %% [markdown]
# ### Learning curves and convergence

# %% tags=["hide-input"]
curves = history.rename(columns={"train_loss": "training loss", "val_loss": "dev loss", "dev_cer": "dev CER"})
fig, axes = plt.subplots(1, 3, figsize=(7.6, 2.6))
for ax, col in zip(axes, ["training loss", "dev loss", "dev CER"]):
    sns.lineplot(data=curves, x="epoch", y=col, hue="model", ax=ax, legend=col == "dev CER")
    ax.set_title(col)
    ax.set_ylabel("")
axes[2].legend(fontsize=7, loc="upper right")
plt.tight_layout()
plt.show()
plt.close()
conv_rows = []
for kind, label in MODELS.items():
    h = history[history["model"] == label]
    best = int(h.loc[h["val_loss"].idxmin(), "epoch"])
    last3 = h["val_loss"].to_numpy()[-3:]
    change = (last3[-1] - last3[0]) / last3[0]  # over the last two epochs (fewer in the smoke profile)
    conv_rows.append({"model": label, "epochs": len(h), "best epoch": best,
                      "dev loss change over the last 2 epochs": f"{100 * change:+.1f} %",
                      "training minutes": run.timings[f"train/{kind}"] / 60})
    run.log(f"asr/{kind}/best_epoch", best)
    run.log(f"asr/{kind}/best_dev_loss", float(h["val_loss"].min()))
    run.log(f"asr/{kind}/dev_loss_change_last2", change)
conv_table = pd.DataFrame(conv_rows)
page.show_table(conv_table, digits=1)
run.log_table("asr_convergence", conv_table)

# %% [markdown]
# (ch04-cer-wer)=
# ### CER and WER beside the paper's
#
# The paper reports an "average" CER and WER, most likely the mean over utterances; we give that
# and the corpus-level rates (total edits over total reference characters or words), both on all
# test utterances, with 95 % bootstrap intervals.  jiwer recomputes the corpus-level numbers as a
# cross-check.
#
# A transcript is read off the network's output by greedy (best-path) decoding, as in the paper:
# the most likely class in every frame, repeated classes merged, blanks dropped.
#
# ```{literalinclude} /lib/models/asr.py
# :pyobject: greedy_decode
# :language: python
# :caption: "`lib/models/asr.py`: `greedy_decode`"
# ```
#
# The error rates count Levenshtein edits (rapidfuzz) against the reference, in characters or in
# words, summed over the utterances before dividing:
#
# ```{literalinclude} /lib/metrics.py
# :pyobject: cer
# :language: python
# :caption: "`lib/metrics.py`: `cer`"
# ```
#
# ```{literalinclude} /lib/metrics.py
# :pyobject: wer
# :language: python
# :caption: "`lib/metrics.py`: `wer`"
# ```

# %% tags=["hide-input"]
test_speakers = test_df["speaker"].to_numpy()
# A bootstrap over fewer than five speakers is degenerate; then utterances are resampled and the text says so.
boot_groups = test_speakers if len(set(test_speakers)) >= 5 else None
per_utt = {}
for kind, res in test_results.items():
    refs, hyps = res["references"], res["hypotheses"]
    assert abs(jiwer.cer(refs, hyps) - res["cer"]) < 1e-9 and abs(jiwer.wer(refs, hyps) - res["wer"]) < 1e-9
    per_utt[kind] = pd.DataFrame({
        "cer": [metrics.cer([r], [h]) for r, h in zip(refs, hyps)],
        "wer": [metrics.wer([r], [h]) for r, h in zip(refs, hyps)],
        "chars": [len(r) for r in refs], "words": [len(r.split()) for r in refs]})


def utt_mean_ci(kind, col):
    return metrics.bootstrap_ci(np.mean, per_utt[kind][col].to_numpy(), groups=boot_groups, n_boot=size["n_boot"])


def corpus_ci(kind, col):
    d = per_utt[kind]
    w = d["chars" if col == "cer" else "words"].to_numpy()
    return metrics.bootstrap_ci(lambda e, n: np.sum(e * n) / np.sum(n), d[col].to_numpy(), w,
                                groups=boot_groups, n_boot=size["n_boot"])


rows = []
for kind, label in MODELS.items():
    for col, paper in [("cer", PAPER[kind][0]), ("wer", PAPER[kind][1])]:
        u, c = utt_mean_ci(kind, col), corpus_ci(kind, col)
        run.log(f"asr/{kind}/test_{col}_utterance_mean", u.estimate, seed=seed)
        run.log(f"asr/{kind}/test_{col}", c.estimate, seed=seed)
        rows.append({"model": label, "metric": col.upper(), "paper (its validation set)": paper,
                     "ours, mean per utterance": interval(u, 2), "ours, corpus level": interval(c, 2)})
asr_table = pd.DataFrame(rows)
page.show_table(asr_table)
run.log_table("asr_vs_paper", asr_table)
final = test_results["cnn_rescnn_bigru"]
display(Markdown(
    f"{len(test_df)} test utterances from {len(set(test_speakers))} unseen speakers; one training seed per model.  "
    + ("Intervals resample speakers.  " if boot_groups is not None else
       "With this few test speakers the intervals resample utterances: they cover the choice of sentences, "
       "not of voices, and no training noise.  ") +
    f"The paper trained on 100 h (25× our training speech) with a model about "
    f"{23e6 / run.values('asr/cnn_rescnn_bigru/parameters')[0]:.0f}× larger: the absolute numbers are not "
    "comparable, the ordering of the three models is (see the claims)."))

# %% [markdown]
# Example transcripts of the final model (test speakers):

# %% tags=["hide-input"]
short = np.argsort([len(r) for r in final["references"]])[:3]  # the three shortest, to fit the page
ex = pd.DataFrame({"reference": [final["references"][i] for i in short],
                   "CNN + ResCNN + BiGRU": [final["hypotheses"][i] for i in short]})
page.show_table(ex)

# %% [markdown]
# ### What a user would pick instead: CMU [PocketSphinx](https://github.com/cmusphinx/pocketsphinx)
#
# PocketSphinx with the US-English acoustic model, dictionary and word 3-gram language model
# bundled in its wheel (trained on far more speech than ours).  It is slower, so it runs on a
# random subset of the test utterances; the final model is scored on the same subset.

# %% tags=["hide-input"]
sphinx_idx = np.random.default_rng(seed).permutation(len(test_df))[: size["sphinx_utts"]]
sphinx_refs = [final["references"][i] for i in sphinx_idx]
with run.time("pocketsphinx"):
    t0 = time.perf_counter()
    sphinx_hyps = [asr.pocketsphinx_transcribe(data.load_audio(test_df["abs_path"].iloc[i])[0]) for i in sphinx_idx]
    sphinx_rtf = (time.perf_counter() - t0) / test_df["duration_s"].iloc[sphinx_idx].sum()
run.log("asr/pocketsphinx/subset_cer", metrics.cer(sphinx_refs, sphinx_hyps), seed=seed)
run.log("asr/pocketsphinx/subset_wer", metrics.wer(sphinx_refs, sphinx_hyps), seed=seed)
run.log("asr/pocketsphinx/real_time_factor", sphinx_rtf)
ours_sub = [final["hypotheses"][i] for i in sphinx_idx]
page.show_table(pd.DataFrame([
    {"recogniser": "PocketSphinx (bundled en-us model, word LM)", "CER": metrics.cer(sphinx_refs, sphinx_hyps),
     "WER": metrics.wer(sphinx_refs, sphinx_hyps), "real-time factor": sphinx_rtf},
    {"recogniser": "CNN + ResCNN + BiGRU (ours, no LM)", "CER": metrics.cer(sphinx_refs, ours_sub),
     "WER": metrics.wer(sphinx_refs, ours_sub), "real-time factor": float("nan")}]), digits=3)
display(Markdown(f"Same {len(sphinx_idx)} test utterances for both."))

# %% [markdown]
# ## Part 2 — song search on text
#
# ### The catalogue
#
# The paper searches Kaggle's Spotify Million Song table.  The mirror has three smaller song tables;
# we merge them into one catalogue (artist, title, and genre or mood where a table has them; songs
# with the same normalised artist and title merged).  Lyrics are not indexed.

# %% tags=["hide-input"]
catalogue = song_search.load_catalogue()
if size["catalogue_rows"]:
    catalogue = catalogue.sample(size["catalogue_rows"], random_state=0).reset_index(drop=True)
    catalogue["song_id"] = np.arange(len(catalogue))
run.log("search/catalogue_songs", len(catalogue))
page.show_table(pd.DataFrame({
    "songs": catalogue.groupby("source").size(),
    "artists": catalogue.groupby("source")["artist"].nunique(),
    "with genre": catalogue.groupby("source")["genre"].apply(lambda s: s.notna().sum()),
    "with mood": catalogue.groupby("source")["mood"].apply(lambda s: s.notna().sum())}).reset_index())
with run.time("search/index_catalogue"):
    encoder = song_search.load_encoder()
    search = song_search.SongSearch(catalogue, encoder, index="flat", nlist=max(4, min(32, len(catalogue) // 40)),
                                    cache_name="all-MiniLM-L6-v2", seed=seed)

# %% [markdown]
# (ch04-song-search)=
# ### The paper's search: fuzzy matching, embeddings and the fallback
#
# Every song is indexed by one short text built from its fields (never the lyrics):
#
# ```{literalinclude} /lib/models/song_search.py
# :pyobject: document
# :language: python
# :caption: "`lib/models/song_search.py`: `document`"
# ```
#
# The paper's two matchers and the way it combines them.  Fuzzy matching compares the query with
# the title, the artist and both together and keeps the best of the three scores; the embedding
# matcher looks up the nearest song texts of the query's all-MiniLM-L6-v2 vector in a FAISS index.
# The combination trusts the embedding unless its best cosine similarity is below a threshold, in
# which case the fuzzy ranking is used instead.
#
# ```{literalinclude} /lib/models/song_search.py
# :pyobject: SongSearch.fuzzy
# :language: python
# :caption: "`lib/models/song_search.py`: `SongSearch.fuzzy`"
# ```
#
# ```{literalinclude} /lib/models/song_search.py
# :pyobject: SongSearch.embedding
# :language: python
# :caption: "`lib/models/song_search.py`: `SongSearch.embedding`"
# ```
#
# ```{literalinclude} /lib/models/song_search.py
# :pyobject: SongSearch.combined
# :language: python
# :caption: "`lib/models/song_search.py`: `SongSearch.combined`"
# ```
#
# :::{dropdown} Our two additions: character n-grams and rank fusion (`lib/models/song_search.py`)
# Not in the paper: a character 2–4-gram TF-IDF matcher, which still finds a title when some of
# its letters are wrong, and a reciprocal-rank fusion of all three rankings.
#
# ```{literalinclude} /lib/models/song_search.py
# :pyobject: SongSearch.char_ngram
# :language: python
# ```
#
# ```{literalinclude} /lib/models/song_search.py
# :pyobject: SongSearch.fused
# :language: python
# ```
# :::

# %% [markdown]
# ### Queries with known answers, and queries that differ from the index
#
# The index holds "‹title› by ‹artist›, ‹genre› music, ‹mood› mood".  Requests generated from the
# same fields ("play ‹title› by ‹artist›", "something by ‹artist›", "suggest me a ‹mood› song") are
# close to circular: they are scored below, but they mostly test string equality.  The second set
# differs from the indexed text: half a title without the artist, one typing error in every longer
# word, an artist's surname only, and a mood named by a word the catalogue does not use ("something
# melancholy").  A random ranking's hit@5 is given as the chance baseline.  The one free setting of
# the paper's combination — the cosine similarity below which it falls back from the embedding to
# fuzzy matching — is chosen on a separate development draw of generated queries.

# %% tags=["hide-input"]
METHODS = {"fuzzy": "fuzzy (paper)", "embedding": "embedding (paper)",
           "combined": "embedding, fuzzy fallback (paper)", "char_ngram": "character n-grams (ours)",
           "fused": "rank fusion of the three (ours)"}
THRESHOLDS = np.round(np.arange(0.0, 1.0001, 0.05), 2)
dev_q = song_search.make_queries(catalogue, size["n_title"], size["n_artist"], size["n_tag"], seed=seed + 100)
scores = [song_search.rank_metrics(search.combined(dev_q["query"].tolist(), 5, threshold=t)[0],
                                   dev_q["relevant"])["hit@5"] for t in THRESHOLDS]
threshold = float(THRESHOLDS[int(np.argmax(scores))])
run.log("search/combined_threshold", threshold)
query_sets = {"generated (close to the index)": song_search.make_queries(
    catalogue, size["n_title"], size["n_artist"], size["n_tag"], seed=seed)}
probe = song_search.probe_queries(catalogue, size["n_probe"], seed=seed)
for kind in probe["kind"].unique():
    query_sets[kind] = probe[probe["kind"] == kind].reset_index(drop=True)
rows = []
with run.time("search/evaluation"):
    for qs_name, qs in query_sets.items():
        chance = float(np.mean(song_search.chance_hit_at_k(qs["relevant"].map(len), len(catalogue), 5)))
        row = {"queries": qs_name, "n": len(qs), "chance hit@5": chance}
        for method, label in METHODS.items():
            kw = {"threshold": threshold} if method == "combined" else {}
            ids, _ = search.search(qs["query"].tolist(), method=method, k=5, **kw)
            hits = song_search.hits_per_query(ids, qs["relevant"])
            row[label] = f"{hits['hit@5'].mean():.2f}"
            run.log(f"search/{qs_name}/{method}/hit@5", float(hits["hit@5"].mean()))
        run.log(f"search/{qs_name}/chance_hit@5", chance)
        rows.append(row)
search_table = pd.DataFrame(rows)
page.show_table(search_table, digits=3)
run.log_table("search_accuracy", search_table)
display(Markdown(f"hit@5 per query set; the paper reports no search accuracy, so there is no paper column.  "
                 f"The fallback threshold chosen on the development draw is {threshold:.2f}."))

# %% [markdown]
# ## Part 3 — end to end, with synthetic spoken requests
#
# No recordings of people asking for songs exist in the mirror, so the requests are **synthesised**
# with eSpeak NG (the library and voices bundled in the `espeakng-loader` wheel), cycling through
# six English voices, speaking rates and pitches.  These robotic voices are unlike LibriSpeech's
# readers: the test is out of the recogniser's domain, like the accents the paper reports as a
# problem, so the final recogniser is adapted to eSpeak NG voices of other accents first (below).  Two test sets, drawn from the whole catalogue:
#
# * **template-phrased** — the generator's phrasing ("play ‹title› by ‹artist›", "something by
#   ‹artist›", "suggest me a sad song" — the paper's own example, "play some jazz music");
# * **freely phrased** — wordings the generator never uses: a bare title or artist, "could you put
#   on ‹title› please", "‹title› from ‹artist›", "give me calm tunes", …
#
# A third, separate draw (template-phrased) is the development set for the catalogue decoder's one
# setting.

# %% tags=["hide-input"]
VOICES = ["en-us", "en-gb-x-rp", "en-us+f3", "en-029", "en-gb-scotland", "en+m3"]
audio_dir = run.artifacts / "spoken_requests"
audio_dir.mkdir(parents=True, exist_ok=True)
REQUEST_SETS = {
    "development": spoken_search.template_requests(catalogue, *size["dev"], seed=seed + 7),
    "template-phrased": spoken_search.template_requests(catalogue, *size["template"], seed=seed),
    "freely phrased": spoken_search.free_requests(catalogue, *size["free"], seed=seed + 1),
}
rng = np.random.default_rng(seed)
requests = []
for set_name, reqs in REQUEST_SETS.items():
    for i, r in reqs.iterrows():
        voice, rate, pitch = VOICES[len(requests) % len(VOICES)], int(rng.integers(130, 191)), int(rng.integers(30, 71))
        y, sr = song_search.synthesize(r["spoken"], voice=voice, rate=rate, pitch=pitch)
        path = audio_dir / f"{set_name.split()[0].split('-')[0]}_{i:03d}.wav"
        sf.write(path, y, sr)
        requests.append({"set": set_name, **r.to_dict(), "path": path, "voice": voice, "rate": rate,
                         "pitch": pitch, "seconds": len(y) / sr})
requests = pd.DataFrame(requests)
overview = requests.groupby(["set", "kind"]).size().unstack(fill_value=0)
overview["total"] = overview.sum(axis=1)
page.show_table(overview.reset_index())
page.show_table(requests[requests["set"] == "freely phrased"].groupby("kind").head(2)[["kind", "request"]])

# %% [markdown]
# (ch04-adaptation)=
# ### Adapting the final recogniser to synthetic voices
#
# The recogniser has heard 28 LibriSpeech readers and no synthetic voice.  Since the requests are
# spoken by eSpeak NG, we adapt the final model to eSpeak NG before it decodes them — our step, not
# the paper's, and the three-model comparison above uses the models before it.  The training
# speakers' transcripts (ordinary LibriSpeech sentences: no song names, no request wording) are
# rendered with six *other* eSpeak NG voices, whose accents no test voice uses (New York, Lancaster,
# West Midlands; each plain and with a female or male variant), and training continues for a few
# epochs on the recordings and the renderings together (a new one-cycle schedule with a lower peak;
# the development set is the dev speakers' recordings plus renderings of their transcripts; the
# weights with the lowest development loss are kept).
#
# :::{dropdown} Our deviation: transcripts rendered with synthetic voices, `synthetic_utterances` (`lib/models/asr.py`)
# Each transcript is spoken by the next voice of the list, at a speaking rate and pitch drawn
# for it, resampled to 16 kHz and turned into the same features as a recording.  Training then
# continues with `train_ctc` (shown under {ref}`Training <ch04-training>`) on both kinds together.
#
# ```{literalinclude} /lib/models/asr.py
# :pyobject: synthetic_utterances
# :language: python
# ```
# :::

# %% tags=["hide-input"]
import copy

ADAPT_VOICES = ["en-us-nyc", "en-gb-x-gbclan", "en-gb-x-gbcwmd", "en-us-nyc+f2", "en-gb-x-gbclan+f4", "en-gb-x-gbcwmd+m2"]
assert not set(ADAPT_VOICES) & set(VOICES)
with run.time("adapt/synthesis"):
    syn_train = asr.synthetic_utterances(train_df["text"].tolist(), ADAPT_VOICES, feat_cfg, seed=seed + 11)
    syn_dev = asr.synthetic_utterances(dev_df["text"].tolist(), ADAPT_VOICES, feat_cfg, seed=seed + 12)
run.log("adapt/synthetic_train_hours", syn_train[2] / 3600)
adapted_model = copy.deepcopy(models["cnn_rescnn_bigru"])
with run.time("train/adapted"):
    adapt_hist = asr.train_ctc(
        adapted_model,
        asr.UtteranceSet(train_feats + syn_train[0], train_df["text"].tolist() + syn_train[1], augment=AUGMENT, seed=seed),
        asr.UtteranceSet(dev_feats + syn_dev[0], dev_df["text"].tolist() + syn_dev[1]),
        epochs=size["adapt_epochs"], batch_size=size["batch_size"], max_lr=size["adapt_lr"], seed=seed,
        autocast=size["bf16"], log=None)
adapted_test = asr.evaluate(adapted_model, test_feats, test_df["text"].tolist())
adapt_table = pd.DataFrame(adapt_hist)[["epoch", "train_loss", "val_loss", "dev_cer"]].rename(columns={
    "train_loss": "training loss", "val_loss": "dev loss (recordings + renderings)", "dev_cer": "dev CER"})
run.log_table("asr_adaptation", adapt_table)
run.log("asr/adapted/best_epoch", int(adapt_table.iloc[:, 2].idxmin()) + 1)
run.log("asr/adapted/test_cer", adapted_test["cer"], seed=seed)
run.log("asr/adapted/test_wer", adapted_test["wer"], seed=seed)
page.show_table(adapt_table, digits=3)
display(Markdown(
    f"{len(syn_train[0])} renderings ({syn_train[2] / 3600:.1f} h of synthetic speech) beside the "
    f"{len(train_df)} recordings; {run.timings['train/adapted'] / 60:.0f} min.  On the LibriSpeech test speakers the "
    f"adapted model's CER is {adapted_test['cer']:.3f} (before adaptation {final['cer']:.3f}); the adapted model "
    "decodes the requests below and is the one the book ships."))

# %% [markdown]
# (ch04-systems)=
# ### The systems
#
# * the paper's pipeline: our adapted recogniser's greedy transcript, then the paper's combination
#   (embedding, fuzzy fallback) or our rank fusion;
# * the same two searches on PocketSphinx's transcript;
# * **PocketSphinx keyword spotting** over the catalogue: every title, artist, mood and genre whose
#   words are all in PocketSphinx's dictionary is a keyphrase (its wheel ships no
#   grapheme-to-phoneme model, so the rest cannot be listed); a phrase's detection threshold falls
#   with its length, at a rate chosen on the development requests; songs rank by the phrases
#   spotted (title and artist together first);
# * **the catalogue decoder** (ours), with the recogniser before and after adaptation: no
#   transcript.  For every distinct title, artist, mood and genre it computes the CTC probability
#   that the phrase is spoken *somewhere* in the request, with any frames before and after it
#   explained by the recogniser's own best guess — a filler, so the request's wording does not
#   matter.  A phrase gains a fixed bonus per character of its informative words (every extra
#   character can only lower a probability, so without it short phrases would always win).  Words
#   that any request may contain earn nothing; that list is not written by hand but derived: the
#   generator's template words plus the 100 most frequent words of the recogniser's training
#   transcripts (so the freely phrased test wordings were never consulted).  A song scores the best
#   of its title, its artist, both together, and its mood or genre.  The bonus is chosen on the
#   development requests.
#
# The CTC phrase score is tested against an independent reference (a brute-force sum of PyTorch's
# `ctc_loss` over all segments, `tests/test_spoken_search.py`).
#
# How the decoder turns phrase scores into a song's score — the best of its title, its artist,
# both heard separately, "title by artist" as one phrase, and its mood or genre:
#
# ```{literalinclude} /lib/models/spoken_search.py
# :pyobject: CatalogueDecoder.song_scores
# :language: python
# :caption: "`lib/models/spoken_search.py`: `CatalogueDecoder.song_scores`"
# ```
#
# :::{dropdown} The catalogue decoder: phrase list, length bonus and the CTC phrase score (`lib/models/spoken_search.py`)
# `CatalogueDecoder.__init__` collects the distinct phrases and counts each one's informative
# characters; `phrase_scores` adds the bonus; `phrase_log_likelihoods` is the forward recursion of
# CTC with a free start and end, run on thousands of phrases at once; `request_words` derives the
# words that earn no bonus.
#
# ```{literalinclude} /lib/models/spoken_search.py
# :pyobject: CatalogueDecoder.__init__
# :language: python
# ```
#
# ```{literalinclude} /lib/models/spoken_search.py
# :pyobject: CatalogueDecoder.phrase_scores
# :language: python
# ```
#
# ```{literalinclude} /lib/models/spoken_search.py
# :pyobject: phrase_log_likelihoods
# :language: python
# ```
#
# ```{literalinclude} /lib/models/spoken_search.py
# :pyobject: request_words
# :language: python
# ```
# :::
#
# Every request goes through both recognisers (before and after adaptation), the catalogue
# decoder's phrase scores and PocketSphinx, timing each step (the cell below; results follow).

# %% tags=["hide-input"]
final_model = models["cnn_rescnn_bigru"]
request_words = spoken_search.request_words(train_df["text"].tolist(), n_common=100)
run.log("e2e/request_words", len(request_words))
decoder = spoken_search.CatalogueDecoder(catalogue, request_words=request_words)
records = []
with run.time("end_to_end"):
    for _, r in requests.iterrows():
        y, sr = data.load_audio(r["path"], sr=16000)
        t0 = time.perf_counter()
        lp = asr.utterance_log_probs(adapted_model, y, sr, feat_cfg)
        t1 = time.perf_counter()
        raw = spoken_search.phrase_log_likelihoods(lp, decoder.phrases)
        t2 = time.perf_counter()
        lp_base = asr.utterance_log_probs(final_model, y, sr, feat_cfg)
        raw_base = spoken_search.phrase_log_likelihoods(lp_base, decoder.phrases)
        t3 = time.perf_counter()
        sphinx = asr.pocketsphinx_transcribe(y, sr)
        t4 = time.perf_counter()
        records.append({"ours_asr_s": t1 - t0, "decoder_s": t2 - t1, "base_s": t3 - t2, "sphinx_s": t4 - t3,
                        "greedy": asr.greedy_decode(lp[None])[0], "greedy_base": asr.greedy_decode(lp_base[None])[0],
                        "sphinx": sphinx, "raw": raw, "raw_base": raw_base})
rec = pd.DataFrame(records)
requests = pd.concat([requests.reset_index(drop=True), rec], axis=1)

# %% [markdown]
# ### Choosing the free settings on the development requests
#
# The decoder's bonus per character (for each recogniser) and the keyword spotter's threshold rate
# are chosen on the development requests, by hit@5 and then MRR; the test sets are not used.

# %% tags=["hide-input"]
dev_req = requests[requests["set"] == "development"]


def decoder_ranks(raws, bonus, k=5):
    return [decoder.rank(None, k, phrase_scores=raw + bonus * decoder.informative_chars)[0] for raw in raws]


bonus_rows, best_bonus = [], {}
for col in ["raw", "raw_base"]:
    for b in BONUS_GRID:
        h = song_search.hits_per_query(decoder_ranks(dev_req[col], b), dev_req["relevant"])
        bonus_rows.append({"recogniser": "adapted" if col == "raw" else "before adaptation", "setting": "bonus",
                           "value": b, "hit@1": h["hit@1"].mean(), "hit@5": h["hit@5"].mean(), "MRR": h["mrr"].mean()})
    t = pd.DataFrame(bonus_rows[-len(BONUS_GRID):])
    best_bonus[col] = float(t.sort_values(["hit@5", "MRR"], ascending=False, kind="stable").iloc[0]["value"])
decoder.bonus = best_bonus["raw"]
run.log("e2e/decoder_bonus", best_bonus["raw"])
run.log("e2e/decoder_bonus_before_adaptation", best_bonus["raw_base"])

KWS_RATES = [0.5, 1.0, 1.5, 2.0, 3.0]
kws_dir = run.artifacts / "keyword_lists"
kws_dir.mkdir(parents=True, exist_ok=True)


def spot_ranks(paths, rate, k=5):
    kw_file = kws_dir / f"rate_{rate:g}.txt"
    if not kw_file.is_file():
        asr.write_keyword_list(decoder.phrases, kw_file, rate)
    ranks, secs = [], []
    for path in paths:
        y, sr = data.load_audio(path, sr=16000)
        t0 = time.perf_counter()
        spotted = asr.pocketsphinx_spot(y, sr, kw_file)
        secs.append(time.perf_counter() - t0)
        ranks.append(decoder.rank(None, k, phrase_scores=decoder.spotted_phrase_scores(spotted))[0])
    return ranks, secs


with run.time("e2e/keyword_spotting_dev"):
    for rate in KWS_RATES:
        h = song_search.hits_per_query(spot_ranks(dev_req["path"], rate)[0], dev_req["relevant"])
        bonus_rows.append({"recogniser": "PocketSphinx keyword spotting", "setting": "threshold exponent per character",
                           "value": rate, "hit@1": h["hit@1"].mean(), "hit@5": h["hit@5"].mean(), "MRR": h["mrr"].mean()})
kws_table = pd.DataFrame(bonus_rows[-len(KWS_RATES):])
kws_rate = float(kws_table.sort_values(["hit@5", "MRR"], ascending=False, kind="stable").iloc[0]["value"])
run.log("e2e/keyword_rate", kws_rate)
kws_phrases = asr.write_keyword_list(decoder.phrases, kws_dir / f"rate_{kws_rate:g}.txt", kws_rate)
run.log("e2e/keyword_phrases", len(kws_phrases))
bonus_table = pd.DataFrame(bonus_rows)
page.show_table(bonus_table, digits=3)
display(Markdown(
    f"Chosen: a bonus of {best_bonus['raw']:g} per informative character for the adapted recogniser, "
    f"{best_bonus['raw_base']:g} before adaptation, and a threshold of 10^-({kws_rate:g} × characters) for the "
    f"keyword spotter, whose list holds {len(kws_phrases)} of the {len(decoder.phrases)} catalogue phrases "
    f"({len(dev_req)} development requests).  The independent list of request words has {len(request_words)} words."))

# %% [markdown]
# ### Results
#
# Each system ranks the catalogue for every test request; hit@1, hit@5 and the reciprocal rank of
# the first relevant song are kept per request, with the median time per request (the cell below
# computes them; the table and figure follow).

# %% tags=["hide-input"]
SYSTEMS = {
    "ours_combined": "our adapted recogniser → greedy transcript → paper's combination",
    "ours_fused": "our adapted recogniser → greedy transcript → rank fusion",
    "sphinx_combined": "PocketSphinx → transcript → paper's combination",
    "sphinx_fused": "PocketSphinx → transcript → rank fusion",
    "sphinx_kws": "PocketSphinx keyword spotting over the catalogue",
    "base_decoder": "our recogniser before adaptation → catalogue decoder (ours)",
    "ours_decoder": "our adapted recogniser → catalogue decoder (ours)",
    "text_combined": "written request text → paper's combination (no speech)",
}
HITS = {}
test_sets = ["template-phrased", "freely phrased"]
for set_name in test_sets:
    g = requests[requests["set"] == set_name]
    tag = "template" if set_name == "template-phrased" else "free"
    with run.time(f"e2e/keyword_spotting_{tag}"):
        kws_ranked, kws_s = spot_ranks(g["path"], kws_rate)
    ranked = {
        "ours_combined": search.combined(g["greedy"].tolist(), 5, threshold=threshold)[0],
        "ours_fused": search.fused(g["greedy"].tolist(), 5)[0],
        "sphinx_combined": search.combined(g["sphinx"].tolist(), 5, threshold=threshold)[0],
        "sphinx_fused": search.fused(g["sphinx"].tolist(), 5)[0],
        "sphinx_kws": kws_ranked,
        "base_decoder": decoder_ranks(g["raw_base"], best_bonus["raw_base"]),
        "ours_decoder": decoder_ranks(g["raw"], best_bonus["raw"]),
        "text_combined": search.combined(g["spoken"].tolist(), 5, threshold=threshold)[0],
    }
    for key, ids in ranked.items():
        HITS[(set_name, key)] = song_search.hits_per_query(ids, g["relevant"])
    t0 = time.perf_counter()
    search.combined(g["greedy"].tolist()[:20], 5, threshold=threshold)
    text_s = (time.perf_counter() - t0) / min(20, len(g))
    latency = {"ours_combined": g["ours_asr_s"] + text_s, "ours_fused": g["ours_asr_s"] + text_s,
               "sphinx_combined": g["sphinx_s"] + text_s, "sphinx_fused": g["sphinx_s"] + text_s,
               "sphinx_kws": pd.Series(kws_s), "base_decoder": g["ours_asr_s"] + g["base_s"],
               "ours_decoder": g["ours_asr_s"] + g["decoder_s"], "text_combined": pd.Series([text_s] * len(g))}
    for key in ranked:
        h = HITS[(set_name, key)]
        for metric in ["hit@1", "hit@5", "mrr"]:
            run.log(f"e2e/{tag}/{key}/{metric}", float(h[metric].mean()), seed=seed)
        run.log(f"e2e/{tag}/{key}/latency_s_median", float(np.median(latency[key])))
        HITS[(set_name, key, "latency")] = float(np.median(latency[key]))
    run.log(f"e2e/{tag}/ours_greedy_cer", metrics.cer(g["spoken"].tolist(), g["greedy"].tolist()))
    run.log(f"e2e/{tag}/base_greedy_cer", metrics.cer(g["spoken"].tolist(), g["greedy_base"].tolist()))
    run.log(f"e2e/{tag}/sphinx_cer", metrics.cer(g["spoken"].tolist(), g["sphinx"].tolist()))
    run.log(f"e2e/{tag}/chance_hit@5", float(np.mean(song_search.chance_hit_at_k(g["relevant"].map(len),
                                                                                    len(catalogue), 5))))

# %% tags=["hide-input"]
rows = []
for set_name in test_sets:
    n = int((requests["set"] == set_name).sum())
    for key, label in SYSTEMS.items():
        h = HITS[(set_name, key)]
        rows.append({"requests": set_name, "system": label,
                     "hit@1": interval(metrics.binomial_ci(int(h["hit@1"].sum()), n), 2),
                     "hit@5": interval(metrics.binomial_ci(int(h["hit@5"].sum()), n), 2),
                     "MRR": f"{h['mrr'].mean():.2f}",
                     "median s per request": f"{HITS[(set_name, key, 'latency')]:.2f}"})
e2e_table = pd.DataFrame(rows)
page.show_table(e2e_table)
run.log_table("end_to_end", e2e_table)
tpl = requests[requests["set"] == "template-phrased"]
display(Markdown(
    f"{len(tpl)} template-phrased and {int((requests['set'] == 'freely phrased').sum())} freely phrased requests "
    f"against all {len(catalogue)} songs; 95 % Wilson intervals; latency on this 2-core machine (recognition plus "
    f"search; eSpeak's synthesis not included).  The paper reports no end-to-end accuracy.  Character error rate of "
    f"the greedy transcripts on the template-phrased requests: ours "
    f"{run.values('e2e/template/ours_greedy_cer')[0]:.2f} after adaptation, "
    f"{run.values('e2e/template/base_greedy_cer')[0]:.2f} before; PocketSphinx "
    f"{run.values('e2e/template/sphinx_cer')[0]:.2f}.  Chance hit@5 "
    f"{run.values('e2e/template/chance_hit@5')[0]:.3f}."))

# %% tags=["hide-input"]
plot_rows = []
for set_name in test_sets:
    for key in ["ours_combined", "sphinx_kws", "base_decoder", "ours_decoder"]:
        g = requests[requests["set"] == set_name]
        h = HITS[(set_name, key)]
        for kind in g["kind"].unique():
            mask = (g["kind"] == kind).to_numpy()
            plot_rows.append({"requests": set_name, "system": SYSTEMS[key].split(" → ")[0] + " → "
                              + SYSTEMS[key].split(" → ")[-1], "kind": kind, "hit@5": h["hit@5"][mask].mean()})
fig, axes = plt.subplots(1, 2, figsize=(7.6, 3.0), sharey=True)
for ax, set_name in zip(axes, test_sets):
    sns.barplot(data=pd.DataFrame(plot_rows).query("requests == @set_name"), x="kind", y="hit@5", hue="system",
                ax=ax, legend=set_name == test_sets[-1])
    ax.set_title(set_name)
    ax.set_ylim(0, 1)
axes[-1].legend(fontsize=7, bbox_to_anchor=(1.02, 1), loc="upper left")
plt.tight_layout()
plt.show()
plt.close()

# %% [markdown]
# Example decodings (freely phrased requests):

# %% tags=["hide-input"]
free = requests[requests["set"] == "freely phrased"].head(6)
top1 = [catalogue.iloc[ids[0]] for ids in decoder_ranks(free["raw"], best_bonus["raw"], k=1)]
page.show_table(pd.DataFrame({
    "request (spoken by eSpeak)": free["request"], "greedy transcript (ours, adapted)": free["greedy"],
    "PocketSphinx": free["sphinx"], "catalogue decoder's first song": [f"{s['title']} — {s['artist']}" for s in top1]}))

# %% [markdown]
# ### PocketSphinx constrained to the catalogue
#
# PocketSphinx's wheel ships a pronunciation dictionary but no grapheme-to-phoneme converter, so a
# phrase can be a keyphrase (or enter a grammar) only if every word is in the dictionary.  How
# much of the catalogue, and of the test requests, that leaves:

# %% tags=["hide-input"]
dict_words = asr.pocketsphinx_dictionary()
covered = {kind: float(np.mean([all(w in dict_words for w in spoken_search.spoken_form(v).split())
                                for v in catalogue[kind].dropna()])) for kind in ["title", "artist"]}
run.log("e2e/sphinx_dictionary_coverage_titles", covered["title"])
run.log("e2e/sphinx_dictionary_coverage_artists", covered["artist"])
listed = set(kws_phrases)


def listable(row):  # can any listed phrase of a relevant song, of the request's kind, be spotted?
    cols = ["title", "artist"] if row["kind"] == "title" else [row["kind"]]
    return any(spoken_search.spoken_form(catalogue.loc[i, c]) in listed for i in row["relevant"] for c in cols
               if isinstance(catalogue.loc[i, c], str))


cover_rows = []
for set_name in test_sets:
    g = requests[requests["set"] == set_name]
    reach = float(np.mean([listable(r) for _, r in g.iterrows()]))
    run.log(f"e2e/{'template' if set_name == 'template-phrased' else 'free'}/keyword_reachable", reach)
    cover_rows.append({"requests": set_name, "answer spottable (a listed phrase)": reach,
                       "keyword spotting hit@5": float(HITS[(set_name, "sphinx_kws")]["hit@5"].mean())})
page.show_table(pd.DataFrame(cover_rows), digits=2)
kws_hit, kws_reach = cover_rows[0]["keyword spotting hit@5"], cover_rows[0]["answer spottable (a listed phrase)"]
display(Markdown(
    f"{percent(covered['title'], 0)} of titles and {percent(covered['artist'], 0)} of artist names are fully in the "
    f"dictionary.  On the template-phrased requests keyword spotting finds the song in the top 5 for "
    f"{kws_hit:.2f} of them, while {kws_reach:.2f} have an answer it could spot at all"
    + (": most of the loss is PocketSphinx's acoustic model on these voices, which spots short wrong phrases, not "
       "the dictionary.  " if kws_hit < kws_reach / 2 else ".  ")
    + "A full grammar (every in-dictionary phrase inside a loop of common words) was tried outside the chapter in "
    "an earlier session and was too slow to measure: PocketSphinx 5.1.1 took over 20 s per request."))

# %% [markdown]
# ## Claims and verdicts
#
# The paper's claims as testable statements (`book/claims/04_voice_music_search.yml`).  CER
# differences are paired on the same test utterances, with a bootstrap over them (Mini LibriSpeech's
# test split has three speakers, too few to resample); one training seed per model, so training
# noise is not inside these intervals either.  The CER claims use the three models before
# adaptation.  The end-to-end claims use the paper's own pipeline (greedy transcript, then the
# paper's combination) with our adapted recogniser, on the template-phrased requests.

# %% tags=["hide-input"]
def cer_diff(a, b):
    da, db = per_utt[a], per_utt[b]
    return metrics.bootstrap_ci(lambda x, y, n: np.sum((x - y) * n) / np.sum(n), da["cer"].to_numpy(),
                                db["cer"].to_numpy(), da["chars"].to_numpy(), groups=boot_groups,
                                n_boot=size["n_boot"]).scaled(100)


n_test = f"{len(test_df)} test utterances, {len(set(test_speakers))} speakers, 1 seed"
run.claim("music_lstm_worst", cer_diff("cnn_lstm", "cnn_bigru"), n_desc=n_test,
          note="corpus-level CER; the LSTM is one-directional and smaller (parameters in the sizes table)")
run.claim("music_rescnn_best", cer_diff("cnn_rescnn_bigru", "cnn_bigru"), n_desc=n_test,
          note="corpus-level CER, same widths")
h_ours = HITS[("template-phrased", "ours_combined")]["hit@5"].to_numpy()
chance = run.values("e2e/template/chance_hit@5")[0]
iv = metrics.binomial_ci(int(h_ours.sum()), len(h_ours))
run.claim("music_voice_finds_song",
          metrics.Interval(iv.estimate - chance, iv.low - chance, iv.high - chance, iv.n, None, iv.level,
                           "Wilson interval of hit@5, minus chance"),
          n_desc=f"{len(h_ours)} synthetic template-phrased requests",
          note=f"paper's pipeline, adapted recogniser; chance hit@5 {chance:.3f}; the catalogue decoder reaches "
               f"{run.values('e2e/template/ours_decoder/hit@5')[0]:.2f}")
h_text = HITS[("template-phrased", "text_combined")]["hit@5"].to_numpy().astype(float)
run.claim("music_errors_spoil_search",
          metrics.bootstrap_ci(lambda a, b: np.mean(a - b), h_text, h_ours.astype(float), n_boot=size["n_boot"]),
          n_desc=f"{len(h_ours)} synthetic template-phrased requests",
          note="hit@5 of the written request minus hit@5 of the same request spoken, paper's combination")
run.claim("music_rescnn_cer", corpus_ci("cnn_rescnn_bigru", "cer"), comparable=False, n_desc=n_test,
          note="Mini LibriSpeech (3.9 h) against train-clean-100 (100 h); CPU-sized model")
page.show_table(page.claims_table(run.claims))

# %% tags=["remove-input"]
tpl_dec, free_dec = (run.values(f"e2e/{t}/ours_decoder/hit@5")[0] for t in ["template", "free"])
tpl_med = run.values("e2e/template/ours_decoder/latency_s_median")[0]
adapt_gain = {}
for set_name, t in [("template-phrased", "template"), ("freely phrased", "free")]:
    a, b = (HITS[(set_name, key)]["hit@5"].to_numpy().astype(float) for key in ["ours_decoder", "base_decoder"])
    adapt_gain[t] = metrics.bootstrap_ci(lambda x, y: np.mean(x - y), a, b, n_boot=size["n_boot"])
    run.log(f"e2e/{t}/adaptation_gain_hit@5", adapt_gain[t].estimate)
display(Markdown(
    f"**Targets set for this chapter** (issue 18): end-to-end hit@5 ≥ 0.9 on template-phrased and ≥ 0.7 on freely "
    f"phrased requests with the catalogue decoder — measured {tpl_dec:.2f} and {free_dec:.2f}; median latency ≤ 1 s — "
    f"{tpl_med:.2f} s; final-model test CER ≤ 0.35 — {adapted_test['cer']:.3f} (before adaptation "
    f"{final['cer']:.3f}).\n\n"
    f"**What adaptation to synthetic voices buys** (catalogue decoder, adapted − before adaptation, paired bootstrap "
    f"over requests): hit@5 {interval(adapt_gain['template'], 2)} on template-phrased, {interval(adapt_gain['free'], 2)} on freely "
    "phrased requests.  The adaptation voices share the test voices' synthesiser (not their accents), so these "
    "numbers describe eSpeak NG requests; on human voices the recogniser is the one measured in Part 1."))

# %% [markdown]
# ## Use the recogniser on your own recordings
#
# The book ships the adapted recogniser (`book/models/music_recogniser.pt`, weights stored in
# float16).  `spoken_search.recommend_from_audio(path)` loads it, decodes the request against the
# merged catalogue with the bonus and request words chosen above, and returns the top songs with the greedy
# transcript; any audio file works (it is resampled to 16 kHz).  Below: two test requests through
# the shipped file.

# %% tags=["remove-cell"]
model_path = spoken_search.DEFAULT_RECOGNISER
if size["ship_model"]:
    asr.save_recogniser(adapted_model, model_path, feat_cfg, decoder_bonus=best_bonus["raw"],
                        request_words=sorted(request_words),
                        trained_on=f"Mini LibriSpeech training speakers, {len(train_df)} utterances, then adapted "
                                   f"on eSpeak NG renderings of their transcripts ({', '.join(ADAPT_VOICES)})",
                        test_cer=float(adapted_test["cer"]))
    run.log("model/size_kib", model_path.stat().st_size / 1024)

# %% tags=["hide-input"]
if model_path.is_file():
    demo_rows = []
    for _, r in requests[requests["set"] == "freely phrased"].head(2).iterrows():
        out = spoken_search.recommend_from_audio(r["path"], 3, catalogue=catalogue)
        demo_rows.append({"request": r["request"], "greedy transcript": out["greedy_transcript"],
                          "top 3": "; ".join(f"{s.title} — {s.artist}" for s in out["songs"].itertuples())})
    page.show_table(pd.DataFrame(demo_rows))

# %% [markdown]
# ## Reading the numbers
#
# Deviations from the paper, each also stated beside its result: Mini LibriSpeech (3.9 h,
# speaker-disjoint) instead of train-clean-100; CPU-sized models of one width for all three (the
# paper's text gives no widths; the tutorial's DeepSpeech2 sizes are in the `full` profile), time
# stride 3 and 40 mel bands, a higher one-cycle peak learning rate (3·10⁻³), bfloat16 training;
# one seed per recogniser; a merged catalogue of about 2,500 songs instead of the Spotify Million
# Song table, indexed by title, artist and tags (not lyrics); evaluation queries and spoken requests
# generated from the catalogue, because the paper reports no search accuracy; synthetic eSpeak NG
# voices instead of users.  The catalogue decoder and the adaptation of the final recogniser to
# eSpeak NG voices (other accents than the test voices) are ours, not the paper's.  bfloat16
# training was not checked against a float32 twin for this recogniser.

# %% tags=["remove-input"]
minutes = (time.time() - chapter_started) / 60
run.log("time/chapter_minutes", minutes)
train_min = sum(v for k, v in run.timings.items() if k.startswith("train/")) / 60
display(Markdown(f"The chapter ran {minutes:.0f} min (profile `{profile}`), {train_min:.0f} of them training the "
                 "three recognisers and adapting the final one; peak memory and package versions are in the results file."))

# %% tags=["remove-cell"]
verdicts = {c["id"]: c["verdict"] for c in run.claims}
_ = page.publish_result_box(run, lead=(
    f"Our final recogniser reaches test CER {final['cer']:.2f} on unseen Mini LibriSpeech speakers (paper, 25× the "
    f"speech: 0.20). Adapted to synthetic voices and spoken through the paper's pipeline (greedy transcript, then "
    f"text search), a synthetic request finds its song in the top 5 {percent(float(h_ours.mean()), 0)} of the time; "
    f"decoded against the catalogue instead, {percent(tpl_dec, 0)} (template-phrased) and {percent(free_dec, 0)} (freely "
    f"phrased), in {tpl_med:.2f} s; PocketSphinx spotting catalogue keyphrases, "
    f"{percent(run.values('e2e/template/sphinx_kws/hit@5')[0], 0)}."))
_ = run.save()

# %% [markdown]
# (ch04-what-we-did)=
# ## What we did
#
# Each component of the system as this chapter ran it: where its code is shown on this page, and the
# library function it is.
#
# | component | shown in | library code |
# |---|---|---|
# | log-mel features, SpecAugment (training only) | {ref}`ch04-features` | `asr_features` in {download}`lib/datasets/librispeech.py </lib/datasets/librispeech.py>`; `spec_augment` in {download}`lib/features.py </lib/features.py>` |
# | the recogniser: residual CNN blocks, recurrent layers, one class for the paper's three models | {ref}`ch04-models` | `ResidualCNN`, `RecurrentBlock`, `ModelConfig`, `SpeechRecognizer`, `build_model` in {download}`lib/models/asr.py </lib/models/asr.py>` |
# | CTC training: CTC loss, AdamW, one-cycle schedule, best development epoch kept | {ref}`ch04-training` | `ctc_loss`, `train_ctc` in `lib/models/asr.py`; `fit` in {download}`lib/models/training.py </lib/models/training.py>` |
# | greedy (best-path) decoding | {ref}`ch04-cer-wer` | `greedy_decode` in `lib/models/asr.py` |
# | CER and WER | {ref}`ch04-cer-wer` | `cer`, `wer` in {download}`lib/metrics.py </lib/metrics.py>` |
# | the paper's song search: fuzzy matching, embeddings in FAISS, embedding first with fuzzy as the fallback | {ref}`ch04-song-search` | `document`, `SongSearch.fuzzy`, `SongSearch.embedding`, `SongSearch.combined` in {download}`lib/models/song_search.py </lib/models/song_search.py>` |
# | character n-grams and rank fusion (ours) | {ref}`ch04-song-search` | `SongSearch.char_ngram`, `SongSearch.fused` in `lib/models/song_search.py` |
# | adaptation to synthetic voices (ours, a deviation) | {ref}`ch04-adaptation` | `synthetic_utterances`, then `train_ctc`, in `lib/models/asr.py` |
# | the catalogue decoder (ours): every title, artist and tag scored against the CTC output | {ref}`ch04-systems` | `CatalogueDecoder`, `phrase_log_likelihoods`, `request_words` in {download}`lib/models/spoken_search.py </lib/models/spoken_search.py>` |
#
# The chapter's own glue (the splits, the three trainings, the end-to-end decoding of every request
# and the scoring of the systems) is in the collapsed code cells of each section.
