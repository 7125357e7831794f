"""`vidstyle CONTENT STYLE OUTPUT`: the default command."""
from __future__ import annotations

from pathlib import Path

from ..config import Config
from ..controls import ControlledStylizer
from ..errors import VidstyleError
from ..io.atomic import check_output_path
from ..io.images import (
    IMAGE_EXTENSIONS,
    is_image_path,
    read_image,
    resize_long_side,
    write_image,
)
from ..photo import photo_losses, reject_mask_folder
from ..progress import STDERR, iteration_progress
from ..video import is_video_job, stylize_video
from .options import (
    ENGINE_FIELDS,
    VIDEO_FIELDS,
    Parser,
    add_engine_options,
    add_video_options,
    config_from_args,
    style_paths,
)


def build_parser() -> Parser:
    """The parser of the default command."""
    parser = Parser(prog="vidstyle", description="Paint a photo in the style of an artwork with the neural algorithm of artistic "
                    "style (Gatys, Ecker & Bethge 2015). The output has the processing size (--size).",
                    epilog="Exit codes: 0 done, 2 bad input or usage, 130 interrupted.")
    parser.add_argument("content", metavar="CONTENT", help=f"input image ({', '.join(IMAGE_EXTENSIONS)}), "
                        "video (mp4, mov, mkv, avi, webm, gif, ...) or directory of frames (natural order)")
    parser.add_argument("style", metavar="STYLE", help="style image (the painting), or several separated by commas "
                        "(blended; see --style-weights)")
    parser.add_argument("output", metavar="OUTPUT", help="output image, video (.mp4 .mov .mkv .webm; H.264, VP9 "
                        "for .webm) or directory of PNG frames, at the processing size (--size); written atomically")
    add_engine_options(parser)
    add_video_options(parser)
    return parser


def run(argv: list[str]) -> int:
    """Parse ``argv`` and stylize one image."""
    args = build_parser().parse_args(argv)
    config = config_from_args(args, ENGINE_FIELDS + VIDEO_FIELDS)
    styles = style_paths(args.style)
    if is_video_job(args.content, args.output):
        stylize_video(args.content, styles, args.output, config)
        return 0
    return stylize_file(Path(args.content), styles, Path(args.output), config)


def stylize_file(content_path: Path, style_path: Path | list[Path], output: Path, config: Config) -> int:
    """Validate everything before the work starts, stylize, then write OUTPUT atomically."""
    if not is_image_path(output):
        raise VidstyleError(f"unsupported output format {output.suffix or output.name!r}; "
                            f"use one of {', '.join(IMAGE_EXTENSIONS)}")
    style_list = style_path if isinstance(style_path, list) else [style_path]
    if output.resolve() in (content_path.resolve(), *(p.resolve() for p in style_list)):
        raise VidstyleError("OUTPUT must differ from the inputs")
    check_output_path(output, config.overwrite)
    reject_mask_folder(config)
    content = resize_long_side(read_image(content_path), config.size)
    styles = [read_image(p) for p in style_list]
    stylizer = ControlledStylizer(config, styles, reference=content)
    with iteration_progress(config.iterations, config.quiet) as callback:
        result = stylizer.stylize(content, callback=callback,
                                  extra_losses=photo_losses(config, content, stylizer.device))
    write_image(output, result.image)
    if not config.quiet:
        STDERR.print(f"wrote {output} ({result.image.shape[1]}x{result.image.shape[0]}, "
                     f"{result.iterations} iterations, {result.seconds:.1f} s on {stylizer.device})")
    return 0
