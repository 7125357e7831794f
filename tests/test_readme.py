"""The README and docs/ as users read them: the README stays a short manual, its quick commands run as written,
and every command and page named in the README, docs/ and benchmarks/README.md exists."""
from __future__ import annotations

import contextlib
import io
import re
import runpy
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import REPO, SHARED
from vidstyle.cli import live, metrics, stylize
from vidstyle.cli.main import SUBCOMMANDS, main
from vidstyle.io.images import read_image
from vidstyle.io.video_files import probe_video

README = REPO / "README.md"
DOCS = [README, *sorted((REPO / "docs").glob("*.md")), REPO / "benchmarks" / "README.md"]
# Pages other branches are writing at the same time; the README links them already.
WRITTEN_ELSEWHERE = {"docs/real-footage.md"}
# Marks the fenced block right below it as commands the test runs (each under a minute).
RUNS = "<!-- test: runs -->"
PARSERS = {"": stylize.build_parser, "live": live.build_parser, "metrics": metrics.build_parser}
# a command's options run to its closing backtick (inline code may wrap) or, in an indented block, to the end
# of its line: the next line may be another script's command
SCRIPT = re.compile(r"(?<!&& )python (benchmarks/[\w]+\.py)((?:[^`\n]|\n(?!\s*\n| {4}))*)")
# A figure measured by an earlier version of a benchmark names that commit: `git checkout SHA && python ...`
HISTORICAL = re.compile(r"git checkout ([0-9a-f]{7,40}) && python (benchmarks/[\w]+\.py)")


def fenced_blocks(text: str) -> list[tuple[bool, list[str]]]:
    """(marked to run, lines) of every fenced code block; a block is marked when RUNS is the line above it."""
    blocks, lines = [], text.split("\n")
    i = 0
    while i < len(lines):
        if lines[i].startswith("```"):
            end = next(j for j in range(i + 1, len(lines)) if lines[j].startswith("```"))
            blocks.append((i > 0 and lines[i - 1].strip() == RUNS, lines[i + 1:end]))
            i = end
        i += 1
    return blocks


def commands(lines: list[str], program: str) -> list[list[str]]:
    """The ``program`` command lines of a block, continuation lines joined, prompts and comments dropped."""
    joined, current = [], ""
    for line in lines:
        current += line.rstrip()
        if current.endswith("\\"):
            current = current[:-1] + " "
            continue
        joined.append(current.removeprefix("$ ").strip())
        current = ""
    return [shlex.split(c, comments=True) for c in joined if c.split(" ", 1)[0] == program]


def documented_vidstyle_commands() -> list[tuple[str, list[str]]]:
    return [(page.relative_to(REPO).as_posix(), argv[1:]) for page in DOCS
            for _, block in fenced_blocks(page.read_text()) for argv in commands(block, "vidstyle")]


def test_the_readme_is_a_short_manual_with_the_test_commands():
    text = README.read_text()
    assert len(text.splitlines()) <= 250
    python = [argv for _, block in fenced_blocks(text) for argv in commands(block, "python")]
    assert ["python", "-m", "pytest", "-q"] in python  # what .ci/run runs
    assert ["python", "-m", "pytest", "-q", "-m", "not slow"] in python
    assert "python -m pytest -q" in (REPO / ".ci" / "run").read_text()


def test_every_linked_page_exists():
    missing = []
    for page in DOCS:
        for target in re.findall(r"\]\(([^)#:]+)(?:#[^)]*)?\)", page.read_text()):
            path = (page.parent / target).resolve()
            if not path.exists() and path.relative_to(REPO).as_posix() not in WRITTEN_ELSEWHERE:
                missing.append(f"{page.relative_to(REPO)} -> {target}")
    assert not missing, missing


def test_every_vidstyle_command_in_the_docs_parses():
    """Each `vidstyle ...` line of a code block names a real subcommand and only options it has."""
    found = documented_vidstyle_commands()
    assert len(found) >= 20, found  # the scan itself sees the README's and the docs' blocks
    bad = []
    for page, argv in found:
        name = SUBCOMMANDS.get(argv[0], "") if argv else ""
        if "--help" in argv:
            continue
        try:
            PARSERS[name]().parse_args(argv[1:] if name else argv)
        except SystemExit:
            bad.append(f"{page}: vidstyle {' '.join(argv)}")
    assert not bad, bad


def test_the_subcommands_the_docs_name_have_help(capsys):
    for name in ("", "live", "metrics"):
        with pytest.raises(SystemExit) as exit_:
            main([name, "--help"] if name else ["--help"])
        assert exit_.value.code == 0
        assert "usage: vidstyle" in capsys.readouterr().out


def scripts_named() -> dict[str, set[str]]:
    """Every `python benchmarks/X.py ...` in the README, docs/ and benchmarks/README.md, with the options given."""
    named: dict[str, set[str]] = {}
    for page in DOCS:
        for script, rest in SCRIPT.findall(page.read_text()):
            named.setdefault(script, set()).update(re.findall(r"(?<![\w-])--[a-z][\w-]*", rest))
    return named


def test_every_historical_benchmark_names_a_commit_that_has_it():
    """Figures kept from an earlier method name the commit whose benchmark produced them."""
    found = [m for page in DOCS for m in HISTORICAL.findall(page.read_text())]
    assert found
    for sha, script in found:
        shown = subprocess.run(["git", "-C", str(REPO), "cat-file", "-e", f"{sha}:{script}"], capture_output=True)
        assert shown.returncode == 0, f"{script} is not in commit {sha}"


def test_every_benchmark_named_exists_and_takes_the_options_given(monkeypatch):
    named = scripts_named()
    assert len(named) >= 8, named
    monkeypatch.syspath_prepend(str(REPO / "benchmarks"))  # as `python benchmarks/X.py` puts it on the path
    unknown = []
    for script, options in sorted(named.items()):
        path = REPO / script
        assert path.is_file(), script
        monkeypatch.setattr(sys, "argv", [str(path), "--help"])
        out = io.StringIO()
        with contextlib.redirect_stdout(out), pytest.raises(SystemExit) as exit_:
            runpy.run_path(str(path), run_name="__main__")
        assert exit_.value.code in (0, None), script
        unknown += [f"{script} {o}" for o in sorted(options) if o not in out.getvalue()]
    assert not unknown, unknown


def test_the_sample_generator_named_exists():
    text = README.read_text()
    assert "python samples/make_samples.py" in text
    assert 'if __name__ == "__main__":' in (REPO / "samples" / "make_samples.py").read_text()


@pytest.mark.slow
def test_the_readme_quick_commands_run_as_written(tmp_path, monkeypatch, capsys):
    """The README's marked block, run through the command's entry point from the repository root. Only paths
    are mapped: the outputs go to tmp_path and ../shared to wherever the shared data is."""
    paths = {"out.png": tmp_path / "out.png", "out.mp4": tmp_path / "out.mp4", "../shared": SHARED}

    def mapped(token: str) -> str:
        for key, target in paths.items():
            if token == key or token.startswith(key + "/"):
                return str(target) + token[len(key):]
        return token

    runs = [argv for marked, block in fenced_blocks(README.read_text()) if marked
            for argv in commands(block, "vidstyle")]
    assert len(runs) == 4, runs
    monkeypatch.chdir(REPO)
    for argv in runs:
        try:
            code = main([mapped(t) for t in argv[1:]])
        except SystemExit as exc:  # --help
            code = exc.code
        out, err = capsys.readouterr()
        assert code in (0, None), (argv, err)
    image = read_image(tmp_path / "out.png")
    assert max(image.shape[:2]) == 96
    info = probe_video(tmp_path / "out.mp4")
    assert max(info.width, info.height) == 64 and info.frame_count == 6
    assert "warping error" in out and "input's own" in out
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.mp4", "out.png"]
