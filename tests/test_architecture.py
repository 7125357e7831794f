"""The package's shape: imports flow one way (io -> model -> engine -> temporal -> pipelines -> cli), with no
cycle, model/ never sees the config or files, and modules stay small."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "vidstyle"
# Lower layers never import higher ones. Modules not listed (errors, vocab, runtime, ...) are foundations.
LAYERS = {"io": 1, "model": 2, "engine": 3, "temporal": 4, "still": 5, "video": 5, "live": 5, "distributed": 6,
          "api": 7, "cli": 8, "__main__": 9}
FOUNDATION = {"errors", "vocab", "progress", "runtime", "color", "config"}


def _modules() -> dict[str, Path]:
    return {".".join(p.relative_to(PACKAGE.parent).with_suffix("").parts): p for p in PACKAGE.rglob("*.py")}


def _imports(name: str, path: Path) -> set[str]:
    """The vidstyle modules ``path`` imports at module level (lazy imports inside functions are allowed)."""
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found: set[str] = set()
    for node in ast.parse(path.read_text()).body:
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


def test_modules_stay_small():
    big = {n: len(p.read_text().splitlines()) for n, p in _modules().items()}
    assert all(lines <= 320 for lines in big.values()), {n: v for n, v in big.items() if v > 320}
