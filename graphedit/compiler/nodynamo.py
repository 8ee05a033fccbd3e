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
at once (under a lock: the editor's threads may ask at any time).

:func:`defer_for_process` installs the same stand-ins for the rest of a
process that never compiles in itself: the editor (training, and with it any
compile, runs in a worker process). Its first shape inference no longer
waits for ``torch._dynamo`` and sympy (two seconds of a small machine's
start-up). Should anything in the editor load the real module (the profiler,
say), the wrappers answered so far forget their answer then, as above;
:func:`load_real` loads them on the editor's thread before one of its
threads runs torch.

The same goes for ``torch.fx.experimental.symbolic_shapes``, which the
convolution meta kernel and ``torch._check`` import for ``sym_and``,
``expect_true`` and the like (and with it sympy, over a second) to ask whether
a condition is symbolic, and for sympy, which elementwise type promotion
imports only to ask whether a value is a sympy expression. While neither is
loaded no value can be symbolic: the stand-ins answer those questions for
plain values, and anything else loads the real module.
"""

from __future__ import annotations

import importlib
import sys
import threading
import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

NAME = "torch._dynamo"
SYMBOLIC = "torch.fx.experimental.symbolic_shapes"
SYMPY = "sympy"
CACHE = "__dynamo_disable"  # where torch._compile._disable_dynamo keeps the disabled function
_LOADING = threading.RLock()  # one thread at a time swaps a stand-in for its real module


class _Deferred(types.ModuleType):
    """A module's stand-in: what it does not answer itself comes from the real module, loaded then."""

    package = False  # a package's stand-in gives its real ``__path__`` (a submodule is being imported)

    def __getattr__(self, name: str) -> Any:
        if name.startswith("__") and not (name == "__path__" and self.package):
            raise AttributeError(name)  # the import system asking whether this is a package (``from X import y``)
        return getattr(self._real(), name)

    def _real(self) -> types.ModuleType:
        with _LOADING:
            if sys.modules.get(self.__name__) is self:
                del sys.modules[self.__name__]
                self._leaving()
        # imported outside the lock: the import system serialises it per module, and a thread importing something
        # that touches a stand-in must not wait on this lock while this thread waits on that import
        return importlib.import_module(self.__name__)

    def _leaving(self) -> None:
        """Called once, when the real module replaces this stand-in in ``sys.modules``."""


class _StandIn(_Deferred):
    package = True  # torch._inductor (the profiler imports it) imports submodules of torch._dynamo

    def __init__(self) -> None:
        super().__init__(NAME)
        self.answered: list[Callable[..., Any]] = []

    def disable(self, fn: Callable[..., Any] | None = None, recursive: bool = True, **kwargs: Any) -> Any:
        if fn is None:  # decorator use: not what the meta kernels do; let the real module answer
            return self._real().disable(fn, recursive, **kwargs)
        self.answered.append(fn)
        return fn

    def _leaving(self) -> None:
        """The wrappers answered so far forget the answer: the real module wraps them on their next call."""
        for fn in self.answered:
            if getattr(fn, CACHE, None) is fn:
                delattr(fn, CACHE)
        self.answered.clear()


def _plain(value: Any) -> bool:
    """A value no symbol hides in: a bool, int or float, or a tuple or list of them."""
    if isinstance(value, (tuple, list)):
        return all(_plain(v) for v in value)
    return type(value) in (bool, int, float)


def _equal(x: Any, y: Any) -> bool:
    if isinstance(x, (tuple, list)):
        return len(x) == len(y) and all(_equal(a, b) for a, b in zip(x, y, strict=True))
    return bool(x == y)


# what symbolic_shapes' helpers answer for plain values, the ones torch's meta kernels and torch._check import
PLAIN_ANSWERS: dict[str, Callable[..., Any]] = {
    "sym_and": lambda *conditions: all(conditions),
    "sym_or": lambda *conditions: any(conditions),
    "sym_eq": _equal,
    "expect_true": lambda condition, *args: condition,
    "guard_or_false": lambda condition: condition,
    "guard_or_true": lambda condition: condition,
    "statically_known_true": lambda condition: condition,
    "statically_known_false": lambda condition: not condition,
    "is_nested_int": lambda value: False,
    "has_guarding_hint": lambda value: True,
    "guarding_hint_or_throw": lambda value: value,
    "guard_int": lambda value: value,
    "guard_size_oblivious": bool,
    "has_free_symbols": lambda value: False,
    "free_unbacked_symbols": lambda value: set(),
    "optimization_hint": lambda value, *args: value,
}


class _SymbolicStandIn(_Deferred):
    def __init__(self) -> None:
        super().__init__(SYMBOLIC)

    def __getattr__(self, name: str) -> Any:
        plain = PLAIN_ANSWERS.get(name)
        if plain is None:
            return super().__getattr__(name)

        def answer(*args: Any, **kwargs: Any) -> Any:
            if kwargs or not _plain(args):
                return getattr(self._real(), name)(*args, **kwargs)
            return plain(*args)

        return answer


class _NoSympyValue:
    """What ``sympy.Basic`` is while sympy is deferred: no plain value is an instance of it."""


class _SympyStandIn(_Deferred):
    package = True
    Basic = _NoSympyValue  # torch's elementwise type promotion imports sympy only to ask isinstance(x, Basic)

    def __init__(self) -> None:
        super().__init__(SYMPY)


def _install() -> list[tuple[str, _Deferred]]:
    """Stand-ins for those of the three modules not loaded yet (none when ``torch._dynamo`` is)."""
    if NAME in sys.modules:
        return []
    made = [(name, make()) for name, make in ((NAME, _StandIn), (SYMBOLIC, _SymbolicStandIn), (SYMPY, _SympyStandIn))]
    installed: list[tuple[str, _Deferred]] = [(name, module) for name, module in made if name not in sys.modules]
    sys.modules.update(installed)
    return installed


@contextmanager
def dynamo_deferred() -> Iterator[None]:
    """Run meta-tensor shape inference without importing ``torch._dynamo`` (see the module doc)."""
    installed = _install()
    try:
        yield
    finally:
        with _LOADING:
            for name, module in installed:
                if sys.modules.get(name) is module:
                    del sys.modules[name]
                    module._leaving()


def load_real() -> None:
    """Swap the process's stand-ins for the real modules now, on this thread: the editor does so before a
    thread of its own runs torch (a thread importing a large module while the event loop ran deadlocked)."""
    for name in (NAME, SYMBOLIC, SYMPY):
        module = sys.modules.get(name)
        if isinstance(module, _Deferred):
            module._real()


def defer_for_process() -> None:
    """The stand-ins for the rest of this process, which must never compile in itself (the editor)."""
    with _LOADING:
        _install()
