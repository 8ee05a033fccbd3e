"""GraphEdit's node-type catalog, installed as ``graphedit.nodes``.

One module per family; each defines ``NODE_TYPES``, a list of :class:`NodeType`.
"""
