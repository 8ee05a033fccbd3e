"""`graphedit nodes [TYPE] [--json | --markdown]`: the node reference, read from the catalog itself.

Every node type with its ports, parameters (type, default, range or choices, unit) and doc. ``docs/nodes.md``
is ``graphedit nodes --markdown`` (a test fails when it is stale), so the reference cannot drift from the code.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from graphedit.nodes.reference import DOC_PATH, REGENERATE, describe, find_type, markdown, text_detail, text_list
from graphedit.nodes.registry import default_registry

__all__ = ["DOC_PATH", "REGENERATE", "add_arguments", "describe", "find_type", "markdown", "run"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("type", nargs="?", help="one node type (e.g. Conv2d); all types when left out")
    form = parser.add_mutually_exclusive_group()
    form.add_argument("--json", action="store_true", help="print the reference as JSON")
    form.add_argument("--markdown", action="store_true", help="print the reference as Markdown (docs/nodes.md)")


def run(args: argparse.Namespace) -> int:
    registry = default_registry()
    types = [find_type(registry, args.type)] if args.type else registry.types()
    if args.json:
        payload: Any = [describe(t) for t in types]
        print(json.dumps(payload[0] if args.type else payload, indent=2, ensure_ascii=False))
    elif args.markdown:
        print(markdown(types), end="")
    elif args.type:
        print(text_detail(types[0]))
    else:
        print(text_list(types))
    return 0
