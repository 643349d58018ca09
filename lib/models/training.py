"""Small PyTorch training helpers shared by the PyTorch chapters: seeding, threads, a fit loop.

The loop is deliberately plain (no framework of our own): one epoch over a
DataLoader, validation loss for model selection and early stopping, and the
best weights restored at the end.
"""

from __future__ import annotations

import copy
import os
import random
import time
from collections.abc import Callable

import numpy as np
import torch
from torch import nn


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and PyTorch; deterministic algorithms on CPU."""
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def set_threads(n: int | None = None) -> int:
    """Intra-op threads for PyTorch (default: all cores of this machine)."""
    n = n or os.cpu_count() or 1
    torch.set_num_threads(n)
    return n


def fit(
    model: nn.Module,
    train_loader,
    val_loader,
    loss_fn: Callable,
    optimizer: torch.optim.Optimizer,
    epochs: int,
    scheduler=None,
    patience: int | None = None,
    step_scheduler_per_batch: bool = False,
    metrics: Callable[[nn.Module], dict] | None = None,
    log: Callable[[str], None] | None = print,
    val_loss_fn: Callable | None = None,
) -> list[dict]:
    """Train for up to ``epochs``; keep the weights with the lowest validation loss.

    ``loss_fn(model, batch) -> scalar tensor`` computes the loss of one batch, so the
    same loop serves classifiers, Siamese pairs and CTC.  ``metrics(model)`` may add
    per-epoch numbers to the history.  ``val_loss_fn`` (default ``loss_fn``) scores the
    validation batches, e.g. plain cross-entropy when training uses a resampled or
    re-weighted loss.  Stops after ``patience`` epochs without improvement.
    Returns the history (one dict per epoch).
    """
    history = []
    best_loss, best_state, since_best = float("inf"), None, 0
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        model.train()
        total, n = 0.0, 0
        for batch in train_loader:
            optimizer.zero_grad(set_to_none=True)
            loss = loss_fn(model, batch)
            loss.backward()
            optimizer.step()
            if scheduler is not None and step_scheduler_per_batch:
                scheduler.step()
            size = len(batch[0]) if isinstance(batch, (list, tuple)) else 1
            total += float(loss.detach()) * size
            n += size
        if scheduler is not None and not step_scheduler_per_batch:
            scheduler.step()
        train_time = time.perf_counter() - t0
        val_loss = evaluate_loss(model, val_loader, val_loss_fn or loss_fn) if val_loader is not None else float("nan")
        row = {
            "epoch": epoch,
            "train_loss": total / max(n, 1),
            "val_loss": val_loss,
            "epoch_time_s": train_time,
            "samples_per_s": n / max(train_time, 1e-9),
        }
        if metrics is not None:
            row.update(metrics(model))
        history.append(row)
        if log:
            log(" ".join(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}" for k, v in row.items()))
        if val_loader is None:
            continue
        if val_loss < best_loss - 1e-6:
            best_loss, best_state, since_best = val_loss, copy.deepcopy(model.state_dict()), 0
        else:
            since_best += 1
            if patience is not None and since_best >= patience:
                break
    if best_state is not None:
        model.load_state_dict(best_state)
    return history


@torch.no_grad()
def evaluate_loss(model: nn.Module, loader, loss_fn: Callable) -> float:
    model.eval()
    total, n = 0.0, 0
    for batch in loader:
        size = len(batch[0]) if isinstance(batch, (list, tuple)) else 1
        total += float(loss_fn(model, batch)) * size
        n += size
    return total / max(n, 1)


@torch.no_grad()
def predict(model: nn.Module, X, batch_size: int = 256) -> np.ndarray:
    """Model outputs for an array or tensor, in batches, in eval mode."""
    model.eval()
    X = torch.as_tensor(X)
    return torch.cat([model(X[i : i + batch_size]) for i in range(0, len(X), batch_size)]).numpy()


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
