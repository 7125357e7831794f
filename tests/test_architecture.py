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
# room, so every layer may use them.
LAYERS = {"io": 1, "model": 2, "engine": 3, "temporal": 4, "metrics": 5, "still": 6, "video": 6, "live": 6,
          "distributed": 7, "api": 8, "cli": 9, "__main__": 10}
FOUNDATION = {"errors", "vocab", "progress", "runtime", "color", "config", "scopes"}


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


def test_engine_settings_are_read_from_the_config_in_one_place():
    readers = [n for n, p in _modules().items() if n.startswith("vidstyle.engine")
               and "vidstyle.config" in _imports(n, p)]
    assert set(readers) <= {"vidstyle.engine.build", "vidstyle.engine.stylizer"}, readers


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
        rooms = {r for r in rooms if r in LAYERS}
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
