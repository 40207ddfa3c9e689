"""CRLF file."""
import os

class Crlf:
    """Docstring with CRLF."""

    def method(self, a,
               b):
        return a

def tail(): pass
