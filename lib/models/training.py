"""Small PyTorch training helpers shared by the PyTorch chapters: seeding, threads, devices, a fit loop.

The loop is deliberately plain (no framework of our own): one epoch over a
DataLoader, validation loss for model selection and early stopping, and the
best weights restored at the end.

Devices: :func:`fit` trains on :func:`training_device` (``cuda`` when PyTorch sees a GPU, else the
CPU; ``$AUDIO_REPRO_DEVICE`` overrides) and hands the trained model back on the CPU, so every
evaluation and inference path of the book runs unchanged after it.  Functions that run a model
inside the loop (validation embeddings, dev-set decoding) send their inputs to
:func:`device_of` the model.  :func:`autocast` gives the bfloat16 autocast a chapter enabled after
its parity check, on whichever device the model sits.  What was used is recorded in
:data:`USED` and reaches each result's provenance (:func:`lib.provenance.compute_devices`).
"""

from __future__ import annotations

import copy
import os
import random
import time
from collections.abc import Callable
from contextlib import AbstractContextManager

import numpy as np
import torch
from torch import nn

# What this process trained with: device names and the mixed-precision modes entered (for provenance).
USED: dict[str, set[str]] = {"devices": set(), "mixed_precision": set()}


def set_seed(seed: int) -> None:
    """Seed Python, NumPy and PyTorch; deterministic algorithms (on a GPU as far as PyTorch offers them)."""
    # cuBLAS is deterministic only with a fixed workspace; the variable must be set before its first call.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.use_deterministic_algorithms(True, warn_only=True)


def set_threads(n: int | None = None) -> int:
    """Intra-op threads for PyTorch (default: all cores of this machine)."""
    n = n or os.cpu_count() or 1
    torch.set_num_threads(n)
    return n


def training_device() -> torch.device:
    """``$AUDIO_REPRO_DEVICE`` (``cpu``, ``cuda``, ``cuda:1``…) when set, else ``cuda`` if PyTorch sees a GPU."""
    wanted = os.environ.get("AUDIO_REPRO_DEVICE", "").strip()
    if wanted:
        device = torch.device(wanted)
        if device.type == "cuda" and not torch.cuda.is_available():
            raise RuntimeError(f"AUDIO_REPRO_DEVICE={wanted!r}, but PyTorch sees no GPU on this machine")
        return device
    return torch.device("cuda") if torch.cuda.is_available() else torch.device("cpu")


def device_of(model: nn.Module) -> torch.device:
    """The device of ``model``'s first parameter (the CPU for a model without parameters)."""
    return next((p.device for p in model.parameters()), torch.device("cpu"))


def to_device(batch, device: torch.device):
    """``batch`` with every tensor in it (inside tuples, lists and dicts) on ``device``; other values as they are."""
    if isinstance(batch, torch.Tensor):
        return batch.to(device, non_blocking=True)
    if isinstance(batch, (list, tuple)):
        return type(batch)(to_device(b, device) for b in batch)
    if isinstance(batch, dict):
        return {k: to_device(v, device) for k, v in batch.items()}
    return batch


def autocast(model: nn.Module, enabled: bool) -> AbstractContextManager:
    """bfloat16 autocast on ``model``'s device when ``enabled`` (a chapter enables it after its parity check)."""
    device_type = device_of(model).type
    if enabled:
        USED["mixed_precision"].add(f"bfloat16 autocast ({device_type})")
    return torch.autocast(device_type, dtype=torch.bfloat16, enabled=enabled)


def _move_optimizer_state(optimizer: torch.optim.Optimizer, device: torch.device) -> None:
    for state in optimizer.state.values():
        for key, value in state.items():
            if isinstance(value, torch.Tensor) and key != "step":
                state[key] = value.to(device)


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return f"{device} ({torch.cuda.get_device_name(device)})"
    return str(device)


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
    Trains on :func:`training_device` and returns the model to the CPU.
    Returns the history (one dict per epoch).
    """
    device = training_device()
    USED["devices"].add(_device_name(device))
    model.to(device)
    _move_optimizer_state(optimizer, device)
    history = []
    best_loss, best_state, since_best = float("inf"), None, 0
    for epoch in range(1, epochs + 1):
        t0 = time.perf_counter()
        model.train()
        total, n = 0.0, 0
        for batch in train_loader:
            batch = to_device(batch, device)
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
    model.to("cpu")
    _move_optimizer_state(optimizer, torch.device("cpu"))
    return history


@torch.no_grad()
def evaluate_loss(model: nn.Module, loader, loss_fn: Callable) -> float:
    model.eval()
    device = device_of(model)
    total, n = 0.0, 0
    for batch in loader:
        batch = to_device(batch, device)
        size = len(batch[0]) if isinstance(batch, (list, tuple)) else 1
        total += float(loss_fn(model, batch)) * size
        n += size
    return total / max(n, 1)


@torch.no_grad()
def predict(model: nn.Module, X, batch_size: int = 256) -> np.ndarray:
    """Model outputs for an array or tensor, in batches, in eval mode."""
    model.eval()
    X, device = torch.as_tensor(X), device_of(model)
    return torch.cat([model(X[i : i + batch_size].to(device)).cpu() for i in range(0, len(X), batch_size)]).numpy()


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
