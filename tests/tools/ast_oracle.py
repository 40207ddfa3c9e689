#!/usr/bin/env python3
"""AST oracle: compare Trifecta's tree-sitter definitions with Python's own `ast` module.

For every .py file under ROOT (default: this interpreter's standard library), the definitions
(classes, functions, methods, at every depth) are compared as a multiset of
(qualified name, kind, start line, end line), where the qualified name follows __qualname__
(`Outer.Inner.method`, `func.<locals>.helper`), kind is class | def | async def, the start line
is the `def`/`class` line (not the decorator's) and the end line is the body's last line.

Files Python itself cannot parse (py2 test data, deliberate syntax errors) are excluded and
counted. Prints precision and recall (micro-averaged over definitions) and the differences;
exits 1 if either is below --min, 77 (CTest "skipped") if ROOT does not exist.

usage: ast_oracle.py --dump build/tests/skeleton_dump [--root DIR] [--min 0.995] [--show 40]
"""
import argparse
import ast
import collections
import json
import os
import subprocess
import sys
import sysconfig


def oracle_defs(tree):
    out = []

    def walk(node, prefix):
        for child in ast.iter_child_nodes(node):
            if isinstance(child, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                q = prefix + child.name
                kind = ("class" if isinstance(child, ast.ClassDef)
                        else "async def" if isinstance(child, ast.AsyncFunctionDef) else "def")
                out.append((q, kind, child.lineno, child.end_lineno))
                walk(child, q + ("." if kind == "class" else ".<locals>."))
            else:
                walk(child, prefix)

    walk(tree, "")
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dump", required=True, help="path of the skeleton_dump tool")
    ap.add_argument("--root", default=None, help="tree to compare (default: the stdlib)")
    ap.add_argument("--min", type=float, default=0.995, help="minimum precision and recall")
    ap.add_argument("--show", type=int, default=40, help="differences to print")
    ap.add_argument("--json", default=None, help="write a JSON report here")
    args = ap.parse_args()

    root = args.root
    if root is None:
        candidates = ["/usr/lib/python3.11", sysconfig.get_paths()["stdlib"]]
        root = next((c for c in candidates if os.path.isdir(c)), candidates[0])
    if not os.path.isdir(root):
        print(f"SKIP: Python standard library not found at {root}")
        return 77

    proc = subprocess.run([args.dump, "defs", root], capture_output=True, text=True)
    if proc.returncode != 0:
        print(proc.stderr, file=sys.stderr)
        print(f"FAIL: {args.dump} exited with {proc.returncode}")
        return 1
    ours = {}
    for line in proc.stdout.splitlines():
        rec = json.loads(line)
        ours[rec["file"]] = rec

    tp = n_ours = n_oracle = 0
    excluded = []
    missing_files = []
    diffs = []  # (file, side, def)
    categories = collections.Counter()
    files = 0
    for rel in sorted(ours):
        path = os.path.join(root, rel)
        try:
            with open(path, "rb") as f:
                src = f.read()
            tree = ast.parse(src, filename=path)
        except (SyntaxError, ValueError, UnicodeDecodeError) as e:
            excluded.append((rel, type(e).__name__))
            continue
        files += 1
        rec = ours[rel]
        if "defs" not in rec:
            missing_files.append((rel, rec.get("error")))
            mine = []
        else:
            mine = [tuple(d) for d in rec["defs"]]
        theirs = oracle_defs(tree)
        a, b = collections.Counter(mine), collections.Counter(theirs)
        common = a & b
        tp += sum(common.values())
        n_ours += len(mine)
        n_oracle += len(theirs)
        only_ours = a - b
        only_theirs = b - a
        by_name_ours = {(q, k): (s, e) for (q, k, s, e) in only_ours}
        for d in sorted(only_theirs.elements(), key=lambda d: d[2]):
            key = (d[0], d[1])
            if key in by_name_ours:
                s, e = by_name_ours[key]
                cat = "start line differs" if s != d[2] else "end line differs"
            else:
                cat = "missing in trifecta"
            categories[cat] += 1
            diffs.append((rel, "python", d, cat))
        by_name_theirs = {(q, k) for (q, k, s, e) in only_theirs}
        for d in sorted(only_ours.elements(), key=lambda d: d[2]):
            if (d[0], d[1]) not in by_name_theirs:
                categories["extra in trifecta"] += 1
                diffs.append((rel, "trifecta", d, "extra in trifecta"))
            else:
                diffs.append((rel, "trifecta", d, "line mismatch (trifecta side)"))

    precision = tp / n_ours if n_ours else 1.0
    recall = tp / n_oracle if n_oracle else 1.0
    print(f"root: {root}")
    print(f"files compared: {files}; excluded (Python cannot parse them): {len(excluded)}")
    for rel, why in excluded:
        print(f"  excluded {rel} ({why})")
    for rel, err in missing_files:
        print(f"  trifecta failed on {rel}: {err}")
    print(f"definitions: python {n_oracle}, trifecta {n_ours}, matching {tp}")
    print(f"precision {precision:.5f}  recall {recall:.5f}  (minimum {args.min})")
    for cat, n in categories.most_common():
        print(f"  {cat}: {n}")
    for rel, side, d, cat in diffs[: args.show]:
        print(f"  {rel}: {side} {d[1]} {d[0]} L{d[2]}-{d[3]} [{cat}]")
    if len(diffs) > args.show:
        print(f"  ... {len(diffs) - args.show} more")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"root": root, "files": files, "excluded": len(excluded), "python": n_oracle,
                       "trifecta": n_ours, "matching": tp, "precision": precision, "recall": recall,
                       "categories": dict(categories)}, f, indent=2)
    if precision < args.min or recall < args.min:
        print("FAIL: below the minimum")
        return 1
    print("PASS")
    return 0


if __name__ == "__main__":
    sys.exit(main())
