"""The engine receives the option names (units, optimizer, init, colour mode) as objects made once by
engine/build.py: no module under vidstyle/engine compares them with string literals, and each name-to-object
table covers exactly its vocabulary in vidstyle/vocab.py."""
import ast
from pathlib import Path

import pytest

from vidstyle import vocab
from vidstyle.engine.colour_modes import COLOUR_MODES
from vidstyle.engine.optimizers import OPTIMISERS
from vidstyle.engine.starts import ContentStart, NoiseStart, named_start
from vidstyle.engine.units import UNITS

ENGINE = Path(__file__).resolve().parents[2] / "vidstyle" / "engine"
OPTION_NAMES = {"units", "optimizer", "init", "color_mode", "colour_mode", "loss_units", "preserve_colors"}


def _name(node: ast.expr) -> str | None:
    """The last name of ``x``, ``a.x`` or ``a.b.x``."""
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def _is_string(node: ast.expr) -> bool:
    return (isinstance(node, ast.Constant) and isinstance(node.value, str)) or (
        isinstance(node, (ast.Tuple, ast.List, ast.Set)) and any(_is_string(e) for e in node.elts))


def option_string_tests(source: str) -> list[str]:
    """Each comparison of an option name with a string literal (==, !=, in) in ``source``, as text."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            sides = [node.left, *node.comparators]
            if any(_name(s) in OPTION_NAMES for s in sides) and any(_is_string(s) for s in sides):
                found.append(ast.unparse(node))
    return found


def test_no_engine_module_interprets_option_strings():
    found = {p.name: hits for p in sorted(ENGINE.glob("*.py")) if (hits := option_string_tests(p.read_text()))}
    assert not found, f"option names compared with strings under vidstyle/engine: {found}"


@pytest.mark.parametrize("source", ['if p.units == "paper": pass', 'x = self.color_mode != "luminance"',
                                    'y = 1 if p.optimizer in ("lbfgs",) else 2', 'z = "noise" == init'])
def test_the_check_sees_each_form(source):
    assert option_string_tests(source)


def test_the_check_leaves_other_comparisons_alone():
    assert not option_string_tests('a = term.name == "temporal"\nb = p.start.detail is True')


def test_each_table_covers_its_vocabulary():
    assert set(UNITS) == set(vocab.LOSS_UNITS)
    assert set(OPTIMISERS) == set(vocab.OPTIMIZERS)
    assert set(COLOUR_MODES) == set(vocab.COLOR_MODES)
    assert isinstance(named_start("content", None), ContentStart)
    assert isinstance(named_start("noise", 3), NoiseStart) and named_start("noise", 3).seed == 3
    assert {type(named_start(n, 0)) for n in vocab.INIT_MODES} == {ContentStart, NoiseStart}
