"""A package's __init__.py: re-exports for index/centrality.hpp package_exports."""
from . import mod
from .mod import Engine, run as start, _hidden as _h
from .sub import *
from .sub.leaf import Leaf
from pkg.mod import Engine as PublicEngine
from pkg.sub.leaf import *
import pkg.sub
from .. import outside

__all__ = ["Engine", "start", "Leaf"]


class Engine:
    def run(self):
        return start()
