#!/usr/bin/env python3
"""Offline probe: would term proximity improve `ctx search`? (issue 12, docs/ranking.md).

A measurement, not a feature. For every query of the harness sets it takes the daemon's top 50
chunks (score, path, line range), re-reads each chunk's text from the corpus and re-ranks the
chunks by score × (1 + w · proximity), then scores the file ranking like evaluate.py (MRR@10,
recall@5 per set and split). Two proximity features, each over the whole chunk and over its
prose only (docstrings and comments):

  pair  Σ over the query's stems present in the chunk of 1 / (distance in tokens to the nearest
        other query stem), divided by the number of query stems (adjacent words: 1 each);
  span  (present / query stems) × (present / the smallest window holding every present stem).

Tokens are identifier pieces (snake_case and camelCase split), lowercased and stemmed with
Snowball English through libstemmer (the library the index uses). A chunk with fewer than two of
the query's stems gets 0. w = 0 is the engine's own ranking: the first rows must match
scripts/relevance.sh.

Usage: tests/relevance/proximity_probe.py [--bin-dir build/client] [--weights 0,0.1,0.2,0.3,0.5,1]
"""
import argparse
import collections
import ctypes
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import evaluate  # noqa: E402  (the harness: sets, corpora, the daemon client)

_lib = ctypes.CDLL("libstemmer.so.0d")
_lib.sb_stemmer_new.restype = ctypes.c_void_p
_lib.sb_stemmer_new.argtypes = [ctypes.c_char_p, ctypes.c_char_p]
_lib.sb_stemmer_stem.restype = ctypes.c_void_p
_lib.sb_stemmer_stem.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int]
_lib.sb_stemmer_length.argtypes = [ctypes.c_void_p]
_stemmer = _lib.sb_stemmer_new(b"english", None)
_stems = {}


def stem(word):
    if word not in _stems:
        b = word.encode()
        p = _lib.sb_stemmer_stem(_stemmer, b, len(b))
        _stems[word] = ctypes.string_at(p, _lib.sb_stemmer_length(_stemmer)).decode()
    return _stems[word]


def tokens(text):
    out = []
    for m in re.finditer(r"[A-Za-z][A-Za-z0-9]*|[0-9]+", text):
        for piece in re.findall(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+", m.group(0)):
            out.append(stem(piece.lower()))
    return out


def prose(text):
    strings = [a or b for a, b in re.findall(r'"""(.*?)"""|\'\'\'(.*?)\'\'\'', text, re.S)]
    return " ".join(strings + re.findall(r"#(.*)", text))


def proximity(toks, query, mode):
    pos = collections.defaultdict(list)
    for i, t in enumerate(toks):
        if t in query:
            pos[t].append(i)
    if len(pos) < 2:
        return 0.0
    occ = sorted((i, t) for t, ps in pos.items() for i in ps)
    if mode == "pair":
        best = dict.fromkeys(pos, float("inf"))
        for (i, a), (j, b) in zip(occ, occ[1:]):
            if a != b:
                best[a] = min(best[a], j - i)
                best[b] = min(best[b], j - i)
        return sum(1.0 / d for d in best.values()) / len(query)
    need, have, lo, window = len(pos), 0, 0, float("inf")
    count = collections.Counter()
    for i, t in occ:
        count[t] += 1
        have += count[t] == 1
        while have == need:
            window = min(window, i - occ[lo][0] + 1)
            u = occ[lo][1]
            count[u] -= 1
            have -= count[u] == 0
            lo += 1
    return (need / len(query)) * (need / window)


def collect(bin_dir):
    data = {}
    for name in evaluate.SETS:
        rows = evaluate.load_set(name, "all", 0)
        cname, src, pkgs = evaluate.SETS[name]
        root = evaluate.corpus_dir(cname, src)
        if root is None:
            print(f"SKIP {name}: corpus {src} is absent (install {pkgs})", file=sys.stderr)
            continue
        ours = evaluate.Ours(bin_dir, root)
        try:
            out = []
            for r in rows:
                reply = ours.run(["ctx", "search", "-s", root, "-n", "50", "--", r["query"]])["result"]
                hits = []
                for h in reply["hits"]:
                    try:
                        with open(os.path.join(root, h["path"]), encoding="utf-8", errors="replace") as f:
                            lines = f.read().split("\n")
                    except OSError:
                        lines = []
                    text = "\n".join(lines[h["start_line"] - 1:h["end_line"]])
                    hits.append((h["path"], h["score"], tokens(text), tokens(prose(text))))
                out.append((r, {stem(t) for t in reply["terms"]}, hits))
            data[name] = out
        finally:
            ours.close()
    return data


def measure(rows, split, w, mode, which):
    rr_sum = r5_sum = n = 0
    for r, query, hits in rows:
        if r["split"] != split:
            continue
        ranked = []
        for k, h in enumerate(hits):
            f = proximity(h[which], query, mode) if w and len(query) >= 2 else 0.0
            ranked.append((-h[1] * (1 + w * f), k, h[0]))
        ranked.sort()
        files = []
        for _, _, p in ranked:
            if p not in files:
                files.append(p)
        rr, r5, _ = evaluate.scores(files[:10], r["answers"])
        rr_sum, r5_sum, n = rr_sum + rr, r5_sum + r5, n + 1
    return rr_sum / n, r5_sum / n


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin-dir", default=os.path.join(HERE, "..", "..", "build", "client"))
    ap.add_argument("--weights", default="0,0.1,0.2,0.3,0.5,1")
    args = ap.parse_args()
    data = collect(os.path.abspath(args.bin_dir))
    print("feature      text    w     " + "  ".join(f"{n:>10} dev/check MRR (R@5)" for n in data))
    for mode in ("pair", "span"):
        for which, label in ((2, "chunk"), (3, "prose")):
            for w in (float(x) for x in args.weights.split(",")):
                cells = []
                for rows in data.values():
                    (d, dr), (c, cr) = (measure(rows, s, w, mode, which) for s in ("dev", "check"))
                    cells.append(f"{d:.3f}/{c:.3f} ({dr:.3f}/{cr:.3f})")
                print(f"{mode:<12} {label:<7} {w:<5} " + "  ".join(f"{c:>30}" for c in cells), flush=True)


if __name__ == "__main__":
    main()
