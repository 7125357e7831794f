"""Named loss terms and their composition (vidstyle.engine.terms), against values computed by hand."""
import numpy as np
import pytest
import torch

from vidstyle.engine.terms import compose, content_term, style_term, temporal_term, tv_term
from vidstyle.engine.units import UNITS
from vidstyle.model.losses import gram_matrix, normalized_gram

# One layer with N=2 filters on a 1x2 map (M=2): F = [[1, 2], [3, 4]]
F = torch.tensor([[1.0, 2.0], [3.0, 4.0]]).view(1, 2, 1, 2)


def test_total_is_eq7_with_eq5_weights_in_paper_units():
    P = torch.zeros_like(F)
    G1 = torch.zeros(2, 2)
    terms = [content_term({"a": P}, 2.0, UNITS["paper"]),
             style_term({"a": G1, "b": normalized_gram(F)}, (("a", 0.25), ("b", 0.75)), 10.0, UNITS["paper"]),
             tv_term(0.5, UNITS["paper"])]
    image = torch.zeros(1, 3, 2, 2)
    parts = compose(terms, {"a": F, "b": F}, image)
    lc = 0.5 * (1 + 4 + 9 + 16)
    e_a = ((gram_matrix(F) / 2) ** 2).sum().item() / 16
    assert parts["content"].item() == pytest.approx(lc)
    assert parts["style"].item() == pytest.approx(0.25 * e_a + 0.75 * 0.0)
    assert parts["tv"].item() == 0
    assert parts["total"].item() == pytest.approx(2.0 * lc + 10.0 * 0.25 * e_a)


def test_scaled_terms_by_hand():
    P = torch.tensor([[0.0, 2.0], [1.0, 1.0]]).view(1, 2, 1, 2)
    A = torch.tensor([[4.0, 10.0], [10.0, 20.0]]) / 2
    scaled = UNITS["scaled"]
    parts = compose([content_term({"a": P}, 1.0, scaled), style_term({"a": A}, (("a", 1.0),), 1.0, scaled)],
                    {"a": F}, torch.zeros(1, 3, 2, 2))
    # content: mean((F-P)^2) / mean(P^2) = (14/4) / (6/4); style: sum(G/M - A)^2 / sum(A^2) = (28/4) / (616/4)
    assert parts["content"].item() == pytest.approx(14 / 6)
    assert parts["style"].item() == pytest.approx(28 / 616)


@pytest.mark.parametrize("factor", [10.0, 0.02])
def test_scaled_terms_ignore_a_constant_factor_on_the_activations(factor):
    """Another checkpoint's convention multiplies activations by a constant: scaled units do not change."""
    rng = torch.Generator().manual_seed(0)
    f, p, s = (torch.rand(1, 8, 6, 5, generator=rng) for _ in range(3))

    def values(c: float) -> dict[str, torch.Tensor]:
        terms = [content_term({"l": c * p}, 1.0, UNITS["scaled"]),
                 style_term({"l": normalized_gram(c * s)}, (("l", 1.0),), 1.0, UNITS["scaled"])]
        return compose(terms, {"l": c * f}, torch.zeros(1, 3, 6, 5))

    plain, scaled = values(1.0), values(factor)
    for name in ("content", "style", "total"):
        assert scaled[name].item() == pytest.approx(plain[name].item(), rel=1e-5)
    paper = compose([content_term({"l": factor * p}, 1.0, UNITS["paper"])], {"l": factor * f},
                    torch.zeros(1, 3, 6, 5))
    assert paper["content"].item() == pytest.approx(factor ** 2 * compose(
        [content_term({"l": p}, 1.0, UNITS["paper"])], {"l": f}, torch.zeros(1, 3, 6, 5))["content"].item(), rel=1e-4)


def test_scaled_terms_do_not_grow_with_the_pixel_count():
    """The same statistics on a map four times as large: scaled content and TV stay, paper units grow 4x."""
    rng = torch.Generator().manual_seed(1)
    f, p = torch.rand(1, 4, 6, 6, generator=rng), torch.rand(1, 4, 6, 6, generator=rng)
    big_f, big_p = (t.repeat(1, 1, 2, 2) for t in (f, p))
    image = torch.rand(1, 3, 6, 6, generator=rng)
    big_image = image.repeat(1, 1, 2, 2)
    for units, growth in ((UNITS["scaled"], 1.0), (UNITS["paper"], 4.0)):
        small = compose([content_term({"l": p}, 1.0, units)], {"l": f}, image)["content"].item()
        big = compose([content_term({"l": big_p}, 1.0, units)], {"l": big_f}, big_image)["content"].item()
        assert big == pytest.approx(growth * small, rel=1e-5)


def test_temporal_term_is_weighted_and_has_gradient_only_inside_mask() -> None:
    warped = np.full((4, 6, 3), 255, np.uint8)
    mask = np.zeros((4, 6), np.float32)
    mask[:, :3] = 1
    term = temporal_term(warped, mask, weight=10.0, device="cpu")
    x = torch.zeros(1, 3, 4, 6, requires_grad=True)
    parts = compose([term], {}, x)
    assert parts["temporal"].item() == pytest.approx(0.5) and parts["total"].item() == pytest.approx(5.0)
    parts["total"].backward()
    assert torch.all(x.grad[..., :3] < 0) and torch.all(x.grad[..., 3:] == 0)
