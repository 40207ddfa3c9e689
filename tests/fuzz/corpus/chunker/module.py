"""Module doc."""
import os
from . import sibling as s
from pkg.mod import (a, b as c)

__all__ = ["Outer", "helper"]
LIMIT: int = 10

@decorator(arg=1)
class Outer(Base, metaclass=Meta):
    """Outer doc."""
    attr = 1

    def method(self, x: int = 3, *args, **kw) -> list[int]:
        self.value = x
        return [helper(x) for x in args if x]

    async def amethod(self):
        async with ctx() as c:
            await c

def helper(y, /, *, z=lambda q: q + 1):
    try:
        return y()()()
    except (ValueError, TypeError) as e:
        raise RuntimeError() from e
    finally:
        pass

if __name__ == "__main__":
    match helper(1):
        case [1, *rest]: print(rest)
        case {"k": v}: print(v)
