#!/usr/bin/env python3
"""Per-module line and branch coverage from a gcovr JSON summary, checked against floors.

usage: coverage_report.py SUMMARY.json FLOORS.txt

A module is lib/<name>/ (lib/lang/python counts as lib/lang), daemon/, client/ or proto/. FLOORS
has one `module line% branch%` per line (`total` for all of them; `#` comments); a module below
either floor fails the run (exit 1) with one line per failure. Standard library only.
"""
import json
import sys


def module_of(path):
    parts = path.split("/")
    if parts[0] == "lib" and len(parts) > 2:
        return "lib/" + parts[1]
    return parts[0]


def pct(covered, total):
    return 100.0 * covered / total if total else 100.0


def main():
    summary = json.load(open(sys.argv[1]))
    floors = {}
    for line in open(sys.argv[2]):
        line = line.split("#", 1)[0].split()
        if line:
            floors[line[0]] = (float(line[1]), float(line[2]))
    mods = {}
    for f in summary["files"]:
        m = mods.setdefault(module_of(f["filename"]), [0, 0, 0, 0])
        m[0] += f["line_covered"]
        m[1] += f["line_total"]
        m[2] += f["branch_covered"]
        m[3] += f["branch_total"]
    total = [sum(m[i] for m in mods.values()) for i in range(4)]
    rows = sorted(mods.items()) + [("total", total)]
    print(f"{'module':<18}{'lines':>16}{'line %':>9}{'branches':>18}{'branch %':>10}  floor (line/branch)")
    failures = []
    for name, (lc, lt, bc, bt) in rows:
        lp, bp = pct(lc, lt), pct(bc, bt)
        floor = floors.get(name)
        mark = ""
        if floor:
            mark = f"  {floor[0]:.1f} / {floor[1]:.1f}"
            if lp < floor[0]:
                failures.append(f"{name}: line coverage {lp:.1f} % is below its floor {floor[0]:.1f} %")
            if bp < floor[1]:
                failures.append(f"{name}: branch coverage {bp:.1f} % is below its floor {floor[1]:.1f} %")
        print(f"{name:<18}{lc:>7}/{lt:<8}{lp:>8.1f}{bc:>9}/{bt:<8}{bp:>9.1f}{mark}")
    for name in floors:
        if name not in mods and name != "total":
            failures.append(f"{name}: has a floor but no coverage data (module renamed or not built?)")
    for f in failures:
        print("coverage: FAIL " + f, file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
