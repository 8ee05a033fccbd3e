"""Headless subcommands of ``graphedit``: one module each, with ``add_arguments`` and ``run``."""

import argparse


def add_allow_outside(parser: argparse.ArgumentParser) -> None:
    """``--allow-outside PATH``: the one way a headless command reads a dataset outside the project's folder."""
    parser.add_argument(
        "--allow-outside",
        action="append",
        default=[],
        metavar="PATH",
        help="read this dataset path although it leads outside the project's folder (repeat for several)",
    )
