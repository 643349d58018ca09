import librosa
import numpy as np
import pytest

from lib import features as F


@pytest.fixture
def batch():
    rng = np.random.default_rng(1)
    t = np.arange(16000) / 16000
    return np.stack(
        [0.5 * np.sin(2 * np.pi * f * t) + 0.05 * rng.standard_normal(16000) for f in (200, 700, 1500)]
    ).astype(np.float32)


@pytest.mark.parametrize("n_fft,hop,n_mels", [(480, 160, 40), (400, 160, 64), (2048, 512, 128)])
def test_mfcc_matches_librosa_per_clip(batch, n_fft, hop, n_mels):
    ours = F.mfcc(batch, sr=16000, n_mfcc=20, n_fft=n_fft, hop_length=hop, n_mels=n_mels)
    for y, o in zip(batch, ours):
        ref = librosa.feature.mfcc(y=y, sr=16000, n_mfcc=20, n_fft=n_fft, hop_length=hop, n_mels=n_mels)
        assert o.shape == ref.shape
        assert np.abs(o - ref).max() < 1e-3 * np.abs(ref).max()


def test_log_mel_matches_librosa(batch):
    ours = F.log_mel(batch[0], sr=16000, n_fft=400, hop_length=160, n_mels=64)
    ref = librosa.power_to_db(
        librosa.feature.melspectrogram(y=batch[0], sr=16000, n_fft=400, hop_length=160, n_mels=64), top_db=80.0
    )
    np.testing.assert_allclose(ours, ref, atol=1e-2)
    ours_max = F.power_to_db(F.mel_spectrogram(batch[0], n_fft=400, n_mels=64), ref="max")
    ref_max = librosa.power_to_db(
        librosa.feature.melspectrogram(y=batch[0], sr=16000, n_fft=400, hop_length=160, n_mels=64), ref=np.max
    )
    np.testing.assert_allclose(ours_max, ref_max, atol=1e-2)


def test_deltas_match_librosa(batch):
    M = F.mfcc(batch[0], n_fft=480)
    np.testing.assert_allclose(F.deltas(M), librosa.feature.delta(M), atol=1e-4)


def test_fix_length_and_frames():
    y = np.arange(10, dtype=np.float32)
    assert F.fix_length(y, 4).tolist() == [0, 1, 2, 3]
    assert F.fix_length(y, 4, mode="center").tolist() == [3, 4, 5, 6]
    assert F.fix_length(y, 12).tolist()[-2:] == [0, 0]
    assert F.fix_frames(np.ones((3, 5)), 7).shape == (3, 7)


def test_loudest_window_finds_the_burst():
    y = np.zeros(48000, dtype=np.float32)
    y[30000:31000] = 1.0
    w = F.loudest_window(y, 16000)
    assert len(w) == 16000 and w.sum() == 1000


def test_loudest_window_matches_a_direct_convolution():
    """The running-sum energy picks the window a direct convolution (the independent reference) picks."""
    rng = np.random.default_rng(1)
    for length, n, hop in [(48_000, 16_000, 160), (30_001, 8_000, 1), (70_000, 16_000, 512)]:
        y = (rng.normal(size=length) * np.abs(np.sin(np.linspace(0, 9, length)))).astype(np.float32)
        energy = np.convolve(y.astype(np.float64) ** 2, np.ones(n), mode="valid")[::hop]
        start = int(np.argmax(energy)) * hop
        np.testing.assert_array_equal(F.loudest_window(y, n, hop=hop), y[start : start + n])


def test_standardizer_uses_training_statistics_only():
    rng = np.random.default_rng(0)
    X = rng.normal(5, 3, size=(100, 4, 20)).astype(np.float32)
    s = F.Standardizer().fit(X)
    Z = s.transform(X)
    np.testing.assert_allclose(Z.mean(axis=(0, 2)), 0, atol=1e-4)
    np.testing.assert_allclose(Z.std(axis=(0, 2)), 1, atol=1e-3)
    assert s.transform(X + 1).mean() > 0.3  # test data keep their offset


def test_spec_augment_masks_and_keeps_shape():
    rng = np.random.default_rng(0)
    S = np.ones((40, 100), dtype=np.float32)
    out = F.spec_augment(S, rng, n_freq_masks=2, freq_width=8, n_time_masks=2, time_width=10, value=0.0)
    assert out.shape == S.shape and (out == 0).any() and S.min() == 1


def test_waveform_augmentations():
    rng = np.random.default_rng(0)
    y = np.sin(np.linspace(0, 100, 16000)).astype(np.float32)
    assert len(F.time_shift(y, 1600, rng)) == 16000
    assert abs(len(F.change_speed(y, 1.25)) - 12800) <= 1
    np.testing.assert_allclose(F.change_volume(y, 6.0206), 2 * y, rtol=1e-4)
    noise = rng.standard_normal(5000).astype(np.float32)
    mixed = F.mix_background(y, noise, rng, volume=0.1)
    assert mixed.shape == y.shape and not np.allclose(mixed, y)
    assert F.random_chunks(rng.standard_normal(50000), 3, 16000, rng).shape == (3, 16000)


def test_cache_computes_once(tmp_path, monkeypatch):
    monkeypatch.setenv(F.CACHE_ENV, str(tmp_path))
    calls = []

    def compute():
        calls.append(1)
        return {"X": np.arange(3)}

    a = F.cached("t", compute, corpus="x", n_mels=40)
    b = F.cached("t", compute, corpus="x", n_mels=40)
    c = F.cached("t", compute, corpus="x", n_mels=64)
    assert len(calls) == 2 and (a["X"] == b["X"]).all() and (c["X"] == a["X"]).all()
