"""`vidstyle live STYLE[,STYLE...] [options]`: stylized camera preview at camera rate."""
from __future__ import annotations

from ..config import Config
from ..errors import VidstyleError
from ..live.config import (
    CPU_ITERATIONS,
    CPU_SIZE,
    FIRST_ITERATIONS,
    GPU_ITERATIONS,
    GPU_SIZE,
    LIVE_OPTIMIZER,
    LIVE_PRESET,
    LiveConfig,
    device_defaults,
)
from ..live.keys import HELP
from ..live.session import run_live
from ..compose import select_device
from ..scopes import check_requirements, option_name
from ..vocab import FLOW_QUALITIES
from .options import (
    ENGINE_FIELDS,
    Parser,
    _integer,
    add_engine_options,
    config_from_args,
    given_options,
    style_paths,
)


# Options of the preview window, which --no-window leaves out: the keys come only from the window on the command
# line (run_live's Python callers may pass key sources of their own, so LiveConfig takes a snapshot folder headless).
WINDOW_OPTIONS = {"window_size": "its size", "snapshot_dir": "its s key saves the snapshots there"}


def build_parser() -> Parser:
    """The parser of `vidstyle live`."""
    parser = Parser(prog="vidstyle live", description="Stylized live preview of a camera (or a video file or "
                    "stream played like one): the optimiser runs continuously in the background and the display "
                    "shows its newest result warped by optical flow onto every camera frame.",
                    epilog=f"Window {HELP}. Exit codes: 0 done (q, Esc, Ctrl-C, window closed, --max-frames, end "
                    "of a file camera, lost camera), 2 bad input or usage, 143 SIGTERM and 129 SIGHUP (the "
                    "recording is finished as on Ctrl-C).")
    parser.add_argument("style", metavar="STYLE[,STYLE...]",
                        help="style image(s); several, separated by commas, are cycled with the n/p keys")
    live = parser.add_argument_group("live")
    live.add_argument("--camera", default="0", metavar="SRC",
                      help="device index, video file (played at its own frame rate) or stream URL (default: 0)")
    live.add_argument("--record", metavar="PATH", help="write an mp4 (or .mov/.mkv/.webm) of exactly the frames shown")
    live.add_argument("--no-window", dest="window", action="store_false",
                      help="headless: no window, no keys (servers, tests); stop with --max-frames or Ctrl-C")
    live.add_argument("--max-frames", type=_integer, metavar="N", help="stop after N frames shown")
    live.add_argument("--mirror", action="store_true", help="flip the camera horizontally (a mirror view)")
    live.add_argument("--report", metavar="PATH", help="write the figures at exit and the settings as JSON")
    live.add_argument("--snapshot-dir", default=".", metavar="DIR", help="where the s key saves PNGs (default: .)")
    live.add_argument("--flow-quality", choices=FLOW_QUALITIES, default="fast",
                      help="optical flow that warps the newest result onto each displayed frame (default: %(default)s)")
    live.add_argument("--threads", type=_integer, metavar="N",
                      help="torch threads of the stylization worker (default: all cores on CPU)")
    live.add_argument("--first-iterations", type=_integer, default=FIRST_ITERATIONS, metavar="N",
                      help="L-BFGS passes of the first update, made before the display opens so that it opens on a "
                           "painting (default: %(default)s; fewer once its look stops changing)")
    live.add_argument("--window-size", type=_integer, default=640, metavar="PX",
                      help="long side of the picture in the window; the recording keeps --size (default: %(default)s)")
    add_engine_options(parser, Config(preset=LIVE_PRESET, optimizer=LIVE_OPTIMIZER))
    for action in parser._actions:  # live defaults that depend on the device
        if action.dest == "size":
            action.default = None
            action.help = (f"long side in pixels of the processed frames and of the recording (default: {CPU_SIZE} on "
                           f"CPU, {GPU_SIZE} on a GPU)")
        elif action.dest == "iterations":
            action.default = None
            action.help = (f"optimiser passes per stylization update (default: {CPU_ITERATIONS} on CPU, "
                           f"{GPU_ITERATIONS} on a GPU)")
    return parser


def run(argv: list[str]) -> int:
    """Parse ``argv`` and run a live session."""
    parser = build_parser()
    args = parser.parse_args(argv)
    given = given_options(parser, argv)
    for name in WINDOW_OPTIONS:  # typed, even at its default: refused headless, as scopes.py does for the rest
        if name in given and not args.window:
            raise VidstyleError(f"{option_name(name)} applies only to the preview window ({WINDOW_OPTIONS[name]}); "
                                "this session has --no-window")
    size, iterations = device_defaults(select_device(args.device))
    args.size = size if args.size is None else args.size
    args.iterations = iterations if args.iterations is None else args.iterations
    config = LiveConfig(engine=config_from_args(args, ENGINE_FIELDS), camera=args.camera, record=args.record,
                        window=args.window, max_frames=args.max_frames, mirror=args.mirror, report=args.report,
                        snapshot_dir=args.snapshot_dir, flow_quality=args.flow_quality, threads=args.threads,
                        window_size=args.window_size, first_iterations=args.first_iterations)
    check_requirements(config.engine, given)
    run_live(style_paths(args.style), config)
    return 0
