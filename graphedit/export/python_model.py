"""The classes of the ``.py`` export and the Code panel: the model's and one per block definition.

A block copy is an ``fx.GraphModule`` whose class is named after its
definition (:mod:`graphedit.compiler.layers`). Its copies in one model can
differ: the first block of a ResNet stage has stride 2 and a downsample
branch, the others not. The copies of a definition become one class:

- an inner layer built the same way in every copy is made in the class's
  ``__init__``, named after the inner node id (``self.conv1``, or
  ``add_module("0", ...)`` for ``nn.Sequential``-style ids);
- a layer that differs between copies is an argument of ``__init__`` named
  after the node, given by the caller (``BasicBlock(conv1=nn.Conv2d(...))``);
- an optional inner layer (switched off in some copies) is an argument that may
  be ``None``, and ``forward`` passes its input through when it is.

Copies whose wiring differs in another way (a bound parameter of a function
node) get a class each (``Name_2``); nothing is guessed: the export's check
then runs the written classes against the compiled model. ``repeat`` writes
``nn.Sequential`` of instances (``Chain``/``Loop`` for several inputs or shared
weights, their source copied in); shared instances are one attribute called at
each site, as in the compiled model.
"""

from __future__ import annotations

import keyword
import operator
import textwrap
from dataclasses import dataclass, field
from typing import Any

import torch
from torch import fx, nn

from graphedit.compiler.block_modules import Chain, Loop
from graphedit.export.python_inline import HEADER_NAMES, _Inliner, _own, _torch_names
from graphedit.export.python_recipes import CONSTRUCTORS, literal
from graphedit.export.weights import ExportError

FILE_NAMES = {"self", "json", "sys", "Path", "load_model", "load_safetensors", "INPUTS", "OUTPUTS", "TITLE"}
WIDTH = 100


def _identifier(name: str, where: str) -> str:
    """A node id used as a Python name: the document allows only identifiers; check again, the source depends on it."""
    if not (isinstance(name, str) and name.isidentifier() and name.isascii() and not keyword.iskeyword(name)):
        raise ExportError(f"{where}: {name!r} is not a Python identifier; rename the node (letters, digits, _)")
    return name


def _fmt(value: Any, var: dict[str, str]) -> str:
    if isinstance(value, fx.Node):
        return var[value.name]
    if isinstance(value, list):
        return "[" + ", ".join(_fmt(v, var) for v in value) + "]"
    if isinstance(value, tuple):
        inner = ", ".join(_fmt(v, var) for v in value)
        return f"({inner},)" if len(value) == 1 else f"({inner})"
    if isinstance(value, torch.dtype):
        return str(value)
    try:
        return literal(value)
    except TypeError:
        raise ExportError(f"cannot write Python source for the value {type(value).__name__}") from None


def _call(head: str, parts: list[str]) -> str:
    """``head(parts...)`` on one line, or one part a line when that is too long."""
    one = f"{head}({', '.join(parts)})"
    if len(one) <= WIDTH and "\n" not in one:
        return one
    return head + "(\n" + "".join(textwrap.indent(p, "    ") + ",\n" for p in parts) + ")"


def _assign(target: str, expr: str, indent: str = "        ") -> str:
    lines = f"{target} = {expr}".splitlines()
    return "\n".join(indent + line for line in lines)


def _self_attr(name: str) -> str:
    return f"self.{name}" if name.isidentifier() and not keyword.iskeyword(name) else f"getattr(self, {name!r})"


def _digit_safe(name: str) -> str:
    """An inner node id as a Python name: ``0`` → ``n0``, as the compiler names its fx nodes."""
    name = f"n{name}" if name[:1].isdigit() else name
    return _identifier(name, "a block's inner node")


@dataclass
class _Variant:
    """One class written for the copies of a definition that share their wiring."""

    name: str
    reference: fx.GraphModule
    members: list[fx.GraphModule] = field(default_factory=list)
    arguments: dict[str, str] = field(default_factory=dict)  # inner layer id → __init__ argument name
    optional: set[str] = field(default_factory=set)


def _canonical(gm: fx.GraphModule, alias: dict[str, str] | None = None) -> list[tuple[Any, ...]]:
    """The wiring of ``gm``: each node's op, target and arguments by name; ``alias`` drops nodes and renames uses."""
    alias = alias or {}

    def ref(node: fx.Node) -> str:
        return alias.get(node.name, node.name)

    out = []
    for node in gm.graph.nodes:
        if node.name in alias:
            continue
        target = node.target if node.op == "call_function" else str(node.target)
        out.append((node.name, node.op, target, fx.node.map_arg(node.args, ref), fx.node.map_arg(node.kwargs, ref)))
    return out


class ModelWriter:
    """Writes a compiled model's classes; see the module doc. ``cls`` is the model class's name."""

    def __init__(self, model: fx.GraphModule, cls: str) -> None:
        self.model = model
        self.cls = _identifier(cls, "the class name")
        self.inliner = _Inliner()
        self.functions: dict[tuple[int, str], str] = {}
        self.copies: dict[str, list[fx.GraphModule]] = {}
        self.variant_of: dict[int, _Variant] = {}
        self.variants: list[_Variant] = []
        self.exprs: dict[int, str] = {}
        self._collect()
        self.reserved = (
            set(HEADER_NAMES) | FILE_NAMES | {self.cls} | set(self.inliner.names.values()) | self._function_heads()
        )
        for name in self.copies:
            self._decide(name)

    # ------------------------------------------------------------ pass 1: what the file needs
    def _collect(self) -> None:
        seen: set[int] = set()
        for module in self.model.modules():
            if id(module) in seen:
                continue
            seen.add(id(module))
            if isinstance(module, fx.GraphModule):
                if module is not self.model:
                    copies = self.copies.setdefault(_identifier(type(module).__name__, "a block name"), [])
                    copies.append(module)
                for node in module.graph.nodes:
                    self._check_op(node)
                    if node.op == "call_function" and node.target is not operator.getitem:
                        self.functions[(id(module), node.name)] = self._function(node)
            elif type(module) in (Chain, Loop):
                self.inliner.name_of(type(module), "a repeated block")
            else:
                recipe = CONSTRUCTORS.get(type(module))
                if recipe is not None and recipe.inline:
                    self.inliner.name_of(type(module), f"the layer class {type(module).__name__}")

    def _check_op(self, node: fx.Node) -> None:
        if node.op not in ("placeholder", "output", "call_module", "call_function"):
            raise ExportError(f"node '{node.name}': cannot write Python source for fx op {node.op}")

    def _function(self, node: fx.Node) -> str:
        fn = node.target
        if _own(fn):
            return self.inliner.name_of(fn, f"node '{node.name}'")
        if id(fn) in _torch_names():
            return _torch_names()[id(fn)]
        raise ExportError(f"node '{node.name}': cannot write Python source for the function {fn!r}")

    def _function_heads(self) -> set[str]:
        return {expr.split(".")[0] for expr in self.functions.values()}

    # ------------------------------------------------------------ constructor expressions
    def expr(self, module: nn.Module, where: str) -> str:
        """The source that builds ``module`` (its layers' weights come from the state dict)."""
        if id(module) in self.exprs:
            return self.exprs[id(module)]
        recipe = CONSTRUCTORS.get(type(module))
        if recipe is not None:
            try:
                text = recipe.source(module)
            except TypeError as exc:
                raise ExportError(f"node '{where}': cannot write Python source for its layer: {exc}") from None
        elif isinstance(module, fx.GraphModule):
            variant = self._decide(type(module).__name__)[id(module)]
            parts = [
                f"{arg}={self._inner(module, layer, where) if layer in module._modules else None}"
                for layer, arg in variant.arguments.items()
            ]
            text = _call(variant.name, parts)
        elif type(module) in (nn.Sequential, Chain):
            head = "nn.Sequential" if type(module) is nn.Sequential else self.inliner.names[id(Chain)]
            text = _call(head, [self.expr(m, f"{where}.{i}") for i, m in enumerate(module)])
        elif type(module) is Loop:
            text = _call(self.inliner.names[id(Loop)], [self.expr(module._modules["0"], where), literal(module.times)])
        else:
            raise ExportError(
                f"node '{where}': cannot write Python source for its layer class {type(module).__name__}; "
                "register a constructor recipe with graphedit.export.python_recipes.register_constructor"
            )
        self.exprs[id(module)] = text
        return text

    def _inner(self, copy: fx.GraphModule, layer: str, where: str) -> str:
        return self.expr(copy._modules[layer], f"{where}/{layer}")

    # ------------------------------------------------------------ one class per definition
    def _decide(self, name: str) -> dict[int, _Variant]:
        """Sort the copies of definition ``name`` into classes (once); their inner layers are written first."""
        copies = self.copies[name]
        if id(copies[0]) in self.variant_of:
            return self.variant_of
        inner = {id(c): {k: self.expr(m, f"{name}/{k}") for k, m in c._modules.items()} for c in copies}
        found: list[_Variant] = []
        for copy in sorted(copies, key=lambda c: -len(c._modules)):
            variant = next((v for v in found if self._fits(copy, v.reference)), None)
            if variant is None:
                variant = _Variant(self._class_name(name, len(found)), copy)
                found.append(variant)
            variant.members.append(copy)
        for variant in found:
            taken: set[str] = set()
            for layer in variant.reference._modules:
                made = [inner[id(c)].get(layer) for c in variant.members]
                if None in made:
                    variant.optional.add(layer)
                if None in made or len(set(made)) > 1:
                    arg = _digit_safe(layer)
                    while arg in taken or arg in self.reserved:  # an argument must not hide nn, torch, ...
                        arg += "_"
                    taken.add(arg)
                    variant.arguments[layer] = arg
            for copy in variant.members:
                self.variant_of[id(copy)] = variant
            self.variants.append(variant)
        return self.variant_of

    def _class_name(self, name: str, index: int) -> str:
        candidate = name if index == 0 else f"{name}_{index + 1}"
        while candidate in self.reserved:
            candidate += "_"
        self.reserved.add(candidate)
        return candidate

    def _fits(self, copy: fx.GraphModule, reference: fx.GraphModule) -> bool:
        """Whether ``copy`` is ``reference`` with some of its layers switched off (passing their input through)."""
        if not set(copy._modules) <= set(reference._modules):
            return False
        absent = set(reference._modules) - set(copy._modules)
        alias: dict[str, str] = {}
        for node in reference.graph.nodes:
            args = [alias.get(a.name, a.name) if isinstance(a, fx.Node) else a for a in node.args]
            if node.op == "call_module" and node.target in absent:
                if not args or not isinstance(node.args[0], fx.Node) or node.kwargs:
                    return False
                if any(u.op == "call_function" and u.target is operator.getitem for u in node.users):
                    return False
                alias[node.name] = args[0]
        return _canonical(copy) == _canonical(reference, alias)

    # ------------------------------------------------------------ source
    def forward(self, gm: fx.GraphModule, optional: set[str] | None = None) -> tuple[list[str], list[str], str]:
        """``forward``'s parameters, body lines and return annotation for ``gm``."""
        optional = optional or set()
        var = {}
        for node in gm.graph.nodes:
            name = _identifier(node.name, "a node")
            while keyword.iskeyword(name) or name in self.reserved:
                name += "_"
            var[node.name] = name
        params, body, ret = [], [], "torch.Tensor"
        for node in gm.graph.nodes:
            if node.op == "placeholder":
                params.append(f"{var[node.name]}: torch.Tensor")
                continue
            if node.op == "output":
                out = node.args[0]
                if isinstance(out, (tuple, list)):
                    ret = f"tuple[{', '.join(['torch.Tensor'] * len(out))}]"
                body.append(f"        return {_fmt(out, var)}")
                continue
            if node.op == "call_function" and node.target is operator.getitem:
                call = f"{_fmt(node.args[0], var)}[{_fmt(node.args[1], var)}]"
            else:
                head = _self_attr(node.target) if node.op == "call_module" else self.functions[(id(gm), node.name)]
                parts = [_fmt(a, var) for a in node.args] + [f"{k}={_fmt(v, var)}" for k, v in node.kwargs.items()]
                call = f"{head}({', '.join(parts)})"
                if node.op == "call_module" and node.target in optional:
                    call = f"{parts[0]} if {_self_attr(node.target)} is None else {call}"
            body.append(f"        {var[node.name]} = {call}")
        return params, body, ret

    def block_classes(self) -> list[str]:
        """The source of one class per definition (per variant), each after the classes it uses."""
        out = []
        for variant in self.variants:
            ref = variant.reference
            args = []
            for layer, arg in variant.arguments.items():
                args.append(f"{arg}: nn.Module | None" if layer in variant.optional else f"{arg}: nn.Module")
            init = []
            for layer in ref._modules:
                value = variant.arguments.get(layer) or self.exprs[id(variant.members[0]._modules[layer])]
                if layer.isidentifier() and not keyword.iskeyword(layer) and layer not in variant.optional:
                    init.append(_assign(f"self.{layer}", value))
                else:
                    init.append(textwrap.indent(_call("self.add_module", [repr(layer), value]), "        "))
            params, body, ret = self.forward(ref, variant.optional)
            copies = len(variant.members)
            signature = ", ".join(["self", *args])
            head = f"    def __init__({signature}) -> None:"
            if len(head) > WIDTH:
                head = "    def __init__(\n" + "".join(f"        {a},\n" for a in ["self", *args]) + "    ) -> None:"
            out.append(
                "\n".join(
                    [
                        f"class {variant.name}(nn.Module):",
                        f'    """The block {type(ref).__name__}: {copies} cop{"y" if copies == 1 else "ies"} '
                        'in this model."""',
                        "",
                        head,
                        "        super().__init__()",
                        *init,
                        "",
                        f"    def forward(self, {', '.join(params)}) -> {ret}:",
                        *body,
                    ]
                )
                + "\n"
            )
        return out

    def model_init(self) -> list[str]:
        """The model class's ``__init__`` lines: each top-level layer once (a shared block is one attribute)."""
        lines, done = [], set()
        for node in self.model.graph.nodes:
            if node.op != "call_module" or node.target in done:
                continue
            done.add(node.target)
            module = self.model.get_submodule(node.target)
            lines.append(_assign(f"self.{_identifier(node.target, 'a layer')}", self.expr(module, node.target)))
        return lines


def readable_classes(model: fx.GraphModule, cls: str = "Model") -> str:
    """The model as plain classes, one per block definition then the model's (for the Code panel)."""
    writer = ModelWriter(model, cls)
    init = writer.model_init()
    params, body, ret = writer.forward(model)
    parts = [*writer.block_classes()]
    parts.append(
        "\n".join(
            [
                f"class {cls}(nn.Module):",
                "    def __init__(self) -> None:",
                "        super().__init__()",
                *init,
                "",
                f"    def forward(self, {', '.join(params)}) -> {ret}:",
                *body,
            ]
        )
        + "\n"
    )
    return "\n\n".join(parts)
