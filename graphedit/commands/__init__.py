"""Headless subcommands of ``graphedit``: one module each, with ``add_arguments`` and ``run``."""
