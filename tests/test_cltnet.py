"""CLTNet shapes, the KL loss of eq. (6) against a direct numpy computation, training smoke, embedding model."""

import numpy as np
import pytest
import torch

from lib.models import cltnet


def test_audio_branch_and_model_shapes():
    x = torch.randn(5, 16, 96)
    branch = cltnet.AudioBranch(96, d1=300, d=100)
    assert branch(x).shape == (5, 100)
    assert branch.proj.in_features == 4 * 300  # three conv blocks + the LSTM block, d1 = 300 each
    assert [c.kernel_size[0] for c in branch.convs] == [3, 4, 5]
    model = cltnet.CLTNet(7, audio_dim=96)
    assert model(x).shape == (5, 7)
    assert cltnet.CLTNet(7, audio_dim=96)(torch.randn(2, 3, 96)).shape == (2, 7)  # shorter than the widest kernel
    with pytest.raises(ValueError, match="batch, frames, features"):
        branch(torch.randn(5, 96))


def test_text_branch_and_fusion_shapes_with_padding():
    text = torch.randn(4, 12, 768)
    mask = torch.zeros(4, 12, dtype=torch.bool)
    mask[0, 6:] = True  # first sentence has 6 words
    tb = cltnet.TextBranch(768, d2=100, d=100, layers=5, heads=5)
    assert len(tb.encoder.layers) == 5 and tb.encoder.layers[0].self_attn.num_heads == 5
    tb.eval()
    assert tb(text, mask).shape == (4, 100)
    a = tb.attention(text, mask)
    assert torch.allclose(a.sum(1), torch.ones(4)) and torch.all(a[0, 6:] == 0)
    # Padding must not change the representation of the padded sentence.
    short = tb(text[:1, :6])
    assert torch.allclose(short, tb(text, mask)[:1], atol=1e-5)
    both = cltnet.CLTNet(6, audio_dim=96, text_dim=768, modalities="audio+text")
    assert both(torch.randn(4, 16, 96), text, mask).shape == (4, 6)
    assert both.fuse.in_features == 200  # W_u in R^{2d x d}
    only_text = cltnet.CLTNet(6, text_dim=768, modalities="text")
    assert only_text(text, mask).shape == (4, 6)
    with pytest.raises(ValueError, match="modalities"):
        cltnet.CLTNet(6, audio_dim=3, modalities="video")


def test_kl_loss_matches_equation_6():
    rng = np.random.default_rng(0)
    logits = rng.normal(size=(8, 5))
    y = rng.dirichlet(np.ones(5), size=8)
    y[0] = [1, 0, 0, 0, 0]  # one-hot row: 0 log 0 = 0
    y[1] = [0.8, 0.2, 0, 0, 0]
    p = np.exp(logits) / np.exp(logits).sum(1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        terms = np.where(y > 0, y * np.log(y / p), 0.0)
    expected = terms.sum(1).mean()
    got = cltnet.kl_loss(torch.tensor(logits), torch.tensor(y))
    assert float(got) == pytest.approx(expected, rel=1e-6)
    # For one-hot targets it equals the cross-entropy.
    onehot = torch.eye(5)[[0, 2, 4]]
    lg = torch.tensor(logits[:3])
    assert float(cltnet.kl_loss(lg, onehot)) == pytest.approx(
        float(torch.nn.functional.cross_entropy(lg, torch.tensor([0, 2, 4]))), rel=1e-6
    )


def test_training_learns_a_separable_toy_task_and_predicts_distributions():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, size=90)
    X = rng.normal(size=(90, 8, 4)).astype(np.float32)
    X[np.arange(90), :, y] += 2.0
    Y = np.eye(3, dtype=np.float32)[y]
    torch.manual_seed(0)  # the initialisation must not depend on which tests ran before
    model = cltnet.PooledMLP(4, 3, hidden=16)
    hist = cltnet.train(model, X[:60], Y[:60], X[60:], Y[60:], epochs=80, patience=80, seed=0, log=None)
    assert hist[-1]["train_loss"] < hist[0]["train_loss"]
    proba = cltnet.predict_proba(model, X[60:])
    assert proba.shape == (30, 3) and np.allclose(proba.sum(1), 1, atol=1e-5)
    assert (proba.argmax(1) == y[60:]).mean() > 0.8
    small = cltnet.CLTNet(3, audio_dim=4, d1=8, d=6)
    cltnet.train(small, X[:60], Y[:60], X[60:], Y[60:], epochs=1, seed=0, log=None)
    assert cltnet.embed(small, X[:5]).shape == (5, 6)
    with pytest.raises(ValueError, match="label distributions"):
        cltnet.train(small, X[:60], y[:60], X[60:], Y[60:], epochs=1)


def test_speech_embedding_matches_openwakeword():
    pytest.importorskip("onnxruntime")
    utils = pytest.importorskip("openwakeword.utils")
    wave = (0.1 * np.random.default_rng(0).standard_normal(24000)).astype(np.float32)
    ours = cltnet.SpeechEmbedding()(wave[None])
    assert ours.shape == (1, (150 - 76) // 8 + 1, 96) or ours.shape[2] == 96
    ref = utils.AudioFeatures()._get_embeddings(np.clip(np.round(wave * 32767), -32768, 32767).astype(np.int16))
    np.testing.assert_allclose(ours[0], ref, rtol=1e-5, atol=1e-5)
    with pytest.raises(ValueError, match="at least 76"):
        cltnet.SpeechEmbedding()(wave[None, :4000])
