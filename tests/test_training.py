import numpy as np
import pytest
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset

from lib.models import training


def _train(seed):
    training.set_seed(seed)
    X = torch.randn(256, 8)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).long()
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Dropout(0.2), nn.Linear(16, 2))
    loader = DataLoader(TensorDataset(X, y), batch_size=32, shuffle=True, generator=torch.Generator().manual_seed(seed))
    val = DataLoader(TensorDataset(X[:64], y[:64]), batch_size=64)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    history = training.fit(
        model, loader, val, lambda m, b: nn.functional.cross_entropy(m(b[0]), b[1]), opt, epochs=6, patience=3, log=None
    )
    return history, training.predict(model, X)


def test_fit_learns_and_is_deterministic_on_cpu():
    h1, p1 = _train(0)
    h2, p2 = _train(0)
    assert [r["train_loss"] for r in h1] == [r["train_loss"] for r in h2]
    np.testing.assert_array_equal(p1, p2)
    assert h1[-1]["train_loss"] < h1[0]["train_loss"]
    h3, _ = _train(1)
    assert [r["train_loss"] for r in h3] != [r["train_loss"] for r in h1]


def test_count_parameters():
    assert training.count_parameters(nn.Linear(3, 2)) == 8


def test_to_device_moves_every_tensor_and_keeps_the_containers():
    x, y = torch.ones(2), torch.zeros(3, dtype=torch.long)
    batch = (x, [y, None], {"lengths": y, "name": "a"}, 3)
    moved = training.to_device(batch, torch.device("cpu"))
    assert type(moved) is tuple and type(moved[1]) is list and moved[1][1] is None and moved[3] == 3
    assert moved[2]["name"] == "a" and torch.equal(moved[2]["lengths"], y) and torch.equal(moved[0], x)


def test_training_device_follows_the_setting(monkeypatch):
    monkeypatch.setenv("AUDIO_REPRO_DEVICE", "cpu")
    assert training.training_device() == torch.device("cpu")
    monkeypatch.delenv("AUDIO_REPRO_DEVICE")
    assert training.training_device().type == ("cuda" if torch.cuda.is_available() else "cpu")
    if not torch.cuda.is_available():
        monkeypatch.setenv("AUDIO_REPRO_DEVICE", "cuda")
        with pytest.raises(RuntimeError, match="sees no GPU"):
            training.training_device()


def test_fit_records_its_device_and_precision_and_hands_the_model_back_on_the_cpu(monkeypatch):
    from lib import provenance

    monkeypatch.setattr(training, "USED", {"devices": set(), "mixed_precision": set()})
    monkeypatch.setenv("AUDIO_REPRO_DEVICE", "cpu")
    X, y = torch.randn(32, 4), torch.randint(0, 2, (32,))
    model = nn.Linear(4, 2)
    loader = DataLoader(TensorDataset(X, y), batch_size=8)

    def loss(m, b):
        with training.autocast(m, True):
            out = m(b[0])
        return nn.functional.cross_entropy(out.float(), b[1])

    training.fit(model, loader, loader, loss, torch.optim.Adam(model.parameters()), epochs=2, log=None)
    assert training.device_of(model) == torch.device("cpu")
    devices = provenance.compute_devices()
    assert devices["torch_training_devices"] == ["cpu"]
    assert devices["torch_mixed_precision"] == ["bfloat16 autocast (cpu)"]
    assert devices["gpus_used"] == []


def test_no_model_code_pins_autocast_to_the_cpu():
    # A loss written with torch.autocast("cpu", ...) would silently train in float32 on a GPU.
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    pinned = [
        p.relative_to(root).as_posix()
        for p in [*(root / "lib").rglob("*.py"), *(root / "chapters").glob("*.py")]
        if 'torch.autocast("cpu"' in p.read_text()
    ]
    assert pinned == []
