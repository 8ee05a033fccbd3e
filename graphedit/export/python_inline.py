"""Catalog code copied into the ``.py`` export: the functions and classes a model uses, with what they need.

The exported file needs torch alone, so a catalog function (``add``,
``global_avg_pool``) or class (``Maxout``, ``Chain``) the model calls is copied
in with :func:`inspect.getsource`, its own dependencies first; a name it uses
that would need GraphEdit is refused with the reason.
"""

from __future__ import annotations

import ast
import builtins
import functools
import inspect
import math
import operator
import textwrap
import typing
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from graphedit.export.weights import ExportError

HEADER_NAMES = {"torch": torch, "nn": nn, "F": F, "functools": functools, "operator": operator, "math": math}
OWN_PACKAGES = ("graphedit.",)


class _Inliner:
    """Collects the source of catalog functions and classes the file needs, dependencies first."""

    def __init__(self) -> None:
        self.blocks: list[str] = []
        self.names: dict[int, str] = {}
        self.typing_names: set[str] = set()

    def name_of(self, obj: Any, why: str) -> str:
        if id(obj) in self.names:
            return self.names[id(obj)]
        try:
            source = textwrap.dedent(inspect.getsource(obj))
        except (OSError, TypeError):
            raise ExportError(f"cannot write Python source for {why}: the source of {obj!r} is not available") from None
        name = obj.__name__
        if name in self.names.values():
            raise ExportError(f"cannot write Python source for {why}: two catalog definitions are named {name}")
        self.names[id(obj)] = name
        module = inspect.getmodule(obj)
        scope = vars(module) if module is not None else {}
        for ref in sorted({n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name)}):
            self._resolve(ref, scope, name, why)
        self.blocks.append(source.rstrip() + "\n")
        return name

    def _resolve(self, ref: str, scope: dict[str, Any], owner: str, why: str) -> None:
        if ref not in scope or ref == owner:
            return
        value = scope[ref]
        if ref in HEADER_NAMES and HEADER_NAMES[ref] is value:
            return
        if getattr(value, "__module__", None) == "typing" or value is typing.Any:
            self.typing_names.add(ref)
        elif (inspect.isfunction(value) or inspect.isclass(value)) and _own(value):
            self.name_of(value, why)
        elif isinstance(value, (int, float, str, bool, tuple)) and ref.isupper():
            self.blocks.append(f"{ref} = {value!r}\n")
        elif not hasattr(builtins, ref):
            raise ExportError(f"cannot write Python source for {why}: {owner} uses {ref}, which needs GraphEdit")


def _own(obj: Any) -> bool:
    return (getattr(obj, "__module__", "") or "").startswith(OWN_PACKAGES)


@functools.lru_cache(maxsize=1)
def _torch_names() -> dict[int, str]:
    names: dict[int, str] = {}
    for prefix, module in (("operator", operator), ("F", F), ("torch", torch)):
        for attr in dir(module):
            if not attr.startswith("_"):
                names[id(getattr(module, attr))] = f"{prefix}.{attr}"
    return names
