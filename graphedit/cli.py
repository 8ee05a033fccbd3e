"""The ``graphedit`` command line.

``graphedit`` alone (or with a ``.gproj`` file) opens the editor; the headless
subcommands live one per module in :mod:`graphedit.commands` and are loaded
only when used, so ``graphedit check`` never imports Qt.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys

from graphedit.errors import GraphEditError

# subcommand name -> module in graphedit.commands (each has add_arguments(parser) and run(args) -> int)
COMMANDS = {
    "check": "check",
    "train": "train",
    "export": "export",
    "import": "import_model",
    "nodes": "nodes",
}
HELP = {
    "check": "infer shapes and list every node; exit 1 on errors",
    "train": "train a project headless and record the run",
    "export": "export a trained model (torchscript, onnx, safetensors, python)",
    "import": "turn a PyTorch module or an ONNX file into a project",
    "nodes": "list node types with ports, parameters and docs (--json, --markdown)",
}


def _available() -> dict[str, str]:
    out = {}
    for name, module in COMMANDS.items():
        if importlib.util.find_spec(f"graphedit.commands.{module}") is not None:
            out[name] = module
    return out


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    commands = _available()
    if not argv or argv[0] not in commands and argv[0] not in ("-h", "--help"):
        return _open_editor(argv)
    parser = argparse.ArgumentParser(prog="graphedit", description="Design, train and export neural networks.")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module_name in commands.items():
        p = sub.add_parser(name, help=HELP.get(name, ""))
        p.set_defaults(_module=module_name)
        importlib.import_module(f"graphedit.commands.{module_name}").add_arguments(p)
    args = parser.parse_args(argv)
    module = importlib.import_module(f"graphedit.commands.{args._module}")
    try:
        return int(module.run(args) or 0)
    except GraphEditError as exc:
        print(f"graphedit {args.command}: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"graphedit {args.command}: interrupted", file=sys.stderr)
        return 130


def _open_editor(argv: list[str]) -> int:
    """Open the editor; with no display, say so in one line and point to the headless commands."""
    if importlib.util.find_spec("graphedit.ui.app") is None:
        print(
            "graphedit: the editor is not available in this build; use the headless commands: "
            "graphedit check|train|export PROJECT",
            file=sys.stderr,
        )
        return 2
    from graphedit.ui.app import run_editor

    return run_editor(argv)


if __name__ == "__main__":
    sys.exit(main())
