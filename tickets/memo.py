"""Per-batch memoisation of configuration reads (departments, addresses, SLA policies).

The mail gateway processes a batch of messages in one transaction; without this, every message would
re-read the same few configuration rows (our addresses, the department of support@, the SLA policy of
that department), which is most of its round trips. Outside a `batch_scope()` the decorated functions
simply run: views and services always see the current configuration.

Only pure reads may be memoised, and only for the length of one batch: a configuration change made
meanwhile is seen by the next batch. The gateway clears the memo when a message's savepoint is rolled
back, so no cached object can outlive the rows it was read with.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
R = TypeVar("R")

_memo: ContextVar[dict | None] = ContextVar("tickets_batch_memo", default=None)


@contextmanager
def batch_scope() -> Iterator[dict]:
    """Memoise decorated reads until the block ends (nested scopes share the outer memo)."""
    if _memo.get() is not None:
        yield _memo.get()  # type: ignore[misc]
        return
    token = _memo.set({})
    try:
        yield _memo.get()  # type: ignore[misc]
    finally:
        _memo.reset(token)


def forget() -> None:
    """Drop everything memoised in the current scope (after a rollback)."""
    memo = _memo.get()
    if memo is not None:
        memo.clear()


def per_batch(func: Callable[P, R]) -> Callable[P, R]:
    """Memoise func by its (hashable) arguments inside a batch_scope()."""

    @functools.wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> R:
        memo = _memo.get()
        if memo is None:
            return func(*args, **kwargs)
        key = (func, args, tuple(sorted(kwargs.items())))
        try:
            return memo[key]
        except KeyError:
            value = memo[key] = func(*args, **kwargs)
            return value

    return wrapper
