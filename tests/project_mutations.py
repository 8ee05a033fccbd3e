"""Mutated project files for the fuzz test (tests/test_fuzz_projects.py) and the campaign (bench/fuzz_projects.py).

A mutant is an example project (``projects/*.gproj``) changed by one to three
mutation operators, then written as text. The operators, each drawing its
choices from a ``random.Random`` (hypothesis' shrinkable one in the test, a
seeded one in the campaign):

* ``delete_key``      — remove a key from some object (top-level sections, node fields, params, edge ends)
* ``retype``          — replace some value with a value of another JSON type
* ``extreme_number``  — a huge, negative, zero, tiny or NaN-ish number (``NaN``, ``Infinity``, ``1e999``,
                        an integer of 5000 digits, ±2**63) in place of some value
* ``deep_nesting``    — wrap some value in 1 to 5,000 levels of lists or objects
* ``odd_text``        — a string or key replaced by odd Unicode: lone surrogates, NUL, right-to-left marks,
                        ``..``-paths, absolute paths, Python code, 100,000 characters
* ``duplicate_id``    — give a node the id of another
* ``dangling_edge``   — point an edge at a node or port that does not exist
* ``unknown_type``    — give a node an unknown type, or another node's type (wrong parameters for it)
* ``swap_ports``      — swap an edge's ports, or its ends (reversed wires, cycles)
* ``param_value``     — an interesting value for a node parameter (huge shapes, 0, -1, floats for ints, lists)
* ``splice``          — copy a subtree of the project over another place (structure-aware crossover)
* ``version``         — change ``format``/``version``, or rewrite the file in the version-0 layout
* ``duplicate_key``   — (text) repeat a key in an object
* ``truncate``        — (text) cut the file at some byte
* ``bad_bytes``       — (text) invalid UTF-8, a BOM, a NUL byte

Mutants never touch the input files: each is built from a parsed copy.
"""

from __future__ import annotations

import copy
import json
import random
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PROJECT_FILES = sorted((ROOT / "projects").glob("*.gproj"))

RAW = "\u0000raw:"  # a string value starting with this is written as the raw JSON text after it

EXTREME_NUMBERS: list[Any] = [
    0,
    -1,
    1,
    -(2**31),
    2**31,
    2**53 + 1,
    2**62,
    2**63 - 1,
    10**18,
    -(10**18),
    1e308,
    -1e308,
    5e-324,
    0.5,
    -0.0,
    1e-300,
    3.7,
    f"{RAW}{2**63}",
    f"{RAW}{-(2**64)}",
    f"{RAW}1{'0' * 5000}",
    f"{RAW}NaN",
    f"{RAW}Infinity",
    f"{RAW}-Infinity",
    f"{RAW}1e999",
    f"{RAW}-1e999",
]

ODD_TEXT: list[str] = [
    "",
    " ",
    "..",
    "../../etc/passwd",
    "/etc/passwd",
    "C:\\Windows\\system32",
    "\x00",
    "a\x00b",
    "\u202eevil",
    "\ufeff",
    "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 ✓ 日本語 🎉",
    '"""\nimport os\nos.system("echo pwned")\n"""',
    "__import__('os').system('echo pwned')",
    "x" * 100_000,
    "conv1",
    "y",
    "x",
    "in2",
    "relu",
    "Dense",
    f'{RAW}"\\ud800"',
    f'{RAW}"a\\udfffb"',
    f'{RAW}"\\u0000"',
]

OTHER_TYPES: list[Any] = [None, True, False, 0, 1, -1, 2.5, "", "text", [], [1, 2], {}, {"a": 1}, [[[]]]]

PARAM_VALUES: list[Any] = [
    0,
    -1,
    1,
    2**31,
    10**12,
    0.5,
    -0.5,
    1e30,
    "",
    "relu",
    "same",
    None,
    True,
    [],
    [0],
    [-1],
    [1, 1],
    [10**9, 10**9],
    [2**31, 2**31, 2**31],
    [1] * 40,
    [3, 0, 4],
    [28, 28, 1],
    [1, 28, 28],
    {"a": 1},
]


# --------------------------------------------------------------- locations
def _slots(data: Any) -> list[tuple[Any, Any]]:
    """Every (container, key) pair in the tree, iteratively."""
    out, stack = [], [data]
    while stack:
        value = stack.pop()
        if isinstance(value, dict):
            for key, item in value.items():
                out.append((value, key))
                stack.append(item)
        elif isinstance(value, list):
            for i, item in enumerate(value):
                out.append((value, i))
                stack.append(item)
    return out


def _pick_slot(rng: random.Random, data: Any, want: Callable[[Any], bool] = lambda v: True) -> tuple[Any, Any] | None:
    slots = [(c, k) for c, k in _slots(data) if want(c[k])]
    return rng.choice(slots) if slots else None


def _nodes(data: dict[str, Any]) -> list[Any]:
    graph = data.get("graph")
    nodes = graph.get("nodes") if isinstance(graph, dict) else data.get("nodes")
    return [n for n in nodes if isinstance(n, dict)] if isinstance(nodes, list) else []


def _edges(data: dict[str, Any]) -> list[Any]:
    graph = data.get("graph")
    edges = graph.get("edges") if isinstance(graph, dict) else data.get("edges")
    return [e for e in edges if isinstance(e, dict)] if isinstance(edges, list) else []


# --------------------------------------------------------------- operators on data
def delete_key(rng: random.Random, data: Any) -> None:
    slot = _pick_slot(rng, data)
    if slot and isinstance(slot[0], dict):
        del slot[0][slot[1]]
    elif slot:
        slot[0].pop(slot[1])


def retype(rng: random.Random, data: Any) -> None:
    slot = _pick_slot(rng, data)
    if slot:
        slot[0][slot[1]] = copy.deepcopy(rng.choice(OTHER_TYPES))


def extreme_number(rng: random.Random, data: Any) -> None:
    slot = _pick_slot(rng, data, lambda v: isinstance(v, (int, float)) or rng.random() < 0.2)
    if slot:
        slot[0][slot[1]] = rng.choice(EXTREME_NUMBERS)


def deep_nesting(rng: random.Random, data: Any) -> None:
    slot = _pick_slot(rng, data)
    if not slot:
        return
    depth = rng.choice([1, 2, 3, 10, 60, 70, 200, 1000, 5000])
    value = slot[0][slot[1]]
    if depth > 100:  # as raw text: json.dumps itself recurses
        opener, closer = ("[", "]") if rng.random() < 0.5 else ('{"k": ', "}")
        inner = json.dumps(value, ensure_ascii=False) if not isinstance(value, (dict, list)) else "0"
        slot[0][slot[1]] = f"{RAW}{opener * depth}{inner}{closer * depth}"
        return
    for _ in range(depth):
        value = [value] if rng.random() < 0.5 else {"k": value}
    slot[0][slot[1]] = value


def odd_text(rng: random.Random, data: Any) -> None:
    if rng.random() < 0.3:  # a key
        slot = _pick_slot(rng, data, lambda v: isinstance(v, dict) and bool(v))
        if slot:
            obj = slot[0][slot[1]]
            key = rng.choice(list(obj))
            obj[rng.choice(ODD_TEXT[:19])] = obj.pop(key)
        return
    slot = _pick_slot(rng, data, lambda v: isinstance(v, str) or rng.random() < 0.1)
    if slot:
        slot[0][slot[1]] = rng.choice(ODD_TEXT)


def duplicate_id(rng: random.Random, data: Any) -> None:
    nodes = [n for n in _nodes(data) if "id" in n]
    if len(nodes) >= 2:
        a, b = rng.sample(nodes, 2)
        b["id"] = a["id"]


def dangling_edge(rng: random.Random, data: Any) -> None:
    edges = _edges(data)
    if edges:
        edge = rng.choice(edges)
        key = rng.choice(["src", "dst", "src_port", "dst_port"])
        edge[key] = rng.choice(["nowhere", "x", "y", "in9", "", "input1", "dense1"])
    elif isinstance(data.get("edges"), list) and data["edges"]:  # version-0 pairs
        data["edges"][rng.randrange(len(data["edges"]))] = ["nowhere.y", "x"]


def unknown_type(rng: random.Random, data: Any) -> None:
    nodes = _nodes(data)
    if not nodes:
        return
    node = rng.choice(nodes)
    types = [n.get("type") for n in nodes if isinstance(n.get("type"), str)]
    node["type"] = rng.choice(["NoSuchLayer", "", "dense", "Conv2D", *types])


def swap_ports(rng: random.Random, data: Any) -> None:
    edges = _edges(data)
    if not edges:
        return
    edge = rng.choice(edges)
    if rng.random() < 0.5:
        edge["src_port"], edge["dst_port"] = edge.get("dst_port"), edge.get("src_port")
    else:
        edge["src"], edge["dst"] = edge.get("dst"), edge.get("src")


def param_value(rng: random.Random, data: Any) -> None:
    nodes = [n for n in _nodes(data) if isinstance(n.get("params"), dict)]
    if not nodes:
        return
    params = rng.choice(nodes)["params"]
    names = [*params, "shape", "units", "filters", "kernel_size", "rate", "name", "p", "size"]
    params[rng.choice(names)] = copy.deepcopy(rng.choice(PARAM_VALUES))


def splice(rng: random.Random, data: Any) -> None:
    source, target = _pick_slot(rng, data), _pick_slot(rng, data)
    if source and target:
        target[0][target[1]] = copy.deepcopy(source[0][source[1]])


def version(rng: random.Random, data: Any) -> None:
    choice = rng.randrange(4)
    if choice == 0:
        data["version"] = rng.choice([0, 2, -1, "1", 1.0, None, 10**6])
    elif choice == 1:
        data.pop(rng.choice(["format", "version"]), None)
    elif choice == 2:
        data["format"] = rng.choice(["", "graphedit", None, 1])
    else:  # the version-0 layout: nodes and edges at the top, edges as "node.port" pairs, learning_rate
        graph = data.pop("graph", {})
        data.pop("format", None)
        data.pop("version", None)
        if isinstance(graph, dict):
            data["nodes"] = graph.get("nodes", [])
            edges = graph.get("edges", [])
            data["edges"] = [
                [f"{e.get('src')}.{e.get('src_port')}", f"{e.get('dst')}.{e.get('dst_port')}"]
                if isinstance(e, dict)
                else e
                for e in (edges if isinstance(edges, list) else [])
            ]
        training = data.get("training")
        if isinstance(training, dict) and "lr" in training:
            training["learning_rate"] = training.pop("lr")


DATA_OPERATORS: dict[str, Callable[[random.Random, Any], None]] = {
    "delete_key": delete_key,
    "retype": retype,
    "extreme_number": extreme_number,
    "deep_nesting": deep_nesting,
    "odd_text": odd_text,
    "duplicate_id": duplicate_id,
    "dangling_edge": dangling_edge,
    "unknown_type": unknown_type,
    "swap_ports": swap_ports,
    "param_value": param_value,
    "splice": splice,
    "version": version,
}


# --------------------------------------------------------------- text
def to_text(data: Any) -> str:
    """JSON text of ``data``; strings starting with :data:`RAW` become the raw text after it."""
    raws: list[str] = []

    def swap(value: Any) -> Any:
        if isinstance(value, str) and value.startswith(RAW):
            raws.append(value[len(RAW) :])
            return f"\u0001RAW{len(raws) - 1}\u0001"
        return value

    def walk(value: Any) -> Any:
        stack = [value]
        while stack:
            item = stack.pop()
            if isinstance(item, dict):
                for key in list(item):
                    item[key] = swap(item[key])
                    stack.append(item[key])
            elif isinstance(item, list):
                for i, sub in enumerate(item):
                    item[i] = swap(sub)
                    stack.append(item[i])
        return swap(value)

    data = walk(data)
    text = json.dumps(data, ensure_ascii=False, allow_nan=True)
    for i, raw in enumerate(raws):
        text = text.replace(json.dumps(f"\u0001RAW{i}\u0001", ensure_ascii=False), raw)
    return text


def duplicate_key(rng: random.Random, text: str) -> str:
    at = text.find('{"', rng.randrange(max(1, len(text))))
    if at < 0:
        return text
    return text[: at + 1] + '"format": 1, ' + text[at + 1 :]


def truncate(rng: random.Random, text: str) -> str:
    return text[: rng.randrange(len(text) + 1)]


def bad_bytes(rng: random.Random, text: str) -> str:
    return rng.choice(["\ufeff" + text, text + "\x00", "\x00" + text, text.replace('"', "'", 3), text + text])


TEXT_OPERATORS: dict[str, Callable[[random.Random, str], str]] = {
    "duplicate_key": duplicate_key,
    "truncate": truncate,
    "bad_bytes": bad_bytes,
}
OPERATORS = [*DATA_OPERATORS, *TEXT_OPERATORS]


def mutant(
    rng: random.Random, sources: dict[str, Any], name: str | None = None, applied: list[str] | None = None
) -> tuple[str, list[str], bytes]:
    """One mutant: (source project name, the operators applied, the file's bytes).

    ``name`` and ``applied`` (the operators, in order) are drawn from ``rng`` unless given.
    """
    name = name or rng.choice(sorted(sources))
    data = copy.deepcopy(sources[name])
    applied = applied or [rng.choice(OPERATORS) for _ in range(rng.choice([1, 1, 2, 3]))]
    for op in applied:
        if op in DATA_OPERATORS:
            DATA_OPERATORS[op](rng, data)
    text = to_text(data)
    for op in applied:
        if op in TEXT_OPERATORS:
            text = TEXT_OPERATORS[op](rng, text)
    raw = text.encode("utf-8", "surrogatepass")
    if "bad_bytes" in applied and rng.random() < 0.3:
        raw = raw[: len(raw) // 2] + b"\xff\xfe\xc3" + raw[len(raw) // 2 :]
    return name, applied, raw


def load_sources() -> dict[str, Any]:
    return {p.name: json.loads(p.read_text(encoding="utf-8")) for p in PROJECT_FILES}


class Hang(BaseException):
    """Raised by the hang guard (a BaseException, so no ``except Exception`` in the code under test swallows it)."""


def check(raw: bytes, path: Path) -> None:
    """What ``graphedit check`` does with a file: load it (validate, migrate), infer shapes on meta tensors;
    and a project that loads must save again. Raises what the code under test raises."""
    from graphedit.compiler.report import summarize
    from graphedit.model.project import dumps, load_project

    path.write_bytes(raw)
    project = load_project(path)
    summarize(project.document)
    dumps(project)


def classify(raw: bytes, path: Path, seconds: float = 2.0) -> tuple[str, str]:
    """``("ok" | "error" | "crash" | "hang", signature)``; ``error`` is the project's own error type.

    A case over ``seconds`` is run once more with five times as long before it counts as a hang: on a
    shared, loaded machine a 30 ms case can take seconds.
    """
    kind, signature = _classify(raw, path, seconds)
    if kind == "hang":
        kind, signature = _classify(raw, path, 5 * seconds)
    return kind, signature


def _classify(raw: bytes, path: Path, seconds: float) -> tuple[str, str]:
    import signal
    import traceback

    from graphedit.errors import GraphEditError

    def alarm(signum: int, frame: Any) -> None:
        raise Hang()

    previous = signal.signal(signal.SIGALRM, alarm)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        check(raw, path)
        return "ok", ""
    except GraphEditError as exc:
        return "error", type(exc).__name__
    except Hang:
        return "hang", f"hang > {seconds} s"
    except BaseException as exc:  # noqa: BLE001 (a crash is what we look for)
        frames = [f for f in traceback.extract_tb(exc.__traceback__) if "graphedit" in f.filename]
        where = f"{Path(frames[-1].filename).name}:{frames[-1].lineno}" if frames else "?"
        return "crash", f"{type(exc).__name__} at {where}: {str(exc)[:120]}"
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def warm_up(folder: Path) -> None:
    """Check every unmutated project once: the first meta-tensor operations import parts of torch (seconds),
    which must not count against the hang guard. Each must pass."""
    for path in PROJECT_FILES:
        check(path.read_bytes(), folder / "warm_up.gproj")
