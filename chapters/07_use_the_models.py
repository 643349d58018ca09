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
# (use-models)=
# # Use the trained models

# %% [markdown]
# ```{glue:md} result_box
# :format: myst
# ```

# %% [markdown]
# The book ships five small trained models in `book/models/`, so a fresh copy of the project can
# score audio without training anything.  Each has **one public function**: it reads any WAV, FLAC
# or Opus file (any sample rate, mono or stereo), applies the settings stored with the model
# (features, normalisation, decision thresholds) and returns a table.  This page calls each
# function the way you would on your own recordings, on a few clips from the book's data that the
# model never heard in training, and says for each model **what it was trained and tested on, and
# what it was not tested on**.  Read that before trusting a model on audio unlike its test data.
#
# | task | function | model | chapter |
# |---|---|---|---|
# | keyword spotting | `kws.predict_files` | CRNN (CNN and AE-SVM beside it) | {doc}`01_keyword_spotting` |
# | is it the same speaker? | `siamese.verify` | Siamese speaker embedder | {doc}`02_siamese_speakers` |
# | dog bark, baby cry, gun shot | `triple_header.score_files` | CNN event detector | {doc}`03_triple_header_events` |
# | speech to text | `asr.transcribe_files` | speech recogniser | {doc}`04_voice_music_search` |
# | songs for a spoken request | `spoken_search.recommend_from_audio` | the recogniser + the song catalogue | {doc}`04_voice_music_search` |
#
# The functions live in `lib/models/`; run them from a notebook in the project or with the
# project folder on `PYTHONPATH`.  The song search also needs the data setting, because the song
# catalogue is part of the data.

# %% tags=["parameters"]
profile = "smoke"  # smoke | book | full
data_dir = None  # folder with one sub-folder per corpus (None: the data setting of the README)
seed = 0
output_dir = None  # where results.json goes; the runner sets it

# %% tags=["remove-cell"]
import json
import time

import numpy as np
import pandas as pd
import soundfile as sf
from IPython.display import Audio, display

from lib import chapter, data, metrics, page, provenance
from lib.datasets import events as ev
from lib.datasets import kws as kws_data
from lib.datasets import librispeech, speakers
from lib.formatting import count, percent
from lib.page import md

# Nothing is trained here: every profile scores the same handful of clips with the shipped models, and the
# keyword spotter also the held-out LibriSpeech sentences (all of them in the book, a few per reader in smoke).
SIZES = {
    "smoke": {"unknown_clips": 2, "utterances": 2, "player_s": 3.0, "sentences_per_reader": 4, "split_scheme": "mirror"},
    "book": {"unknown_clips": 2, "utterances": 2, "player_s": 3.0, "sentences_per_reader": None, "split_scheme": "mirror"},
    # chapter 01's `full` profile splits Speech Commands by its official lists
    "full": {"unknown_clips": 2, "utterances": 2, "player_s": 3.0, "sentences_per_reader": None,
             "split_scheme": "official"},
}
ch = chapter.start("07_use_the_models", profile, SIZES, seed=seed, output_dir=output_dir, data_dir=data_dir)
run, size = ch.run, ch.size
MODELS = provenance.ROOT / "book" / "models"
RESULTS = provenance.ROOT / "book" / "results" / "book"


def results_of(stem):
    """A chapter's committed `book` results (empty when the chapter has not been run)."""
    f = RESULTS / f"{stem}.json"
    return json.loads(f.read_text()) if f.exists() else {}


def metric(res, name):
    m = res.get("metrics", {}).get(name)
    return None if m is None else m["mean"]


def pct(value, digits=1):
    return "—" if value is None else percent(value, digits)


def table_row(res, table, column, value):
    """The row of a results table whose `column` equals `value` ({} when absent)."""
    rows = [r for r in res.get("tables", {}).get(table, []) if r.get(column) == value]
    return rows[0] if rows else {}


def first_whole(rows, min_s):
    """The first row (in path order) whose file lasts at least `min_s` seconds: no clip is padded."""
    for _, row in rows.sort_values("abs_path").iterrows():
        if sf.info(str(data.resolve_audio(row["abs_path"]))).duration >= min_s - 1e-3:
            return row
    raise data.DataError(f"no clip of at least {min_s} s among {len(rows)}")


def player(path, sr=16000):
    """At most `player_s` seconds of a clip, resampled to `sr`, as a small embedded player."""
    y, _ = data.load_audio(path, sr=sr)
    y = y[: int(size["player_s"] * sr)]
    return Audio(y / max(1e-6, float(np.abs(y).max())) * 0.9, rate=sr, normalize=False)


class Stopwatch:
    """Wall time of the model calls on this page (each call includes loading its model)."""

    def __init__(self):
        self.t0 = time.perf_counter()

    def lap(self):
        t, self.t0 = time.perf_counter() - self.t0, time.perf_counter()
        return t


clock = Stopwatch()
scored = {}  # model -> clips scored

# %% tags=["remove-cell"]
# The clips: for each model, clips of the speakers or recordings its chapter's `book` run held out
# for testing (each split recomputed exactly as the chapter computes it).
kw_split = kws_data.build_split(seed=0, scheme=size["split_scheme"])
kw_test = kw_split[(kw_split["split"] == "test") & (kw_split["augment"] < 0)].sort_values("abs_path")
kw_rows = [first_whole(kw_test[kw_test["label"] == w], 1.0) for w in ("yes", "off")]
unknown = kw_test[kw_test["label"] == "_unknown_"]
for _ in range(size["unknown_clips"]):
    kw_rows.append(first_whole(unknown[~unknown["word"].isin([r["word"] for r in kw_rows])], 1.0))

libri = librispeech.speaker_split(librispeech.load_manifest("mini_librispeech"), seed=0)
libri = libri[libri["split"] == "test"]
keyword_free = ~libri["text"].str.split().map(lambda ws: bool(set(ws) & set(kws_data.KEYWORDS)))
utterances = (libri[keyword_free].assign(gap=(libri["duration_s"] - 3.0).abs())
              .sort_values(["gap", "path"]).drop_duplicates("speaker").head(size["utterances"]))

spk = speakers.split_speakers(speakers.speech_commands_speakers(include_train_keywords=True, seed=0),
                              {"train": 0.8, "val": 0.1, "test": 0.1}, seed=0)
spk_test = spk[spk["split"] == "test"].sort_values(["speaker", "path"])
words_per_speaker = spk_test.drop_duplicates(["speaker", "text"]).groupby("speaker")["text"].size()
speaker_a, speaker_b = words_per_speaker[words_per_speaker >= 2].index[:2]
a1 = first_whole(spk_test[spk_test["speaker"] == speaker_a], 1.0)
a2 = first_whole(spk_test[(spk_test["speaker"] == speaker_a) & (spk_test["text"] != a1["text"])], 1.0)
b1 = first_whole(spk_test[spk_test["speaker"] == speaker_b], 1.0)

ev_all = ev.load_manifest()
fold0 = ev_all[ev.cross_validation_folds(ev_all, n_folds=5, seed=0)["fold0"] == "test"]
main_corpus = fold0.groupby("label")["corpus"].agg(lambda c: c.value_counts().index[0])
ev_rows = pd.DataFrame({lab: first_whole(fold0[(fold0["label"] == lab) & (fold0["corpus"] == main_corpus[lab])], 0.5)
                        for lab in ("dog_bark", "baby_cry", "gun_shot", "background")}).T
_ = clock.lap()

# %% [markdown]
# ## Keyword spotting
#
# The spotter hears one second and answers one of twelve labels: the ten keywords *yes, no, up,
# down, left, right, on, off, stop, go*, `_silence_` or `_unknown_` (any other word).  The shipped
# model is the CRNN of the {doc}`keyword-spotting chapter <01_keyword_spotting>`, first training
# seed.  It was trained on [Speech Commands](https://arxiv.org/abs/1804.03209) clips — single words
# recorded by volunteers through their browsers — in a split by speaker that the chapter builds
# from the book's data, and it carries an **operating point**: a keyword whose probability is below
# a stored threshold is reported as `_unknown_`.  The threshold was chosen on the validation
# speakers, as the lowest at which at most 5 % of their non-keyword clips fire a keyword
# ({ref}`how it is chosen <kws-code-operating-point>`).
#
# Below: a *yes* and an *off* and two other words from speakers the chapter kept for testing, and
# a sentence of read English from [LibriSpeech](https://www.openslr.org/12/) without any keyword.
# A recording longer than a second is cut to its loudest second.

# %%
from lib.models import kws

kws_clips = [r["abs_path"] for r in kw_rows] + [utterances["abs_path"].iloc[0]]
crnn = kws.predict_files(kws_clips)                           # label and score at the stored operating point
cnn = kws.predict_files(kws_clips, "book/models/kws_cnn")     # the CNN, at its own operating point
probs = kws.predict_files(kws_clips, raw=True)                # the CRNN's 12 class probabilities, no threshold

# %% tags=["remove-input"]
elapsed = clock.lap()
scored["kws"] = len(kws_clips)
run.log("kws/clips", len(kws_clips))
run.log("kws/seconds_per_clip", elapsed / (3 * len(kws_clips)))
what = [r["label"] if r["label"] != "_unknown_" else f"*{r['word']}* (not a keyword)" for r in kw_rows]
what += [f"LibriSpeech sentence, {utterances['duration_s'].iloc[0]:.1f} s"]
truth = [r["label"] for r in kw_rows] + ["_unknown_"]
labels = probs.columns[1:]
top = probs[labels].to_numpy()
kw_table = pd.DataFrame({
    "clip": what,
    "CRNN arg-max (probability)": [f"{labels[i]} ({p[i]:.2f})" for i, p in zip(top.argmax(1), top)],
    f"CRNN at its threshold {crnn.attrs['threshold']:.2f}": crnn["label"],
    f"CNN at its threshold {cnn.attrs['threshold']:.2f}": cnn["label"],
})
run.log_table("kws_examples", kw_table)
page.show_table(kw_table)
argmax_fires = sum(labels[i] in kws_data.KEYWORDS and t == "_unknown_" for i, t in zip(top.argmax(1), truth))
op_right = int(sum(a == b for a, b in zip(crnn["label"], truth)))
run.log("kws/crnn_operating_point_correct", op_right)
md(f"At its operating point the CRNN labels {op_right} of the {len(truth)} clips correctly; taking the most "
   f"probable class instead (arg-max) would have fired a keyword on {argmax_fires} of the "
   f"{truth.count('_unknown_')} clips without one.  The *yes* of the test set:")
display(player(kw_rows[0]["abs_path"]))

# %% [markdown]
# The same call on every keyword-free sentence of the six LibriSpeech readers that the chapter held
# out of training (whole files, each cut to its loudest second), at the stored operating point and,
# for comparison, by arg-max:

# %%
held_out = kws_data.librispeech_negatives(n_train=0, n_test=10**6, seed=0).drop_duplicates("abs_path")
held_out = held_out.groupby("speaker").head(size["sentences_per_reader"] or len(held_out))
at_threshold = kws.predict_files(held_out["abs_path"].tolist())
by_arg_max = kws.predict_files(held_out["abs_path"].tolist(), threshold=None)

# %% tags=["remove-input"]
_ = clock.lap()
readers = held_out["speaker"].to_numpy()
fire_rate = {
    name: metrics.bootstrap_ci(np.mean, out["label"].isin(kws_data.KEYWORDS).to_numpy(float), groups=readers,
                               null=None)
    for name, out in (("operating_point", at_threshold), ("arg_max", by_arg_max))
}
for name, iv in fire_rate.items():
    run.log(f"kws/librispeech_sentences/{name}_false_keyword_rate", iv.estimate)
    run.log(f"kws/librispeech_sentences/{name}_false_keyword_rate_low", iv.low)
    run.log(f"kws/librispeech_sentences/{name}_false_keyword_rate_high", iv.high)
run.log("kws/librispeech_sentences/files", len(held_out))


def rate(iv):
    return f"{pct(iv.estimate)} [{pct(iv.low)}, {pct(iv.high)}]"


def compared_with(iv, reference):
    if reference is None:
        return "(no reference rate stored) compared with"
    if iv.low > reference:
        return "more often than"
    return "less often than" if iv.high < reference else "about as often as (the interval holds the rate)"


# %% tags=["remove-input"]
r01 = results_of("01_keyword_spotting")
op = json.loads((MODELS / "kws_crnn" / "meta.json").read_text()).get("operating_point", {})
op_cnn = json.loads((MODELS / "kws_cnn" / "meta.json").read_text()).get("operating_point", {})
libri_fire = metric(r01, "crnn/class_weights/librispeech_heldout/false_keyword_rate")
unknown_fire = metric(r01, "crnn/operating_point/pooled_false_keyword_rate_unknown")
n_test = int(((kw_split["split"] == "test") & (kw_split["augment"] < 0)).sum())
md(f"**Tested on.**  {count(n_test)} clips of the speakers the chapter held out (35 % of the speakers of "
   f"Speech Commands' official test set; every keyword, `_silence_`, and "
   f"{count(metric(r01, 'unknown/test_words') or 0)} other words as `_unknown_`).  "
   f"There, this CRNN at its threshold recalls **{pct(op.get('keyword_recall_test'))}** of the keyword clips and "
   f"fires a keyword on **{pct(op.get('false_keyword_rate_test'))}** of the clips without one; the CNN recalls "
   f"{pct(op_cnn.get('keyword_recall_test'))} and fires on {pct(op_cnn.get('false_keyword_rate_test'))}.  "
   f"Over three training seeds the CRNN's test accuracy (arg-max) is "
   f"{pct(metric(r01, 'crnn/class_weights/test/accuracy'))}.\n\n"
   f"**Not tested on.**  Continuous speech, where a deployed spotter spends most of its time: on "
   f"{r01.get('params', {}).get('libri_test', 'held-out')} one-second windows of LibriSpeech sentences without a "
   f"keyword (six readers the chapter held out), the same CRNN's arg-max fires a keyword on **{pct(libri_fire)}** "
   f"of them.  Called as above on the {count(len(held_out))} whole sentences of those readers, it fires on "
   f"**{rate(fire_rate['operating_point'])}** of them at its threshold and on {rate(fire_rate['arg_max'])} by "
   f"arg-max (95 % intervals, bootstrap over the six readers).  The threshold was chosen on isolated words "
   f"(validation speakers: at most 5 % of their non-keyword clips fire); on read sentences it fires "
   f"{compared_with(fire_rate['operating_point'], unknown_fire)} on the test speakers' isolated non-keyword "
   f"words (`_unknown_` clips: {pct(unknown_fire)}, pooled over the chapter's three seeds).  Nor was it tested on noisy rooms "
   f"beyond the background noise "
   f"mixed into training, on distant microphones, or on several keywords in one recording — it reports one "
   f"label for the loudest second.  `_silence_` is scored too easily in the test set (its clips are cut from "
   f"the same six noise recordings as the training silence; see {{doc}}`00_data`).")
_ = clock.lap()

# %% [markdown]
# ## Is it the same speaker?
#
# The Siamese embedder of the {doc}`speaker chapter <02_siamese_speakers>` maps a recording to 128
# numbers; the score of a pair is minus the distance between them (higher: more alike), and
# `verify` decides "same speaker" at the threshold stored with the model, chosen on validation
# speakers.  It was trained on one-second Speech Commands clips of 80 % of the speakers, in a split
# by speaker.  Below: one held-out speaker saying two different words, and that speaker's first word
# against another held-out speaker.

# %%
from lib.models import siamese

scores, same = siamese.verify([(a1["abs_path"], a2["abs_path"]), (a1["abs_path"], b1["abs_path"])])

# %% tags=["remove-input"]
elapsed = clock.lap()
scored["siamese"] = 3
run.log("siamese/pairs", 2)
run.log("siamese/seconds_per_clip", elapsed / 3)
sia_meta = siamese.load()[1]["meta"]
sia_table = pd.DataFrame({
    "pair": [f"speaker A *{a1['text']}* / speaker A *{a2['text']}*",
             f"speaker A *{a1['text']}* / speaker B *{b1['text']}*"],
    "truth": ["same speaker", "different speakers"],
    "score": [f"{s:.2f}" for s in scores],
    f"decision (threshold {sia_meta['threshold']:.2f})": ["same speaker" if s else "different" for s in same],
})
run.log_table("siamese_examples", sia_table)
page.show_table(sia_table)
run.log("siamese/correct", int(same[0]) + int(not same[1]))
r02 = results_of("02_siamese_speakers")


def eer_text(system, split):
    est, low, high = (metric(r02, f"{system}/{split}_eer{k}") for k in ("", "_ci_low", "_ci_high"))
    return "—" if est is None else f"{100 * est:.1f} %" + (f" [{100 * low:.1f}, {100 * high:.1f}]" if low else "")


md(f"**Tested on.**  Pairs of recordings of {count(metric(r02, 'trials/test_speakers') or 0)} held-out Speech Commands "
   f"speakers ({count(metric(r02, 'trials/test_n') or 0)} trials, half of them same-speaker): equal error rate "
   f"**{eer_text('siamese', 'test')}** (three training seeds; this seed {pct(sia_meta.get('test_eer'))}).  On "
   f"1–3-second pieces of LibriSpeech sentences — another corpus, read speech, "
   f"{count(metric(r02, 'trials/libri_speakers') or 0)} readers — the equal error rate rises to "
   f"**{eer_text('siamese', 'libri')}**, and the stored threshold was never tuned there.\n\n"
   f"**Not tested on.**  The same person on two different microphones or days, recordings longer than a few "
   f"seconds, noisy or reverberant rooms, or anyone imitating a voice.  Treat a decision as a similarity "
   f"hint, not as an identity check.")
_ = clock.lap()

# %% [markdown]
# ## Dog bark, baby cry, gun shot
#
# The event detector of the {doc}`rare-events chapter <03_triple_header_events>` (the CNN trained
# with the paper's triple-header loss, first fold and seed) gives one probability per event.  It
# listens to the loudest half second of a file, resampled to 8 kHz and limited to 0–3.5 kHz, and
# counts an event as detected when its probability reaches the event's stored threshold (the
# validation equal-error point).  It was trained on recordings from four corpora (UrbanSound8K,
# ESC-50, SESA and Donate-a-Cry); the clips below come from recordings of the first fold's test
# part, which that model never heard.

# %%
from lib.models import triple_header

event_clips = ev_rows["abs_path"].tolist()
events = triple_header.score_files(event_clips)

# %% tags=["remove-input"]
elapsed = clock.lap()
scored["events"] = len(event_clips)
run.log("events/clips", len(event_clips))
run.log("events/seconds_per_clip", elapsed / len(event_clips))
thr = events.attrs["thresholds"]
detected = [", ".join(e.replace("_", " ") for e in thr if row[e] >= thr[e]) or "none"
            for _, row in events.iterrows()]
ev_table = pd.DataFrame({
    "clip": [f"{lab.replace('_', ' ')} ({r['corpus']}, {int(r['sample_rate']) // 1000} kHz file)"
             for lab, r in ev_rows.iterrows()],
    **{f"{e.replace('_', ' ')} (threshold {t:.2f})": events[e].map("{:.2f}".format) for e, t in thr.items()},
    "detected": detected,
})
run.log_table("event_examples", ev_table)
page.show_table(ev_table)
ev_right = sum(d == (lab.replace("_", " ") if lab != "background" else "none") for d, lab in zip(detected, ev_rows.index))
run.log("events/correct", ev_right)
md(f"{ev_right} of the {len(detected)} clips get exactly their own event and nothing else (no event, for the "
   f"background clip).  Each threshold sits at the event's equal-error point on validation recordings, where "
   f"false alarms are about as frequent as misses, so an extra event on a clip, as above, is expected rather than "
   f"rare.  The dog bark, as the detector's input band allows (8 kHz):")
display(player(ev_rows.loc["dog_bark", "abs_path"], sr=8000))

# %% tags=["remove-input"]
r03 = results_of("03_triple_header_events")
eer = {e: table_row(r03, "table_6:1:2:16_cnn", "event", e).get("Proposed2: ours", "—")
       for e in ("Dog", "Baby", "Gun", "Overall")}
cry_other = [r.get("baby-cry EER (%), 95 % CI") for r in r03.get("tables", {}).get("confound_detector", [])
             if r.get("detector") == "CNN Proposed2" and "other" in r.get("positives", "")]
md(f"**Tested on.**  Five-fold cross-validation by source recording on the four corpora: equal error rate "
   f"(%) **{eer['Overall']}** over the three events — dog bark {eer['Dog']}, baby cry {eer['Baby']}, gun shot "
   f"{eer['Gun']} (this method over five folds and three seeds; the shipped model is one of those runs).\n\n"
   f"**Not tested on.**  Long recordings in which an event happens somewhere (only the loudest half second "
   f"is heard), overlapping events, and microphones or places unlike these corpora.  Most baby cries come from "
   f"one corpus of phone recordings; on the few cries from other corpora the equal error rate is "
   f"{cry_other[0] if cry_other else 'not recorded'} %, from only 40 clips.  Gun shots were tested against "
   f"explosions and sirens, but not against fireworks or slammed doors.")
_ = clock.lap()

# %% [markdown]
# ## Speech to text
#
# The recogniser of the {doc}`music-search chapter <04_voice_music_search>` turns speech into
# lower-case letters, greedily, one file at a time.  It was trained on the read audiobook speech of
# [Mini LibriSpeech](https://www.openslr.org/31/) (the training speakers only), then adapted to
# synthetic eSpeak NG voices ({ref}`why <ch04-adaptation>`), because the song requests it decodes
# are synthetic.  Below: one sentence from each of two readers the chapter held out, beside what they
# read.

# %%
from lib.models import asr

transcripts = asr.transcribe_files(utterances["abs_path"].tolist())

# %% tags=["remove-input"]
elapsed = clock.lap()
scored["asr"] = len(utterances)
run.log("asr/utterances", len(utterances))
run.log("asr/seconds_per_clip", elapsed / len(utterances))
per_cer = [metrics.cer([ref], [hyp]) for ref, hyp in zip(utterances["text"], transcripts["transcript"])]
asr_cer = metrics.cer(utterances["text"].tolist(), transcripts["transcript"].tolist())
run.log("asr/example_cer", asr_cer)
asr_table = pd.DataFrame({
    "reader": utterances["speaker"].to_numpy(),
    "seconds": [f"{d:.1f}" for d in utterances["duration_s"]],
    "what was read": utterances["text"].to_numpy(),
    "transcript": transcripts["transcript"].to_numpy(),
    "character errors": [percent(c, 0) for c in per_cer],
})
run.log_table("asr_examples", asr_table)
page.show_table(asr_table)
md(f"The first sentence (the first {min(size['player_s'], utterances['duration_s'].iloc[0]):.0f} s):")
display(player(utterances["abs_path"].iloc[0]))

# %% tags=["remove-input"]
r04 = results_of("04_voice_music_search")
md(f"**Tested on.**  {count(metric(r04, 'data/test_utterances') or 0)} sentences of the three held-out "
   f"LibriSpeech readers: **{pct(metric(r04, 'asr/adapted/test_cer'))}** of the characters and "
   f"{pct(metric(r04, 'asr/adapted/test_wer'))} of the words are wrong — a small recogniser trained on "
   f"about three hours of speech on a CPU, far from a usable dictation system.  On synthetic song requests "
   f"in eSpeak NG voices it was not adapted on, {pct(metric(r04, 'e2e/template/ours_greedy_cer'))} of the "
   f"characters are wrong.\n\n"
   f"**Not tested on.**  Spontaneous or conversational speech, noise, children, accents other than "
   f"those of 28 LibriSpeech readers and the synthetic voices, or words it never heard in training.  Use "
   f"it to see what the chapter measured, not to transcribe your recordings.")
_ = clock.lap()

# %% [markdown]
# ## Songs for a spoken request
#
# `recommend_from_audio` decodes a spoken request directly against the song catalogue (about 2,500
# songs from the book's song tables): each song's title, artist, genre and mood are phrases the
# recogniser's output is matched against, with the settings the {doc}`music-search chapter
# <04_voice_music_search>` chose on its development requests.  No recording of a person asking for
# a song exists in the book's data, so, as in that chapter, the request is synthesised with eSpeak NG
# in one of its test voices.

# %% tags=["hide-input"]
from lib.models import song_search, spoken_search

request = spoken_search.template_requests(song_search.load_catalogue(), 1, 0, 0, seed=seed).iloc[0]
y, sr = song_search.synthesize(request["spoken"], voice="en-gb-x-rp", rate=160, pitch=50)
request_wav = run.artifacts / "spoken_request.wav"
sf.write(request_wav, y, sr)
_ = clock.lap()

# %%
found = spoken_search.recommend_from_audio(request_wav, 5)

# %% tags=["remove-input"]
elapsed = clock.lap()
scored["spoken_search"] = 1
run.log("search/requests", 1)
run.log("search/seconds_per_request", elapsed)
for part in ("load_s", "asr_s", "search_s"):
    run.log(f"search/{part}", found[part])
hit = int(any(s in request["relevant"] for s in found["songs"]["song_id"]))
rank = next((k + 1 for k, s in enumerate(found["songs"]["song_id"]) if s in request["relevant"]), None)
run.log("search/hit@5", hit)
md(f"Request: *{request['request']}* ({len(y) / sr:.1f} s).  The recogniser's greedy transcript: "
   f"*{found['transcript']}*.  The five songs it ranks highest"
   + (f" — the requested song is number {rank}:" if rank else " — the requested song is not among them:"))
songs = found["songs"][["title", "artist", "genre", "mood", "score"]].fillna("")
songs = songs.loc[:, [c == "score" or songs[c].astype(str).str.strip().ne("").any() for c in songs.columns]]
songs["score"] = songs["score"].map("{:.1f}".format)
page.show_table(songs)
display(player(request_wav))

# %% tags=["remove-input"]
hit_tpl, hit_free = (metric(r04, f"e2e/{t}/ours_decoder/hit@5") for t in ("template", "free"))
latency = metric(r04, "e2e/template/ours_decoder/latency_s_median")
md(f"**Tested on.**  Synthetic requests in six eSpeak NG voices the recogniser was not adapted on: the "
   f"requested song is in the top five for **{pct(hit_tpl, 0)}** of requests phrased like this one and "
   f"{pct(hit_free, 0)} of freely phrased ones"
   + (f", in a median {latency:.2f} s per request." if latency is not None else ".")
   + "\n\n**Not tested on.**  A human voice asking for a song — the book has no such recording, and the "
   "recogniser's errors on human speech (above) are larger than on the synthetic voices.  Nor on songs "
   "outside the catalogue: the search always returns five catalogue songs, even for a request it cannot match.")
_ = clock.lap()

# %% [markdown]
# ## What these examples show, and what they do not
#
# A handful of clips show how to call each model and what its answer looks like; they are not a
# test.  The numbers under **Tested on** are the tests: each comes from its chapter's `book` run,
# on clips, speakers or recordings held out from training, and each chapter explains how it was
# measured.  Every model was tested on the corpora it was trained on, or on close relatives of
# them; none was tested on recordings made the way yours will be.

# %% tags=["remove-cell"]
for name, n in scored.items():
    run.log(f"{name}/clips_scored", n)
run.log("clips_scored", sum(scored.values()))
lead = (
    f"The five models shipped with the book, each called through its one function on "
    f"{sum(scored.values())} clips it never heard in training: the keyword spotter labels {op_right} of "
    f"{len(truth)} clips correctly at its operating point, the speaker embedder decides "
    f"{int(same[0]) + int(not same[1])} of 2 pairs correctly, the event detector gets {ev_right} of "
    f"{len(detected)} clips right, the recogniser gets {percent(asr_cer, 0)} of the characters wrong, "
    f"and the requested song is {'in' if hit else 'not in'} the top five.  Each model was tested on the "
    f"corpora it was trained on; none on recordings like your own — the limits are stated model by model."
)
page.publish_result_box(run, lead=lead)
_ = run.save()
