"""Emotion task loaders: the IEMOCAP reader on a tiny generated fixture in the official file format,
CREMA-D vote typing, EmoDB split and frame stacking."""

import numpy as np
import pytest
import soundfile as sf

from lib import balancing, data
from lib.datasets import emotion

EVAL = """% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]

[6.2901 - 8.2357]\t{d}_F000\tneu\t[2.5000, 2.5000, 2.5000]
C-E2:\tNeutral;\t()
C-E3:\tNeutral;\t()
C-E4:\tNeutral;\t()
C-F1:\tAnger;\t(self)
A-E3:\tval 3; act 2; dom  2;\t()

[10.0100 - 11.3925]\t{d}_M000\tfru\t[2.5000, 3.5000, 3.0000]
C-E1:\tFrustration; Anger;\t()
C-E2:\tFrustration;\t()
C-E3:\tSadness;\t()

[14.8872 - 18.0175]\t{d}_F001\txxx\t[2.5000, 3.5000, 3.5000]
C-E1:\tFrustration;\t()
C-E2:\tAnger;\t()
C-E3:\tSurprise;\t()
"""


def make_iemocap(root, sessions=(1, 2, 3, 4, 5)):
    for s in sessions:
        d = f"Ses0{s}F_impro01"
        base = root / f"Session{s}"
        (base / "dialog" / "EmoEvaluation").mkdir(parents=True)
        (base / "dialog" / "transcriptions").mkdir(parents=True)
        (base / "dialog" / "EmoEvaluation" / f"{d}.txt").write_text(EVAL.format(d=d))
        (base / "dialog" / "transcriptions" / f"{d}.txt").write_text(
            f"{d}_F000 [006.2901-008.2357]: Excuse me.\n{d}_M000 [010.0100-011.3925]: Do you have your forms?\n"
        )
        wav = base / "sentences" / "wav" / d
        wav.mkdir(parents=True)
        for utt in ("F000", "M000", "F001"):
            sf.write(wav / f"{d}_{utt}.wav", np.zeros(1600, np.float32), 16000)
    return root


def test_iemocap_evaluation_file_parsing(tmp_path):
    root = make_iemocap(tmp_path / "iemocap", sessions=(1,))
    rows = emotion.read_emo_evaluation(root / "Session1" / "dialog" / "EmoEvaluation" / "Ses01F_impro01.txt")
    assert [r["code"] for r in rows] == ["neu", "fru", "xxx"]
    assert rows[0]["votes_neutral"] == 3 and rows[0]["votes_anger"] == 0 and rows[0]["evaluators"] == 3
    assert rows[1]["votes_frustration"] == pytest.approx(1.5) and rows[1]["votes_anger"] == pytest.approx(0.5)
    assert rows[1]["votes_sadness"] == 1
    assert rows[2]["votes_outside"] == 1
    with_self = emotion.read_emo_evaluation(
        root / "Session1" / "dialog" / "EmoEvaluation" / "Ses01F_impro01.txt", include_self=True
    )
    assert with_self[0]["votes_anger"] == 1 and with_self[0]["evaluators"] == 4


def test_iemocap_manifest_split_votes_and_pdds(tmp_path):
    make_iemocap(tmp_path / "iemocap" / "IEMOCAP_full_release")
    df = emotion.iemocap_manifest(tmp_path / "iemocap")
    assert len(df) == 10  # two six-class utterances per session, the xxx one dropped
    assert set(df.loc[df.session == 5, "split"]) == {"test"} and set(df.loc[df.session < 5, "split"]) == {"train"}
    assert df.loc[df.utterance == "Ses01F_impro01_F000", "transcript"].item() == "Excuse me."
    V = emotion.iemocap_votes(df)
    t = balancing.vote_types(V)
    first = df.index[df.utterance == "Ses01F_impro01_M000"][0]
    assert t["kind"][first] == "ambiguous"
    assert emotion.IEMOCAP_CLASSES[t["major"][first]] == "frustration"
    assert emotion.IEMOCAP_CLASSES[t["minor"][first]] == "sadness"  # 1 vote beats anger's 0.5
    X = np.zeros((len(df), 2), np.float32)
    X2, Y2 = balancing.PDDS(random_state=0).fit_resample(X[df.split == "train"], V[df.split == "train"])
    assert len(X2) >= 8 and np.allclose(Y2.sum(1), 1)


def test_iemocap_errors_name_the_file(tmp_path, monkeypatch):
    with pytest.raises(data.DataMissingError, match="IEMOCAP not found"):
        emotion.iemocap_root(tmp_path / "nothing")
    root = make_iemocap(tmp_path / "iemocap")
    bad = root / "Session2" / "dialog" / "EmoEvaluation" / "Ses02F_impro01.txt"
    bad.write_text("[6.29 - oops] broken header\n")
    with pytest.raises(data.DataError, match=r"Ses02F_impro01.txt:1: malformed"):
        emotion.iemocap_manifest(root)
    make_iemocap(tmp_path / "other")
    (tmp_path / "other" / "Session3" / "sentences" / "wav" / "Ses03F_impro01" / "Ses03F_impro01_M000.wav").unlink()
    with pytest.raises(data.DataMissingError, match="Ses03F_impro01_M000"):
        emotion.iemocap_manifest(tmp_path / "other")
    empty = tmp_path / "empty.txt"
    empty.write_text("% header only\n")
    with pytest.raises(data.DataError, match="empty.txt: no utterance"):
        emotion.read_emo_evaluation(empty)


def test_stack_frames():
    S = np.arange(2 * 3 * 9).reshape(2, 3, 9).astype(np.float32)  # (n, bins, T)
    out = emotion.stack_frames(S, 4)
    assert out.shape == (2, 2, 12)
    np.testing.assert_array_equal(out[0, 0], np.concatenate([S[0, :, t] for t in range(4)]))
    np.testing.assert_array_equal(out[1, 1], np.concatenate([S[1, :, t] for t in range(4, 8)]))


def test_emodb_split_is_speaker_disjoint(data_available):
    df = emotion.emodb_table()
    data.check_disjoint(df["speaker"], df["split"])
    assert set(df["split"]) == {"train", "val", "test"}
    assert df["recognition_pct"].between(0, 100).all()
    assert sorted(df["emotion"].unique()) == sorted(emotion.EMODB_CLASSES)


def test_crema_votes_types(data_available):
    df, V = emotion.crema_votes()
    assert V.shape == (len(df), 6) and (V.sum(1) > 0).all()
    t = balancing.vote_types(V)
    assert set(np.unique(t["kind"])) <= {"clear", "ambiguous", "no_majority"}
    # The table's majority column agrees with our typing: a ":" in it means a tied top.
    tied = df["vote_majority"].astype(str).str.contains(":").to_numpy()
    assert ((t["kind"] == "no_majority") == tied).all()


def test_load_task_iemocap_full_profile_path(tmp_path, monkeypatch):
    """The `full` profile's task assembly on the fixture: splits, votes, features of equal length."""
    make_iemocap(tmp_path / "iemocap")
    monkeypatch.setenv("AUDIO_REPRO_DATA", str(tmp_path))
    monkeypatch.setenv("AUDIO_REPRO_CACHE", str(tmp_path / "cache"))
    task = emotion.load_task("iemocap", "logmel", clip_s=1.0)
    assert task["X"].shape == (10, 12, 160)  # 1 s: 51 frames of 20 ms, stacked by 4
    assert task["votes"].shape == (10, 6) and task["classes"] == emotion.IEMOCAP_CLASSES
    assert set(task["split"]) == {"train", "val", "test"}
    assert (task["split"][task["df"]["session"] == 5] == "test").all()
    data.check_disjoint(task["groups"], task["split"])
    assert task["y"].tolist() == [emotion.IEMOCAP_CLASSES.index(c) for c in ["neutral", "frustration"] * 5]
    with pytest.raises(ValueError, match="unknown corpus"):
        emotion.load_task("timit", "logmel")


def test_emodb_folds_test_every_speaker_once():
    speakers = np.repeat([s for pair in emotion.EMODB_FOLD_PAIRS for s in pair], 3)
    folds = emotion.emodb_folds(speakers)
    assert len(folds) == 5
    assert (np.sum([f["test"] for f in folds], axis=0) == 1).all()  # every utterance tested exactly once
    for k, f in enumerate(folds):
        assert not (f["train"] & f["val"]).any() and not (f["train"] & f["test"]).any()
        assert not (f["val"] & f["test"]).any() and (f["train"] | f["val"] | f["test"]).all()
        assert f["val_speakers"] == list(emotion.EMODB_FOLD_PAIRS[(k + 1) % 5])
        assert len(f["train_speakers"]) == 6 and f["train"].sum() == 18
        assert not set(f["train_speakers"]) & set(f["test_speakers"] + f["val_speakers"])
    with pytest.raises(data.DataError, match="no fold pair"):
        emotion.emodb_folds(["03", "99"])


def test_emodb_folds_cover_the_real_speakers(data_available):
    df = emotion.emodb_table()
    folds = emotion.emodb_folds(df["speaker"])
    assert (np.sum([f["test"] for f in folds], axis=0) == 1).all()
    for f in folds:  # one man and one woman in every held-out pair (men: 03 10 11 12 15)
        assert len({s in {"03", "10", "11", "12", "15"} for s in f["test_speakers"]}) == 2


def test_same_sentence_pairs_are_the_same_actor_and_sentence_in_order():
    import pandas as pd

    df = pd.DataFrame(
        {
            "speaker": ["03", "03", "03", "08", "08", "03"],
            "text": ["a01", "a01", "a02", "a01", "a01", "a01"],
            "emotion": ["happiness", "anger", "anger", "happiness", "sadness", "anger"],
        },
        index=[10, 11, 12, 13, 14, 15],  # positions, not labels, come back
    )
    pairs = emotion.same_sentence_pairs(df, "happiness", "anger")
    assert pairs[["speaker", "text", "index_a", "index_b"]].values.tolist() == [
        ["03", "a01", 0, 1],
        ["03", "a01", 0, 5],
    ]
    assert emotion.same_sentence_pairs(df, "sadness", "anger").empty  # actor 08 never read a01 in anger
    with pytest.raises(ValueError, match="missing"):
        emotion.same_sentence_pairs(df.drop(columns="text"), "happiness", "anger")


def test_listening_clip_is_short_mono_16k(tmp_path):
    wav = tmp_path / "long.wav"
    t = np.arange(5 * 22050) / 22050
    sf.write(wav, np.stack([np.sin(2 * np.pi * 220 * t)] * 2, axis=1) * 0.5, 22050)  # 5 s, stereo, 22.05 kHz
    y = emotion.listening_clip(wav, 2.0)
    assert y.dtype == np.float32 and y.shape == (32000,)
    assert len(emotion.listening_clip(wav, 3.0)) == 48000
    with pytest.raises(ValueError, match="at most 3"):
        emotion.listening_clip(wav, 4.0)
