#!/usr/bin/env python3
"""Regenerates the reference-derived relevance query sets in tests/relevance/sets/.

The sets are committed; this script documents (and reproduces) how they were made. It reads
sources this project does not control:

  stdlib_ref  the function and class entries of the Python 3.11 library reference (Debian package
              python3.11-doc, /usr/share/doc/python3.11-doc/html/library/*.html): the first
              sentence of an entry is the query, the file that defines the object (found by
              importing it with Debian's /usr/bin/python3 and asking `inspect`, then following
              frozen modules and re-exports to the file holding its class, def or assignment:
              collections.abc.Reversible -> _collections_abc.py) is the answer.
              Objects implemented in C answer with the documented module's .py file when there is
              one (csv.reader -> csv.py: where a reader of the code would look), else are dropped.
  stdlib_modules  the module pages of the same library reference: the first sentence of a page's
              first prose paragraph (after the "Source code:" line, before the first section;
              notes, version and availability boxes skipped), with the module's own name taken
              out where it names the module ("The csv module implements ..." -> "The module
              implements ..."; a sentence ending in a colon is dropped), is the query; the module's
              .py file (a package's __init__.py) is the answer. Modules without one are dropped.
              What a module does, asked without its name: the shape of a question about a module.
  django_ref  the function, class, method and exception entries of Django 3.2's reference docs
              (python-django-doc, /usr/share/doc/python-django-doc/html/ref/**/*.html) against
              Django's code (python3-django): the first sentence is the query, the "[source]" link
              Sphinx' viewcode wrote next to the entry names the defining module.
  sqlalchemy_ref  held out (added 2026-12-04, after every ranking change so far; every query is
              `check`): the function, class, method and exception entries of SQLAlchemy 1.4's
              documentation (python-sqlalchemy-doc, /usr/share/doc/python-sqlalchemy-doc/html/
              **/*.html) against SQLAlchemy's code (python3-sqlalchemy): the first sentence is the
              query (autodoc's "inherited from the ... method of ..." stubs dropped), the file
              that defines the object (import and `inspect`, as for stdlib_ref) the answer.
  sphinx_ref  held out likewise (added 2026-12-04): the same entries of Sphinx 5.3's own
              documentation (sphinx-doc, /usr/share/doc/sphinx-doc/html/**/*.html) against its
              code (python3-sphinx), made the same way.
  jinja2_ref, werkzeug_ref, click_ref  held out likewise (added 2026-12-05, after rank-14): the
              same entries of Jinja2 3.1's, Werkzeug 2.2's and Click 8.1's documentation
              (python-jinja2-doc, python-werkzeug-doc, python-click-doc) against their code
              (python3-jinja2, python3-werkzeug, python3-click), made the same way.

  stdlib_faq, sqlalchemy_faq  held out likewise (added 2026-12-05, after rank-15): the questions
              the documentation asks in its headings — the Python FAQ and HOWTOs (python3.11-doc,
              faq/*.html, howto/*.html), every page of SQLAlchemy's (its FAQ, and sections such as
              "When do I make a sessionmaker?"). A section heading that asks a question ("How do I
              copy a file?") is the query; the objects and modules the section's own text links
              to (shutil.copyfile, module-shutil; sqlalchemy.orm.sessionmaker), each resolved to
              its defining file as for stdlib_ref, are the acceptable answers. Questions whose
              answer links to nothing a .py file defines (built-ins, C modules, prose pages) are
              dropped. Questions written by people for people, not generated from docstrings.

  stdlib_errors, sqlalchemy_errors  held out likewise (added 2026-12-08, after rank-20): the
              error messages the documentation prints in its examples — every line of a <pre>
              block of the Python docs (python3.11-doc, all pages) or SQLAlchemy's
              (python-sqlalchemy-doc) that reads `SomeError: message` — as a traceback's last
              line is pasted by someone asking where it comes from. The answers are the files of
              the code (tests left out) holding a string literal that prints that message: its
              constant text (at least three words) with each %-placeholder, `{}` field or f-string
              value standing for any text, matching the whole message or a run of its
              ": "-separated parts (exceptions compose messages so). Messages no .py file prints
              (a C module's, the interpreter's) are dropped. Made by matching text only: no
              ranking system is asked.
  django_errors  held out likewise (added 2026-12-08, after rank-21, untouched when first
              measured): the same from every page of Django 3.2's documentation
              (python-django-doc, /usr/share/doc/python-django-doc/html/**/*.html) against Django's
              code.

The module-index synopses (py-modindex.html) are reserved for evaluation elsewhere and are never
read here (nor the `title` attributes of the library pages' links, which repeat them: the parsers
collect visible text only). Entries are sampled by a stable hash of their id (no hand picking)
and split in two halves, `dev` (what ranking work may look at) and `check` (reported, never
tuned on).

Usage: tests/relevance/make_sets.py [--per-set N] [--out-dir DIR] [--check]
  (needs python3.11-doc, python-django-doc, python3-django, libpython3.11-testsuite,
  python-sqlalchemy-doc, python3-sqlalchemy, sphinx-doc, python3-sphinx, python-jinja2-doc,
  python3-jinja2, python-werkzeug-doc, python3-werkzeug, python-click-doc, python3-click and
  /usr/bin/python3:
  scripts/setup.sh installs them). --check regenerates the sets into a temporary
  folder and compares them with the committed ones: exit 0 when identical, 1 when not (the
  differing ids are printed), 77 when a source is absent. CTest runs it (relevance_sets_reproducible).
"""
import argparse
import ast
import glob
import hashlib
import html
import html.parser
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
PY_HTML = "/usr/share/doc/python3.11-doc/html"
PY_DOC = PY_HTML + "/library"
PY_FAQ = PY_HTML + "/faq"
# The links of an answer that name an object or module of the code: their targets (group 1).
# Python's FAQ and HOWTOs link into the library reference; SQLAlchemy's pages to its entries.
PY_FAQ_LINK = r"\.\./library/[\w.-]+\.html#(?:module-)?([A-Za-z_][\w.]*)"
SA_FAQ_LINK = r"(?:[\w./-]*\.html)?#(sqlalchemy\.[\w.]+)"
DJ_HTML = "/usr/share/doc/python-django-doc/html"
DJ_DOC = DJ_HTML + "/ref"
STDLIB = "/usr/lib/python3.11"
DJANGO = "/usr/lib/python3/dist-packages/django"
SA_DOC = "/usr/share/doc/python-sqlalchemy-doc/html"
SQLALCHEMY = "/usr/lib/python3/dist-packages/sqlalchemy"
SPHINX_DOC = "/usr/share/doc/sphinx-doc/html"
SPHINX = "/usr/lib/python3/dist-packages/sphinx"
# The third wave of held-out sets (2026-12-05): (set, doc package, its HTML, code folder, package).
HELD_OUT_3 = (
    ("jinja2_ref", "python-jinja2-doc", "/usr/share/doc/python-jinja2-doc/html",
     "/usr/lib/python3/dist-packages/jinja2", "jinja2", "Debian python3-jinja2 3.1"),
    ("werkzeug_ref", "python-werkzeug-doc", "/usr/share/doc/python-werkzeug-doc/html",
     "/usr/lib/python3/dist-packages/werkzeug", "werkzeug", "Debian python3-werkzeug 2.2"),
    ("click_ref", "python-click-doc", "/usr/share/doc/python-click-doc/html",
     "/usr/lib/python3/dist-packages/click", "click", "Debian python3-click 8.1"),
)

# Modules whose import has visible side effects or needs a display / another OS.
SKIP_MODULES = {"antigravity", "this", "turtle", "turtledemo", "tkinter", "idlelib", "msilib",
                "winreg", "winsound", "msvcrt", "_winapi", "ensurepip", "venv", "lib2to3"}


class EntryParser(html.parser.HTMLParser):
    """Collects (kind, id, first paragraph text, viewcode href) for Sphinx `<dl class="py KIND">`
    entries. The first <p> directly inside the entry's <dd> is the description."""

    def __init__(self, kinds):
        super().__init__(convert_charrefs=True)
        self.kinds = kinds
        self.entries = []
        self.stack = []  # per open <dl>: kind or None
        self.pending = None  # entry whose <dt> we are in / whose first <p> we wait for
        self.in_dt = False
        self.in_p = 0
        self.text = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "dl":
            cls = (a.get("class") or "").split()
            kind = cls[1] if len(cls) >= 2 and cls[0] == "py" else None
            self.stack.append(kind if kind in self.kinds else None)
        elif tag == "dt" and self.stack and self.stack[-1] and self.pending is None:
            if a.get("id"):
                self.pending = {"kind": self.stack[-1], "id": a["id"], "href": None, "text": None,
                                "depth": len(self.stack)}
                self.in_dt = True
        elif tag == "a" and self.in_dt and self.pending is not None:
            href = a.get("href") or ""
            if "_modules/" in href:
                self.pending["href"] = href
        elif tag == "p" and self.pending is not None and not self.in_dt \
                and len(self.stack) == self.pending["depth"] and self.pending["text"] is None:
            self.in_p += 1
            self.text = []
        elif tag == "p" and self.in_p:
            self.in_p += 1

    def handle_endtag(self, tag):
        if tag == "dt" and self.in_dt:
            self.in_dt = False
        elif tag == "p" and self.in_p:
            self.in_p -= 1
            if self.in_p == 0 and self.pending is not None:
                self.pending["text"] = "".join(self.text)
                self.entries.append(self.pending)
                self.pending = None
        elif tag == "dl" and self.stack:
            if self.pending is not None and self.pending["depth"] == len(self.stack):
                self.pending = None  # an entry without a paragraph
            self.stack.pop()

    def handle_data(self, data):
        if self.in_p:
            self.text.append(data)


class ModuleIntroParser(html.parser.HTMLParser):
    """The module a library page documents (its <h1> holds a link to `#module-NAME`) and the text of
    the page's first prose paragraph after the <h1> and before the first section heading: not the
    "Source code:" line, not inside a note, a version or availability box, a table or a list.
    Only visible text is collected: attributes, such as the link titles that hold the
    module-index synopses, are never read.

    >>> p = ModuleIntroParser()
    >>> p.feed('<h1><a href="#module-zz" title="zz: SYNOPSIS"><code>zz</code></a> — Title</h1>'
    ...        '<p><strong>Source code:</strong> Lib/zz.py</p>'
    ...        '<div class="admonition note"><p>Note</p><p>A note.</p></div>'
    ...        '<p class="availability">Availability: Unix.<p>Not on WASI.</p>'
    ...        '<p>The <a title="SYNOPSIS" href="#x">zz</a> module does things.</p>'
    ...        '<p>A later paragraph.</p><section><h2>Functions</h2><p>Not the intro.</p></section>')
    >>> p.module, p.intro
    ('zz', 'The zz module does things.')
    """

    BOXES = ("admonition", "versionadded", "versionchanged", "deprecated", "deprecated-removed",
             "availability", "highlight")
    SKIPPED = ("table", "ul", "ol", "dl", "pre", "aside")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.module = None
        self.in_h1 = False
        self.after_h1 = False
        self.div_stack = []  # per open <div>: True when it is a box to skip
        self.skip_depth = 0  # open SKIPPED elements
        self.availability = False  # in an "Availability:" paragraph (and the note it holds)
        self.in_p = 0
        self.text = []
        self.intro = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "h1" and self.module is None:
            self.in_h1 = True
        elif tag == "a" and self.in_h1 and self.module is None:
            m = re.fullmatch(r"#module-([A-Za-z0-9_.]+)", a.get("href") or "")
            if m:
                self.module = m.group(1)
        elif tag in ("h2", "h3") and self.after_h1:
            self.after_h1 = False  # the intro is what comes before the page's first section
        elif tag == "div":
            cls = (a.get("class") or "").split()
            self.div_stack.append(any(c in self.BOXES for c in cls))
        elif tag in self.SKIPPED:
            self.skip_depth += 1
        elif tag == "p" and "availability" in (a.get("class") or "").split():
            self.availability = True
        elif tag == "p" and self.after_h1 and self.intro is None and not any(self.div_stack) \
                and self.skip_depth == 0 and not self.availability:
            self.in_p += 1
            self.text = []

    def handle_endtag(self, tag):
        if tag == "h1" and self.in_h1:
            self.in_h1 = False
            self.after_h1 = self.module is not None
        elif tag == "div" and self.div_stack:
            self.div_stack.pop()
        elif tag in self.SKIPPED and self.skip_depth:
            self.skip_depth -= 1
        elif tag == "p" and self.availability:
            self.availability = False
        elif tag == "p" and self.in_p:
            self.in_p -= 1
            text = re.sub(r"\s+", " ", "".join(self.text)).strip()
            if text and not text.startswith("Source code:"):
                self.intro = text

    def handle_data(self, data):
        if self.in_p:
            self.text.append(data)


class FaqParser(html.parser.HTMLParser):
    """The questions of a FAQ page: per section (`<section>`, or an older Sphinx's `<div
    class="section">`) whose heading ends in "?", the heading's visible text and the targets of
    the links in the section's own text (not its subsections') that `link` matches, its group 1:
    for the Python FAQ `../library/shutil.html#shutil.copyfile` -> shutil.copyfile and
    `#module-shutil` -> shutil. Attributes other than hrefs (link titles) are never read.

    >>> p = FaqParser(PY_FAQ_LINK)
    >>> p.feed('<section id="a"><h2>Files<a class="headerlink" href="#a">¶</a></h2>'
    ...        '<section id="b"><h3>How do I copy a file?<a class="headerlink" href="#b">¶</a></h3>'
    ...        '<p>The <a href="../library/shutil.html#module-shutil" title="T">shutil</a> module has'
    ...        ' <a href="../library/shutil.html#shutil.copyfile">copyfile()</a>; see'
    ...        ' <a href="../reference/x.html#y">y</a> and <a href="../glossary.html#term-z">z</a>.</p>'
    ...        '</section><div class="section" id="c"><h3>Why &amp; how?</h3><div><p>None.</p></div>'
    ...        '</div></section>')
    >>> p.questions
    [('How do I copy a file?', ['shutil', 'shutil.copyfile']), ('Why & how?', [])]
    """

    def __init__(self, link):
        super().__init__(convert_charrefs=True)
        self.link = link
        self.open = []  # per open <section> / <div>: its section's state, or None (a plain div)
        self.questions = []

    def section(self):
        return next((s for s in reversed(self.open) if s is not None), None)

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "section" or tag == "div":
            is_section = tag == "section" or "section" in (a.get("class") or "").split()
            self.open.append({"heading": [], "targets": [], "in_heading": False} if is_section else None)
            return
        sec = self.section()
        if sec is None:
            return
        if tag in ("h1", "h2", "h3", "h4"):
            sec["in_heading"] = True
        elif tag == "a":
            if "headerlink" in (a.get("class") or "").split():
                sec["in_heading"] = False  # the pilcrow is not the heading's text
                return
            m = re.fullmatch(self.link, a.get("href") or "")
            if m and not sec["in_heading"]:
                sec["targets"].append(m.group(1))

    def handle_endtag(self, tag):
        if tag in ("section", "div") and self.open:
            sec = self.open.pop()
            if sec is not None:
                heading = re.sub(r"\s+", " ", "".join(sec["heading"])).strip()
                if heading.endswith("?"):
                    self.questions.append((heading, sorted(set(sec["targets"]))))
        elif tag in ("h1", "h2", "h3", "h4") and self.section() is not None:
            self.section()["in_heading"] = False

    def handle_data(self, data):
        sec = self.section()
        if sec is not None and sec["in_heading"]:
            sec["heading"].append(data)


def first_sentence(text):
    text = re.sub(r"\s+", " ", html.unescape(text)).strip()
    # A sentence ends at . ! or ? followed by a space (not after "e.g." / "i.e." / "etc."), or at
    # the end of the paragraph.
    m = re.search(r"(.+?(?<!\be\.g)(?<!\bi\.e)(?<!\betc)[.!?])(\s|$)", text)
    return (m.group(1) if m else text).strip()


def unnamed(sentence, module):
    """`sentence` without the module's name where it names the module (the dotted name, or its
    last part, as a whole word next to "module" or "package", or opening the sentence). Other
    uses of the word stay: the query asks what a module does, not what it is called.

    >>> unnamed("The csv module's reader and writer objects read and write sequences.", "csv")
    "The module's reader and writer objects read and write sequences."
    >>> unnamed("The module pdb defines an interactive source code debugger.", "pdb")
    'The module defines an interactive source code debugger.'
    >>> unnamed("The xml.dom.minidom module is a minimal implementation.", "xml.dom.minidom")
    'The module is a minimal implementation.'
    >>> unnamed("ctypes is a foreign function library for Python.", "ctypes")
    'It is a foreign function library for Python.'
    >>> unnamed("This module provides access to the BSD socket interface.", "socket")
    'This module provides access to the BSD socket interface.'
    """
    names = sorted({module, module.rsplit(".", 1)[-1]}, key=len, reverse=True)
    name = r"(?<![\w.])(?:%s)(?![\w.]*\w)" % "|".join(re.escape(n) for n in names)
    out = re.sub(name + r"\s+(?=(?:module|package)\b)", "", sentence)
    out = re.sub(r"\b(module|package)\s+" + name, r"\1", out)
    return re.sub(r"^" + name + r"(?=\s)", "It", out)


def usable(sentence):
    words = sentence.split()
    if len(words) < 4 or len(words) > 45:
        return False
    low = sentence.lower()
    return not low.startswith(("alias", "an alias", "same as", "see ", "deprecated", "this is an alias",
                               "equivalent to", "identical to"))


def stable_key(s):
    return hashlib.sha256(s.encode()).hexdigest()


RESOLVER = r"""
import ast, importlib, inspect, json, os, sys, warnings
warnings.simplefilter("ignore")
ROOT = os.path.realpath(sys.argv[1])
SKIP = set(sys.argv[2].split(","))
# The module name of ROOT when ROOT is a package (sqlalchemy), else "" (a sys.path folder).
PREFIX = sys.argv[3] if len(sys.argv) > 3 else ""
def rel(p):
    if not p:
        return None
    p = os.path.realpath(p)
    if p.startswith(ROOT + os.sep) and p.endswith(".py"):
        return os.path.relpath(p, ROOT)
    return None
# The .py file of module `name` (None for a built-in or C module).
def module_file(name):
    try:
        mod = sys.modules.get(name) or importlib.import_module(name)
    except BaseException:
        return None
    return rel(getattr(mod, "__file__", None))
# A module's statements, those inside top-level if / try blocks included.
def statements(body):
    for node in body:
        yield node
        if isinstance(node, ast.If):
            yield from statements(node.body)
            yield from statements(node.orelse)
        elif isinstance(node, ast.Try):
            for block in (node.body, node.orelse, node.finalbody, *[h.body for h in node.handlers]):
                yield from statements(block)
# The file that defines `name` as a class, function or assignment: `path` itself, or a file it
# re-exports `name` from (`from M import *`, `from M import name`, followed up to three levels).
# None when no .py file does (a C module's object).
def definer(path, name, depth=0):
    try:
        tree = ast.parse(open(os.path.join(ROOT, path), encoding="utf-8").read())
    except BaseException:
        return None
    sources = []
    for node in statements(tree.body):
        if isinstance(node, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name:
            return path
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return path
        if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name) and node.target.id == name:
            return path
        if isinstance(node, ast.ImportFrom) and any(a.name in ("*", name) and (a.asname or a.name) in ("*", name)
                                                    for a in node.names):
            pkg = path[:-len("/__init__.py")] if path.endswith("/__init__.py") else os.path.dirname(path)
            base = ([PREFIX] if PREFIX else []) + (pkg.split("/") if pkg else [])
            if node.level:
                base = base[:len(base) - (node.level - 1)] if node.level > 1 else base
                mod = ".".join(base + ([node.module] if node.module else []))
            else:
                mod = node.module
            if mod:
                sources.append(mod)
    if depth < 3:
        for mod in sources:
            f = module_file(mod)
            if f and f != path:
                d = definer(f, name, depth + 1)
                if d:
                    return d
    return None
for line in sys.stdin:
    ident = line.strip()
    parts = ident.split(".")
    ans = None
    for i in range(len(parts), 0, -1):
        modname = ".".join(parts[:i])
        if modname.split(".")[0] in SKIP:
            break
        try:
            mod = importlib.import_module(modname)
        except BaseException:
            continue
        chain = [mod]
        try:
            for attr in parts[i:]:
                chain.append(getattr(chain[-1], attr))
        except BaseException:
            break
        # The object's file; for a member inspect cannot place (a method generated at run time,
        # as SQLAlchemy's proxies are), the file of the class holding it.
        src = None
        for obj in reversed(chain[1:] or chain):
            try:
                src = inspect.getsourcefile(inspect.unwrap(obj))
            except BaseException:
                src = None
            if src:
                break
        # A frozen module (os, posixpath, genericpath, _collections_abc, abc, io, stat, codecs in
        # 3.11) reports "<frozen NAME>": its file is the module's own __file__.
        if src and src.startswith("<frozen ") and src.endswith(">"):
            src = getattr(sys.modules.get(src[len("<frozen "):-1]), "__file__", None)
        ans = rel(src)
        if ans is None:
            ans = rel(getattr(mod, "__file__", None))
        # What inspect names may only re-export the object (collections/abc.py holds
        # `from _collections_abc import *`; asyncio/__init__.py `from .futures import *`; a C
        # object's documented module imports a pure-Python twin, decimal.py from _pydecimal):
        # the answer is the file whose code defines it, where one is found.
        if ans is not None and i < len(parts):
            ans = definer(ans, parts[i]) or ans
        break
    print(json.dumps({"id": ident, "answer": ans}), flush=True)
"""


def resolve(root, ids, skip=(), prefix=""):
    """{id: the file under `root` defining the object (None when none does)}, from RESOLVER;
    `prefix`: the module name of `root` when it is a package."""
    proc = subprocess.run(["/usr/bin/python3", "-I", "-c", RESOLVER, root, ",".join(sorted(skip)), prefix],
                          input="\n".join(ids) + "\n", capture_output=True, text=True, timeout=600,
                          cwd="/tmp")
    out = {}
    for line in proc.stdout.splitlines():
        try:
            r = json.loads(line)
        except ValueError:
            continue
        out[r["id"]] = r["answer"]
    return out


def django_answer(href):
    m = re.search(r"_modules/(django/[^#]+)\.html", href or "")
    if not m:
        return None
    mod = m.group(1)[len("django/"):]
    for cand in (mod + ".py", mod + "/__init__.py"):
        if os.path.isfile(os.path.join(DJANGO, cand)):
            return cand
    return None


def parse(paths, kinds, base):
    """The entries of the pages `paths`, each with its page relative to `base`."""
    entries = []
    for p in sorted(paths):
        parser = EntryParser(kinds)
        with open(p, encoding="utf-8") as f:
            parser.feed(f.read())
        for e in parser.entries:
            e["page"] = os.path.relpath(p, base)
            entries.append(e)
    return entries


def finish(rows, per_set, held_out=False):
    """Deduplicated by query, the first `per_set` in hash order, split dev/check alternately
    (every query `check` for a held-out set)."""
    seen = set()
    uniq = []
    for r in sorted(rows, key=lambda r: stable_key(r["id"])):
        if r["query"].lower() in seen:
            continue
        seen.add(r["query"].lower())
        uniq.append(r)
    uniq = uniq[:per_set]
    for i, r in enumerate(uniq):
        r["split"] = "dev" if i % 2 == 0 and not held_out else "check"
    return sorted(uniq, key=lambda r: r["id"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--per-set", type=int, default=300)
    ap.add_argument("--out-dir", default=os.path.join(HERE, "sets"), help="where the .jsonl sets go")
    ap.add_argument("--check", action="store_true",
                    help="regenerate into a temporary folder and compare with the committed sets")
    args = ap.parse_args()
    if args.check:
        return check(args.per_set)
    return generate(args.per_set, args.out_dir)


def generate(per_set, out_dir):
    """Write the ten sets to out_dir; 77 when a source is absent."""
    held = [p for _, _, doc, root, _, _ in HELD_OUT_3 for p in (doc, root)]
    for src in (PY_DOC, PY_FAQ, DJ_DOC, STDLIB, DJANGO, SA_DOC, SQLALCHEMY, SPHINX_DOC, SPHINX, *held, "/usr/bin/python3"):
        if not os.path.exists(src):
            print(f"make_sets: {src} is absent (scripts/setup.sh installs the packages)", file=sys.stderr)
            return 77

    # stdlib_ref
    entries = [e for e in parse(glob.glob(os.path.join(PY_DOC, "*.html")), {"function", "class"}, PY_DOC)
               if os.path.basename(e["page"]) != "py-modindex.html"]
    entries = [e for e in entries if usable(first_sentence(e["text"]))]
    answers = resolve(STDLIB, sorted({e["id"] for e in entries}), SKIP_MODULES)
    rows = []
    for e in entries:
        a = answers.get(e["id"])
        if not a or a.startswith("test/"):
            continue
        rows.append({"id": e["id"], "query": first_sentence(e["text"]), "answers": [a],
                     "source": "python3.11-doc library/" + os.path.basename(e["page"]) + "#" + e["id"]})
    write(out_dir, "stdlib_ref", finish(rows, per_set), "/usr/lib/python3.11 (Debian python3.11 + libpython3.11-testsuite)")

    # stdlib_modules
    intros = []
    for p in sorted(glob.glob(os.path.join(PY_DOC, "*.html"))):
        if os.path.basename(p) == "py-modindex.html":
            continue
        parser = ModuleIntroParser()
        with open(p, encoding="utf-8") as f:
            parser.feed(f.read())
        if parser.module and parser.intro:
            query = unnamed(first_sentence(parser.intro), parser.module)
            # A sentence that ends in a colon introduces a list ("The module defines the following
            # exceptions:"): it says nothing of what the module does.
            if usable(query) and not query.endswith(":"):
                intros.append((parser.module, query, os.path.basename(p)))
    answers = resolve(STDLIB, sorted({m for m, _, _ in intros}), SKIP_MODULES)
    rows = []
    for module, query, page in intros:
        a = answers.get(module)
        if not a or a.startswith("test/"):
            continue
        rows.append({"id": module, "query": query, "answers": [a],
                     "source": "python3.11-doc library/" + page + " (first paragraph, module name removed)"})
    write(out_dir, "stdlib_modules", finish(rows, per_set),
          "/usr/lib/python3.11 (Debian python3.11 + libpython3.11-testsuite)")

    # django_ref
    entries = parse(glob.glob(os.path.join(DJ_DOC, "**", "*.html"), recursive=True),
                    {"function", "class", "method", "exception"}, DJ_DOC)
    rows = []
    for e in entries:
        s = first_sentence(e["text"] or "")
        a = django_answer(e["href"])
        if not a or not usable(s):
            continue
        rows.append({"id": e["id"], "query": s, "answers": [a],
                     "source": "python-django-doc ref/" + e["page"] + "#" + e["id"]})
    write(out_dir, "django_ref", finish(rows, per_set), "/usr/lib/python3/dist-packages/django (Debian python3-django 3.2)")

    # The held-out sets: a package's reference docs against its code.
    write(out_dir, "sqlalchemy_ref", package_rows(SA_DOC, SQLALCHEMY, "sqlalchemy", "python-sqlalchemy-doc", per_set),
          "/usr/lib/python3/dist-packages/sqlalchemy (Debian python3-sqlalchemy 1.4)")
    write(out_dir, "sphinx_ref", package_rows(SPHINX_DOC, SPHINX, "sphinx", "sphinx-doc", per_set),
          "/usr/lib/python3/dist-packages/sphinx (Debian python3-sphinx 5.3)")
    for name, doc_package, doc, root, package, what in HELD_OUT_3:
        write(out_dir, name, package_rows(doc, root, package, doc_package, per_set), f"{root} ({what})")
    # The question sets: the Python FAQ and HOWTOs; SQLAlchemy's FAQ and the questions its other
    # pages ask in their headings.
    write(out_dir, "stdlib_faq",
          faq_rows(glob.glob(os.path.join(PY_FAQ, "*.html")) + glob.glob(os.path.join(PY_HTML, "howto", "*.html")),
                   PY_HTML, PY_FAQ_LINK, STDLIB, per_set, SKIP_MODULES, source="python3.11-doc"),
          "/usr/lib/python3.11 (Debian python3.11 + libpython3.11-testsuite)")
    write(out_dir, "sqlalchemy_faq",
          faq_rows(glob.glob(os.path.join(SA_DOC, "**", "*.html"), recursive=True), SA_DOC, SA_FAQ_LINK,
                   SQLALCHEMY, per_set, prefix="sqlalchemy", source="python-sqlalchemy-doc"),
          "/usr/lib/python3/dist-packages/sqlalchemy (Debian python3-sqlalchemy 1.4)")
    # The error sets: the messages the docs' examples print, answered by the files printing them.
    write(out_dir, "stdlib_errors",
          error_rows(glob.glob(os.path.join(PY_HTML, "**", "*.html"), recursive=True), PY_HTML, STDLIB, per_set,
                     "python3.11-doc"),
          "/usr/lib/python3.11 (Debian python3.11 + libpython3.11-testsuite)")
    write(out_dir, "sqlalchemy_errors",
          error_rows(glob.glob(os.path.join(SA_DOC, "**", "*.html"), recursive=True), SA_DOC, SQLALCHEMY, per_set,
                     "python-sqlalchemy-doc"),
          "/usr/lib/python3/dist-packages/sqlalchemy (Debian python3-sqlalchemy 1.4)")
    write(out_dir, "django_errors",
          error_rows(glob.glob(os.path.join(DJ_HTML, "**", "*.html"), recursive=True), DJ_HTML, DJANGO, per_set,
                     "python-django-doc"),
          "/usr/lib/python3/dist-packages/django (Debian python3-django 3.2)")
    return 0


def faq_rows(pages, base, link, root, per_set, skip=(), prefix="", source=""):
    """A held-out set of questions: each section of the HTML `pages` (under `base`) whose heading
    asks a question and whose own text links to code (`link`, FaqParser), answered by the files
    under `root` that define the linked objects (resolve; a parameter's anchor,
    `create_engine.params.pool_size`, stands for its function; test/ files left out)."""
    questions = []
    for p in sorted(pages):
        parser = FaqParser(link)
        with open(p, encoding="utf-8") as f:
            parser.feed(f.read())
        page = os.path.relpath(p, base)
        questions += [(q, sorted({t.split(".params.")[0] for t in targets}), page)
                      for q, targets in parser.questions if targets]
    answers = resolve(root, sorted({t for _, targets, _ in questions for t in targets}), skip, prefix)
    rows = []
    for q, targets, page in questions:
        files = sorted({answers[t] for t in targets if answers.get(t) and not answers[t].startswith("test/")})
        if not files or len(q.split()) < 3:
            continue
        rows.append({"id": page[:-len(".html")] + ":" + stable_key(q)[:12], "query": q, "answers": files,
                     "source": source + " " + page + " (a question; its answer's links to the code)"})
    return finish(rows, per_set, held_out=True)


ERROR_LINE = re.compile(r"^([A-Za-z_][\w.]*(?:Error|Exception|Warning|Exit)): (.{8,200})$")
# What the interpreter itself prints for any object or call (CPython's core messages, written in
# C): a .py file holding the same template (enum's "%r object has no attribute %r") is not where
# such a message comes from, so these are left out.
INTERPRETER = re.compile(r"object has no attribute|has no attribute '|object is not (?:callable|subscriptable|"
                         r"iterable)|required positional argument|got multiple values for argument|"
                         r"positional arguments? but \d+ (?:was|were) given|name '[^']*' is not defined|"
                         r"unexpected keyword argument")
PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[-#0 +]*(?:\d+|\*)?(?:\.\d+)?[sdrifxXeEgGcaou]|\{[^{}]*\}")


def literal_patterns(root):
    """(relative file, compiled pattern) for every string literal under `root` whose constant text
    holds at least three words — not docstrings, not test files. A %-placeholder, a `{}` field and
    an f-string's value each match any text."""
    out = []
    for dirpath, dirs, files in os.walk(root):
        dirs[:] = sorted(d for d in dirs if d not in ("test", "tests", "idle_test", "__pycache__", "testing"))
        for name in sorted(files):
            if not name.endswith(".py") or name.startswith("test_"):
                continue
            path = os.path.join(dirpath, name)
            try:
                with open(path, encoding="utf-8") as f:
                    tree = ast.parse(f.read())
            except (SyntaxError, UnicodeDecodeError, ValueError):
                continue
            docs = set()
            for node in ast.walk(tree):
                body = getattr(node, "body", None)
                if isinstance(body, list) and body and isinstance(body[0], ast.Expr) and \
                        isinstance(body[0].value, ast.Constant):
                    docs.add(id(body[0].value))
            parts_of = []
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docs:
                    parts_of.append(PLACEHOLDER.split(node.value))
                elif isinstance(node, ast.JoinedStr):
                    parts = [""]
                    for v in node.values:
                        if isinstance(v, ast.Constant) and isinstance(v.value, str):
                            parts[-1] += v.value
                        else:
                            parts.append("")
                    parts_of.append(parts)
            for parts in parts_of:
                pattern = template(parts)
                if pattern:
                    out.append((os.path.relpath(path, root), pattern))
    return out


def template(parts):
    """The pattern of a literal's constant `parts` (the text between its placeholders), any text
    standing for each placeholder; None when the constant text has fewer than three words. A
    final full stop is optional on both sides (messages are quoted with and without one).

    >>> bool(template(PLACEHOLDER.split("unknown url type: %r")).fullmatch("unknown url type: 'foo'"))
    True
    >>> bool(template(["Command '", "' returned non-zero exit status ", "."]).fullmatch("Command 'x' returned non-zero exit status 1"))
    True
    >>> template(PLACEHOLDER.split("%s: %s (%r)")) is None
    True
    >>> bool(template(PLACEHOLDER.split("100%% of {name} is not allowed")).fullmatch("100% of x is not allowed"))
    True
    """
    parts = list(parts)
    parts[-1] = parts[-1].rstrip(".")
    if len(re.findall(r"[A-Za-z]{2,}", " ".join(parts))) < 3 or sum(map(len, parts)) > 300:
        return None
    texts = [p.replace("%%", "%").replace("{{", "{").replace("}}", "}") for p in parts]
    return re.compile(".*?".join(re.escape(t) for t in texts), re.S)


def message_runs(msg):
    """The whole message and every run of its ": "-separated parts (exceptions compose messages
    so: argparse's "argument %s: %s" around a "conflicting option string(s): %s"), a final full
    stop dropped.

    >>> sorted(message_runs("argument --foo: conflicting option: --foo."))
    ['--foo', 'argument --foo', 'argument --foo: conflicting option', 'argument --foo: conflicting option: --foo', 'conflicting option', 'conflicting option: --foo']
    """
    parts = msg.rstrip(".").split(": ")
    return {": ".join(parts[i:j]) for i in range(len(parts)) for j in range(i + 1, len(parts) + 1)}


def error_rows(pages, base, root, per_set, source):
    """A held-out set of pasted error messages: `SomeError: message` lines of the <pre> blocks of
    the HTML `pages` (under `base`), answered by the files under `root` whose literals print the
    message (literal_patterns) — whole, or a run of its ": "-separated parts."""
    messages = {}
    for p in sorted(pages):
        with open(p, encoding="utf-8", errors="replace") as f:
            text = f.read()
        for pre in re.findall(r"<pre[^>]*>(.*?)</pre>", text, re.S):
            for line in html.unescape(re.sub(r"<[^>]+>", "", pre)).split("\n"):
                m = ERROR_LINE.match(line.strip())
                if m:
                    messages.setdefault((m.group(1), m.group(2)), os.path.relpath(p, base))
    patterns = literal_patterns(root)
    rows = []
    for (exc, msg), page in messages.items():
        if INTERPRETER.search(msg):
            continue
        runs = message_runs(msg)
        files = sorted({f for f, pat in patterns if any(pat.fullmatch(r) for r in runs)})
        if not files:
            continue
        query = exc + ": " + msg
        rows.append({"id": page[:-len(".html")] + ":" + stable_key(query)[:12], "query": query, "answers": files,
                     "source": source + " " + page + " (an error message in an example; the files printing it)"})
    return finish(rows, per_set, held_out=True)


def package_rows(doc, root, package, doc_package, per_set):
    """A held-out set: the function, class, method and exception entries of `package`'s docs
    under `doc`, answered with the file under `root` that defines each object."""
    entries = parse(glob.glob(os.path.join(doc, "**", "*.html"), recursive=True),
                    {"function", "class", "method", "exception"}, doc)
    entries = [e for e in entries if e["id"].startswith(package + ".")]
    entries = [e for e in entries if usable(first_sentence(e["text"] or ""))
               and not first_sentence(e["text"] or "").lower().startswith("inherited from")]
    answers = resolve(root, sorted({e["id"] for e in entries}), prefix=package)
    rows = []
    for e in entries:
        a = answers.get(e["id"])
        if not a:
            continue
        rows.append({"id": e["id"], "query": first_sentence(e["text"]), "answers": [a],
                     "source": doc_package + " " + e["page"] + "#" + e["id"]})
    return finish(rows, per_set, held_out=True)


def check(per_set):
    """Regenerate into a temporary folder; compare with the committed sets."""
    def rows(path):
        with open(path, encoding="utf-8") as f:
            return {json.loads(line)["id"]: line for line in f if line.strip()}
    with tempfile.TemporaryDirectory() as tmp:
        rc = generate(per_set, tmp)
        if rc:
            return rc
        differ = False
        for name in ("stdlib_ref", "stdlib_modules", "django_ref", "sqlalchemy_ref", "sphinx_ref",
                     *(h[0] for h in HELD_OUT_3), "stdlib_faq", "sqlalchemy_faq", "stdlib_errors",
                     "sqlalchemy_errors", "django_errors"):
            new, old = rows(os.path.join(tmp, name + ".jsonl")), rows(os.path.join(HERE, "sets", name + ".jsonl"))
            changed = sorted(i for i in set(new) | set(old) if new.get(i) != old.get(i))
            if changed:
                differ = True
                print(f"{name}: {len(changed)} entries differ from the committed set: {', '.join(changed[:20])}")
            else:
                print(f"{name}: {len(new)} entries, identical to the committed set")
        return 1 if differ else 0


def write(out_dir, name, rows, corpus):
    path = os.path.join(out_dir, name + ".jsonl")
    with open(path, "w", encoding="utf-8") as f:
        for r in rows:
            f.write(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n")
    dev = sum(1 for r in rows if r["split"] == "dev")
    print(f"{name}: {len(rows)} queries ({dev} dev, {len(rows) - dev} check) over {corpus} -> {path}")


if __name__ == "__main__":
    sys.exit(main())
