"""Awkward but valid audio, and labels or transcripts that are wrong: handled correctly or refused by name.

The broken-file cases (empty, truncated, non-audio bytes, NaN/Inf, stereo, other rates) are in
``test_data.py``; these are the remaining cases of the robustness list.
"""

import librosa
import numpy as np
import pandas as pd
import pytest
import soundfile as sf

from lib import data, features
from lib.datasets import events, kws, librispeech


def test_silence_loads_and_gives_finite_features(tmp_path):
    path = tmp_path / "silence.wav"
    sf.write(path, np.zeros(16000, dtype=np.float32), 16000)
    y, sr = data.load_audio(path)
    assert sr == 16000 and y.shape == (16000,) and not y.any()
    M = features.mfcc(y[None], sr=sr)
    L = features.log_mel(y[None], sr=sr)
    assert np.isfinite(M).all() and np.isfinite(L).all()
    # Per-utterance normalisation of a constant input must not divide by zero.
    assert np.isfinite(features.per_clip_normalize(L)).all()
    st = features.Standardizer(axis=(0, -1)).fit(L)
    assert np.isfinite(st.transform(L)).all()


@pytest.mark.parametrize("n_samples", [1, 50, 300])
def test_clips_shorter_than_one_window_are_padded_like_librosa(tmp_path, n_samples):
    path = tmp_path / "short.wav"
    y = (0.1 * np.random.default_rng(0).standard_normal(n_samples)).astype(np.float32)
    sf.write(path, y, 16000)
    loaded, _ = data.load_audio(path)
    assert len(loaded) == n_samples
    ours = features.mfcc(loaded[None], sr=16000, n_fft=512, hop_length=160, n_mels=40)[0]
    ref = librosa.feature.mfcc(y=loaded, sr=16000, n_mfcc=40, n_fft=512, hop_length=160, n_mels=40)
    assert ours.shape == ref.shape == (40, 1 + n_samples // 160)
    np.testing.assert_allclose(ours, ref, atol=1e-3)
    # A fixed-length model input from a short clip is zero-padded, never an error.
    window = features.loudest_window(loaded, 16000)
    assert window.shape == (16000,) and np.array_equal(window[:n_samples], loaded)


def test_a_long_file_loads_whole_and_gives_one_frame_per_hop(tmp_path):
    sr, minutes = 16000, 10
    rng = np.random.default_rng(1)
    y = (0.05 * rng.standard_normal(sr * 60 * minutes)).astype(np.float32)
    y[sr * 300 : sr * 301] *= 10  # one loud second in the middle
    path = tmp_path / "long.flac"
    sf.write(path, y, sr)
    loaded, _ = data.load_audio(path)
    assert len(loaded) == len(y)
    L = features.log_mel(loaded[None], sr=sr, n_fft=400, hop_length=160, n_mels=40)
    assert L.shape == (1, 40, 1 + len(y) // 160) and L.dtype == np.float32 and np.isfinite(L).all()
    # The chapters' fixed-length crops come from the loudest part of a long recording.
    crop = features.loudest_window(loaded[sr * 290 : sr * 310], sr, hop=sr // 10)
    assert np.abs(crop).mean() > 5 * np.abs(y).mean()


def test_unknown_label_is_refused_by_name():
    with pytest.raises(ValueError, match="'sheila'"):
        kws.label_index(["yes", "sheila"])
    df = pd.DataFrame({"label": ["dog_bark", "car_horn"], "path": ["a.wav", "b.wav"]})
    with pytest.raises(data.DataError, match="car_horn"):
        events.annotate(df)


def test_missing_transcript_is_refused_by_file(tmp_path, monkeypatch):
    folder = tmp_path / "mini_librispeech" / "LibriSpeech" / "train-clean-5" / "19" / "198"
    folder.mkdir(parents=True)
    lines = []
    for u, text in enumerate(["HELLO WORLD", ""]):
        utt = f"19-198-{u:04d}"
        sf.write(folder / f"{utt}.flac", np.zeros(8000, dtype=np.float32), 16000)
        lines.append(f"{utt} {text}".rstrip())
    (folder / "19-198.trans.txt").write_text("\n".join(lines) + "\n")
    monkeypatch.setenv("AUDIO_REPRO_DATA", str(tmp_path))
    with pytest.raises(data.DataError, match="19-198-0001"):
        librispeech.load_manifest("mini_librispeech")
