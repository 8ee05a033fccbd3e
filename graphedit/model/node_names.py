"""What a node may be called: its id names its layer in the generated code, so it is a Python identifier."""

from __future__ import annotations

import keyword
import re

from graphedit.errors import GraphError

ID_PATTERN = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
INDEX_ID_PATTERN = re.compile(r"^[0-9]{1,4}$")
"""Inside a block definition a node may also be named 0, 1, ... (torch's ``nn.Sequential`` keys: ``downsample.0``)."""
RESERVED_IDS = {"self", "forward", "training", "input", "loss", "torch", "nn", "F", "def", "class", "return"}


def check_node_id(node_id: object, index_ids: bool = False) -> None:
    """Raise :class:`GraphError` unless ``node_id`` is a valid name (with ``index_ids``: also ``0``, ``1``, ...)."""
    if index_ids and isinstance(node_id, str) and INDEX_ID_PATTERN.match(node_id):
        return
    if (
        not isinstance(node_id, str)
        or not ID_PATTERN.match(node_id)
        or node_id in RESERVED_IDS
        or keyword.iskeyword(node_id)
    ):
        raise GraphError(
            f"'{node_id}' is not a valid node name: use letters, digits and _ (not first), "
            "at most 64 characters, e.g. conv1."
        )
