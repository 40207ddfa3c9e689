#!/usr/bin/env python3
"""Misspelt variants of the relevance sets: `<set>_typo.jsonl` next to each set in sets/.

Every query of a base set that has a prose word of five letters or more (not a stop word, not
part of an identifier) gets one typing error in one such word; its answers and split stay. The
error model is the usual one for typed text (Damerau 1964: most misspellings are one insertion,
deletion, substitution or transposition away from the word): a substitution by a key next to
the letter on a QWERTY keyboard (35 %), a deletion (30 %), an insertion of a key next to the
letter or of the letter again (20 %), or two neighbouring letters swapped (15 %). The first
letter is hit with probability 0.07 (Pollock and Zamora 1984: about 7 % of misspellings have
it wrong), otherwise a position after it is chosen uniformly.

Deterministic: the word, the error and its position come from a generator seeded with the
query's id, so a set's typo variant does not depend on its order or on the other sets. A
misspelling that happens to be another English word or an identifier of the corpus stays: real
typos do that too.

Usage: make_typo_sets.py [--check]   (--check: regenerate into memory and compare with the
committed files; exit 1 when they differ)
"""
import argparse
import hashlib
import json
import os
import random
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
SETS_DIR = os.path.join(HERE, "sets")
BASES = ("stdlib_ref", "stdlib_modules", "django_ref", "pip_agent", "sqlalchemy_ref", "sphinx_ref", "jinja2_ref",
         "werkzeug_ref", "click_ref")

# lib/index/ranking.cpp is_stop_word: the search drops these, so a typo in one would test nothing.
STOP = set("""a about after all also an and any are as at be been being by can could did do does
done each for from has have here how i if in into is it its me my of on or our should so some
than that the their them then there these they this those to was we were what when where which
while who whom whose why will with would you your""".split())

ROWS = ["qwertyuiop", "asdfghjkl", "zxcvbnm"]


def neighbours(c):
    """Keys next to `c` on a QWERTY keyboard (same row and the rows above and below)."""
    for r, row in enumerate(ROWS):
        i = row.find(c)
        if i < 0:
            continue
        out = set()
        for rr in (r - 1, r, r + 1):
            if 0 <= rr < len(ROWS):
                for j in (i - 1, i, i + 1):
                    if 0 <= j < len(ROWS[rr]) and ROWS[rr][j] != c:
                        out.add(ROWS[rr][j])
        return sorted(out)
    return []


def candidates(query):
    """The words of `query` a typo may hit: letters only, five or more, not a stop word, and
    not inside an identifier (the whitespace-separated token has no `_`, `.`, `(`, digit,
    backtick or quote, and no capital after its first letter).

    >>> candidates("Return the value of sys.argv as a `list` of strings.")
    ['Return', 'value', 'strings']
    >>> candidates("Returns a QuerySet_like thing")
    ['Returns', 'thing']
    """
    out = []
    for token in query.split():
        if re.search(r"[_.(\d`'\"\u2018\u2019\u201c\u201d]", token.strip(".,;:!?")):
            continue
        core = token.strip(".,;:!?()[]")
        if not re.fullmatch(r"[A-Za-z]+", core or "_"):
            continue
        if len(core) < 5 or core.lower() in STOP or any(ch.isupper() for ch in core[1:]):
            continue
        out.append(core)
    return out


def misspell(word, rng):
    """One typing error in `word` (see the module docstring).

    >>> misspell("request", random.Random(1)) != "request"
    True
    """
    w = word.lower()
    for _ in range(20):
        pos = 0 if rng.random() < 0.07 else rng.randrange(1, len(w))
        op = rng.random()
        if op < 0.35:  # substitution by a neighbouring key
            keys = neighbours(w[pos])
            if not keys:
                continue
            out = w[:pos] + rng.choice(keys) + w[pos + 1:]
        elif op < 0.65:  # deletion
            out = w[:pos] + w[pos + 1:]
        elif op < 0.85:  # insertion before pos: a key next to the letter, or the letter again
            keys = neighbours(w[pos]) + [w[pos]]
            out = w[:pos] + rng.choice(keys) + w[pos:]
        else:  # transposition of pos and the letter after it
            if pos + 1 >= len(w) or w[pos] == w[pos + 1]:
                continue
            out = w[:pos] + w[pos + 1] + w[pos] + w[pos + 2:]
        if out != w:
            return word[0] + out[1:] if pos > 0 and word[0].isupper() else out
    return None


def variant(row):
    rng = random.Random(int.from_bytes(hashlib.sha256(("typo-1:" + row["id"]).encode()).digest()[:8], "big"))
    words = candidates(row["query"])
    if not words:
        return None
    word = rng.choice(words)
    typo = misspell(word, rng)
    if typo is None:
        return None
    # Replace the chosen occurrence (the first whole-word one) only.
    query = re.sub(r"(?<![A-Za-z])" + re.escape(word) + r"(?![A-Za-z])", lambda _m: typo, row["query"], count=1)
    out = dict(row)
    out["query"] = query
    out["typo"] = f"{word}\u2192{typo}"
    out["source"] = row.get("source", "") + " (typo variant: make_typo_sets.py)"
    return out


def build(base):
    rows = []
    with open(os.path.join(SETS_DIR, base + ".jsonl"), encoding="utf-8") as f:
        for line in f:
            if line.strip():
                v = variant(json.loads(line))
                if v is not None:
                    rows.append(v)
    return "".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--check", action="store_true", help="compare with the committed files")
    args = ap.parse_args()
    differ = []
    for base in BASES:
        text = build(base)
        path = os.path.join(SETS_DIR, base + "_typo.jsonl")
        if args.check:
            try:
                with open(path, encoding="utf-8") as f:
                    same = f.read() == text
            except OSError:
                same = False
            if not same:
                differ.append(base + "_typo")
        else:
            with open(path, "w", encoding="utf-8") as f:
                f.write(text)
            print(f"{path}: {text.count(chr(10))} queries", file=sys.stderr)
    if differ:
        print("differ from the committed sets: " + ", ".join(differ), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
