"""Checking a ``.py`` export without running the written file (DESIGN.md decision 13: nothing a file holds runs).

The project file is untrusted, and its text (title, output names) is in the
written source, as string literals and cleaned docstrings. A bug in that
escaping must not turn the check into running the project's text, so the
written file is never executed:

1. It is parsed with :mod:`ast`, which runs nothing; a syntax error is a generator bug.
2. A *twin* is generated from the same model with every free text of the project
   replaced by fixed placeholders (title ``""``, outputs ``output_1`` …). The twin
   holds nothing from the project but node ids (checked identifiers), numbers and
   ``repr`` literals of parameter values.
3. The two syntax trees, with every string constant blanked, must be equal. So the
   written file is the twin's code with other strings; project text that escaped
   its literal or docstring would have become code, and the trees would differ.
4. The twin, not the file, is compiled and run in a fresh module; its
   ``load_model`` reads the exported weights and its outputs must equal the
   model's bit for bit (NaN where the model gives NaN).
"""

from __future__ import annotations

import ast
import dataclasses
import types
from pathlib import Path
from typing import Any

import torch

from graphedit.export.common import ExportModel, max_abs_diff
from graphedit.export.weights import ExportError

TWIN_MODULE = "graphedit_export_check"


class _BlankStrings(ast.NodeTransformer):
    def visit_Constant(self, node: ast.Constant) -> ast.Constant:
        return ast.Constant(value="") if isinstance(node.value, str) else node


def code_shape(source: str, where: str) -> str:
    """The syntax tree of ``source`` with every string constant blanked, as text (nothing is run)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        raise ExportError(
            f"{where}: the generated source does not parse (line {exc.lineno}: {exc.msg}); "
            "this is a GraphEdit bug: please report it with the project"
        ) from None
    return ast.dump(_BlankStrings().visit(tree))


def twin_of(em: ExportModel) -> ExportModel:
    """``em`` with every free text of the project replaced by a placeholder."""
    return dataclasses.replace(em, output_names=[f"output_{i + 1}" for i in range(len(em.output_names))])


def verify_source(source: str, twin: str, em: ExportModel, weights: Path, where: str) -> None:
    """Raise :class:`ExportError` unless ``source`` is code-identical to ``twin`` (the source generated from
    :func:`twin_of` ``em``) and the twin reproduces ``em``."""
    if code_shape(source, where) != code_shape(twin, where):
        raise ExportError(
            f"{where}: text from the project would have become code in the generated source; nothing was run. "
            "This is a GraphEdit bug: please report it with the project"
        )
    module = types.ModuleType(TWIN_MODULE)
    module.__file__ = str(Path(where).with_name(f"{TWIN_MODULE}.py"))
    inputs = em.example_inputs(batch=3, seed=1)
    try:
        exec(compile(twin, f"<twin of {where}>", "exec", dont_inherit=True), module.__dict__)  # noqa: S102
        net = module.load_model(weights)
        with torch.no_grad():
            got = net(*inputs)
    except Exception as exc:  # a generator bug must reach the user as one line, not a traceback
        raise ExportError(
            f"{where}: the generated module fails to run ({type(exc).__name__}: {str(exc).splitlines()[0][:200]}); "
            "this is a GraphEdit bug: please report it with the project"
        ) from None
    got = list(got) if isinstance(got, (tuple, list)) else [got]
    want = em.run(inputs)
    if len(got) != len(want) or not all(_same(a, b) for a, b in zip(want, got)):
        raise ExportError(f"{where}: the generated module differs from the model by {max_abs_diff(want, got):.3g}")


def _same(a: Any, b: Any) -> bool:
    if not (isinstance(a, torch.Tensor) and isinstance(b, torch.Tensor)) or a.shape != b.shape:
        return False
    if a.is_floating_point() and b.is_floating_point():
        return bool(((a == b) | (a.isnan() & b.isnan())).all())
    return torch.equal(a, b)
