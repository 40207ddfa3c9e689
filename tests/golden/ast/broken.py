"""A file with syntax errors: the well-formed parts survive."""
import os


def good_before(a, b=1):
    """Still here."""
    return a + b


def broken(x:
    return x ++


class StillHere:
    def ok(self):
        return 1

    def also_broken(self
        pass


def good_after() -> int:
    return 2
