"""The package's shape: imports flow one way (io -> model -> engine -> temporal -> metrics -> pipelines -> cli),
with no cycle (imports made only for type checking included), model/ never sees the config or files, only the
application's edge reaches into many rooms, and a module's name says one concept."""
from __future__ import annotations

import ast
from collections import defaultdict
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "vidstyle"
# Lower layers never import higher ones. Foundations (errors, vocab, the progress package, ...) import no layered
# room, so every layer may use them. compose (the composition root) sits above the engine, temporal and metrics
# rooms it builds and below the pipelines, whose public entries (stylize_frame, stylize_video, run_live) resolve
# their Config through it.
LAYERS = {"io": 1, "model": 2, "engine": 3, "temporal": 4, "metrics": 5, "compose": 5.5, "still": 6, "video": 6,
          "live": 6, "distributed": 7, "api": 8, "cli": 9, "__main__": 10}
FOUNDATION = {"errors", "vocab", "progress", "runtime", "color", "config", "settings", "scopes"}


def _modules() -> dict[str, Path]:
    return {".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts): p for p in PACKAGE.rglob("*.py")}


def _module_level(tree: ast.Module) -> list[ast.stmt]:
    """The module's top-level statements, with the body of ``if TYPE_CHECKING:`` blocks: an import made only for
    the type checker still ties the two modules together (and hides a cycle when left out)."""
    statements: list[ast.stmt] = []
    for node in tree.body:
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            statements.extend(node.body)
        else:
            statements.append(node)
    return statements


def _imports(name: str, path: Path) -> set[str]:
    """The vidstyle modules ``path`` imports at module level, ``TYPE_CHECKING`` blocks included (lazy imports
    inside functions are allowed)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in _module_level(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("vidstyle"):
                found.add(target)
        elif isinstance(node, ast.Import):
            found.update(a.name for a in node.names if a.name.startswith("vidstyle"))
    return found


def _layer(module: str) -> int | None:
    part = module.split(".")[1] if module.count(".") else None
    if part is None or part in FOUNDATION:
        return 0 if part in FOUNDATION else None
    return LAYERS.get(part)


def test_imports_flow_one_way():
    wrong = []
    for name, path in _modules().items():
        own = _layer(name)
        if own is None:
            continue
        for target in _imports(name, path):
            other = _layer(target)
            if other is not None and other > own:
                wrong.append(f"{name} imports {target}")
    assert not wrong, wrong



def test_every_room_is_placed():
    """A new top-level module or package is put on a floor or among the foundations, so the rules above see it
    (one left out would be checked by none of them)."""
    rooms = {_room(n) for n in _modules()} - {"__init__"}
    assert not rooms - set(LAYERS) - FOUNDATION, sorted(rooms - set(LAYERS) - FOUNDATION)

@pytest.mark.parametrize("forbidden", ["vidstyle.config", "vidstyle.io"])
def test_model_never_sees_the_config_or_files(forbidden):
    for name, path in _modules().items():
        if name.startswith("vidstyle.model"):
            assert not any(t == forbidden or t.startswith(forbidden + ".") for t in _imports(name, path)), name


def test_no_import_cycle_between_modules():
    modules = _modules()

    def node(target: str) -> str:  # a package import runs its __init__
        return target + ".__init__" if target + ".__init__" in modules else target

    graph = {n: {node(t) for t in _imports(n, p) if node(t) in modules} for n, p in modules.items()}
    state: dict[str, int] = {}

    def visit(node: str, trail: list[str]) -> None:
        state[node] = 1
        for nxt in graph.get(node, ()):
            if state.get(nxt) == 1:
                raise AssertionError("import cycle: " + " -> ".join(trail + [node, nxt]))
            if nxt not in state:
                visit(nxt, trail + [node])
        state[node] = 2

    for node in graph:
        if node not in state:
            visit(node, [])


# The modules that may import or receive the Config, and why. Everything else (engine/, temporal/, the frame
# loop, the frame runners, the Ray driver and task, live mode's worker and display...) gets resolved settings
# (vidstyle/settings.py) from the composition root, vidstyle/compose.py.
CONFIG_READERS = {
    "vidstyle.config": "defines it",
    "vidstyle.scopes": "which options apply to which run: it reads the Config's fields as options",
    "vidstyle.compose": "the composition root: resolves the Config into settings once",
    "vidstyle.api": "the Python API takes a Config",
    "vidstyle.still": "stylize_frame, a public entry: hands its Config to compose",
    "vidstyle.video.pipeline": "stylize_video, a public entry: checks options and paths, then compose.resolve_run",
    "vidstyle.live.config": "LiveConfig, the public settings of live mode, holds the engine's Config",
    "vidstyle.live.session": "run_live, a public entry: hands LiveConfig.engine to compose.resolve_engine",
}


def _config_uses(path: Path) -> list[str]:
    """Where a module imports the name ``Config`` from vidstyle.config or names it in a parameter or return
    annotation (``LiveConfig`` and other names are not the Config)."""
    uses = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and (node.module or "").endswith("config") and node.level <= 2 \
                and any(a.name == "Config" for a in node.names) and "live" not in (node.module or ""):
            uses.append(f"line {node.lineno}: imports Config")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            args = node.args
            for arg in [*args.posonlyargs, *args.args, *args.kwonlyargs, args.vararg, args.kwarg]:
                if arg is not None and arg.annotation is not None and \
                        "Config" in _names(arg.annotation):
                    uses.append(f"line {node.lineno}: {node.name}({arg.arg}: Config)")
            if node.returns is not None and "Config" in _names(node.returns):
                uses.append(f"line {node.lineno}: {node.name} returns a Config")
    return uses


def _names(annotation: ast.expr) -> set[str]:
    """The bare names in an annotation, string annotations (``"Config"``) included."""
    if isinstance(annotation, ast.Constant) and isinstance(annotation.value, str):
        return _names(ast.parse(annotation.value, mode="eval").body)
    return {n.id for n in ast.walk(annotation) if isinstance(n, ast.Name)} | \
        {n.attr for n in ast.walk(annotation) if isinstance(n, ast.Attribute)}


def test_nothing_below_the_composition_root_imports_or_receives_the_config():
    wrong = {name: uses for name, path in _modules().items()
             if name not in CONFIG_READERS and _room(name) != "cli" and (uses := _config_uses(path))}
    assert not wrong, wrong


def test_the_config_reader_check_sees_imports_and_parameters(tmp_path):
    """The check itself: an import of Config, a parameter typed Config (also as a string) count; LiveConfig
    does not."""
    module = tmp_path / "m.py"
    module.write_text("from ..config import Config\n")
    assert _config_uses(module)
    module.write_text("def f(a, config: 'Config | None' = None): ...\n")
    assert _config_uses(module)
    module.write_text("from .config import LiveConfig\ndef f(config: LiveConfig, s: 'EngineSettings'): ...\n")
    assert not _config_uses(module)


# What choosing a device looks like: asking which backends exist, or setting cuDNN's kernel choice.
DEVICE_CHOICE = ("cuda.is_available", "mps.is_available", "cudnn.benchmark")


@pytest.mark.slow
def test_the_device_is_selected_in_exactly_one_function():
    choosers = set()
    for name, path in _modules().items():
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and \
                    any(word in ast.unparse(node) for word in DEVICE_CHOICE):
                choosers.add(f"{name}.{node.name}")
            elif isinstance(node, ast.Module):
                top = [n for n in node.body if not isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef))]
                if any(word in ast.unparse(n) for n in top for word in DEVICE_CHOICE):
                    choosers.add(f"{name} (module level)")
    methods = {c for c in choosers if c.count(".") > 2 and c.rsplit(".", 1)[0] in choosers}  # nested functions
    assert choosers - methods == {"vidstyle.compose.select_device"}, choosers


# The application's edge: it assembles rooms into commands, so it may reach into many of them.
EDGE = {"api", "cli", "__main__"}
MAX_ROOMS = 3


def _room(module: str) -> str:
    return module.split(".")[1] if module.count(".") else module


def test_only_the_edge_reaches_into_many_rooms():
    """Below the command line and the Python API, a module works with at most MAX_ROOMS other layered rooms
    (io, model, engine, ...; foundations such as errors and vocab do not count): one that needs more is
    assembling the application, which is the edge's job."""
    wide = {}
    for name, path in _modules().items():
        if _room(name) in EDGE:
            continue
        rooms = {_room(t) for t in _imports(name, path)} - {_room(name)}
        # the composition root does not count: asking it for resolved settings is not assembling
        rooms = {r for r in rooms if r in LAYERS and r != "compose"}
        if len(rooms) > MAX_ROOMS:
            wide[name] = sorted(rooms)
    assert not wide, wide


def test_the_cycle_check_sees_type_checking_imports(tmp_path):
    """The import reader itself: an import under ``if TYPE_CHECKING:`` counts."""
    module = tmp_path / "m.py"
    module.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from .pipeline import Source\n")
    assert _imports("vidstyle.video.m", module) == {"vidstyle.video.pipeline"}


# Same name, same concept: live mode's settings extend the Config (live/config.py), and cli/ modules are named
# after the command they run (cli/live.py runs live/, cli/metrics.py the metrics package).
SAME_CONCEPT = {"vidstyle.live.config"}


def test_a_module_name_means_one_thing():
    """No module or package name repeats across rooms for another concept (three ``masks``, three ``progress``
    and two ``weights`` modules once held different things under one name)."""
    places: dict[str, list[str]] = defaultdict(list)
    for name in _modules():
        parts = name.split(".")
        parts = parts[:-1] if parts[-1] == "__init__" else parts
        if len(parts) > 1 and _room(".".join(parts)) != "cli" and ".".join(parts) not in SAME_CONCEPT:
            places[parts[-1]].append(".".join(parts))
    repeated = {stem: where for stem, where in places.items() if len(where) > 1}
    assert not repeated, repeated
