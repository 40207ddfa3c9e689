#!/usr/bin/env python3
"""`trifecta telemetry report --html` rendered by a real browser (headless Chromium).

    html_report_chromium.py TRIFECTA SAMPLE_DIR [SCREENSHOT_COPY.png]

Writes the report of the committed sample as HTML, then with headless Chromium (a fresh profile,
no network services): takes a screenshot and checks it is not blank (the PNG decoded with the
standard library: zlib + the PNG row filters) and that the charts' colours are on it; dumps the
DOM and checks the four charts are there with their SVG shapes and that the page's error trap
(#js-errors) stayed empty; fails on any console message Chromium logs (--enable-logging=stderr).
A negative control (a page with a script error) must be caught by the same checks, so the test
cannot pass because the detection stopped working. Exit 77 (skip) only when chromium is absent.
"""
import os, re, shutil, struct, subprocess, sys, tempfile, zlib

T, SAMPLE = sys.argv[1], sys.argv[2]
COPY = sys.argv[3] if len(sys.argv) > 3 else None
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
if not CHROMIUM:
    print("SKIP: chromium is not installed (scripts/setup.sh installs it)")
    sys.exit(77)

failures = []


def check(cond, what):
    if not cond:
        failures.append(what)
        print("FAIL:", what)


def chromium(tmp, url, *extra):
    profile = tempfile.mkdtemp(dir=tmp, prefix="profile-")
    r = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                        "--no-first-run", "--disable-background-networking", "--disable-component-update",
                        "--disable-sync", "--hide-scrollbars", f"--user-data-dir={profile}",
                        "--enable-logging=stderr", "--v=0", *extra, url],
                       capture_output=True, text=True, timeout=180)
    return r


def console_lines(stderr):
    return [l for l in stderr.splitlines() if "CONSOLE" in l or ":INFO:CONSOLE" in l]


def decode_png(path):
    """(width, height, rows of RGB tuples' bytes, channels) — stdlib only."""
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, idat, w = 8, b"", 0
    while pos < len(data):
        n, typ = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if typ == b"IHDR":
            w, h, depth, ctype = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and ctype in (2, 6), f"unexpected PNG format {depth}/{ctype}"
            ch = 3 if ctype == 2 else 4
        elif typ == b"IDAT":
            idat += body
        pos += 12 + n
    raw = zlib.decompress(idat)
    stride = w * ch
    rows, prev = [], bytearray(stride)
    for y in range(h):
        f = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        if f == 1:
            for i in range(ch, stride):
                line[i] = (line[i] + line[i - ch]) & 255
        elif f == 2:
            line = bytearray((a + b) & 255 for a, b in zip(line, prev))
        elif f == 3:
            for i in range(stride):
                left = line[i - ch] if i >= ch else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif f == 4:
            for i in range(stride):
                a = line[i - ch] if i >= ch else 0
                b, c = prev[i], (prev[i - ch] if i >= ch else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(line)
        prev = line
    return w, h, rows, ch


def pixel_stats(path):
    w, h, rows, ch = decode_png(path)
    nonwhite, colours, counts = 0, set(), {}
    wanted = {"green": (0x16, 0xA3, 0x4A), "blue": (0x25, 0x63, 0xEB), "amber": (0xF5, 0x9E, 0x0B)}
    for y in range(0, h, 2):  # every other row and column: plenty for these checks
        row = rows[y]
        for x in range(0, w, 2):
            px = tuple(row[x * ch:x * ch + 3])
            if px != (255, 255, 255):
                nonwhite += 1
            colours.add(px)
            for name, rgb in wanted.items():
                if all(abs(a - b) <= 6 for a, b in zip(px, rgb)):
                    counts[name] = counts.get(name, 0) + 1
    return w, h, nonwhite / ((w // 2) * (h // 2)), len(colours), counts


with tempfile.TemporaryDirectory() as tmp:
    html = os.path.join(tmp, "report.html")
    r = subprocess.run([T, "telemetry", "report", "--from", SAMPLE, "--html", html], capture_output=True, text=True)
    check(r.returncode == 0 and os.path.exists(html), f"report --html: exit {r.returncode} {r.stderr}")
    page = open(html, encoding="utf-8").read()
    check(not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)""", page), "no external resources in the page")
    check("Content-Security-Policy" in page, "the page forbids network fetches (CSP)")
    url = "file://" + html

    png = os.path.join(tmp, "shot.png")
    r = chromium(tmp, url, "--window-size=1000,2400", f"--screenshot={png}")
    check(os.path.exists(png), f"chromium wrote a screenshot: {r.stderr[-500:]}")
    check(not console_lines(r.stderr), f"no console message while rendering: {console_lines(r.stderr)}")
    if os.path.exists(png):
        w, h, ink, ncolours, counts = pixel_stats(png)
        print(f"screenshot {w}x{h}: {ink:.1%} non-white, {ncolours} colours, chart colours {counts}")
        check(ink > 0.03, f"the screenshot is not blank ({ink:.1%} non-white pixels)")
        check(ncolours > 20, f"the screenshot has text and charts ({ncolours} colours)")
        for name in ("green", "blue", "amber"):
            check(counts.get(name, 0) > 50, f"{name} chart shapes are on the screenshot ({counts.get(name, 0)} px)")
        if COPY:
            shutil.copy(png, COPY)

    r = chromium(tmp, url, "--dump-dom")
    dom = r.stdout
    check(not console_lines(r.stderr), f"no console message in --dump-dom: {console_lines(r.stderr)}")
    for cid in ("chart-latency", "chart-lsp-timeline", "chart-disclosure", "chart-cache"):
        m = re.search(r'<svg id="%s".*?</svg>' % cid, dom, re.S)
        check(m is not None, f"the DOM has <svg id={cid}>")
        if m:
            check(m.group(0).count("<rect") >= 1, f"{cid} drew shapes")
    lat = re.search(r'<svg id="chart-latency".*?</svg>', dom, re.S)
    check(lat and lat.group(0).count('class="series"') >= 10, "a latency series per command (up to 12)")
    check(re.search(r'<pre id="js-errors" hidden="">\s*</pre>', dom) is not None,
          "the page's error trap stayed empty")
    check('data-state="READY"' in dom and 'data-state="WARMING"' in dom, "the LSP timeline has WARMING and READY bands")

    # Negative control: the same checks must catch a page whose script fails.
    bad = os.path.join(tmp, "bad.html")
    with open(bad, "w") as f:
        f.write(page.replace("</body>", "<script>no_such_function();</script></body>"))
    r = chromium(tmp, "file://" + bad, "--dump-dom")
    caught = bool(console_lines(r.stderr)) or re.search(r'<pre id="js-errors">[^<]*no_such_function', r.stdout)
    check(caught, "negative control: a script error is detected (console log or #js-errors)")

if failures:
    print(f"{len(failures)} check(s) failed")
    sys.exit(1)
print("HTML report in Chromium: all checks passed")
