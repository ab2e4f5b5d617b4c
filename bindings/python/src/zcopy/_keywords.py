"""``src=`` and ``dst=`` by keyword only, for the fd-level functions.

The fd-level calls (``copy``, ``splice``, ``sendfile``, ``copy_file_range``,
``aio.splice``) once took ``(dst, src)`` as Go's io.Copy and the C ABI do,
while ``copyfile``/``copyfileobj``/``copy2`` take shutil's ``(src, dst)``:
one module, two orders, and a call written in the wrong one overwrote the
source with the destination's bytes. Both ends of a file-to-file call are
often opened the same way (``r+b``), so nothing else catches the mistake.
Keyword-only ends make the order impossible to get wrong; a positional call
raises a TypeError that shows the keyword form (Python's own message,
"takes 0 positional arguments", would not say what to write instead).
"""

from __future__ import annotations

import functools
import inspect
from typing import Any, Callable, TypeVar, cast

F = TypeVar("F", bound=Callable[..., Any])


def _message(name: str, given: tuple[Any, ...]) -> str:
    paths = given and all(isinstance(a, (str, bytes)) or hasattr(a, "__fspath__") for a in given)
    hint = (" For paths, zcopy.copyfile(src, dst) and zcopy.copy2(src, dst) are shutil's calls."
            if paths else "")
    return (f"zcopy.{name}() takes src= and dst= as keywords only ({len(given)} positional "
            f"argument{'s' if len(given) != 1 else ''} given): write zcopy.{name}(src=..., dst=...)"
            f" (the order of the two ends is never guessed).{hint}")


def ends_by_keyword(name: str) -> Callable[[F], F]:
    """Wraps an fd-level function whose parameters are all keyword-only.

    The wrapper has the function's signature (for help() and type
    checkers) and refuses positional arguments with a TypeError naming the
    keyword form. A coroutine function stays one (the TypeError comes when
    it is awaited, as every other error of an ``async def`` does).
    """

    def wrap(fn: F) -> F:
        if inspect.iscoroutinefunction(fn):
            @functools.wraps(fn)
            async def acall(*args: Any, **kwargs: Any) -> Any:
                if args:
                    raise TypeError(_message(name, args))
                return await fn(**kwargs)

            return cast(F, acall)

        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any) -> Any:
            if args:
                raise TypeError(_message(name, args))
            return fn(**kwargs)

        return cast(F, call)

    return wrap
