#!/usr/bin/env python3
"""How much of `ctx map` is documented API: a relevance figure for the map.

`ctx map` shows an agent the most central files of a tree and their most used symbols within a
token budget (docs/protocol.md, ctx.map). Nothing we write decides what is important there, so
this script asks a source we do not control: the project's own reference documentation. Each
symbol the map shows (dunder methods left out) counts as *documented* when the Sphinx inventory
of the project's docs (objects.inv: classes, functions, methods, exceptions, decorators,
attributes) names it under its file's module or one of that module's packages: `QuerySet` of
`db/models/query.py` is documented as `django.db.models.query.QuerySet` or, re-exported,
`django.db.models.QuerySet`; `JSONDecoder.decode` of `json/decoder.py` as
`json.JSONDecoder.decode`.

It prints, per corpus, budget and build: files and symbols shown, how many of those are
documented, and the share. A higher share at the same budget means more of the map is the
API a reader is meant to use. It is a proxy: a documented name can be a minor one, and an
undocumented helper can be central (the tree's own code uses it). Figures go to
docs/benchmarks.md, measured for every build in the same run.

Corpora (the relevance corpora of evaluate.py, with the Debian packages named there): the
Python 3.11 library (inventory of python3.11-doc), Django (python-django-doc), the held-out
SQLAlchemy (python-sqlalchemy-doc) and Sphinx (sphinx-doc), and Jinja2, Werkzeug, Click and
Requests (python3-requests, python-requests-doc), added with the map's re-export weighting.

Usage: map_docs.py [--budgets 1024,4000] [--corpora stdlib,django] LABEL=BIN_DIR ...
(BIN_DIR: a folder with the trifecta CLI, trifectad next to it, e.g. build/client).
"""

import argparse
import os
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import evaluate  # noqa: E402  (corpus copies and the daemon driver)

# corpus -> (relevance set naming its source, or (source, Debian packages) for a corpus that is
# no relevance set's; Sphinx inventory; module prefix of the tree's root)
CORPORA = {
    "stdlib": ("stdlib_ref", "/usr/share/doc/python3.11-doc/html/objects.inv", ""),
    "django": ("django_ref", "/usr/share/doc/python-django-doc/html/objects.inv", "django"),
    # the held-out codebases (docs/relevance.md); the map's re-export weighting was corrected
    # after their maps were read (docs/benchmarks.md, section "`ctx map`: a package's re-exports")
    "sqlalchemy": ("sqlalchemy_ref", "/usr/share/doc/python-sqlalchemy-doc/html/objects.inv", "sqlalchemy"),
    "sphinx": ("sphinx_ref", "/usr/share/doc/sphinx-doc/html/objects.inv", "sphinx"),
    # added with the map's re-export weighting (same section), measured before and after it
    "jinja2": ("jinja2_ref", "/usr/share/doc/python-jinja2-doc/html/objects.inv", "jinja2"),
    "werkzeug": ("werkzeug_ref", "/usr/share/doc/python-werkzeug-doc/html/objects.inv", "werkzeug"),
    "click": ("click_ref", "/usr/share/doc/python-click-doc/html/objects.inv", "click"),
    "requests": (("/usr/lib/python3/dist-packages/requests", "python3-requests, python-requests-doc"),
                 "/usr/share/doc/python-requests-doc/html/objects.inv", "requests"),
}
ROLES = {"py:class", "py:function", "py:method", "py:exception", "py:decorator", "py:attribute",
         "py:classmethod", "py:staticmethod"}


def inventory(path):
    """The documented Python object names of a Sphinx objects.inv (version 2)."""
    with open(path, "rb") as f:
        data = f.read()
    parts = data.split(b"\n", 4)
    if len(parts) < 5 or not parts[0].startswith(b"# Sphinx inventory version 2"):
        raise ValueError(f"{path}: not a Sphinx inventory version 2")
    names = set()
    for line in zlib.decompress(parts[4]).decode("utf-8").splitlines():
        fields = line.split(" ", 2)
        if len(fields) >= 2 and fields[1] in ROLES:
            names.add(fields[0])
    return names


def module_of(path, prefix):
    """The dotted module of a tree-relative .py path, as a list.

    >>> module_of("db/models/query.py", "django")
    ['django', 'db', 'models', 'query']
    >>> module_of("json/__init__.py", "")
    ['json']
    """
    parts = path[:-3].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return ([prefix] if prefix else []) + parts


def documented(path, qualname, prefix, names):
    """Whether the docs name `qualname` of file `path` under its module or a package of it.

    >>> documented("db/models/query.py", "QuerySet.filter", "django", {"django.db.models.QuerySet.filter"})
    True
    >>> documented("db/models/query.py", "QuerySet", "django", {"django.db.QuerySet2"})
    False
    """
    mod = module_of(path, prefix)
    return any(".".join(mod[:k] + [qualname]) in names for k in range(1, len(mod) + 1))


def is_dunder(name):
    last = name.rsplit(".", 1)[-1]
    return len(last) > 4 and last.startswith("__") and last.endswith("__")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--budgets", default="1024,4000")
    ap.add_argument("--corpora", default=",".join(CORPORA))
    ap.add_argument("builds", nargs="+", help="LABEL=BIN_DIR")
    args = ap.parse_args()
    builds = []
    for b in args.builds:
        label, _, bin_dir = b.partition("=")
        if not bin_dir:
            ap.error(f"{b}: expected LABEL=BIN_DIR")
        builds.append((label, bin_dir))
    budgets = [int(x) for x in args.budgets.split(",")]

    print("| corpus | budget | build | files | symbols | documented | share |")
    print("|---|---:|---|---:|---:|---:|---:|")
    skipped = 0
    for cname in args.corpora.split(","):
        source, inv_path, prefix = CORPORA[cname]
        src, pkgs = source if isinstance(source, tuple) else evaluate.SETS[source][1:]
        root = evaluate.corpus_dir(cname, src)
        if root is None or not os.path.isfile(inv_path):
            evaluate.log(f"SKIP {cname}: {src} or {inv_path} is absent (install {pkgs}: scripts/setup.sh does)")
            skipped += 1
            continue
        names = inventory(inv_path)
        for label, bin_dir in builds:
            ours = evaluate.Ours(bin_dir, root)  # a private daemon; the index is built here
            try:
                for budget in budgets:
                    reply = ours.run(["ctx", "map", "-s", root, "-b", str(budget)])["result"]
                    shown = [(f["path"], s["name"]) for f in reply["files"] for s in f["symbols"]
                             if not is_dunder(s["name"])]
                    doc = sum(documented(p, q, prefix, names) for p, q in shown)
                    share = doc / len(shown) if shown else 0.0
                    print(f"| {cname} | {budget} | {label} | {len(reply['files'])} | {len(shown)} | {doc} | "
                          f"{share:.2f} |", flush=True)
            finally:
                ours.close()
    return 77 if skipped == len(args.corpora.split(",")) else 0


if __name__ == "__main__":
    sys.exit(main())
