#!/usr/bin/env python3
"""Damaged Python for the tree-sitter fuzz targets (docs/fuzzing.md, "Damaged Python").

Writes COUNT inputs to OUT_DIR: runs of 1-8 lines cut from the Python standard library's own
modules, with one to three syntax tokens deleted (a colon, a bracket or brace, a comma, `=`,
`.`, `@`, a quote, `as`, `in`, `lambda`, `def`, `class`) and some lines' indentation stripped,
the half-typed code an editor sends while
someone types. libFuzzer's byte mutations rarely make such text: they break the tokens, not the
grammar, so error recovery's partial trees (nodes without the fields the grammar names) are what
this adds. It found the fallback's `lambda a, b` crash in seconds where a 25 s random run needed luck.

With --positions each input starts with the four bytes fuzz_navigation reads as a position
(line, column), aimed at an identifier of the snippet.

    tests/fuzz/damaged_python.py OUT_DIR COUNT [--positions] [--seed N] [--stdlib DIR]

Deterministic for a given seed and standard library. Exit 0; 3 when no standard library is found.
"""
import argparse
import os
import random
import re
import sys
import sysconfig

DAMAGE = re.compile(r"[:()\[\]{},=.@'\"]|\bas\b|\bin\b|\blambda\b|\bdef\b|\bclass\b")
IDENT = re.compile(r"[A-Za-z_]\w*")


def sources(stdlib):
    out = []
    for name in sorted(os.listdir(stdlib)):
        if name.endswith(".py"):
            path = os.path.join(stdlib, name)
            try:
                with open(path, encoding="utf-8", errors="replace") as f:
                    lines = f.read().split("\n")
            except OSError:
                continue
            if len(lines) > 8:
                out.append(lines)
    return out


def damaged(rng, lines):
    start = rng.randrange(len(lines) - 8)
    snippet = lines[start:start + rng.randint(1, 8)]
    text = "\n".join(l.lstrip() if rng.random() < 0.3 else l for l in snippet)
    for _ in range(rng.randint(1, 3)):
        spots = [m.span() for m in DAMAGE.finditer(text)]
        if spots:
            b, e = rng.choice(spots)
            text = text[:b] + text[e:]
    return text


def position_prefix(rng, text):
    spots = [(row, m.start()) for row, line in enumerate(text.split("\n")) for m in IDENT.finditer(line)]
    row, col = rng.choice(spots) if spots else (0, 0)
    # fuzz_navigation: line = 1 + b0 % 4 * 64 + b1 % 64, column alike from b2, b3 (1-based).
    return bytes([(row // 64) % 4, row % 64, (col // 64) % 4, col % 64])


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("out_dir")
    ap.add_argument("count", type=int)
    ap.add_argument("--positions", action="store_true")
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--stdlib", default=sysconfig.get_paths()["stdlib"])
    a = ap.parse_args()
    files = sources(a.stdlib) if os.path.isdir(a.stdlib) else []
    if not files:
        print(f"damaged_python: no standard library modules in {a.stdlib}", file=sys.stderr)
        return 3
    rng = random.Random(a.seed)
    os.makedirs(a.out_dir, exist_ok=True)
    for n in range(a.count):
        text = damaged(rng, rng.choice(files))
        data = text.encode("utf-8", errors="replace")
        if a.positions:
            data = position_prefix(rng, text) + data
        with open(os.path.join(a.out_dir, f"damaged-{n:05d}"), "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main())
