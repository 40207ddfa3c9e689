"""Basics: every construct a skeleton records.

The second docstring line is not part of the skeleton.
"""
from __future__ import annotations

import os
import os.path as osp, sys
from typing import (
    Generic,  # comment inside an import
    TypeVar as TV,
    overload,
)
from . import sibling
from ..pkg.sub import *

__all__ = ["Point", "distance", 'CONSTANT']
__all__ += ["extra"]

CONSTANT = 42
MAX_SIZE: int = 1 << 20
A = B = "chained"
lower_case_is_not_a_constant = 1
LONG = "a very long constant value that goes on and on and on and on and on and on and on and on"
T = TV("T")


class Point(Generic[T], metaclass=type):
    '''A point.'''

    x: float = 0.0
    y: float
    label = "p"

    def __init__(self, x: float = 0.0, y: float = 0.0) -> None:
        self.x = x

    @property
    def norm(self) -> float:
        """Euclidean norm."""
        return (self.x**2 + self.y**2) ** 0.5

    @norm.setter
    def norm(self, value: float) -> None:
        raise AttributeError

    @staticmethod
    @decorator_with_args(1, key="v")
    def make(*args, **kwargs) -> "Point":
        ...

    class Inner:
        """Nested class."""

        def method(self):
            def helper():
                class Local:
                    pass
                return Local
            return helper

    async def fetch(self, /, timeout: float | None = None, *, retries=3):
        """Async method."""
        async def inner(): pass
        return await inner()


@overload
def distance(a: int) -> int: ...
@overload
def distance(a: str) -> str: ...
def distance(a):
    r"""Raw \n docstring."""
    return a


def multiline(
    first,  # the first
    second: dict[str, int] = {
        "k": 1,
    },
    *rest,
) -> tuple[
    int, ...
]:
    return ()


if sys.platform == "win32":
    import nt as platform_mod

    def platform_name():
        return "nt"
else:
    def platform_name():
        return "posix"

try:
    from fast import impl
except ImportError:
    def impl(): pass


def generic[T: (int, str), *Ts, **P](x: T) -> T:
    return x


class Box[T]:
    def get(self) -> T: ...


type Alias[K] = dict[K, list[K]]


def dispatch(command):
    match command:
        case {"op": "add"}:
            def handler(): return 1
        case _:
            def handler(): return 0
    return handler
