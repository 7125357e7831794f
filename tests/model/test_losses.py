"""The loss formulas of Gatys et al. 2015 (Methods) against values computed by hand."""
import pytest
import torch

from vidstyle.model.losses import (
    _Gram,
    content_loss,
    gram_matrix,
    normalized_gram,
    style_layer_loss,
    temporal_loss,
    tv_loss,
)

# One layer with N=2 filters on a 1x2 map (M=2): F = [[1, 2], [3, 4]]
F = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).view(1, 2, 1, 2)


def test_gram_is_eq3_by_hand():
    assert gram_matrix(F).tolist() == [[[5.0, 11.0], [11.0, 25.0]]]  # one Gram per sample
    assert gram_matrix(F[0]).tolist() == [[5.0, 11.0], [11.0, 25.0]]


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


def test_gram_gradient_matches_autograd():
    gen = torch.Generator().manual_seed(0)
    f = torch.randn(1, 4, 3, 5, dtype=torch.float64, generator=gen).requires_grad_(True)
    weights = torch.randn(4, 4, dtype=torch.float64, generator=gen)
    (gram_matrix(f).double() * weights).sum().backward()
    reference = f.detach().clone().requires_grad_(True)
    flat = reference.reshape(4, -1)
    ((flat @ flat.t()) * weights).sum().backward()
    assert torch.allclose(f.grad, reference.grad, rtol=1e-5, atol=1e-5)  # the Gram runs in float32


def test_temporal_loss_masked_mean() -> None:
    x = torch.zeros(1, 3, 4, 5)
    warped = torch.ones(1, 3, 4, 5)
    mask = torch.zeros(4, 5)
    assert temporal_loss(x, warped, mask).item() == 0
    mask[:2] = 1  # half the pixels reliable -> mean of mask * 1 = 0.5
    assert temporal_loss(x, warped, mask).item() == pytest.approx(0.5)
    assert temporal_loss(warped, warped, mask).item() == 0


def test_gram_of_a_batch_is_each_samples_own_gram():
    torch.manual_seed(0)
    batch = torch.randn(3, 4, 5, 6)
    grams = gram_matrix(batch)
    assert grams.shape == (3, 4, 4)
    for sample, gram in zip(batch, grams):
        flat = sample.reshape(4, -1)
        assert torch.allclose(gram, flat @ flat.t(), atol=1e-5)
        assert torch.allclose(gram, gram_matrix(sample), atol=1e-6)
    assert torch.allclose(normalized_gram(batch)[1], normalized_gram(batch[1:2])[0], atol=1e-6)


def test_gram_backward_matches_autograd_per_sample():
    torch.manual_seed(1)
    batch = torch.randn(2, 3, 2, 3, dtype=torch.float64, requires_grad=True)
    # float32 inside (as the engine), so check the one-matmul backward against the plain formula's gradient
    weights = torch.randn(2, 3, 3, dtype=torch.float32)
    (gram_matrix(batch) * weights).sum().backward()
    flat = batch.detach().float().reshape(2, 3, -1).requires_grad_(True)
    (torch.bmm(flat, flat.transpose(1, 2)) * weights).sum().backward()
    assert torch.allclose(batch.grad.float().reshape(2, 3, -1), flat.grad, atol=1e-5)


def test_gram_backward_passes_gradcheck():
    """The custom backward of the Gram, (dG + dG^T) F per sample, against finite differences in float64 (the public
    ``gram_matrix`` runs in float32, too coarse for gradcheck, so the Function is checked directly)."""
    flat = torch.randn(2, 4, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(1), requires_grad=True)
    assert torch.autograd.gradcheck(_Gram.apply, (flat,), eps=1e-6, atol=1e-6)


DEVICES = ["cpu"] + (["cuda"] if torch.cuda.is_available() else [])


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["fp32", "bf16"])
def test_feature_losses_run_in_float32_whatever_the_network_dtype(device, dtype):
    """Under bf16 autocast the network hands over bf16 features; the Gram, content and style terms promote them
    to float32, so they equal the float64 value of the same (rounded) features to float32 accuracy, and the
    gradient reaches the features in their own dtype."""
    gen = torch.Generator().manual_seed(2)
    features = torch.randn(1, 8, 6, 7, generator=gen).to(device=device, dtype=dtype).requires_grad_(True)
    target = torch.randn(1, 8, 6, 7, generator=gen).to(device=device, dtype=dtype)
    style = normalized_gram(torch.randn(1, 8, 5, 5, generator=gen).to(device))
    exact = features.detach().double()
    flat = exact.reshape(8, -1)
    expected = {"gram": flat @ flat.t(),
                "content": 0.5 * (exact - target.double()).pow(2).sum(),
                "style": ((flat @ flat.t()) / 42 - style.double()).pow(2).sum() / (4 * 8 * 8)}
    got = {"gram": gram_matrix(features), "content": content_loss(features, target),
           "style": style_layer_loss(features, style)}
    for name, value in got.items():
        assert value.dtype == torch.float32, name
        assert torch.allclose(value.double(), expected[name], rtol=1e-5, atol=1e-5), name
    sum(got.values()).sum().backward()
    assert features.grad is not None and features.grad.dtype == dtype and torch.isfinite(features.grad).all()


@pytest.mark.parametrize("device", DEVICES)
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["fp32", "bf16"])
def test_image_terms_keep_the_image_dtype(device, dtype):
    """TV and the temporal term work on the image in its own dtype; in bf16 they stay within its rounding
    (8 bits of mantissa, ~0.4 %) of the float64 value."""
    gen = torch.Generator().manual_seed(3)
    image = torch.rand(1, 3, 9, 11, generator=gen)
    warped = torch.rand(1, 3, 9, 11, generator=gen)
    mask = (torch.rand(9, 11, generator=gen) > 0.3).float()
    tol = 1e-6 if dtype == torch.float32 else 1e-2
    x = image.to(device=device, dtype=dtype)
    tv, temporal = tv_loss(x), temporal_loss(x, warped.to(device=device, dtype=dtype), mask.to(device))
    assert tv.dtype == dtype and temporal.dtype == dtype
    assert tv.double().item() == pytest.approx(tv_loss(image.double()).item(), rel=tol)
    assert temporal.double().item() == pytest.approx(
        temporal_loss(image.double(), warped.double(), mask.double()).item(), rel=tol)
