"""Shared fixtures: the data directory (AUDIO_REPRO_DATA, default ../shared/data) and small audio files."""

import os
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

ROOT = Path(__file__).resolve().parents[1]
if "AUDIO_REPRO_DATA" not in os.environ and (ROOT.parent / "shared" / "data").is_dir():
    os.environ["AUDIO_REPRO_DATA"] = str((ROOT.parent / "shared" / "data").resolve())


def pytest_collection_modifyitems(config, items):
    # Cheap unit tests first, chapter runs and the book build last (they depend on each other in order).
    # The browser test reads the smoke build that tests/test_chapters.py makes, so it goes last.
    items.sort(key=lambda item: (1 if item.get_closest_marker("slow") else 0, "test_browser" in item.nodeid))


@pytest.fixture
def data_available():
    from lib import data

    if not (data.data_dir() / "speech_commands_v0.02").is_dir():
        pytest.skip("data mirror not available (set AUDIO_REPRO_DATA)")
    return data.data_dir()


@pytest.fixture
def tone():
    sr = 16000
    t = np.arange(sr) / sr
    return (0.3 * np.sin(2 * np.pi * 440 * t) + 0.05 * np.random.default_rng(0).standard_normal(sr)).astype(
        np.float32
    ), sr


@pytest.fixture
def audio_files(tmp_path, tone):
    """Good and broken audio files: the loader must read or reject each one clearly."""
    y, sr = tone
    files = {}
    files["wav"] = tmp_path / "good.wav"
    sf.write(files["wav"], y, sr)
    files["flac"] = tmp_path / "good_flac.flac"
    sf.write(files["flac"], y, sr)
    files["opus"] = tmp_path / "good_opus.opus"
    sf.write(files["opus"], np.r_[y, y], 48000, format="OGG", subtype="OPUS")
    files["stereo"] = tmp_path / "stereo.wav"
    sf.write(files["stereo"], np.stack([y, 0 * y], axis=1), sr)
    files["rate8k"] = tmp_path / "rate8k.wav"
    sf.write(files["rate8k"], y[::2], 8000)
    files["empty"] = tmp_path / "empty.wav"
    files["empty"].write_bytes(b"")
    files["truncated"] = tmp_path / "truncated.flac"
    files["truncated"].write_bytes(files["flac"].read_bytes()[:200])
    files["not_audio"] = tmp_path / "not_audio.wav"
    files["not_audio"].write_bytes(b"this is not a RIFF file at all" * 10)
    files["nan"] = tmp_path / "nan.wav"
    bad = y.copy()
    bad[100] = np.nan
    sf.write(files["nan"], bad, sr, subtype="FLOAT")
    return files


@pytest.fixture(autouse=True)
def _forget_corpora_used():
    """lib.provenance remembers the corpora a process read (``lib.data._USED`` is the same set); tests
    must not leak them into each other, e.g. a fixture corpus under a temporary data folder."""
    from lib import provenance

    provenance._USED.clear()
    yield
    provenance._USED.clear()
