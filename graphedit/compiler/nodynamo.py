"""Shape inference without loading ``torch._dynamo``, for a process that never compiles (``graphedit check``).

Most of torch's meta kernels (Linear, add, relu, the losses, ...) are Python
references wrapped in ``torch._disable_dynamo``. On its first call that
wrapper imports ``torch._dynamo`` (about a second on a small machine, more
than half of what ``check`` adds to ``import torch``) only to mark the
function as one the compiler must not trace. While dynamo is not loaded
nothing traces, so the wrapper's result is the function itself.

:func:`dynamo_deferred` stands in for ``torch._dynamo`` during inference and
removes every trace of itself afterwards: the wrappers it answered forget the
answer, so a later ``torch.compile`` in the same process loads the real module
and wraps them properly. Any other use of the stand-in loads the real module
at once. It is meant for single-threaded command-line use; the editor, whose
threads may import torch modules at any time, does not use it.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

NAME = "torch._dynamo"
CACHE = "__dynamo_disable"  # where torch._compile._disable_dynamo keeps the disabled function


class _StandIn(types.ModuleType):
    def __init__(self) -> None:
        super().__init__(NAME)
        self.answered: list[Callable[..., Any]] = []

    def disable(self, fn: Callable[..., Any] | None = None, recursive: bool = True, **kwargs: Any) -> Any:
        if fn is None:  # decorator use: not what the meta kernels do; let the real module answer
            return self._real().disable(fn, recursive, **kwargs)
        self.answered.append(fn)
        return fn

    def __getattr__(self, name: str) -> Any:
        return getattr(self._real(), name)

    def _real(self) -> types.ModuleType:
        if sys.modules.get(NAME) is self:
            del sys.modules[NAME]
        return importlib.import_module(NAME)


@contextmanager
def dynamo_deferred() -> Iterator[None]:
    """Run meta-tensor shape inference without importing ``torch._dynamo`` (see the module doc)."""
    if NAME in sys.modules:
        yield
        return
    stand_in = _StandIn()
    sys.modules[NAME] = stand_in
    try:
        yield
    finally:
        if sys.modules.get(NAME) is stand_in:
            del sys.modules[NAME]
        for fn in stand_in.answered:
            if getattr(fn, CACHE, None) is fn:
                delattr(fn, CACHE)
