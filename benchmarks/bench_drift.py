"""Flow-mode variants against the content drift on real footage, measured as bench_stability measures them.

    python benchmarks/bench_drift.py --variant leak --clips bikes,bunny --settings 160:8:40 --threads 1
    python benchmarks/bench_drift.py --variant none --lossless --clips bunny --settings 160:8:40 --threads 1
    python benchmarks/bench_drift.py --cold 30,45,60,66,72,75 --clips bikes --settings 160:8:40 --threads 1

Each ``--variant`` (several may be joined by commas: ``leak,lookbudget``) wraps one piece of the package for the run (no package code is copied here; the pieces
are restored afterwards) and hands the remaining options to bench_stability.py, which stylizes the real clips
and prints its table (warping error, style and content kept per shot, the first frame's own figures, seconds
and passes per frame). The variants are the directions of docs/real-footage.md's second to fourth rounds:

  none        today's code
  lookbudget  more passes (``--step`` at a time, at most ``--cap`` x --iterations) while the frame's style
              strength or content fidelity, as the metric measures them on the delivered image, is below
              ``--goal`` x its shot's first frame's
  balance     the content weight of the frames after a shot's first multiplied by m, and m updated after each
              frame by (content ratio / style ratio)^``--gain``, the ratios being the run's own losses over the
              shot's first frame's (m within 0.5..``--most``)
  lookbalance the same, steered by the metric's figures (style kept / content kept)
  hybrid      L-BFGS for every cold start (a shot's first frame), Adam (``--lr``) for the frames carried over
  photomask   the temporal weight times exp(-(d / 10)^2), d = the blurred gray change of the input since the
              pixel was drawn (frame t-1, moved along the flow)
  leak        the start image moved ``--amount`` of the way to the photo
  lowfix      the start image plus ``--amount`` x the Gaussian low-pass (sigma 3) of (photo - start image)
  bicubic     the previous stylized frame warped bicubically instead of bilinearly
  shotunits   the content term of every frame of a shot divided by the shot's first frame's content energy
              (scaled units), not by its own
  keyblend    every ``--every``-th frame of a shot is also stylized from scratch (``--first-passes``) and its
              start image moved ``--amount`` of the way to that cold stylization
  flowup      the run's optical flow estimated on the frames upsampled ``--factor`` times (bicubic), then
              scaled back (the metric's flow unchanged)
  zoomrelease the temporal weight times exp(-(g / ``--scale-step``)^2), g = the log of the local magnification
              of frame t-1 into frame t (the backward flow's Jacobian, blurred flow): magnified strokes
              are free to be repainted at the style's scale
  detail      the temporal target (stylized t-1 moved along the flow) plus the high frequencies of the input's
              change since the pixel was drawn (change minus its Gaussian low-pass, sigma ``--sigma``): what
              the bilinear warp blurs and what a magnified object newly shows is not held back as blur
  mirror      pixels whose flow points out of the frame start from the painting mirrored at the border
              (the warp's padding "reflection") instead of its edge row repeated
  contentrelease  the temporal weight divided by 1 + (e / (``--k`` x mean e))^2, e = the start image's
              relu3_2 error against the frame (upsampled): pixels whose carried painting no longer shows the
              frame are free to be repainted
  rekey       a carried frame whose content term (the run's own) is still more than ``--ratio`` x its shot's
              first frame's after its pass budget is stylized again from the photo with --first-iterations
              passes, the temporal term kept (``--rekey-free``: dropped, a cut that the input does not show)
  coldlow     each carried frame is first stylized from scratch at half size (``--half-passes``); the start
              image's low frequencies (Gaussian, sigma 3) move ``--amount`` of the way to that cold
              stylization's (upsampled): a fresh start's basin for the large shapes, the carried strokes on top

``--lossless`` also measures the frames as the engine delivered them (before the encoder), to separate the
encoder's share. ``--cold I,J,...`` instead stylizes the listed frames of each clip from scratch (``FIRST``
passes each) and prints their look relative to the first listed: how hard the later frames are on their own.
"""
from __future__ import annotations

import argparse
import contextlib
import sys
import tempfile
import types
from pathlib import Path
from typing import Callable, Iterator

import cv2
import numpy as np
import torch
import torch.nn.functional as F

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))
sys.path.insert(0, str(REPO / "benchmarks"))

import bench_stability  # noqa: E402
from common import SHARED  # noqa: E402

from vidstyle import Config  # noqa: E402
from vidstyle.compose import build_stylizer  # noqa: E402
from vidstyle.engine import StylizeResult, Stylizer  # noqa: E402
from vidstyle.engine import units as units_module  # noqa: E402
from vidstyle.engine.optimizers import OPTIMISERS  # noqa: E402
from vidstyle.io.images import read_image  # noqa: E402
from vidstyle.io.video_files import iter_video_frames  # noqa: E402
from vidstyle.metrics.look import FrameLook, LookMeter, measure_clip  # noqa: E402
from vidstyle.temporal import flow as flow_module  # noqa: E402
from vidstyle.temporal import propagate as propagate_module  # noqa: E402
from vidstyle.temporal import follow as follow_module  # noqa: E402
from vidstyle.temporal.propagate import TemporalPlanner  # noqa: E402
from vidstyle.video import loop  # noqa: E402

VARIANTS = ("none", "lookbudget", "balance", "lookbalance", "hybrid", "photomask", "leak", "lowfix", "bicubic",
            "coldlow", "shotunits", "keyblend", "flowup", "zoomrelease", "rekey", "detail",
            "mirror", "contentrelease")


@contextlib.contextmanager
def patched(owner: object, name: str, value: object) -> Iterator[None]:
    """``owner.name`` is ``value`` inside the block."""
    old = getattr(owner, name)
    setattr(owner, name, value)
    try:
        yield
    finally:
        setattr(owner, name, old)


class Shot:
    """What the variants remember within a shot: its first frame's losses and look, the frame being
    stylized, and the content weight factor."""

    def __init__(self, meter: LookMeter | None) -> None:
        self.meter = meter
        self.losses: dict[str, float] = {}
        self.look: FrameLook | None = None
        self.frame: np.ndarray | None = None
        self.factor = 1.0
        self.fresh = False  # a frame was planned and its first stylize call has not come yet
        self.since = 0  # frames since the shot's first
        self.cold = True  # the frame being stylized starts cold (a shot's first)
        self.energy: dict[object, torch.Tensor] = {}  # shotunits: the shot's first frame's content energy

    def kept(self, image: np.ndarray) -> tuple[float, float]:
        """(style kept, content kept) of ``image`` as the metric measures them, against the shot's first frame."""
        assert self.meter is not None and self.look is not None and self.frame is not None
        look = self.meter.measure(image, self.frame)
        return (look.style_strength / self.look.style_strength,
                look.content_fidelity / self.look.content_fidelity)


def _gauss(x: torch.Tensor, sigma: float) -> torch.Tensor:
    """Separable Gaussian low-pass of a 1x3xHxW tensor, borders replicated."""
    k = int(2 * round(3 * sigma) + 1)
    xs = torch.arange(k, dtype=torch.float32, device=x.device) - k // 2
    g = torch.exp(-xs ** 2 / (2 * sigma ** 2))
    g = (g / g.sum()).repeat(3, 1, 1, 1)
    x = F.conv2d(F.pad(x, (k // 2, k // 2, 0, 0), mode="replicate"), g.view(3, 1, 1, k), groups=3)
    return F.conv2d(F.pad(x, (0, 0, k // 2, k // 2), mode="replicate"), g.view(3, 1, k, 1), groups=3)


def variant_patches(names: set[str], args: argparse.Namespace, shot: Shot,
                    encoder: Callable[[torch.Tensor], dict[str, torch.Tensor]]) -> contextlib.ExitStack:
    """The wrappers of the variants ``names``, entered (``encoder``: the metric's network, for contentrelease)."""
    stack = contextlib.ExitStack()
    start, finish = TemporalPlanner.start, TemporalPlanner.finish
    stylize, follow = Stylizer.stylize, follow_module.follow

    def remembering_start(self: TemporalPlanner, frame: np.ndarray, *rest: object) -> object:
        shot.frame, shot.fresh = frame, True
        begun = start(self, frame, *rest)
        shot.cold = begun.cold
        shot.since = 0 if begun.cold else shot.since + 1
        return begun

    def shot_fill(self: units_module.ScaledUnits, target: torch.Tensor, out: torch.Tensor) -> None:
        key = tuple(target.shape)
        if shot.cold or key not in shot.energy:
            torch.mean(target.pow(2), (1, 2, 3), out=out)
            shot.energy[key] = out.clone()
        else:
            out.copy_(shot.energy[key])
        out.clamp_min_(1e-12).reciprocal_()

    def shot_content_fn(self: units_module.ScaledUnits, targets: dict[str, torch.Tensor]) -> Callable:
        if shot.cold or any(n not in shot.energy for n in targets):
            shot.energy.update({n: p.float().pow(2).mean().clamp_min(1e-12) for n, p in targets.items()})
        energy = {n: shot.energy[n] for n in targets}

        def fn(features: dict[str, torch.Tensor], image: torch.Tensor) -> torch.Tensor:
            return sum(((features[n].float() - p.float()).pow(2).mean() / energy[n] for n, p in targets.items()),
                       image.new_zeros(())) / max(1, len(targets))
        return fn

    def steered_finish(self: TemporalPlanner, begun: object, result: StylizeResult,
                       again: Callable[[object, int], StylizeResult]) -> StylizeResult:
        result = finish(self, begun, result, again)
        if begun.cold:
            shot.losses, shot.factor = dict(result.losses), 1.0
            shot.look = shot.meter.measure(result.image, shot.frame) if shot.meter else None
            return result
        if "lookbudget" in names:
            cap = round(args.cap * begun.iterations)
            while result.iterations < cap and min(shot.kept(result.image)) < args.goal:
                more = again(result.image if result.pixels is None else result.pixels,
                             min(args.step, cap - result.iterations))
                result = StylizeResult(more.image, more.losses, result.iterations + more.iterations,
                                       result.seconds + more.seconds, more.pixels)
        if "balance" in names:
            ratio = (result.losses["content"] / shot.losses["content"]) / (result.losses["style"] / shot.losses["style"])
            shot.factor = float(np.clip(shot.factor * ratio ** args.gain, 0.5, args.most))
        elif "lookbalance" in names:
            style_kept, content_kept = shot.kept(result.image)
            shot.factor = float(np.clip(shot.factor * (style_kept / content_kept) ** args.gain, 0.5, args.most))
        return result

    def weighted_stylize(self: Stylizer, content: np.ndarray, **kw: object) -> StylizeResult:
        base = self.weight("content")
        self.set_weight("content", base * (1.0 if kw.get("init") is None else shot.factor))
        try:
            return stylize(self, content, **kw)
        finally:
            self.set_weight("content", base)

    def hybrid_stylize(self: Stylizer, content: np.ndarray, **kw: object) -> StylizeResult:
        cold = kw.get("init") is None
        self.parts.optimizer = OPTIMISERS["lbfgs" if cold else "adam"]
        self.parts.lr = args.lr
        return stylize(self, content, **kw)

    def changed_follow(prev_output: object, current: torch.Tensor, drawn: torch.Tensor,
                       motion: object) -> follow_module.Followed:
        f = follow(prev_output, current, drawn, motion)
        dev = f.init.device
        init, weight, target = f.init * 255, f.weight, f.warped
        if "contentrelease" in names:
            with torch.no_grad():
                error = (encoder(f.init)["relu3_2"] - encoder(current / 255)["relu3_2"]).pow(2).mean(1, keepdim=True)
            error = F.interpolate(error, size=tuple(weight.shape), mode="bilinear", align_corners=False)[0, 0]
            weight = weight / (1 + (error / (args.k * error.mean().clamp_min(1e-12))) ** 2)
        if "detail" in names:
            change = current - flow_module.warp_tensor(drawn, torch.from_numpy(motion.flow).to(dev))
            target = (f.warped * 255 + change - _gauss(change, args.sigma)).round_().clamp_(0, 255) / 255
        if "photomask" in names:
            def gray(image: torch.Tensor) -> np.ndarray:
                rgb = image[0].permute(1, 2, 0).round().clamp(0, 255).to(torch.uint8).cpu().numpy()
                return cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY).astype(np.float32)
            before = flow_module.warp(gray(drawn), motion.flow)
            change = np.abs(cv2.GaussianBlur(gray(current), (5, 5), 0) - cv2.GaussianBlur(before, (5, 5), 0))
            weight = weight * torch.exp(-(torch.from_numpy(change).to(dev) / 10) ** 2)
        if "zoomrelease" in names:
            w = cv2.GaussianBlur(motion.flow, (0, 0), 2)
            det = ((1 + np.gradient(w[..., 0], axis=1)) * (1 + np.gradient(w[..., 1], axis=0))
                   - np.gradient(w[..., 0], axis=0) * np.gradient(w[..., 1], axis=1))
            grown = np.maximum(-np.log(np.clip(det, 0.2, 5)), 0).astype(np.float32)  # > 0: magnified since t-1
            weight = weight * torch.exp(-(torch.from_numpy(grown).to(dev) / args.scale_step) ** 2)
        if "leak" in names:
            init = ((1 - args.amount) * init + args.amount * current).round_()
        elif "lowfix" in names:
            init = (init + args.amount * _gauss(current - init, 3.0)).round_().clamp_(0, 255)
        return follow_module.Followed(target, weight, init / 255)

    def coldlow_stylize(self: Stylizer, content: np.ndarray, **kw: object) -> StylizeResult:
        init = kw.get("init")
        if isinstance(init, torch.Tensor) and shot.fresh:  # the frame's own passes, not the budget's extra ones
            shot.fresh = False
            h, w = content.shape[:2]
            half = stylize(self, cv2.resize(content, (max(1, w // 2), max(1, h // 2)), interpolation=cv2.INTER_AREA),
                           iterations=args.half_passes)
            cold = torch.from_numpy(cv2.resize(half.image, (w, h), interpolation=cv2.INTER_LINEAR)).to(init.device)
            cold = cold.permute(2, 0, 1)[None].float() / 255
            kw["init"] = (init + args.amount * _gauss(cold - init, 3.0)).clamp(0, 1)
        return stylize(self, content, **kw)

    def keyblend_stylize(self: Stylizer, content: np.ndarray, **kw: object) -> StylizeResult:
        init = kw.get("init")
        if isinstance(init, torch.Tensor) and shot.fresh and shot.since % args.every == 0:
            shot.fresh = False
            cold = stylize(self, content, iterations=args.first_passes).image
            cold = torch.from_numpy(cold).to(init.device).permute(2, 0, 1)[None].float() / 255
            kw["init"] = ((1 - args.amount) * init + args.amount * cold).clamp(0, 1)
        shot.fresh = False
        return stylize(self, content, **kw)

    class UpsampledFlow(flow_module.FlowEstimator):
        """The run's flow (not the metric's) estimated on upsampled frames."""

        def __call__(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
            h, w = a.shape[:2]
            up = [cv2.resize(x, (w * args.factor, h * args.factor), interpolation=cv2.INTER_CUBIC) for x in (a, b)]
            return cv2.resize(super().__call__(*up), (w, h), interpolation=cv2.INTER_AREA) / args.factor

    def rekey_finish(self: TemporalPlanner, begun: object, result: StylizeResult,
                     again: Callable[[object, int], StylizeResult]) -> StylizeResult:
        result = finish(self, begun, result, again)
        reference = self.budget.reference
        if begun.cold or not reference or result.losses["content"] <= args.ratio * reference["content"]:
            return result
        if args.rekey_free:
            begun.terms = []  # the closure ``again`` reads the frame's terms from this FrameStart
        fresh = again(None, self.first_iterations)  # None: the engine's --init, the photo
        return StylizeResult(fresh.image, fresh.losses, result.iterations + fresh.iterations,
                             result.seconds + fresh.seconds, fresh.pixels)

    def bicubic_grid_sample(*a: object, **kw: object) -> torch.Tensor:
        return F.grid_sample(*a, **{**kw, "mode": "bicubic"})

    def mirrored_grid_sample(*a: object, **kw: object) -> torch.Tensor:
        return F.grid_sample(*a, **{**kw, "padding_mode": "reflection"})

    if names & {"lookbudget", "balance", "lookbalance"}:
        stack.enter_context(patched(TemporalPlanner, "start", remembering_start))
        stack.enter_context(patched(TemporalPlanner, "finish", steered_finish))
    if names & {"balance", "lookbalance"}:
        stack.enter_context(patched(Stylizer, "stylize", weighted_stylize))
    if "coldlow" in names:
        stack.enter_context(patched(TemporalPlanner, "start", remembering_start))
        stack.enter_context(patched(Stylizer, "stylize", coldlow_stylize))
    if "keyblend" in names:
        stack.enter_context(patched(TemporalPlanner, "start", remembering_start))
        stack.enter_context(patched(Stylizer, "stylize", keyblend_stylize))
    if "flowup" in names:
        stack.enter_context(patched(propagate_module, "FlowEstimator", UpsampledFlow))
    if "shotunits" in names:
        stack.enter_context(patched(TemporalPlanner, "start", remembering_start))
        stack.enter_context(patched(units_module.ScaledUnits, "fill_content_scale", shot_fill))
        stack.enter_context(patched(units_module.ScaledUnits, "content_fn", shot_content_fn))
    if "hybrid" in names:
        stack.enter_context(patched(Stylizer, "stylize", hybrid_stylize))
    if names & {"photomask", "leak", "lowfix", "zoomrelease", "detail", "contentrelease"}:
        stack.enter_context(patched(propagate_module, "follow", changed_follow))
    if "rekey" in names:
        stack.enter_context(patched(TemporalPlanner, "finish", rekey_finish))
    if "bicubic" in names:
        stack.enter_context(patched(flow_module, "F", types.SimpleNamespace(grid_sample=bicubic_grid_sample)))
    if "mirror" in names:
        stack.enter_context(patched(flow_module, "F", types.SimpleNamespace(grid_sample=mirrored_grid_sample)))
    return stack


@contextlib.contextmanager
def lossless_frames(folder: Path) -> Iterator[list[Path]]:
    """Inside the block every delivered frame is also saved as PNG in ``folder`` (the list holds the paths of
    the latest run, in order)."""
    saved: list[Path] = []
    frames = loop.stylize_frames

    def saving(*a: object, **kw: object) -> Iterator[loop.FinishedFrame]:
        saved.clear()
        for step in frames(*a, **kw):
            path = folder / f"{step.index:06d}.png"
            cv2.imwrite(str(path), cv2.cvtColor(step.image, cv2.COLOR_RGB2BGR))
            saved.append(path)
            yield step

    with patched(loop, "stylize_frames", saving):
        yield saved


def cold_looks(args: argparse.Namespace, meter: LookMeter) -> None:
    """Each listed frame stylized from scratch; its look relative to the first listed frame's."""
    wanted = [int(i) for i in args.cold.split(",")]
    for name in args.clips.split(","):
        clip = SHARED / "media" / bench_stability.REAL_CLIPS[name][0]
        for size, _passes, first in (tuple(int(v) for v in s.split(":")) for s in args.settings.split(",")):
            stylizer = build_stylizer(Config(preset=args.preset, weights=args.weights, size=size, seed=0,
                                             quiet=True, device=args.device), read_image(args.style), video=True)
            reference = None
            for index, frame in enumerate(iter_video_frames(clip, max_frames=max(wanted) + 1, size=size)):
                if index not in wanted:
                    continue
                look = meter.measure(stylizer.stylize(frame, iterations=first).image, frame)
                reference = reference or look
                print(f"{name} {size} px frame {index}: cold {first} passes, style kept "
                      f"{look.style_strength / reference.style_strength:.2f}, content kept "
                      f"{look.content_fidelity / reference.content_fidelity:.2f}", flush=True)


def main() -> None:
    parser = bench_stability.arguments(__doc__.splitlines()[0])
    parser.add_argument("--variant", default="none", help="one of the variants above, or several joined by commas")
    parser.add_argument("--goal", type=float, default=0.9, help="lookbudget: kept figures wanted")
    parser.add_argument("--cap", type=float, default=2.5, help="lookbudget: most passes, x --iterations")
    parser.add_argument("--step", type=int, default=4, help="lookbudget: passes granted at a time")
    parser.add_argument("--gain", type=float, default=0.5, help="balance, lookbalance: exponent of the update")
    parser.add_argument("--most", type=float, default=4.0, help="balance, lookbalance: largest weight factor")
    parser.add_argument("--amount", type=float, default=0.25, help="leak, lowfix: share moved toward the photo")
    parser.add_argument("--half-passes", type=int, default=8, help="coldlow: passes of the half-size cold start")
    parser.add_argument("--every", type=int, default=15, help="keyblend: a cold stylization every N frames of a shot")
    parser.add_argument("--first-passes", type=int, default=40, help="keyblend: passes of that cold stylization")
    parser.add_argument("--factor", type=int, default=2, help="flowup: the frames' upsampling factor for the flow")
    parser.add_argument("--scale-step", type=float, default=0.05,
                        help="zoomrelease: the log magnification a frame at which the temporal weight falls to 1/e")
    parser.add_argument("--k", type=float, default=2.0, help="contentrelease: error, x its mean, at half weight")
    parser.add_argument("--sigma", type=float, default=1.5, help="detail: the low-pass kept out of the change")
    parser.add_argument("--ratio", type=float, default=1.12, help="rekey: content term over the shot's first frame's")
    parser.add_argument("--rekey-free", action="store_true", help="rekey: without the temporal term")
    parser.add_argument("--lossless", action="store_true", help="also measure the frames before encoding")
    parser.add_argument("--cold", help="stylize these frames from scratch instead (comma-separated indices)")
    parser.set_defaults(settings="160:8:40")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)
    meter = LookMeter(read_image(args.style), weights=args.weights)
    names = set(args.variant.split(","))
    if names - set(VARIANTS):
        parser.error(f"unknown variant {', '.join(sorted(names - set(VARIANTS)))}; choose from {', '.join(VARIANTS)}")
    if args.cold:
        cold_looks(args, meter)
        return
    shot = Shot(meter if names & {"lookbudget", "lookbalance"} else None)
    with tempfile.TemporaryDirectory() as tmp, variant_patches(names, args, shot, meter.encoder), \
            contextlib.ExitStack() as stack:
        if args.lossless:
            saved = stack.enter_context(lossless_frames(Path(tmp)))
            measure = bench_stability.measure

            def measuring(output: Path, clip: Path, frames: int, meter_: LookMeter) -> dict[str, object]:
                """bench_stability's figures of the .mp4, and a line of the same run's frames before encoding."""
                pngs = (cv2.cvtColor(cv2.imread(str(p)), cv2.COLOR_BGR2RGB) for p in saved)
                err, look = measure_clip(pngs, iter_video_frames(clip, max_frames=frames), meter_,
                                         quality=bench_stability.METRIC_FLOW)
                tail = [content for _, content in look.drift()[-10:]]
                print(f"{output.name} before encoding: warping error x input's {err.mean / err.reference_mean:.2f}, "
                      f"content kept over the clip's last 10 frames {np.mean(tail):.2f} (the .mp4: its rows)",
                      flush=True)
                return measure(output, clip, frames, meter_)

            stack.enter_context(patched(bench_stability, "measure", measuring))
        bench_stability.run(args, meter)


if __name__ == "__main__":
    main()
