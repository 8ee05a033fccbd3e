"""The Inside dock: backprop step by step, why this class, adversarial examples, receptive fields, embeddings and
the loss landscape, on the model the learner drew (see :mod:`graphedit.ui.inside.dock`)."""

from graphedit.ui.inside.dock import InsideDock

__all__ = ["InsideDock"]
