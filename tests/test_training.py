import numpy as np
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
