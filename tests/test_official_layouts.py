"""The loaders of the official datasets (profile ``full``) on small fixtures in the official layouts.

The fixtures (``tests/fixtures_official.py``) are built from the offline mirror's real recordings, a
few files per class, in the folder layout and file formats of the official releases: the full Speech
Commands v0.02 archive, TIMIT (NIST SPHERE), LibriSpeech train-clean-100/dev-clean/test-clean and
IEMOCAP.  Each corpus is built once per module, when a test first needs it (a few seconds).
"""

import ast
import re
import shutil
from pathlib import Path

import fixtures_official as fo
import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from lib import data, runner

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def official(tmp_path_factory):
    """``official(mirror, *corpora) -> data folder`` holding those fixture corpora (built once per module)."""
    root = tmp_path_factory.mktemp("official-data")
    built = set()

    def get(mirror, *names):
        missing = [n for n in names if n not in built]
        if missing:
            fo.build(root, missing, mirror=mirror)
            built.update(missing)
        return root

    return get


# --------------------------------------------------------------------------
# Speech Commands v0.02, the full dataset
# --------------------------------------------------------------------------
def test_the_partition_rule_reproduces_the_official_lists(data_available):
    """The fixture's lists follow the dataset's own rule; on the mirror's copies of the official lists it
    gives exactly the listed partition."""
    for name, partition in [("testing_list.txt", "testing"), ("validation_list.txt", "validation")]:
        lines = (data_available / "speech_commands_v0.02" / name).read_text().split()
        assert len(lines) > 9000
        assert {fo.which_set(line) for line in lines[::7]} == {partition}


def test_speech_commands_official_layout_and_split(data_available, official, monkeypatch):
    from lib.datasets import kws

    root = official(data_available, "speech_commands_v0.02")
    monkeypatch.setenv(data.DATA_ENV, str(root))
    folder = root / "speech_commands_v0.02"
    # The full archive's layout: word folders, _background_noise_, the two lists; no _silence_, no manifest.
    words = sorted(p.name for p in folder.iterdir() if p.is_dir() and not p.name.startswith("_"))
    assert len(words) == 35 and set(kws.KEYWORDS) <= set(words)
    assert not (folder / "_silence_").exists() and not (folder / "manifest.csv").exists()
    assert len(list((folder / "_background_noise_").glob("*.wav"))) == 6
    files = sorted(folder.glob("*/*.wav"))
    clips = [f for f in files if f.parent.name != "_background_noise_"]
    assert all(re.fullmatch(r"[0-9a-f]{8}_nohash_\d+\.wav", f.name) for f in clips)
    info = sf.info(clips[0])
    assert (info.format, info.subtype, info.samplerate, info.channels) == ("WAV", "PCM_16", 16000, 1)
    lists = {
        part: set((folder / name).read_text().split())
        for part, name in [("testing", "testing_list.txt"), ("validation", "validation_list.txt")]
    }
    for f in clips:
        key = f"{f.parent.name}/{f.name}"
        expected = fo.which_set(f.name)
        assert (key in lists["testing"], key in lists["validation"]) == (
            expected == "testing",
            expected == "validation",
        ), key
    assert all((folder / key).is_file() for keys in lists.values() for key in keys)

    df = kws.official_split()
    assert df.equals(kws.build_split(scheme="official"))
    clips_df = df[df["start"] < 0]
    assert len(clips_df) == len(clips)
    by_key = {f"{Path(p).parent.name}/{Path(p).name}": s for p, s in zip(clips_df["abs_path"], clips_df["split"])}
    assert {k for k, s in by_key.items() if s == "test"} == lists["testing"]
    assert {k for k, s in by_key.items() if s == "val"} == lists["validation"]
    for split in ("train", "val", "test"):  # every class in every split, speakers disjoint (official_split checks)
        assert set(df.loc[df["split"] == split, "label"]) == set(kws.LABELS), split
    # _silence_: consecutive 1-s chunks of the six noise recordings, 10 % to validation and 10 % to test.
    chunks = df[df["label"] == "_silence_"]
    assert len(chunks) == 6 * fo.NOISE_SECONDS
    assert (chunks["split"] == "val").sum() == (chunks["split"] == "test").sum() == round(0.1 * len(chunks))
    # The manifest built from the layout (no manifest.csv) sees the same clips.
    man = data.manifest("speech_commands_v0.02")
    assert len(man) == len(clips) and set(man["label12"]) == set(kws.LABELS) - {"_silence_"}


# --------------------------------------------------------------------------
# TIMIT (NIST SPHERE)
# --------------------------------------------------------------------------
def test_timit_speakers_reads_sphere_files(data_available, official, tmp_path):
    from lib.datasets import speakers

    root = official(data_available, "timit") / "timit"
    wav = next(root.glob("TRAIN/DR*/*/SA1.WAV"))
    assert wav.read_bytes()[:16] == b"NIST_1A\n   1024\n"  # TIMIT's own format, not RIFF
    assert sf.info(wav).format == "NIST"

    table = speakers.timit_speakers(root)
    assert len(table) == 28 * fo.TIMIT_SENTENCES
    assert table.groupby("speaker")["text"].nunique().eq(fo.TIMIT_SENTENCES).all()
    assert {"SA1", "SA2"} <= set(table["text"])
    assert table.groupby("speaker")["official_split"].nunique().eq(1).all()
    assert table.groupby("official_split")["speaker"].nunique().to_dict() == {"test": 7, "train": 21}
    assert set(table["dialect"]) == {f"DR{k}" for k in range(1, 9)}
    assert (table["sex"] == table["speaker"].str[0]).all() and set(table["sex"]) == {"F", "M"}
    y, sr = data.load_audio(table["abs_path"].iloc[0])
    assert sr == 16000 and 2.3 < len(y) / sr < 3.7 and np.abs(y).max() > 0.01

    split = speakers.split_speakers(table, {"train": 0.8, "val": 0.1, "test": 0.1})
    assert (split.loc[split["official_split"] == "test", "split"] == "test").all()
    assert split.loc[split["split"] == "val", "speaker"].nunique() >= 2  # trials need two speakers

    # Lower-case copies, and copies holding both X.WAV (SPHERE) and X.WAV.wav (converted), read the same.
    speaker_dir = wav.parent
    lower = tmp_path / "timit" / "train" / "dr1" / speaker_dir.name.lower()
    for f in speaker_dir.glob("*.WAV"):
        lower.mkdir(parents=True, exist_ok=True)
        shutil.copy(f, lower / f.name.lower())
        y, sr = sf.read(f)
        sf.write(lower / f"{f.name}.wav", y, sr)
    copy = speakers.timit_speakers(tmp_path / "timit")
    assert len(copy) == fo.TIMIT_SENTENCES and copy["abs_path"].str.endswith(".wav").all()
    assert not copy["abs_path"].str.endswith(".WAV.wav").any() and copy["official_split"].eq("train").all()

    with pytest.raises(data.DataMissingError, match="TIMIT"):
        speakers.timit_speakers(tmp_path / "nowhere")


# --------------------------------------------------------------------------
# LibriSpeech train-clean-100 / dev-clean / test-clean
# --------------------------------------------------------------------------
def test_librispeech_official_split(data_available, official, monkeypatch):
    from lib.datasets import librispeech

    root = official(data_available, "librispeech_100")
    monkeypatch.setenv(data.DATA_ENV, str(root))
    assert not (root / "librispeech_100" / "manifest.csv").exists()  # the manifest comes from the layout
    utts = librispeech.official_split(librispeech.load_manifest("librispeech_100"))
    per_split = utts.groupby("split").agg(n=("utt", "size"), speakers=("speaker", "nunique"))
    names = {"train-clean-100": "train", "dev-clean": "dev", "test-clean": "test"}
    for subset, n_speakers in fo.LIBRI_SPLIT.items():
        assert per_split.loc[names[subset], "speakers"] == n_speakers
        assert per_split.loc[names[subset], "n"] == n_speakers * fo.LIBRI_UTTS_PER_SPEAKER
    data.check_disjoint(utts["speaker"], utts["split"])
    assert (
        utts["path"].str.match(r"LibriSpeech/(train-clean-100|dev-clean|test-clean)/\d+/\d+/\d+-\d+-\d{4}\.flac$").all()
    )
    assert utts["text"].str.fullmatch(r"[a-z' ]+").all()
    assert (utts["duration_s"] > 1).all()
    info = sf.info(utts["abs_path"].iloc[0])
    assert (info.format, info.subtype, info.samplerate) == ("FLAC", "PCM_16", 16000)
    # Each chapter folder's transcript lists exactly its utterances.
    for trans in (root / "librispeech_100").rglob("*.trans.txt"):
        listed = {line.split(" ", 1)[0] for line in trans.read_text().splitlines()}
        assert listed == {f.stem for f in trans.parent.glob("*.flac")}


# --------------------------------------------------------------------------
# IEMOCAP
# --------------------------------------------------------------------------
OFFICIAL_EXAMPLE = """% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]

[6.2901 - 8.2357]\tSes01F_impro01_F000\tneu\t[2.5000, 2.5000, 2.5000]
C-E2:\tNeutral;\t()
C-E3:\tNeutral;\t()
C-E4:\tNeutral;\t()
C-F1:\tNeutral;\t(curious)
A-E3:\tval 3; act 2; dom  2;\t()
A-E4:\tval 2; act 3; dom  3;\t(mildly aggravated but staying polite, attitude)
A-F1:\tval 3; act 2; dom  1;\t()

[10.0100 - 11.3925]\tSes01F_impro01_F001\tfru\t[2.0000, 3.5000, 3.5000]
C-E1:\tFrustration; Anger;\t()
C-E3:\tFrustration;\t()
C-E4:\tOther:annoyed;\t()
"""


def test_emo_evaluation_format(tmp_path):
    """The release's per-evaluator lines: one vote per evaluator, split among the categories it names."""
    from lib.datasets import emotion

    f = tmp_path / "Ses01F_impro01.txt"
    f.write_text(OFFICIAL_EXAMPLE)
    first, second = emotion.read_emo_evaluation(f)
    assert (first["utterance"], first["code"], first["evaluators"], first["votes_neutral"]) == (
        "Ses01F_impro01_F000",
        "neu",
        3,
        3.0,
    )
    assert (first["start_s"], first["end_s"]) == (6.2901, 8.2357)
    assert emotion.read_emo_evaluation(f, include_self=True)[0]["evaluators"] == 4
    assert (second["votes_frustration"], second["votes_anger"], second["votes_outside"]) == (1.5, 0.5, 1.0)


def test_iemocap_manifest_and_votes(data_available, official):
    from lib.datasets import emotion

    base = official(data_available, "iemocap") / "iemocap"
    assert emotion.iemocap_root(base) == base / "IEMOCAP_full_release"  # the release's own top folder
    assert emotion.iemocap_root(base / "IEMOCAP_full_release") == base / "IEMOCAP_full_release"
    release = base / "IEMOCAP_full_release"
    headers = [
        line
        for f in release.glob("Session*/dialog/EmoEvaluation/*.txt")
        for line in f.read_text().splitlines()
        if line.startswith("[")
    ]
    df = emotion.iemocap_manifest(base)
    # fea / dis / xxx consensus codes are dropped; the six classes are kept, all of them in train and test.
    assert len(headers) == 90 and len(df) == 60
    assert set(df["label"]) == set(emotion.IEMOCAP_CLASSES)
    assert df.groupby("split")["label"].nunique().to_dict() == {"test": 6, "train": 6}
    assert ((df["session"] == 5) == (df["split"] == "test")).all()
    assert (
        df["path"].str.fullmatch(r"Session[1-5]/sentences/wav/Ses0[1-5][FM]_\w+/Ses0[1-5][FM]_\w+_[FM]\d{3}\.wav").all()
    )
    assert all(Path(p).is_file() for p in df["abs_path"]) and (df["transcript"] != "").all()
    info = sf.info(df["abs_path"].iloc[0])
    assert (info.format, info.subtype, info.samplerate, info.channels) == ("WAV", "PCM_16", 16000, 1)

    votes = emotion.iemocap_votes(df)
    assert votes.shape == (60, 6)
    assert np.allclose(votes.sum(1) + df["votes_outside"], df["evaluators"])
    classes = emotion.IEMOCAP_CLASSES
    assert (np.array(classes)[votes.argmax(1)] == df["label"].to_numpy()).all()  # two of three name the label
    assert (votes.max(1) < 3).any() and (votes.max(1) == 3).any()  # clear and ambiguous utterances
    with_self = emotion.iemocap_manifest(base, include_self=True)
    assert (with_self["evaluators"] >= df["evaluators"]).all() and (with_self["evaluators"] > 3).any()


def test_iemocap_task(data_available, official, monkeypatch, tmp_path):
    """What the emotion chapter's `full` profile loads: sessions 1–4 train (one dialog in ten validates), 5 tests."""
    from lib import features
    from lib.datasets import emotion

    root = official(data_available, "iemocap")
    monkeypatch.setenv(data.DATA_ENV, str(root))
    monkeypatch.setenv(features.CACHE_ENV, str(tmp_path / "cache"))
    task = emotion.load_task("iemocap", "logmel")
    assert task["X"].shape[:1] == (60,) and task["X"].shape[2] == 160
    assert set(task["split"]) == {"train", "val", "test"}
    val_dialogs = set(task["groups"][task["split"] == "val"])
    assert len(val_dialogs) == 1 and not val_dialogs & set(task["groups"][task["split"] == "train"])
    assert task["votes"].shape == (60, 6) and task["classes"] == emotion.IEMOCAP_CLASSES


# --------------------------------------------------------------------------
# Acoustic events (the events chapter's `full` profile reads the assembled corpus, as `book` does)
# --------------------------------------------------------------------------
def test_events_fixture_supports_the_full_folds(data_available, official, monkeypatch):
    from lib.datasets import events

    root = official(data_available, "acoustic_events")
    monkeypatch.setenv(data.DATA_ENV, str(root))
    df = events.load_manifest()
    folds = events.cross_validation_folds(df, n_folds=5)  # SIZES["full"]["n_folds"]
    for col in folds:
        for part in ("train", "val", "test"):
            assert set(df.loc[folds[col] == part, "label"]) == set(events.LABELS), (col, part)
        for part in ("train", "val"):  # the chapter's fold_data cuts both to each of the paper's ratios
            labels = df.loc[folds[col] == part, "label"].to_numpy()
            for ratio in (events.RATIO_6_1_2_16, events.RATIO_2_2_1_26):
                _, counts = events.ratio_subset(labels, ratio)
                assert all(counts[label] >= ratio[label] for label in ratio), (col, part, ratio)
    cries = df[df["label"] == "baby_cry"]  # the bandwidth check's 5 folds need 5 recordings of each rate
    assert cries.groupby("sample_rate")["group"].nunique().ge(5).all()


# --------------------------------------------------------------------------
# The fixture covers what every chapter's `full` profile reads
# --------------------------------------------------------------------------
def _full_corpus(chapter: Path):
    """``SIZES["full"]["corpus"]`` of a chapter, read from its source (None if the entry has none)."""
    tree = ast.parse(chapter.read_text())
    for node in ast.walk(tree):
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "SIZES" for t in node.targets):
            for key, value in zip(node.value.keys, node.value.values):
                if getattr(key, "value", None) != "full":
                    continue
                pairs = (
                    [(k.arg, v) for k, v in ((kw, kw.value) for kw in value.keywords)]
                    if isinstance(value, ast.Call)
                    else [(getattr(k, "value", None), v) for k, v in zip(value.keys, value.values)]
                )
                return next((ast.literal_eval(v) for k, v in pairs if k == "corpus"), None)
    raise AssertionError(f"{chapter.name}: no SIZES['full'] entry")


def test_every_chapter_full_profile_is_covered():
    stems = [c.stem for c in runner.chapter_list()]
    assert sorted(fo.FULL_PROFILE_READS) == stems
    for stem, corpora in fo.FULL_PROFILE_READS.items():
        assert set(corpora) <= set(fo.BUILDERS), stem
        corpus = _full_corpus(ROOT / "chapters" / f"{stem}.py")
        if corpus is not None:
            assert corpus in corpora, f"{stem}: SIZES['full'] reads {corpus!r}, the fixture list says {corpora}"
    assert set(fo.BUILDERS) - {"timit", "iemocap"} <= set(data.CORPORA)  # folders named as the registry


def test_summary_lists_each_corpus(data_available, official):
    root = official(data_available, "librispeech_100")
    table = fo.summary(root)
    assert isinstance(table, pd.DataFrame)
    row = table.set_index("corpus").loc["librispeech_100"]
    assert row["layout"] == "official" and row["audio files"] == sum(fo.LIBRI_SPLIT.values()) * 2
