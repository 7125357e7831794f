"""`vidstyle CONTENT STYLE OUTPUT`: the default command."""
from __future__ import annotations

from ..io.images import (
    IMAGE_EXTENSIONS,
)
from ..config import check_path_option
from ..scopes import check_applies
from ..video import input_kind, output_kind, stylize_video
from .options import (
    ENGINE_FIELDS,
    VIDEO_FIELDS,
    Parser,
    add_distributed_options,
    add_engine_options,
    add_video_options,
    config_from_args,
    given_options,
    ray_options_from_args,
    style_paths,
)


def build_parser() -> Parser:
    """The parser of the default command."""
    parser = Parser(prog="vidstyle", description="Paint a photo in the style of an artwork with the neural algorithm of artistic "
                    "style (Gatys, Ecker & Bethge 2015). The output has the processing size (--size).",
                    epilog="Exit codes: 0 done, 2 bad input or usage, 130 interrupted (Ctrl-C), 143 SIGTERM, "
                    "129 SIGHUP; docs/safety.md.")
    parser.add_argument("content", metavar="CONTENT", help=f"input image ({', '.join(IMAGE_EXTENSIONS)}), "
                        "video (mp4, mov, mkv, avi, webm, gif, ...) or directory of frames (natural order)")
    parser.add_argument("style", metavar="STYLE", help="style image (the painting), or several separated by commas "
                        "(blended; see --style-weights)")
    parser.add_argument("output", metavar="OUTPUT", help="output image, video (.mp4 .mov .mkv .webm; H.264, VP9 "
                        "for .webm) or directory of PNG frames, at the processing size (--size); written atomically")
    add_engine_options(parser)
    add_video_options(parser)
    add_distributed_options(parser)
    return parser


def run(argv: list[str]) -> int:
    """Parse ``argv`` and stylize an image, a video or a frame directory (the kinds follow the paths)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    for name in ("content", "style", "output"):
        check_path_option(name.upper(), getattr(args, name))
    config = config_from_args(args, ENGINE_FIELDS + VIDEO_FIELDS)
    # every option the user typed must mean something for this run (scopes.OPTION_SCOPES), also at its default
    check_applies(config, input_kind(args.content), output_kind(args.output), given_options(parser, argv))
    ray_options = ray_options_from_args(args)
    runner = None
    if ray_options is not None:
        from ..distributed import RayRunner  # Ray itself is imported only when the run starts

        runner = RayRunner(ray_options)
    stylize_video(args.content, style_paths(args.style), args.output, config, runner=runner)
    return 0
