#!/usr/bin/env python3
"""gen-syscall-docs.py - generates docs/syscalls.md from include/warden/syscalls.def.

Inputs (defaults are relative to the repository root, the parent of this
script's directory):

    include/warden/syscalls.def   the system calls (--def)
    include/warden/errors.h       the WD_ERRORS X-macro (--errors)
    include/warden/rights.h       the WD_RIGHT_* bits (--rights)
    include/warden/ipc.h          the IPC register table (--ipc)

syscalls.def starts with a plain /* ... */ comment that describes the
conventions. Then every entry is a /** ... */ doc comment directly followed by

    WD_SYSCALL(number, name, WD_ARGSn(type, arg, type, arg, ...))
    WD_SYSCALL_IPC(number, name)

A doc comment is a summary followed by four sections, each starting a line:
"Arguments:", "Returns:", "Errors:", "Rights:". A section runs until the
next one. In "Errors:", every upper-case word outside parentheses (BAD_HANDLE,
WD_E_BAD_HANDLE) must name an error of errors.h; words in parentheses are
free text. A section may say "as <other call>" or "none".

The "Calling convention" part of the output reproduces the paragraphs of the
.def's leading comment other than its title line and the description of the
entry format (the indented lines and the paragraph that introduces them),
and the "Registers of ..." table of ipc.h's leading comment.

The generator stops with "file:line: error: ..." (exit status 2) when an entry
has no doc comment, a doc comment lacks or repeats a section, numbers repeat
or are not contiguous from 0, names repeat, WD_ARGSn's n does not match its
(type, name) pairs, or an Errors section names an unknown error.

Usage:

    tools/gen-syscall-docs.py -o docs/syscalls.md     write the file (only if it changed)
    tools/gen-syscall-docs.py --check docs/syscalls.md
        exit 1 ("... is out of date; run make docs") when the file differs
        from what would be generated
    tools/gen-syscall-docs.py                         print to stdout

    Options --def, --errors, --rights, --ipc choose other input files. The
    generated text names the canonical paths (include/warden/...), never the
    paths given, so checking a copy of the inputs gives the same output.

Python 3 standard library only.
"""
import argparse
import difflib
import os
import re
import sys
import tempfile

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DEF_NAME = "include/warden/syscalls.def"
ERRORS_NAME = "include/warden/errors.h"
RIGHTS_NAME = "include/warden/rights.h"
IPC_NAME = "include/warden/ipc.h"
SCRIPT_NAME = "tools/gen-syscall-docs.py"

SECTIONS = ("Arguments", "Returns", "Errors", "Rights")
MAX_REGISTER_ARGS = 6

# libc's wrappers of the IPC calls: syscall name -> (wrapper, [(type, name)]).
IPC_WRAPPERS = {
    "ipc_call": ("wd_call", [("wd_handle_t", "ep"), ("struct wd_msg *", "msg"), ("uint64_t", "timeout")]),
    "ipc_send": ("wd_send", [("wd_handle_t", "ep"), ("struct wd_msg *", "msg"), ("uint64_t", "timeout")]),
    "ipc_recv": ("wd_recv", [("wd_handle_t", "ep"), ("struct wd_msg *", "msg"), ("uint64_t", "timeout")]),
    "ipc_reply": ("wd_reply", [("struct wd_msg *", "msg")]),
    "ipc_reply_recv": ("wd_reply_recv", [("wd_handle_t", "ep"), ("struct wd_msg *", "msg"), ("uint64_t", "timeout")]),
    "ipc_signal_recv": ("wd_signal_recv", [("wd_handle_t", "ep"), ("wd_handle_t", "notification"), ("uint64_t", "bits"),
                                           ("struct wd_msg *", "msg"), ("uint64_t", "timeout")]),
}

IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*\Z")
UPPER_WORD = re.compile(r"(?<![A-Za-z0-9_])[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*(?![A-Za-z0-9_])")


class InputError(Exception):
    """One or more problems in the input files, each 'file:line: error: ...'."""


class Diagnostics:
    def __init__(self):
        self.errors = []
        self.warnings = []

    def error(self, path, line, msg):
        self.errors.append("%s:%d: error: %s" % (display_path(path), line, msg))

    def warning(self, path, line, msg):
        self.warnings.append("%s:%d: warning: %s" % (display_path(path), line, msg))

    def raise_if_any(self):
        if self.errors:
            raise InputError("\n".join(self.errors))


def display_path(path):
    rel = os.path.relpath(os.path.abspath(path))
    return path if rel.startswith("..") else rel


def read_text(path):
    try:
        with open(path, encoding="utf-8") as f:
            return f.read()
    except OSError as e:
        raise InputError("%s: error: cannot read: %s" % (display_path(path), e.strerror))


class Source:
    """Text with offset -> line number lookup."""

    def __init__(self, path):
        self.path = path
        self.text = read_text(path)
        self.line_starts = [0] + [m.end() for m in re.finditer(r"\n", self.text)]

    def line_of(self, offset):
        lo, hi = 0, len(self.line_starts) - 1
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if self.line_starts[mid] <= offset:
                lo = mid
            else:
                hi = mid - 1
        return lo + 1


# ---------------------------------------------------------------------------
# Helpers for C text


def split_top_level(text, sep):
    """Split at sep characters that are outside (), [] and {}; returns (offset, piece) pairs."""
    pieces, depth, start = [], 0, 0
    for i, c in enumerate(text):
        if c in "([{":
            depth += 1
        elif c in ")]}":
            depth -= 1
        elif c == sep and depth == 0:
            pieces.append((start, text[start:i]))
            start = i + 1
    pieces.append((start, text[start:]))
    return pieces


def comment_lines(body):
    """Lines of a comment body (between the /* or /** and the */), leading ' * ' removed."""
    out = []
    for raw in body.split("\n"):
        s = raw.strip()
        if s.startswith("*"):
            s = raw[raw.index("*") + 1:]
            if s.startswith(" "):
                s = s[1:]
        else:
            s = raw.strip()
        out.append(s.rstrip())
    while out and not out[0].strip():
        out.pop(0)
    while out and not out[-1].strip():
        out.pop()
    return out


def paragraphs(lines):
    paras, cur = [], []
    for line in lines:
        if line.strip():
            cur.append(line)
        elif cur:
            paras.append(cur)
            cur = []
    if cur:
        paras.append(cur)
    return paras


def join_words(lines):
    return " ".join(" ".join(lines).split())


def leading_comment(src):
    """The body lines of the file's first /* ... */ comment, or None."""
    m = re.match(r"\s*/\*(?!\*)(.*?)\*/", src.text, re.S)
    return comment_lines(m.group(1)) if m else None


def drop_title(paras):
    """Drops a first paragraph of the form 'warden/x.h - what it is.'"""
    if paras and re.match(r"\S+\.(h|def) - ", paras[0][0].strip()):
        return paras[1:]
    return paras


def c_param(ctype, name):
    tokens = re.findall(r"[A-Za-z_][A-Za-z0-9_]*|\*", ctype)
    out = ""
    for t in tokens:
        if t == "*":
            out += "*" if out.endswith("*") else " *"
        else:
            out += (" " if out else "") + t
    return out + ("" if out.endswith("*") else " ") + name


# ---------------------------------------------------------------------------
# errors.h, rights.h, ipc.h


def parse_errors(path, diag):
    src = Source(path)
    m = re.search(r"#define\s+WD_ERRORS\b((?:[^\n]*\\\n)*[^\n]*)", src.text)
    if not m:
        diag.error(path, 1, "no '#define WD_ERRORS' X-macro found")
        return []
    errors, codes, names = [], {}, {}
    body_start = m.start(1)
    for e in re.finditer(r'WD_ERROR\(\s*([^,\s]+)\s*,\s*([A-Za-z_][A-Za-z0-9_]*)\s*,\s*"((?:[^"\\]|\\.)*)"\s*\)',
                         m.group(1)):
        line = src.line_of(body_start + e.start())
        try:
            code = int(e.group(1), 0)
        except ValueError:
            diag.error(path, line, "error code '%s' is not an integer" % e.group(1))
            continue
        name, text = e.group(2), re.sub(r"\\(.)", r"\1", e.group(3))
        if code in codes:
            diag.error(path, line, "error code %d repeats (first at line %d)" % (code, codes[code]))
        if name in names:
            diag.error(path, line, "error name %s repeats (first at line %d)" % (name, names[name]))
        codes.setdefault(code, line)
        names.setdefault(name, line)
        errors.append((code, name, text))
    if not errors:
        diag.error(path, src.line_of(m.start()), "WD_ERRORS has no WD_ERROR(code, NAME, \"text\") entries")
    return sorted(errors)


def rights_value(expr):
    e = re.sub(r"(?<=[0-9A-Fa-f])[uUlL]+\b", "", expr.strip())
    while e.startswith("(") and e.endswith(")"):
        e = e[1:-1].strip()
    m = re.fullmatch(r"(0[xX][0-9A-Fa-f]+|\d+)\s*<<\s*(\d+)", e)
    if m:
        return int(m.group(1), 0) << int(m.group(2))
    m = re.fullmatch(r"0[xX][0-9A-Fa-f]+|\d+", e)
    return int(e, 0) if m else None


def parse_rights(path, diag):
    src = Source(path)
    rights = []
    for m in re.finditer(r"^[ \t]*#[ \t]*define[ \t]+WD_RIGHT_([A-Za-z0-9_]+)[ \t]+(.*?)[ \t]*$",
                         src.text, re.M):
        value, comment = m.group(2), ""
        c = re.search(r"/\*(.*?)\*/\s*$|//(.*)$", value)
        if c:
            comment = " ".join((c.group(1) or c.group(2) or "").split())
            value = value[:c.start()].strip()
        rights.append((m.group(1), value, rights_value(value), comment))
    if not rights:
        diag.error(path, 1, "no '#define WD_RIGHT_<NAME> value' lines found")
    m = re.search(r"^[ \t]*#[ \t]*define[ \t]+WD_RIGHTS_ALL[ \t]+([^/\n]*?)[ \t]*(?:/[*/].*)?$", src.text, re.M)
    rights_all = m.group(1) if m else None
    lead = leading_comment(src) or []
    prose = [join_words(p) for p in drop_title(paragraphs(lead))]
    return rights, rights_all, prose


def parse_ipc(path, diag):
    """The register table of ipc.h's leading comment: (heading, [(registers, use)], trailer)."""
    src = Source(path)
    lines = leading_comment(src)
    if lines is None:
        diag.error(path, 1, "no leading /* ... */ comment with the IPC register table")
        return None
    for i, line in enumerate(lines):
        if line.startswith("Registers of"):
            break
    else:
        diag.error(path, 1, "the leading comment has no 'Registers of ...' table")
        return None
    heading, rows, indent, j = [lines[i]], [], None, i + 1
    while j < len(lines) and not heading[-1].rstrip().endswith(":"):
        heading.append(lines[j])
        j += 1
    reg = re.compile(r"( *)(r[a-z0-9]+(?:, *r[a-z0-9]+)*)\s{2,}(\S.*)$")
    while j < len(lines) and lines[j].strip():
        line = lines[j]
        m = reg.match(line)
        cur_indent = len(line) - len(line.lstrip())
        if m and (indent is None or cur_indent <= indent):
            indent = cur_indent
            rows.append([m.group(2), m.group(3)])
        elif rows and cur_indent > indent:
            rows[-1][1] += " " + line.strip()
        else:
            break
        j += 1
    if not rows:
        diag.error(path, 1, "the 'Registers of ...' table has no rows")
        return None
    trailer = []
    while j < len(lines) and lines[j].strip():
        trailer.append(lines[j])
        j += 1
    rows = [(r, re.sub(r"\s{2,}", "; ", u.strip())) for r, u in rows]
    return join_words(heading), rows, join_words(trailer)


# ---------------------------------------------------------------------------
# syscalls.def


class Call:
    def __init__(self, nr, name, args, ipc, line, doc):
        self.nr, self.name, self.args, self.ipc, self.line, self.doc = nr, name, args, ipc, line, doc

    def prototype(self):
        if self.ipc:
            fn, params = IPC_WRAPPERS[self.name]
        else:
            fn, params = "wd_" + self.name, self.args
        return "long %s(%s)" % (fn, ", ".join(c_param(t, n) for t, n in params) or "void")


class Doc:
    def __init__(self, line):
        self.line = line
        self.summary = []          # lines (blank line = paragraph break)
        self.sections = {}         # name -> (line, text, [(offset in text, line)])


def parse_doc(src, start, body, diag):
    doc = Doc(src.line_of(start))
    first_line = doc.line
    # Lines of the body with their line numbers; the first starts after "/**".
    raw_lines = body.split("\n")
    current = None
    for k, raw in enumerate(raw_lines):
        lineno = first_line + k
        s = raw.strip()
        if s.startswith("*"):
            s = raw[raw.index("*") + 1:].strip()
        m = re.match(r"(%s):\s*(.*)$" % "|".join(SECTIONS), s)
        if m:
            current = m.group(1)
            if current in doc.sections:
                diag.error(src.path, lineno, "section '%s:' repeats (first at line %d)"
                           % (current, doc.sections[current][0]))
            doc.sections[current] = (lineno, "", [])
            s = m.group(2)
        if current is None:
            doc.summary.append(s)
        elif s:
            line0, text, where = doc.sections[current]
            if text:
                text += " "
            where.append((len(text), lineno))
            doc.sections[current] = (line0, text + s, where)
    missing = [s + ":" for s in SECTIONS if s not in doc.sections]
    if missing:
        diag.error(src.path, doc.line, "doc comment lacks section%s %s"
                   % ("s" if len(missing) > 1 else "", ", ".join(missing)))
    if not any(s.strip() for s in doc.summary):
        diag.error(src.path, doc.line, "doc comment has no summary before 'Arguments:'")
    for name, (line0, text, where) in doc.sections.items():
        if not text.strip():
            diag.error(src.path, line0, "section '%s:' is empty (write 'none.' if nothing applies)" % name)
    return doc


def section_line(doc, section, offset):
    line0, _, where = doc.sections[section]
    line = line0
    for off, ln in where:
        if off <= offset:
            line = ln
    return line


def parse_call(src, kind, start, body_off, body, doc, diag):
    line = src.line_of(start)
    parts = split_top_level(body, ",")
    want = 2 if kind == "WD_SYSCALL_IPC" else 3
    if len(parts) != want:
        diag.error(src.path, line, "%s takes %d arguments, got %d" % (kind, want, len(parts)))
        return None
    nr_text, name = parts[0][1].strip(), parts[1][1].strip()
    try:
        nr = int(nr_text, 0)
        if nr < 0:
            raise ValueError
    except ValueError:
        diag.error(src.path, line, "%s number '%s' is not a non-negative integer" % (kind, nr_text))
        return None
    if not IDENT.match(name):
        diag.error(src.path, line, "%s name '%s' is not a C identifier" % (kind, name))
        return None
    args = []
    if kind == "WD_SYSCALL_IPC":
        if name not in IPC_WRAPPERS:
            diag.error(src.path, line, "IPC call '%s' has no libc wrapper in IPC_WRAPPERS (%s)"
                       % (name, SCRIPT_NAME))
    else:
        off, macro = parts[2]
        m = re.fullmatch(r"\s*WD_ARGS(\d+)\s*\((.*)\)\s*", macro, re.S)
        if not m:
            diag.error(src.path, src.line_of(body_off + off),
                       "third argument of WD_SYSCALL must be WD_ARGSn(type, name, ...), got '%s'"
                       % " ".join(macro.split()))
            m = re.match(r"()()", "")
        n, inner = int(m.group(1) or 0), m.group(2)
        items = [] if not inner.strip() else [p.strip() for _, p in split_top_level(inner, ",")]
        if len(items) % 2:
            diag.error(src.path, line, "WD_ARGS%d of %s has %d items; expected (type, name) pairs"
                       % (n, name, len(items)))
            items = items[:-1]
        if len(items) // 2 != n:
            diag.error(src.path, line, "WD_ARGS%d of %s has %d (type, name) pair%s"
                       % (n, name, len(items) // 2, "" if len(items) == 2 else "s"))
        if len(items) // 2 > MAX_REGISTER_ARGS:
            diag.error(src.path, line, "%s has %d arguments; at most %d fit in registers"
                       % (name, len(items) // 2, MAX_REGISTER_ARGS))
        seen = set()
        for i in range(0, len(items), 2):
            ctype, arg = items[i], items[i + 1]
            if not ctype or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_ \t\n*]*", ctype):
                diag.error(src.path, line, "argument %d of %s: '%s' is not a C type" % (i // 2 + 1, name, ctype))
            if not IDENT.match(arg):
                diag.error(src.path, line, "argument %d of %s: '%s' is not a C identifier" % (i // 2 + 1, name, arg))
            elif arg in seen:
                diag.error(src.path, line, "argument name '%s' repeats in %s" % (arg, name))
            seen.add(arg)
            args.append((" ".join(ctype.split()), arg))
    return Call(nr, name, args, kind == "WD_SYSCALL_IPC", line, doc)


def parse_def(path, diag):
    src = Source(path)
    text = src.text
    lead, calls = None, []
    pending = None          # (offset, Doc) of a doc comment not yet followed by its call
    last_plain = None       # offset of a plain /* */ comment seen since the last entry
    i, n, first = 0, len(text), True
    while i < n:
        c = text[i]
        if c.isspace():
            i += 1
            continue
        if text.startswith("/*", i):
            end = text.find("*/", i + 2)
            if end < 0:
                diag.error(path, src.line_of(i), "comment is not closed")
                break
            is_doc = text.startswith("/**", i) and not text.startswith("/**/", i)
            if is_doc:
                if pending:
                    diag.error(path, pending[1].line, "doc comment is not followed by WD_SYSCALL or WD_SYSCALL_IPC")
                pending = (i, parse_doc(src, i, text[i + 3:end], diag))
            elif first:
                lead = comment_lines(text[i + 2:end])
            else:
                last_plain = i
            i, first = end + 2, False
            continue
        first = False
        if text.startswith("//", i):
            j = text.find("\n", i)
            i = n if j < 0 else j
            continue
        if c == "#" and not text[text.rfind("\n", 0, i) + 1:i].strip():
            while True:     # a preprocessor line, with its continuations
                j = text.find("\n", i)
                if j < 0:
                    i = n
                    break
                if text[j - 1] != "\\":
                    i = j
                    break
                i = j + 1
            continue
        m = re.compile(r"(WD_SYSCALL_IPC|WD_SYSCALL)\s*\(").match(text, i)
        if not m:
            j = text.find("\n", i)
            snippet = text[i:n if j < 0 else j].strip()
            diag.error(path, src.line_of(i), "unexpected text '%s' (expected a /** doc comment, "
                       "WD_SYSCALL(...) or WD_SYSCALL_IPC(...))" % snippet[:60])
            i = n if j < 0 else j
            continue
        depth, j = 0, m.end() - 1
        while j < n:
            if text[j] == "(":
                depth += 1
            elif text[j] == ")":
                depth -= 1
                if depth == 0:
                    break
            j += 1
        if j >= n:
            diag.error(path, src.line_of(i), "%s( has no closing parenthesis" % m.group(1))
            break
        doc = pending[1] if pending else None
        if doc is None:
            hint = ""
            if last_plain is not None:
                hint = " (the comment at line %d starts with '/*'; doc comments start with '/**')" \
                       % src.line_of(last_plain)
            diag.error(path, src.line_of(i), "%s has no doc comment%s" % (m.group(1), hint))
        call = parse_call(src, m.group(1), i, m.end(), text[m.end():j], doc, diag)
        if call:
            calls.append(call)     # without a doc comment only for the number and name checks
        pending, last_plain = None, None
        i = j + 1
        if i < n and text[i] == ";":
            i += 1
    if pending:
        diag.error(path, pending[1].line, "doc comment is not followed by WD_SYSCALL or WD_SYSCALL_IPC")
    if lead is None:
        diag.error(path, 1, "no leading /* ... */ comment describing the conventions")
    return src, lead or [], calls


def check_calls(path, calls, error_names, diag):
    by_nr, by_name = {}, {}
    for call in calls:
        if call.nr in by_nr:
            diag.error(path, call.line, "system call number %d repeats (%s at line %d)"
                       % (call.nr, by_nr[call.nr].name, by_nr[call.nr].line))
        else:
            by_nr[call.nr] = call
        if call.name in by_name:
            diag.error(path, call.line, "system call name '%s' repeats (number %d at line %d)"
                       % (call.name, by_name[call.name].nr, by_name[call.name].line))
        else:
            by_name[call.name] = call
    if by_nr:
        missing = [k for k in range(max(by_nr) + 1) if k not in by_nr]
        if missing:
            first_after = min((c for c in calls if c.nr > missing[0]), key=lambda c: c.nr)
            diag.error(path, first_after.line, "system call numbers are not contiguous from 0: missing %s"
                       % ", ".join(str(k) for k in missing))
    for call in calls:
        doc = call.doc
        if doc is None:
            continue
        if "Errors" in doc.sections:
            _, text, _ = doc.sections["Errors"]
            depth = 0
            outside = []
            for ch in text:
                if ch == "(":
                    depth += 1
                if depth == 0:
                    outside.append(ch)
                else:
                    outside.append(" ")
                if ch == ")" and depth > 0:
                    depth -= 1
            outside = "".join(outside)
            for m in UPPER_WORD.finditer(outside):
                word = m.group(0)
                if len(word) < 2 or (word.startswith("WD_") and not word.startswith("WD_E_")):
                    continue
                name = word[5:] if word.startswith("WD_E_") else word
                if name not in error_names:
                    diag.error(path, section_line(doc, "Errors", m.start()),
                               "%s: '%s' in 'Errors:' is not an error of %s (WD_ERRORS); "
                               "put other upper-case words in parentheses" % (call.name, word, ERRORS_NAME))
        for section, (line0, text, _) in doc.sections.items():
            m = re.match(r"as\s+([A-Za-z_][A-Za-z0-9_]*)", text)
            if m and m.group(1) not in by_name:
                diag.error(path, line0, "%s: '%s: as %s' names no system call" % (call.name, section, m.group(1)))
        if not call.ipc and "Arguments" in doc.sections:
            _, text, _ = doc.sections["Arguments"]
            words = set(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", text))
            for _, arg in call.args:
                if arg not in words:
                    diag.warning(path, doc.sections["Arguments"][0],
                                 "%s: argument '%s' is not described in 'Arguments:'" % (call.name, arg))
    return sorted(calls, key=lambda c: c.nr)


# ---------------------------------------------------------------------------
# Markdown


REGISTERS = r"rax|rbx|rcx|rdx|rsi|rdi|rbp|rsp|r8|r9|r1[0-5]|rip"
TOKEN = re.compile(
    r"(?P<code>`[^`]*`)"
    r"|(?P<struct>\bstruct\s+wd_[A-Za-z0-9_]+)"
    r"|(?P<wdmacro>(?<![A-Za-z0-9_])-?WD_[A-Za-z0-9_]+\*?)"
    r"|(?P<wdfunc>\bwd_[A-Za-z0-9_]+(?:\(\))?(?:\[\d*\])?)"
    r"|(?P<file>\b[A-Za-z0-9_/-]+(?:\.[A-Za-z0-9_-]+)*\.(?:h|def|c|md|py)\b)"
    r"|(?P<snake>\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b)"
    r"|(?P<upper>\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)*\b)"
    r"|(?P<reg>\b(?:" + REGISTERS + r")\b)")


def anchor(title):
    s = re.sub(r"[^a-z0-9 _-]", "", title.lower())
    return s.replace(" ", "-")


def call_title(call):
    return "%d %s" % (call.nr, call.name)


def escape(text):
    return re.sub(r"([\\*<\[\]|`])", r"\\\1", text)


class Formatter:
    def __init__(self, calls, error_names, right_names):
        self.calls = {c.name: c for c in calls}
        self.names = set(error_names) | set(right_names)

    def __call__(self, text, current=None):
        out, pos = [], 0
        for m in TOKEN.finditer(text):
            out.append(escape(text[pos:m.start()]))
            tok, kind = m.group(0), m.lastgroup
            if kind == "code":
                out.append(tok)
            elif kind == "snake" and tok in self.calls and tok != current:
                out.append("[`%s`](#%s)" % (tok, anchor(call_title(self.calls[tok]))))
            elif kind == "upper" and tok not in self.names:
                out.append(tok)
            else:
                out.append("`%s`" % " ".join(tok.split()))
            pos = m.end()
        out.append(escape(text[pos:]))
        return "".join(out)


def strip_period(text):
    text = text.strip()
    return text[:-1].rstrip() if text.endswith(".") else text


def as_sentence(text):
    text = text.strip()
    return text if text.endswith((".", "!", "?", ":")) else text + "."


def render_section(out, fmt, call, section, error_names):
    _, text, _ = call.doc.sections[section]
    body = strip_period(text)
    label = "**%s:**" % section
    if section in ("Arguments", "Rights"):
        items = [p.strip() for _, p in split_top_level(body, ";") if p.strip()]
    elif section == "Errors":
        items = [p.strip() for _, p in split_top_level(body, ",") if p.strip()]
        lead = [UPPER_WORD.match(i) for i in items]
        ok = all(m and (m.group(0)[5:] if m.group(0).startswith("WD_E_") else m.group(0)) in error_names
                 for m in lead)
        if not ok:
            items = [body]
    else:
        items = [body]
    def item_md(item):
        if section == "Arguments" and not call.ipc:
            names = {a for _, a in call.args}
            m = re.match(r"([a-z_][a-z0-9_]*(?:, *[a-z_][a-z0-9_]*)*)(?= - |$| \(|\.$)", item)
            if m and all(w.strip() in names for w in m.group(1).split(",")):
                head = ", ".join("`%s`" % w.strip() for w in m.group(1).split(","))
                return head + fmt(item[m.end():], call.name)
        return fmt(item, call.name)

    if len(items) == 1:
        out.append("%s %s" % (label, item_md(as_sentence(items[0]))))
        out.append("")
        return
    out.append(label)
    out.append("")
    for item in items:
        out.append("- %s" % item_md(item))
    out.append("")


def render(def_lead, calls, errors, rights, rights_all, rights_prose, ipc):
    error_names = [name for _, name, _ in errors]
    right_names = [name for name, _, _, _ in rights]
    fmt = Formatter(calls, error_names, right_names)
    out = []
    out.append("# Warden system calls")
    out.append("")
    out.append("<!-- Generated file: do not edit. Edit %s and run `make docs`. -->" % DEF_NAME)
    out.append("")
    out.append("> This file is generated from `%s` (with `%s`, `%s` and `%s`) by `%s`. "
               "Do not edit it: change the sources and run `make docs`."
               % (DEF_NAME, ERRORS_NAME, RIGHTS_NAME, IPC_NAME, SCRIPT_NAME))
    out.append("")

    # Calling convention.
    out.append("## Calling convention")
    out.append("")
    paras = drop_title(paragraphs(def_lead))
    is_code = [any(line.startswith(("  ", "\t")) for line in p) for p in paras]
    conv = [p for k, p in enumerate(paras)
            if not is_code[k] and not (k + 1 < len(paras) and is_code[k + 1])]
    for p in conv:
        out.append(fmt(join_words(p)))
        out.append("")
    regs = None
    for p in conv:
        m = re.search(r"[Aa]rguments travel in ((?:%s)(?:\s*,\s*(?:%s))*)" % (REGISTERS, REGISTERS), join_words(p))
        if m:
            regs = [r.strip() for r in m.group(1).split(",")]
    if regs:
        out.append("### Register calls")
        out.append("")
        out.append("`WD_SYSCALL` calls take their arguments in prototype order:")
        out.append("")
        out.append("| Argument | Register |")
        out.append("|---------:|----------|")
        for k, r in enumerate(regs):
            out.append("| %d | `%s` |" % (k + 1, r))
        out.append("")
    ipc_calls = [c for c in calls if c.ipc]
    if ipc:
        heading, rows, trailer = ipc
        out.append("### IPC calls")
        out.append("")
        out.append(fmt(heading))
        out.append("")
        out.append("| Register | Use |")
        out.append("|----------|-----|")
        for r, use in rows:
            out.append("| %s | %s |" % (", ".join("`%s`" % x.strip() for x in r.split(",")), fmt(use)))
        out.append("")
        if trailer:
            out.append(fmt(trailer))
            out.append("")
    if ipc_calls:
        out.append("The prototypes shown for the IPC calls (%s) are those of libc's wrappers, which take "
                   "a `struct wd_msg` (see `%s`)." % (", ".join(fmt(c.name) for c in ipc_calls), IPC_NAME))
        out.append("")

    # Summary table.
    out.append("## Summary")
    out.append("")
    out.append("| Nr | Name | Prototype |")
    out.append("|---:|------|-----------|")
    for c in calls:
        out.append("| %d | [`%s`](#%s) | `%s` |" % (c.nr, c.name, anchor(call_title(c)), c.prototype()))
    out.append("")

    # One section per call.
    for c in calls:
        out.append("## %s" % call_title(c))
        out.append("")
        out.append("```c")
        out.append(c.prototype() + ";")
        out.append("```")
        out.append("")
        if c.ipc:
            out.append("System call %d with the IPC register layout (see [Calling convention](#calling-convention)); "
                       "the prototype is libc's wrapper." % c.nr)
            out.append("")
        for p in paragraphs(c.doc.summary):
            out.append(fmt(join_words(p), c.name))
            out.append("")
        for s in SECTIONS:
            render_section(out, fmt, c, s, error_names)

    # Errors.
    out.append("## Errors")
    out.append("")
    out.append("A call that fails returns the negated code (`-WD_E_<NAME>`) in `rax`.")
    out.append("")
    out.append("| Code | Name | Meaning |")
    out.append("|-----:|------|---------|")
    for code, name, text in errors:
        out.append("| %d | `WD_E_%s` | %s |" % (code, name, escape(text)))
    out.append("")

    # Rights.
    out.append("## Rights")
    out.append("")
    for p in rights_prose:
        out.append(fmt(p))
        out.append("")
    with_comments = any(comment for _, _, _, comment in rights)
    if with_comments:
        out.append("| Right | Macro | Value | Description |")
        out.append("|-------|-------|------:|-------------|")
    else:
        out.append("| Right | Macro | Value |")
        out.append("|-------|-------|------:|")
    for name, expr, value, comment in rights:
        shown = "`%s`" % expr if value is None else (
            "`0x%x`" % value if re.fullmatch(r"0[xX][0-9A-Fa-f]+[uUlL]*|\d+[uUlL]*", expr.strip())
            else "`%s` (`0x%x`)" % (expr, value))
        row = "| `%s` | `WD_RIGHT_%s` | %s |" % (name, name, shown)
        if with_comments:
            row += " %s |" % fmt(comment)
        out.append(row)
    out.append("")
    if rights_all:
        out.append("`WD_RIGHTS_ALL` = `%s`." % rights_all)
        out.append("")
    while out and out[-1] == "":
        out.pop()
    return "\n".join(out) + "\n"


# ---------------------------------------------------------------------------


def generate(def_path, errors_path, rights_path, ipc_path):
    diag = Diagnostics()
    errors = parse_errors(errors_path, diag)
    rights, rights_all, rights_prose = parse_rights(rights_path, diag)
    ipc = parse_ipc(ipc_path, diag)
    _, lead, calls = parse_def(def_path, diag)
    calls = check_calls(def_path, calls, {name for _, name, _ in errors}, diag)
    for w in diag.warnings:
        print(w, file=sys.stderr)
    diag.raise_if_any()
    return render(lead, calls, errors, rights, rights_all, rights_prose, ipc)


def write_if_changed(path, text):
    try:
        with open(path, encoding="utf-8") as f:
            if f.read() == text:
                return False
    except OSError:
        pass
    directory = os.path.dirname(os.path.abspath(path))
    os.makedirs(directory, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".gen-syscall-docs.")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
    except BaseException:
        os.unlink(tmp)
        raise
    return True


def main(argv=None):
    ap = argparse.ArgumentParser(description="Generate docs/syscalls.md from include/warden/syscalls.def.")
    ap.add_argument("--def", dest="def_path", metavar="FILE", default=os.path.join(REPO, DEF_NAME),
                    help="system call definitions (default: %s)" % DEF_NAME)
    ap.add_argument("--errors", metavar="FILE", default=os.path.join(REPO, ERRORS_NAME),
                    help="error X-macro header (default: %s)" % ERRORS_NAME)
    ap.add_argument("--rights", metavar="FILE", default=os.path.join(REPO, RIGHTS_NAME),
                    help="rights header (default: %s)" % RIGHTS_NAME)
    ap.add_argument("--ipc", metavar="FILE", default=os.path.join(REPO, IPC_NAME),
                    help="IPC header with the register table (default: %s)" % IPC_NAME)
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("-o", "--output", metavar="FILE", help="write the Markdown here ('-': stdout)")
    mode.add_argument("--check", metavar="FILE",
                      help="exit 1 if FILE differs from what would be generated")
    args = ap.parse_args(argv)

    try:
        text = generate(args.def_path, args.errors, args.rights, args.ipc)
    except InputError as e:
        print(e, file=sys.stderr)
        return 2

    if args.check:
        try:
            with open(args.check, encoding="utf-8") as f:
                current = f.read()
        except OSError:
            current = None
        if current != text:
            print("%s is out of date; run make docs" % args.check, file=sys.stderr)
            if current is not None:
                diff = list(difflib.unified_diff(current.splitlines(), text.splitlines(),
                                                 args.check, "generated", lineterm="", n=1))
                for line in diff[:40]:
                    print(line, file=sys.stderr)
                if len(diff) > 40:
                    print("... (%d more diff lines)" % (len(diff) - 40), file=sys.stderr)
            else:
                print("(%s does not exist)" % args.check, file=sys.stderr)
            return 1
        return 0
    if args.output and args.output != "-":
        write_if_changed(args.output, text)
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
