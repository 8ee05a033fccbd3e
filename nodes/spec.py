"""Declarative node types (DESIGN.md decision 3).

A :class:`NodeType` says everything the editor, the shape inference and the
compiler need: ports, typed parameters with defaults and ranges, a doc line
with the formula, and ``build(params, input_shapes)`` returning either an
``nn.Module`` (compiled as ``call_module``) or a :class:`Call` of a plain
function (compiled as ``call_function``). Input sizes such as
``in_features`` are read from ``input_shapes``; users never type them.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from graphedit.errors import ParamError
from graphedit.nodes.options import Option

Shape = tuple[int, ...]
"""A full tensor shape, batch dimension first (``()`` for a scalar)."""

PARAM_KINDS = ("int", "float", "bool", "choice", "str", "ints", "overrides")  # the option kinds a node takes
ROLES = ("layer", "input", "target", "output", "loss", "weight_penalty", "metric", "block_input", "block_output")
INIT_CHOICES = ("xavier", "he", "lecun", "uniform", "zeros", "torch")


Param = Option
"""A node type's typed parameter: an :class:`~graphedit.nodes.options.Option` of one of :data:`PARAM_KINDS`.

The catalog declares hundreds as ``Param("units", "int", 32, ...)``; the name stays for them and for readers."""


@dataclass(frozen=True)
class Port:
    """A named input or output of a node. An optional input may stay unconnected."""

    name: str
    doc: str = ""
    optional: bool = False


@dataclass(frozen=True)
class Call:
    """A stateless operation compiled as ``call_function``.

    ``fn`` must be importable by name (a torch function or a module-level
    function of a node module) so the generated code reads well. With
    ``pack=True`` the inputs are passed as one list (``torch.cat([a, b])``).
    """

    fn: Callable[..., Any]
    kwargs: dict[str, Any] = field(default_factory=dict)
    pack: bool = False


def init_param(default: str = "xavier") -> Param:
    """The ``init`` parameter every layer with weights has."""
    return Param(
        "init",
        "choice",
        default,
        choices=INIT_CHOICES,
        doc=(
            "Weight initialisation: xavier N(0, 1/fan_in) as the notes state; he N(0, 2/fan_in) for ReLU; "
            "lecun N(0, 1/fan_in) for SELU; uniform ±0.01 (activations vanish in deep nets); "
            "zeros (every unit stays the same: shows why not); torch: PyTorch's default."
        ),
    )


@dataclass(frozen=True)
class NodeType:
    """A node type of the catalog. See the module doc."""

    type_id: str
    title: str
    category: str
    doc: str
    build: Callable[[dict[str, Any], list[Shape | None]], Any] | None = None
    inputs: tuple[Port, ...] = (Port("x"),)
    outputs: tuple[Port, ...] = (Port("y"),)
    params: tuple[Param, ...] = ()
    formula: str = ""
    role: str = "layer"
    variadic: str | None = None
    variadic_outputs: str | None = None
    check: Callable[[dict[str, Any], list[Shape | None]], None] | None = None
    version: int = 1
    legacy_ids: tuple[str, ...] = ()
    migrate: Callable[[int, dict[str, Any]], dict[str, Any]] | None = None
    key_params: tuple[str, ...] = ()
    train_only: bool = False
    id_prefix: str = ""
    block: Any = None  # a block definition (graphedit.model.blocks): the compiler builds its instances

    def __post_init__(self) -> None:
        if self.role not in ROLES:
            raise ValueError(f"node type {self.type_id}: unknown role {self.role!r}")
        kinds = {p.kind for p in self.params}
        if not kinds <= set(PARAM_KINDS):
            raise ValueError(f"node type {self.type_id}: unknown parameter kind in {kinds}")

    @property
    def has_weights_init(self) -> bool:
        return any(p.name == "init" for p in self.params)

    @property
    def prefix(self) -> str:
        """Stem of new node ids of this type (``conv`` → ``conv1``)."""
        return self.id_prefix or self.type_id.lower()

    def param(self, name: str) -> Param:
        for p in self.params:
            if p.name == name:
                return p
        raise KeyError(name)

    def defaults(self) -> dict[str, Any]:
        return {p.name: p.default for p in self.params}

    def input_ports(self, params: dict[str, Any] | None = None) -> list[Port]:
        """Input ports; a variadic type has ``in1`` … ``inN`` with N from its count parameter.

        The last of two or more is optional: the free port the editor adds when the one before it is wired
        (:meth:`params_after_wiring`), so a node waiting for another input is not in error.
        """
        if self.variadic is None:
            return list(self.inputs)
        params = params or {}
        count = int(params.get(self.variadic, self.param(self.variadic).default))
        return [Port(f"in{i + 1}", optional=i > 0 and i == count - 1) for i in range(count)]

    def params_after_wiring(self, params: dict[str, Any], port: str) -> dict[str, Any] | None:
        """For a variadic type whose last input ``port`` was just wired: the params with one free port more.

        ``None`` when nothing should change. The editor applies it in the same undo step as the wire.
        """
        if self.variadic is None:
            return None
        ports = self.input_ports(params)
        if not ports or ports[-1].name != port:
            return None
        count = len(ports) + 1
        limit = self.param(self.variadic).max
        return None if limit is not None and count > limit else {**params, self.variadic: count}

    def output_ports(self, params: dict[str, Any] | None = None) -> list[Port]:
        """Output ports; with ``variadic_outputs`` ``out1`` … ``outK``, K from that parameter (a count or a list)."""
        if self.variadic_outputs is None:
            return list(self.outputs)
        value = (params or {}).get(self.variadic_outputs, self.param(self.variadic_outputs).default)
        count = int(value) if isinstance(value, (int, float)) else len(value)
        return [Port(f"out{i + 1}") for i in range(count)]

    def validate_params(self, params: dict[str, Any] | None, where: str = "") -> dict[str, Any]:
        """Fill defaults, coerce types, reject unknown names. Returns a new dict."""
        params = dict(params or {})
        known = {p.name for p in self.params}
        unknown = sorted(set(params) - known)
        if unknown:
            raise ParamError(
                f"{where}{self.title} has no parameter {', '.join(map(repr, unknown))}; "
                f"its parameters are {', '.join(sorted(known)) or 'none'}."
            )
        out = {}
        for p in self.params:
            out[p.name] = p.coerce(params.get(p.name, p.default), where)
        return out

    def params_to_json(self, params: dict[str, Any]) -> dict[str, Any]:
        by_name = {p.name: p for p in self.params}
        return {k: by_name[k].to_json_value(v) if k in by_name else v for k, v in params.items()}


def shape_text(shape: Sequence[int] | None) -> str:
    """``[N, 16, 8, 8]``: the batch dimension shown as N."""
    if shape is None:
        return "?"
    if len(shape) == 0:
        return "scalar"
    return "[" + ", ".join(["N", *map(str, shape[1:])]) + "]"
