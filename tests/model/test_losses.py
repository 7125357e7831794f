"""The loss formulas of Gatys et al. 2015 (Methods) against values computed by hand."""
import pytest
import torch

from vidstyle.config import LayerPlan
from vidstyle.model.losses import (
    GatysLoss,
    content_loss,
    gram_matrix,
    normalized_gram,
    style_layer_loss,
    tv_loss,
)

# One layer with N=2 filters on a 1x2 map (M=2): F = [[1, 2], [3, 4]]
F = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).view(1, 2, 1, 2)


def test_gram_is_eq3_by_hand():
    assert gram_matrix(F).tolist() == [[5.0, 11.0], [11.0, 25.0]]


def test_content_loss_is_eq1_by_hand():
    P = torch.tensor([[0.0, 2.0], [1.0, 1.0]]).view(1, 2, 1, 2)
    # 1/2 * (1 + 0 + 4 + 9)
    assert content_loss(F, P).item() == pytest.approx(7.0)


def test_style_layer_loss_is_eq4_by_hand():
    A = torch.tensor([[4.0, 10.0], [10.0, 20.0]])  # style Gram with the same M=2
    # sum (G-A)^2 = 1 + 1 + 1 + 25 = 28 ; 1/(4 N^2 M^2) = 1/(4*4*4) = 1/64
    expected = 28 / 64
    assert style_layer_loss(F, A / 2).item() == pytest.approx(expected)


def test_style_target_normalised_by_its_own_size():
    # a style map twice as large with the same statistics has the same normalised Gram
    doubled = torch.cat([F, F], dim=-1)
    assert torch.allclose(normalized_gram(doubled), normalized_gram(F))
    assert style_layer_loss(F, normalized_gram(doubled)).item() == pytest.approx(0.0)


def test_tv_loss_by_hand():
    img = torch.tensor([[0.0, 1.0], [1.0, 3.0]]).view(1, 1, 2, 2)
    # horizontal diffs 1, 2 ; vertical diffs 1, 2 -> 1+4+1+4
    assert tv_loss(img).item() == pytest.approx(10.0)


def test_total_is_eq7_with_eq5_weights():
    P = torch.zeros_like(F)
    G1 = torch.zeros(2, 2)
    plan = LayerPlan(content=("a",), style=(("a", 0.25), ("b", 0.75)), content_weight=2.0, style_weight=10.0,
                     tv_weight=0.5)
    loss = GatysLoss(plan, {"a": G1, "b": normalized_gram(F)}, {"a": P})
    image = torch.zeros(1, 3, 2, 2)
    parts = loss({"a": F, "b": F}, image)
    lc = 0.5 * (1 + 4 + 9 + 16)
    e_a = ((gram_matrix(F) / 2) ** 2).sum().item() / 16
    assert parts["content"].item() == pytest.approx(lc)
    assert parts["style"].item() == pytest.approx(0.25 * e_a + 0.75 * 0.0)
    assert parts["total"].item() == pytest.approx(2.0 * lc + 10.0 * 0.25 * e_a)


def test_gram_gradient_matches_autograd():
    f = torch.randn(1, 4, 3, 5, dtype=torch.float64, requires_grad=True)
    weights = torch.randn(4, 4, dtype=torch.float64)
    (gram_matrix(f).double() * weights).sum().backward()
    reference = f.detach().clone().requires_grad_(True)
    flat = reference.reshape(4, -1)
    ((flat @ flat.t()) * weights).sum().backward()
    assert torch.allclose(f.grad, reference.grad)
