"""The ``graphedit`` command line.

``graphedit`` alone (or with a ``.gproj`` file) opens the editor; the headless
subcommands live one per module in :mod:`graphedit.commands` and are loaded
only when used, so ``graphedit check`` never imports Qt.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.metadata
import sys

from graphedit.errors import GraphEditError

# subcommand name -> module in graphedit.commands (each has add_arguments(parser) and run(args) -> int)
COMMANDS = {
    "check": "check",
    "train": "train",
    "export": "export",
    "import": "import_model",
    "sweep": "sweep",
    "nodes": "nodes",
}
HELP = {
    "check": "infer shapes and list every node; exit 1 on errors",
    "train": "train a project headless and record the run",
    "export": "export a trained model (torchscript, onnx, safetensors, python)",
    "import": "turn an ONNX file or a PyTorch module into a project (a module's Python code RUNS: trust it)",
    "sweep": "sweep hyperparameters with Optuna; trials land in the project's runs",
    "nodes": "list node types with ports, parameters and docs (--json, --markdown)",
}


def version() -> str:
    """The installed distribution's version; from a source tree that is not installed, the package's own."""
    try:
        return importlib.metadata.version("graphedit")
    except importlib.metadata.PackageNotFoundError:
        from graphedit import __version__

        return __version__


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["render"]:  # draws with Qt (offscreen), so it lives in graphedit.ui
        from graphedit.ui.picture import main as render

        return render(argv[1:])
    commands = COMMANDS
    if not argv or argv[0] not in commands and argv[0] not in ("-h", "--help", "-V", "--version"):
        return _open_editor(argv)
    parser = argparse.ArgumentParser(
        prog="graphedit",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Design, train and export neural networks.\n\n"
        "  graphedit [FILE.gproj]  open the editor on FILE (on an example when no file is given)\n"
        "  graphedit render PROJECT -o FILE.svg|.png|.pdf   draw the graph as a picture (no display needed)\n"
        "  graphedit COMMAND ...   run a command headless (below)",
    )
    parser.add_argument("-V", "--version", action="version", version=f"graphedit {version()}")
    sub = parser.add_subparsers(dest="command", required=True)
    for name, module_name in commands.items():
        p = sub.add_parser(name, help=HELP.get(name, ""))
        p.set_defaults(_module=module_name)
        if name == argv[0]:  # only the command in use is imported: `graphedit --help` needs none of them
            importlib.import_module(f"graphedit.commands.{module_name}").add_arguments(p)
    args = parser.parse_args(argv)
    args._argv = argv  # the command line as given (distributed training passes it on to every rank)
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
    from graphedit.ui.app import run_editor

    return run_editor(argv)


if __name__ == "__main__":
    sys.exit(main())
