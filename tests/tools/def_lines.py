#!/usr/bin/env python3
"""Python's own `ast` on a deterministic sample of the stdlib: for each sampled top-level function,
class or method, the line of its `def`/`class` keyword (`lineno`) and of its first decorator.

Usage: def_lines.py [--decorated N] [--plain N]  → JSON on stdout:
  {"root": <stdlib dir>, "symbols": [{"file", "module", "qualname", "line", "decorated_line"}]}
A name defined more than once in its scope (property setters, overloads, conditional variants)
is left out: it has no single line. Used by tests/unit/layout_test.cpp."""
import argparse
import ast
import json
import os
import sysconfig

SKIP_DIRS = {"test", "tests", "idle_test", "site-packages", "dist-packages", "__pycache__", "lib2to3"}


def module_of(rel):
    parts = rel[:-3].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ".".join(parts) if parts and all(p.isidentifier() for p in parts) else None


def unique_defs(body):
    counts = {}
    for n in body:
        if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            counts[n.name] = counts.get(n.name, 0) + 1
        elif isinstance(n, (ast.Assign, ast.AnnAssign, ast.Import, ast.ImportFrom, ast.If, ast.Try)):
            for t in ast.walk(n):
                if isinstance(t, (ast.Name, ast.alias)):
                    name = t.id if isinstance(t, ast.Name) else (t.asname or t.name)
                    counts[name] = counts.get(name, 0) + 2  # also bound elsewhere: skip
    return [n for n in body
            if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and counts[n.name] == 1]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--decorated", type=int, default=100)
    ap.add_argument("--plain", type=int, default=100)
    args = ap.parse_args()
    root = sysconfig.get_paths()["stdlib"]
    decorated, plain = [], []
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames[:] = sorted(d for d in dirnames if d not in SKIP_DIRS)
        for f in sorted(filenames):
            if not f.endswith(".py"):
                continue
            rel = os.path.relpath(os.path.join(dirpath, f), root).replace(os.sep, "/")
            mod = module_of(rel)
            if mod is None:
                continue
            try:
                with open(os.path.join(root, rel), "rb") as fh:
                    tree = ast.parse(fh.read())
            except (SyntaxError, ValueError, OSError):
                continue
            for n in unique_defs(tree.body):
                items = [(n.name, n)]
                if isinstance(n, ast.ClassDef):
                    items += [(n.name + "." + m.name, m) for m in unique_defs(n.body)]
                for qual, d in items:
                    row = {"file": rel, "module": mod, "qualname": qual, "line": d.lineno,
                           "decorated_line": min([x.lineno for x in d.decorator_list] + [d.lineno])}
                    (decorated if d.decorator_list else plain).append(row)
    # Spread the sample over the whole stdlib: every k-th symbol.
    def spread(rows, n):
        if len(rows) <= n:
            return rows
        step = len(rows) / n
        return [rows[int(i * step)] for i in range(n)]
    print(json.dumps({"root": root, "symbols": spread(decorated, args.decorated) + spread(plain, args.plain)}))


if __name__ == "__main__":
    main()
