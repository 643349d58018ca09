"""The imbalance losses of lib.balancing against independent references."""

import numpy as np
import torch
import torch.nn.functional as F

from lib import balancing


def test_focal_loss_reduces_to_cross_entropy_and_matches_formula():
    torch.manual_seed(0)
    logits, target = torch.randn(16, 5), torch.randint(0, 5, (16,))
    assert torch.allclose(balancing.focal_loss(logits, target, gamma=0.0), F.cross_entropy(logits, target))
    p = torch.softmax(logits, -1).numpy()
    pt = p[np.arange(16), target.numpy()]
    ref = np.mean(-((1 - pt) ** 2) * np.log(pt))  # the formula written out in NumPy
    assert np.isclose(float(balancing.focal_loss(logits, target, gamma=2.0)), ref, rtol=1e-5)
    w = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])
    assert torch.allclose(balancing.focal_loss(logits, target, 0.0, w), F.cross_entropy(logits, target, weight=w))


def test_logit_adjustment():
    torch.manual_seed(1)
    logits, target = torch.randn(8, 3), torch.randint(0, 3, (8,))
    prior = torch.log(torch.tensor([0.7, 0.2, 0.1]))
    assert torch.allclose(
        balancing.logit_adjusted_loss(logits, target, prior, tau=0.0), F.cross_entropy(logits, target)
    )
    # A frequent class gets a larger additive logit in training, so the loss on its samples is smaller.
    frequent = balancing.logit_adjusted_loss(torch.zeros(1, 3), torch.tensor([0]), prior)
    rare = balancing.logit_adjusted_loss(torch.zeros(1, 3), torch.tensor([2]), prior)
    assert frequent < rare


def test_soft_cross_entropy_equals_ce_for_one_hot():
    torch.manual_seed(2)
    logits, target = torch.randn(6, 4), torch.randint(0, 4, (6,))
    assert torch.allclose(
        balancing.soft_cross_entropy(logits, F.one_hot(target, 4).float()), F.cross_entropy(logits, target)
    )
