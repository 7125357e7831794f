"""One optimisation pass as one function over persistent buffers: what a GPU can capture once and replay.

``Problem`` holds everything a pass touches, allocated once per stylizer and frame size (and batch size): the
image being optimised, its gradient, the optimiser's state (Adam's moments and step, or L-BFGS's ring of
curvature pairs, accepted point and step size), the best image and value per sample, the loss
scale, the term buffers (vidstyle/engine/terms.py slots: content activations, Gram targets, the warped
previous frame and its mask) and the term weights as device tensors. A frame only copies its data into those
buffers (``copy_``), so every pass of every frame is the same function over the same memory.

``persistent_pass`` is that function: forward, every term, backward (``torch.func.grad``, traceable), the
projected gradient, the best-image tracking, the optimiser's update and the projection into 0..1, with no host
read and no Python branch on a tensor value. Counters, budgets and callbacks stay outside. On CUDA it is
captured once per problem and replayed (``Capture``, through engine/accelerator.py); elsewhere it runs
eagerly. The finite check rides on the frame's one host read (the delivered image and its losses); progress
reads the losses every ``READ_EVERY`` passes without blocking (``LossReader``). docs/persistent-step.md has the counts.
"""
from __future__ import annotations

import math
from typing import TYPE_CHECKING, Callable, Sequence

import torch

from ..errors import VidstyleError
from .terms import Features

if TYPE_CHECKING:
    from .accelerator import HostAccelerator

READ_EVERY = 10  # passes between two (non-blocking) reads of the losses for the progress display
BETAS, EPS = (0.9, 0.999), 1e-8  # torch.optim.Adam's defaults, as the engine always used


class Adam:
    """Adam (Kingma & Ba) over a persistent image, with its step count on the device.

    The bias corrections of every step are a device table indexed by the step tensor, so an update reads no
    host value and a replayed graph still advances through the steps. Same update as torch.optim.Adam.
    """

    def __init__(self, x: torch.Tensor, lr: float) -> None:
        self.lr = lr
        self.m, self.v = torch.zeros_like(x), torch.zeros_like(x)
        self.step = torch.zeros(1, dtype=torch.long, device=x.device)  # a tensor index: no host read
        self.table = torch.zeros(0, 2, device=x.device)

    def reserve(self, steps: int) -> None:
        """Make the table hold ``steps`` steps (grown by doubling: an upload only when a budget first exceeds it)."""
        if steps <= self.table.shape[0]:
            return
        n = max(64, 1 << (steps - 1).bit_length())
        b1, b2 = BETAS
        rows = [(self.lr / (1 - b1 ** t), 1 / math.sqrt(1 - b2 ** t)) for t in range(1, n + 1)]
        self.table = torch.tensor(rows, dtype=torch.float32, device=self.m.device)

    def reset(self) -> None:
        """A fresh start for a new frame."""
        self.m.zero_()
        self.v.zero_()
        self.step.zero_()

    @property
    def layout(self) -> object:
        """What a captured pass has baked in: the step table (replaced when a longer budget grows it)."""
        return self.table

    def update(self, x: torch.Tensor, grad: torch.Tensor, objective: torch.Tensor) -> None:
        """One Adam step of ``x`` along ``grad``, then the projection into 0..1 (``objective`` unused)."""
        b1, b2 = BETAS
        coef = self.table.index_select(0, self.step)[0]  # (lr / bias correction 1, 1 / sqrt(bias correction 2))
        self.step.add_(1)
        self.m.lerp_(grad, 1 - b1)
        self.v.mul_(b2).addcmul_(grad, grad, value=1 - b2)
        denom = self.v.sqrt().mul_(coef[1]).add_(EPS)
        x.addcdiv_(self.m * coef[0], denom, value=-1.0)
        x.clamp_(0, 1)


HISTORY = 50  # curvature pairs L-BFGS keeps (torch.optim.LBFGS's history_size, as the engine used)
ARMIJO = 1e-4  # sufficient decrease: f(trial) <= f(accepted) + ARMIJO * g . step
GROW, SHRINK, MOST = 2.0, 0.5, 1.0  # step size after an accepted / a rejected trial, and its ceiling
FIRST_MOVE = 0.05  # with no curvature pair yet, the first step moves the steepest pixel this far (0..1 units)


def _dot(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """Per-sample inner product of two B x ... tensors (B,)."""
    return (a * b).flatten(1).sum(1)


def _each(v: torch.Tensor) -> torch.Tensor:
    """A per-sample (B,) value shaped to scale B x C x H x W images."""
    return v.view(-1, 1, 1, 1)


class LBFGS:
    """Limited-memory BFGS over a persistent image, with no host read and no data-dependent branch.

    The last HISTORY curvature pairs (s = step, y = change of the projected gradient) live in a device ring
    whose write position is a device tensor, with their inner products (S^T Y, Y^T Y) kept up to date as
    pairs are written. The direction comes from the compact representation of Byrd, Nocedal and Schnabel
    (1994): a few products with the ring and two small triangular solves, a constant number of kernels
    whatever HISTORY is. A pair with too little curvature (s . y <= 0) is stored as zeros and masked out,
    not branched on.

    The step rule replaces the line search: a trial point ``accepted + t * direction`` is accepted when the
    objective decreased enough (Armijo, applied with ``torch.where``); its pair is then stored, the step grows
    (up to 1, L-BFGS's natural step) and a new direction is taken. A rejected trial keeps the accepted point
    and direction and halves the step. Every pass is one forward + backward at one trial point; the pass
    tracks the best image seen, as for Adam. Per sample, so a batch gives the images of separate runs.
    """

    def __init__(self, x: torch.Tensor, lr: float) -> None:
        del lr  # L-BFGS scales its steps from the curvature pairs
        b, device = x.shape[0], x.device
        self.s = torch.zeros((HISTORY, *x.shape), device=device)
        self.y = torch.zeros_like(self.s)
        self.sy = torch.zeros(b, HISTORY, HISTORY, device=device)  # sy[b, i, j] = s_i . y_j
        self.yy = torch.zeros_like(self.sy)  # yy[b, i, j] = y_i . y_j
        self.valid = torch.zeros(b, HISTORY, device=device)  # slot i holds a pair
        self.position = torch.zeros(1, dtype=torch.long, device=device)  # the next slot written (the oldest)
        self.slots = torch.arange(HISTORY, device=device)
        self.accepted_x, self.accepted_g = torch.zeros_like(x), torch.zeros_like(x)
        self.accepted_f = torch.full((b,), math.inf, device=device)
        self.direction = torch.zeros_like(x)
        self.t = torch.ones(b, device=device)
        self.gamma = torch.ones(b, device=device)  # s . y / y . y of the newest pair: the initial Hessian's scale
        self.pairs = torch.zeros(b, device=device)

    def reserve(self, steps: int) -> None:
        """Nothing grows with the budget."""

    @property
    def layout(self) -> object:
        """Nothing is replaced: one capture serves every budget."""
        return None

    def reset(self) -> None:
        """A fresh start for a new frame: no pairs, no accepted point."""
        for buffer in (self.s, self.y, self.sy, self.yy, self.valid, self.position, self.pairs):
            buffer.zero_()
        self.accepted_f.fill_(math.inf)
        self.t.fill_(1.0)
        self.gamma.fill_(1.0)

    def update(self, x: torch.Tensor, grad: torch.Tensor, objective: torch.Tensor) -> None:
        """Judge the trial point ``x`` (its projected gradient and objective per sample), then move ``x`` to
        the next trial point inside 0..1."""
        had = torch.isfinite(self.accepted_f)
        step = x - self.accepted_x
        accept = ((objective <= self.accepted_f + ARMIJO * _dot(self.accepted_g, step)) | ~had) \
            & torch.isfinite(objective)
        change = grad - self.accepted_g
        sy, yy = _dot(step, change), _dot(change, change)
        good = accept & had & (sy > 1e-10 * yy) & (sy > 0)
        self._store(step * _each(good.float()), change * _each(good.float()), good)
        self.gamma.copy_(torch.where(good, sy / yy.clamp_min(1e-30), self.gamma))
        self.pairs.add_(good.float())
        taken = _each(accept)
        self.accepted_x.copy_(torch.where(taken, x, self.accepted_x))
        self.accepted_g.copy_(torch.where(taken, grad, self.accepted_g))
        self.accepted_f.copy_(torch.where(accept, objective, self.accepted_f))
        self.t.copy_(torch.where(accept, (self.t * GROW).clamp_max(MOST), self.t * SHRINK))
        self.direction.copy_(torch.where(taken, self._direction(), self.direction))
        x.copy_(self.accepted_x + _each(self.t) * self.direction).clamp_(0, 1)

    def _store(self, s: torch.Tensor, y: torch.Tensor, good: torch.Tensor) -> None:
        """Write the pair (zeros where not ``good``) into the ring's next slot, with its inner products."""
        self.s.index_copy_(0, self.position, s[None])
        self.y.index_copy_(0, self.position, y[None])
        s_all, y_all, new_s, new_y = self.s.flatten(2), self.y.flatten(2), s.flatten(1), y.flatten(1)
        self.sy.index_copy_(2, self.position, torch.einsum("mbn,bn->bm", s_all, new_y)[:, :, None])
        self.sy.index_copy_(1, self.position, torch.einsum("bn,mbn->bm", new_s, y_all)[:, None, :])
        ys = torch.einsum("mbn,bn->bm", y_all, new_y)
        self.yy.index_copy_(2, self.position, ys[:, :, None])
        self.yy.index_copy_(1, self.position, ys[:, None, :])
        self.valid.index_copy_(1, self.position, good.float()[:, None])
        self.position.add_(1).remainder_(HISTORY)

    def _direction(self) -> torch.Tensor:
        """-H g at the accepted point, H g = gamma g + S p - gamma Y u with u = R^-1 S^T g and
        p = R^-T ((D + gamma Y^T Y) u - gamma Y^T g), R the upper triangle of S^T Y in the pairs' chronological
        order and D its diagonal (an empty slot gets 1 on R's diagonal and contributes nothing). With no pair
        yet: the gradient, scaled so its steepest pixel moves FIRST_MOVE."""
        order = (self.position + self.slots).remainder(HISTORY)  # oldest first
        g = self.accepted_g
        s_all, y_all = self.s.flatten(2), self.y.flatten(2)
        a = torch.einsum("mbn,bn->bm", s_all, g.flatten(1)).index_select(1, order)
        b = torch.einsum("mbn,bn->bm", y_all, g.flatten(1)).index_select(1, order)
        sy = self.sy.index_select(1, order).index_select(2, order)
        yy = self.yy.index_select(1, order).index_select(2, order)
        r = torch.triu(sy) + torch.diag_embed(1 - self.valid.index_select(1, order))
        gamma = self.gamma.view(-1, 1, 1)
        u = torch.linalg.solve_triangular(r, a[:, :, None], upper=True)
        rhs = torch.diagonal(sy, dim1=1, dim2=2)[:, :, None] * u + gamma * (yy @ u) - gamma * b[:, :, None]
        p = torch.linalg.solve_triangular(r.transpose(1, 2), rhs, upper=False)
        p_slots = torch.zeros_like(a).index_copy(1, order, p[:, :, 0])
        u_slots = torch.zeros_like(a).index_copy(1, order, u[:, :, 0])
        hg = g * _each(self.gamma) + (torch.einsum("mbn,bm->bn", s_all, p_slots)
                                      - torch.einsum("mbn,bm->bn", y_all, u_slots) * self.gamma[:, None]).view_as(g)
        first = g * _each(FIRST_MOVE / g.abs().flatten(1).amax(1).clamp_min(1e-30))
        return torch.where(_each(self.pairs > 0), -hg, -first)


class Problem:
    """The persistent state of one frame size: image, gradient, optimiser, best image, scale and the terms.

    ``slots``: the terms (each ``raws(features, image) -> [(B,)]`` with constant ``coefs``); ``weights``: the
    weight of each slot's term by name; ``features``: image -> activations; ``colour``: image as the user gets
    it (luminance mode), or None.
    """

    def __init__(self, shape: Sequence[int], device: torch.device, slots: list, weights: dict[str, float],
                 features: Callable[[torch.Tensor], Features],
                 colour: Callable[[torch.Tensor], torch.Tensor] | None, lr: float,
                 method: Callable[[torch.Tensor, float], "Adam | LBFGS"] = Adam) -> None:
        self.shape, self.device, self.slots = tuple(shape), device, slots
        self.features, self.colour = features, colour
        self.names: list[str] = []
        for slot in slots:
            if slot.name not in self.names:
                self.names.append(slot.name)
        raws = sum(len(s.coefs) for s in slots)
        mix = torch.zeros(len(self.names), raws)
        j = 0
        for slot in slots:
            for c in slot.coefs:
                mix[self.names.index(slot.name), j] = c
                j += 1
        self.mix = mix.to(device)  # term value = mix @ raw values
        self.weights = torch.tensor([weights.get(n, 1.0) for n in self.names], device=device)
        self.combined = self.weights @ self.mix  # total = combined @ raw values (one product, one in backward)
        b = self.shape[0]
        self.x = torch.zeros(self.shape, device=device)
        self.grad = torch.zeros_like(self.x)
        self.best_x = torch.zeros_like(self.x)
        self.best_value = torch.full((b,), math.inf, device=device)
        self.worst = torch.zeros(b, device=device)  # max of the totals: NaN and inf stick (finite check)
        self.scale = torch.ones(b, device=device)  # the frame's first total (set by ``start``)
        self.scaled = False  # whether ``scale`` holds a frame's first total yet (host flag, set by ``start``)
        self.parts = torch.zeros(len(self.names), b, device=device)  # last losses, for the progress display
        self.total = torch.zeros(b, device=device)
        self.zero = torch.zeros((), device=device)
        self.one = torch.ones((), device=device)  # the backward's seed, kept (no new tensor per pass)
        self.method = method(self.x, lr)  # the optimiser's persistent state (Adam or LBFGS)
        self.chroma: torch.Tensor | None = None  # luminance mode: the frame's chroma, read by ``colour``
        # terms given as functions may use custom autograd functions torch.func cannot trace
        # why the pass cannot be traced and captured (None: it can), from the first slot that says so
        self.untraceable: str | None = next((s.untraceable for s in slots if not getattr(s, "traceable", True)),
                                            None)
        self.traceable = self.untraceable is None

    def set_weight(self, name: str, value: float) -> None:
        """Change a term's weight in place (no new tensor: a captured pass sees the new value)."""
        if name in self.names:
            self.weights[self.names.index(name)].fill_(value)
            torch.mv(self.mix.t(), self.weights, out=self.combined)

    def start(self, init: torch.Tensor, passes: int, keep_scale: bool = False) -> None:
        """A new frame from ``init`` (B x 3 x H x W in 0..1): everything reset in place, and the loss scale
        taken from the start image (the value the first pass sees), so the pass itself never changes it.

        ``keep_scale``: the scale of the frame before on this problem, one forward fewer (live mode's updates,
        whose next frame differs little). Neither optimiser's steps depend on the scale (Adam divides it out
        up to its eps, L-BFGS's curvature and Armijo test scale with it); it only keeps values near 1."""
        self.method.reserve(passes)
        with torch.no_grad():
            self.x.copy_(init).clamp_(0, 1)
            self.best_x.copy_(self.x)
            self.best_value.fill_(math.inf)
            self.worst.zero_()
            self.method.reset()
            if not (keep_scale and self.scaled):
                self.scale.copy_(self.losses(self.x)[1].abs().clamp_min(1e-30))
                self.scaled = True

    def losses(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """(per-term values T x B, weighted totals B) of image ``x``: eq. 7 and its extensions per sample."""
        image = x if self.colour is None else self.colour(x)
        features = self.features(x)
        raw = torch.stack([r for slot in self.slots for r in slot.raws(features, image)])
        return self.mix @ raw.detach(), self.combined @ raw

    def objective(self, x: torch.Tensor) -> tuple[torch.Tensor, tuple[torch.Tensor, ...]]:
        """Sum over samples of total / (the frame's first total): the optimiser sees values near 1 whatever
        the units (eq. 7 reaches ~1e10 in paper units); a constant factor leaves the minimiser unchanged."""
        parts, total = self.losses(x)
        return (total / self.scale).sum(), (total.detach(), parts)

    def consider_last(self) -> None:
        """The image the last pass's update made, among the candidates: every pass measures the image it
        starts from, so without this N passes would deliver the best of N - 1 updates (one pass: the start
        image). One forward without a gradient per frame, no host read."""
        with torch.no_grad():
            _, total = self.losses(self.x)
            better = total < self.best_value  # False for NaN: the finite check sees the passes' values
            torch.where(better, total, self.best_value, out=self.best_value)
            torch.where(better.view(-1, 1, 1, 1), self.x, self.best_x, out=self.best_x)

    def take_last(self) -> None:
        """The image the last pass's update made, delivered without measuring it (``consider_last`` without
        its forward)."""
        with torch.no_grad():
            self.best_x.copy_(self.x)

    def check_finite(self) -> None:
        """VidstyleError when any pass of this frame had a NaN or infinite loss (one host read; the delivery
        of a frame reads ``worst`` with its image instead)."""
        if not bool(torch.isfinite(self.worst).all()):
            self.raise_not_finite()

    @staticmethod
    def raise_not_finite() -> None:
        raise VidstyleError("the loss became NaN or infinite during the optimisation; check the weights file "
                            "and the loss weights (a checkpoint holding NaN, or weights too large)")


def persistent_pass(problem: Problem) -> None:
    """One pass: forward, terms, backward, projected gradient, best tracking, the optimiser's update (Adam or
    L-BFGS), projection into 0..1.

    No host read, no Python branch on a tensor value, no new persistent tensor: the function a CUDA graph
    captures and ``torch.compile(fullgraph=True)`` traces as one graph.
    """
    p = problem
    if p.traceable:
        _, backward, (value, parts) = torch.func.vjp(p.objective, p.x, has_aux=True)
        (grad,) = backward(p.one)
    else:  # a term given as a plain autograd function (photorealism, a caller's term): torch's autograd
        x = p.x.detach().requires_grad_(True)
        objective, (value, parts) = p.objective(x)
        (grad,) = torch.autograd.grad(objective, x, p.one)
    # projected gradient: zero where a pixel sits at a bound and descent would push it out; for x in 0..1 that
    # is exactly where (x - 1/2) * sign(gradient) = -1/2 (x = 0 with a positive, x = 1 with a negative gradient)
    outward = (p.x - 0.5) * grad.sign() <= -0.5
    torch.where(outward, p.zero, grad, out=p.grad)
    better = value < p.best_value
    torch.where(better, value, p.best_value, out=p.best_value)
    torch.where(better.view(-1, 1, 1, 1), p.x, p.best_x, out=p.best_x)
    torch.maximum(p.worst, value, out=p.worst)
    p.parts.copy_(parts)
    p.total.copy_(value)
    p.method.update(p.x, p.grad, value / p.scale)


class Capture:
    """``persistent_pass`` of one problem captured on first use and replayed after (an accelerator that captures:
    CUDA graphs; engine/accelerator.py).

    The warm-up passes run on the problem's one side stream, as CUDA graphs require; they are real passes of
    the frame, so the pass budget is spent exactly. A grown step table (a longer budget) is a new address,
    so the pass is captured again; the old graph is dropped.
    """

    WARMUP = 3

    def __init__(self, problem: Problem, accelerator: "HostAccelerator") -> None:
        self.problem, self.accelerator = problem, accelerator
        self.replay: Callable[[], None] | None = None
        self.layout: object = None
        self.warm = 0
        self.stream = accelerator.stream()  # one side stream for all warm-up passes of this problem
        self.captures = 0  # how often the pass was recorded (benchmarks check none happens while timed)

    def __call__(self) -> None:
        p = self.problem
        if self.replay is not None and self.layout is p.method.layout:
            self.replay()
            return
        if self.warm < self.WARMUP:
            with self.accelerator.on_stream(self.stream):
                persistent_pass(p)
            self.warm += 1
            return
        # capturing records the kernels without running them: the buffers are untouched, then one replay
        # runs this pass
        self.replay = None
        self.replay = self.accelerator.capture(lambda: persistent_pass(p))
        self.layout = p.method.layout
        self.captures += 1
        self.replay()


class LossReader:
    """The latest losses (for the progress display) and best losses (for the stopping rule), read every
    ``every`` passes without waiting for the device.

    The values are copied into pinned host memory behind the queued work and read once that copy has landed
    (the accelerator's token is polled, never waited on): the display and the rule may lag a few passes, the
    device never waits. On the CPU the copy is done when it returns.
    """

    def __init__(self, problem: Problem, accelerator: "HostAccelerator", every: int = READ_EVERY) -> None:
        self.problem, self.accelerator, self.every = problem, accelerator, every
        n = len(problem.names) + 2  # the terms, the total, the best total (each per sample)
        self.host = accelerator.pinned((n, problem.shape[0]))
        self.values: dict[str, float] = {}
        self.best: tuple[int, list[float]] | None = None  # (the pass it was copied after, best per sample)
        self.token: object | None = None
        self._copied_after = 0

    def after_pass(self, done: int) -> dict[str, float]:
        """Call after pass ``done`` (1-based); returns the freshest losses read so far (sample 0)."""
        self._collect()
        if (done % self.every == 0 or done == 1) and self.token is None:
            p = self.problem
            self.token = self.accelerator.copy_back(self.host, torch.cat([p.parts, p.total[None],
                                                                          p.best_value[None]]))
            self._copied_after = done
            self._collect()
        return self.values

    def take_best(self) -> tuple[int, list[float]] | None:
        """The best losses that landed since the last call, with the pass they were copied after (None: no
        new reading)."""
        best, self.best = self.best, None
        return best

    def _collect(self) -> None:
        if self.token is not None and self.token.query():  # type: ignore[attr-defined]
            rows = self.host.numpy()  # host memory: no device read
            self.values = dict(zip([*self.problem.names, "total"], rows[:-1, 0].tolist()))
            self.best = (self._copied_after, rows[-1].tolist())
            self.token = None
