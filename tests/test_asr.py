"""Fast unit tests of the CTC recogniser module and the LibriSpeech dataset helpers."""

import numpy as np
import pandas as pd
import pytest
import soundfile as sf
import torch

from lib import data
from lib.datasets import librispeech
from lib.models import asr


def test_text_transform_round_trip_and_paper_map():
    t = asr.TEXT
    assert t.char_map["'"] == 0 and t.char_map["<SPACE>"] == 1 and t.char_map["a"] == 2 and t.char_map["z"] == 27
    assert t.blank == 28 and t.n_classes == 29
    text = "he hoped there'd be stew"
    assert t.int_to_text(t.text_to_int(text)) == text
    assert t.text_to_int("a b") == [2, 1, 3]


def test_text_transform_rejects_unknown_characters_by_name():
    with pytest.raises(ValueError, match="'1'"):
        asr.TEXT.text_to_int("track 1")
    assert asr.TEXT.normalize("Hello, World!  It's 2 AM") == "hello world it's am"


def test_greedy_decode_merges_repeats_and_drops_blanks():
    b = asr.TEXT.blank
    seq = [2, 2, b, 2, 1, 1, 3, b, b]  # a a _ a <sp> <sp> b _ _  ->  "aa b"
    lp = torch.full((1, len(seq), asr.TEXT.n_classes), -10.0)
    for i, c in enumerate(seq):
        lp[0, i, c] = 0.0
    assert asr.greedy_decode(lp) == ["aa b"]
    assert asr.greedy_decode(lp, lengths=[3]) == ["a"]


@pytest.mark.parametrize("kind", ["cnn_lstm", "cnn_bigru", "cnn_rescnn_bigru"])
@pytest.mark.parametrize("stride", [2, 3])
def test_model_output_shape_and_lengths(kind, stride):
    m = asr.build_model(kind, n_mels=16, cnn_channels=4, n_res_blocks=1, rnn_dim=8, n_rnn_layers=1, time_stride=stride)
    x = torch.randn(2, 1, 16, 37)
    out = m(x)
    assert out.shape == (2, int(m.output_lengths(torch.tensor(37))), asr.TEXT.n_classes)
    assert torch.allclose(out.exp().sum(-1), torch.ones(out.shape[:2]), atol=1e-5)
    with pytest.raises(ValueError):
        asr.build_model("transformer")


def test_ctc_loss_matches_independent_forward_algorithm():
    """Our batch loss (torch CTC, mean over target lengths) against a plain-numpy CTC forward pass."""
    torch.manual_seed(0)
    T = 7
    m = asr.build_model("cnn_bigru", n_mels=8, cnn_channels=2, rnn_dim=4, n_rnn_layers=1, time_stride=2)
    m.eval()  # no dropout: both computations see the same outputs
    x = torch.randn(1, 1, 8, 2 * T - 1)
    labels = [2, 2, 3]
    batch = (x, torch.tensor([labels]), torch.tensor([2 * T - 1]), torch.tensor([3]))
    loss = float(asr.ctc_loss(m, batch).detach())
    lp = m(x)[0].detach().double().numpy()
    ext = [asr.TEXT.blank]
    for c in labels:
        ext += [c, asr.TEXT.blank]
    alpha = np.full(len(ext), -np.inf)
    alpha[0], alpha[1] = lp[0, ext[0]], lp[0, ext[1]]
    for t in range(1, lp.shape[0]):
        new = np.full(len(ext), -np.inf)
        for s in range(len(ext)):
            terms = [alpha[s]] + ([alpha[s - 1]] if s >= 1 else [])
            if s >= 2 and ext[s] != asr.TEXT.blank and ext[s] != ext[s - 2]:
                terms.append(alpha[s - 2])
            new[s] = np.logaddexp.reduce(terms) + lp[t, ext[s]]
        alpha = new
    nll = -np.logaddexp(alpha[-1], alpha[-2])
    assert loss == pytest.approx(nll / len(labels), rel=1e-4)


def test_training_reduces_loss_on_a_tiny_set():
    rng = np.random.default_rng(0)
    feats = [rng.standard_normal((16, 40)).astype(np.float32) for _ in range(4)]
    texts = ["ab", "ba", "abc", "c"]
    train = asr.UtteranceSet(feats, texts, augment=dict(n_freq_masks=1, freq_width=2, n_time_masks=1, time_width=4))
    dev = asr.UtteranceSet(feats, texts)
    m = asr.build_model("cnn_bigru", n_mels=16, cnn_channels=4, rnn_dim=16, n_rnn_layers=1)
    hist = asr.train_ctc(m, train, dev, epochs=6, batch_size=2, max_lr=1e-2, log=None)
    assert hist[-1]["train_loss"] < hist[0]["train_loss"]
    assert {"dev_cer", "dev_wer"} <= set(hist[0])
    res = asr.evaluate(m, feats, texts)
    assert 0 <= res["cer"] and len(res["hypotheses"]) == 4


def test_utterance_set_validates_lengths():
    with pytest.raises(ValueError, match="2 feature matrices but 1"):
        asr.UtteranceSet([np.zeros((4, 5))] * 2, ["a"])


def test_bucket_sampler_covers_every_item_once():
    s = asr.BucketBatchSampler([5, 1, 9, 3, 7, 2, 8], batch_size=3, shuffle=True, seed=1)
    items = sorted(i for b in s for i in b)
    assert items == list(range(7)) and len(s) == 3


def _fake_librispeech(root, subsets):
    sr = 16000
    rng = np.random.default_rng(0)
    for subset, speakers in subsets.items():
        for spk in speakers:
            folder = root / "LibriSpeech" / subset / spk / "10"
            folder.mkdir(parents=True)
            lines = []
            for u in range(2):
                utt = f"{spk}-10-{u:04d}"
                sf.write(folder / f"{utt}.flac", 0.1 * rng.standard_normal(sr // 2).astype(np.float32), sr)
                lines.append(f"{utt} HELLO WORLD NUMBER {u}")
            (folder / f"{spk}-10.trans.txt").write_text("\n".join(lines) + "\n")


def test_librispeech_100_loader_official_split_on_generated_fixture(tmp_path, monkeypatch):
    corpus = tmp_path / "librispeech_100"
    _fake_librispeech(corpus, {"train-clean-100": ["11", "12"], "dev-clean": ["21"], "test-clean": ["31"]})
    monkeypatch.setenv("AUDIO_REPRO_DATA", str(tmp_path))
    df = librispeech.official_split(librispeech.load_manifest("librispeech_100"))
    assert df.groupby("split")["speaker"].nunique().to_dict() == {"dev": 1, "test": 1, "train": 2}
    assert df["text"].iloc[0] == "hello world number"
    assert df["duration_s"].iloc[0] == pytest.approx(0.5)
    feats = librispeech.compute_features(df["abs_path"][:2], asr.FeatureConfig(n_mels=16))
    assert feats[0].shape[0] == 16 and abs(float(feats[0].astype(np.float32).mean())) < 1e-2


def test_official_split_names_the_bad_path():
    df = pd.DataFrame({"path": ["LibriSpeech/other-set/1/2/1-2-0000.flac"], "speaker": ["1"]})
    with pytest.raises(data.DataError, match="other-set"):
        librispeech.official_split(df)


def test_speaker_split_is_disjoint():
    df = pd.DataFrame({"speaker": [str(i % 10) for i in range(100)], "utt": range(100)})
    out = librispeech.speaker_split(df, {"train": 0.8, "dev": 0.1, "test": 0.1}, seed=3)
    assert out.groupby("speaker")["split"].nunique().max() == 1
    assert set(out["split"]) == {"train", "dev", "test"}


def test_transcribe_resamples_and_returns_text():
    m = asr.build_model("cnn_lstm", n_mels=16, cnn_channels=2, rnn_dim=8, n_rnn_layers=1)
    y = np.random.default_rng(0).standard_normal(8000).astype(np.float32) * 0.1
    text = asr.transcribe(m, y, sr=8000, cfg=asr.FeatureConfig(n_mels=16))
    assert isinstance(text, str) and set(text) <= set("abcdefghijklmnopqrstuvwxyz' ")
    assert asr.transcribe(m, y, sr=8000) == text  # without a cfg: the model's own number of mel bands
    with pytest.raises(ValueError, match="n_mels=64.*n_mels=16"):
        asr.transcribe(m, y, sr=8000, cfg=asr.FeatureConfig())


def test_saved_recogniser_brings_its_features_and_transcribes_files_one_at_a_time(tmp_path, monkeypatch):
    torch.manual_seed(0)
    m = asr.build_model("cnn_bigru", n_mels=24, cnn_channels=2, rnn_dim=8, n_rnn_layers=1, time_stride=3)
    cfg = asr.FeatureConfig(n_mels=24, n_fft=320)
    path = tmp_path / "models" / "rec.pt"
    asr.save_recogniser(m, path, cfg)
    rng = np.random.default_rng(1)
    files = []
    for i, n in enumerate([4000, 16000, 9000]):  # different lengths: a padded batch would differ
        f = tmp_path / f"u{i}.wav"
        sf.write(f, (0.1 * rng.standard_normal(n)).astype(np.float32), 16000 if i != 1 else 8000)
        files.append(f)
    monkeypatch.chdir(tmp_path / "models")
    out = asr.transcribe_files(files, "rec.pt")
    assert list(out.columns) == ["path", "transcript", "duration_s"] and len(out) == 3
    loaded = asr.load_recogniser(path)[0]
    assert loaded.feature_cfg == cfg
    assert list(out["transcript"]) == [asr.transcribe(loaded, f) for f in files]
    assert out["duration_s"].round(3).tolist() == [0.25, 2.0, 0.562]
