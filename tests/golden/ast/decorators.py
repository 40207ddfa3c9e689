import functools
import dataclasses


@dataclasses.dataclass(frozen=True, slots=True)
class Frozen:
    name: str
    tags: list[str] = dataclasses.field(default_factory=list)

    @functools.cached_property
    def upper(self) -> str:
        return self.name.upper()

    @classmethod
    def of(cls, name: str) -> "Frozen":
        return cls(name)


@functools.lru_cache(
    maxsize=128,  # bounded
)
def cached(n: int) -> int:
    """Cached."""
    return n


@(lambda f: f)
def lambda_decorated():
    pass


def duplicate():
    return 1


def duplicate():
    return 2


class WithConditional:
    if True:
        def maybe(self): ...
    else:
        def maybe(self, x): ...
