#!/usr/bin/env bash
# Checks the documentation against the repository and the program.
#
# Usage: scripts/check-docs.sh [PATH_TO_VODUPLOAD]     (default: target/debug/vodupload)
#
# 1. Every relative link in README.md, docs/*.md and the packages' READMEs (crates/*/README.md,
#    python/README.md, bindings/*/README.md) resolves: the file or directory exists, and a
#    `#anchor` into a Markdown page names one of its headings (GitHub's slugs: lowercase, spaces
#    to '-', punctuation dropped, a repeated heading gets -1, -2...) or an `<a id=...>`. Links
#    inside code blocks and code spans are not links, and are skipped; so are URLs with a scheme.
# 2. Every page in docs/ is listed in docs/README.md, the index.
# 3. docs/architecture.md names every file of the core (crates/vodupload/src/**/*.rs, as a code
#    span holding its path below src/, e.g. `settings.rs`, `unstable/protocol.rs`).
# 4. Each options table in docs/cli.md matches the `--help` of its subcommand. A table is marked
#    with `<!-- options-table: upload -->` (or `events pull`...) on the line before it; its rows
#    are `| flag | meaning | default |`, where the flag cell holds the flag as --help prints it
#    (`--endpoint <URL>`, `-q, --quiet`) in a code span, followed by the visible aliases in code
#    spans. Every flag --help prints must have a row, and every row a flag; the meaning must be
#    --help's text, and the default its `[default: ...]` (empty when there is none). Backticks
#    and runs of spaces are ignored in the comparison.
# 5. The "Errors" section of docs/c.md names every status of `enum vod_status` in
#    include/vodupload.h, and no other; a status of the 1000s to 5000s in the table row of its band.
#
# Needs bash and python3 (standard library only). Exits 1 and lists every problem if one fails.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bin="${1:-$root/target/debug/vodupload}"
if [ ! -x "$bin" ]; then
    echo "check-docs: no program at $bin: build it (cargo build -p vodupload-cli) or pass its path" >&2
    exit 2
fi

exec python3 - "$root" "$bin" <<'PY'
import os
import re
import subprocess
import sys
from glob import glob

root, binary = sys.argv[1], sys.argv[2]
problems = []


def rel(path):
    return os.path.relpath(path, root)


def markdown_files():
    files = [os.path.join(root, "README.md")]
    for pattern in ("docs/*.md", "crates/*/README.md", "python/README.md", "bindings/*/README.md"):
        files += sorted(glob(os.path.join(root, pattern)))
    return [f for f in files if os.path.isfile(f)]


FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")


def prose_lines(text):
    """(line number, line) of the lines outside fenced code blocks."""
    fence = None
    for n, line in enumerate(text.splitlines(), 1):
        m = FENCE.match(line)
        if m:
            mark = m.group(1)
            if fence is None:
                fence = mark[0] * 3
            elif mark.startswith(fence):
                fence = None
            continue
        if fence is None:
            yield n, line


CODE_SPAN = re.compile(r"(`+)(.+?)\1")


def without_code_spans(line):
    return CODE_SPAN.sub(lambda m: " " * len(m.group(0)), line)


def slug(heading):
    """The anchor GitHub gives a heading."""
    text = CODE_SPAN.sub(lambda m: m.group(2), heading)
    text = re.sub(r"!?\[([^\]]*)\]\([^)]*\)", r"\1", text)  # links: their text
    text = re.sub(r"<[^>]+>", "", text)  # inline HTML
    text = text.replace("*", "")
    text = text.strip().lower()
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


_anchors = {}


def anchors(path):
    if path not in _anchors:
        found, seen = set(), {}
        with open(path, encoding="utf-8") as f:
            text = f.read()
        for _, line in prose_lines(text):
            m = re.match(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$", line)
            if m:
                s = slug(m.group(1))
                n = seen.get(s, 0)
                seen[s] = n + 1
                found.add(s if n == 0 else f"{s}-{n}")
            for a in re.findall(r"<a\s+(?:id|name)=\"([^\"]+)\"", line):
                found.add(a)
        _anchors[path] = found
    return _anchors[path]


INLINE_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]*)>?(?:\s+\"[^\"]*\")?\s*\)")
REF_DEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s+<?(\S+?)>?(?:\s+\"[^\"]*\")?\s*$")


def check_links(md):
    with open(md, encoding="utf-8") as f:
        text = f.read()
    for n, line in prose_lines(text):
        plain = without_code_spans(line)
        targets = [m.group(1) for m in INLINE_LINK.finditer(plain)]
        m = REF_DEF.match(plain)
        if m:
            targets.append(m.group(1))
        for target in targets:
            if not target or re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target):
                continue  # a URL with a scheme (https:, mailto:)
            path, _, anchor = target.partition("#")
            path = path.split("?", 1)[0]
            where = f"{rel(md)}:{n}"
            if path.startswith("/"):
                problems.append(f"{where}: link {target!r} is absolute; make it relative to the file")
                continue
            dest = os.path.normpath(os.path.join(os.path.dirname(md), path)) if path else md
            if not os.path.exists(dest):
                problems.append(f"{where}: link {target!r}: {rel(dest)} does not exist")
                continue
            if anchor and dest.endswith(".md") and os.path.isfile(dest):
                if anchor not in anchors(dest):
                    problems.append(f"{where}: link {target!r}: {rel(dest)} has no heading #{anchor}")


def check_index():
    index = os.path.join(root, "docs", "README.md")
    if not os.path.isfile(index):
        problems.append("docs/README.md (the index of the docs) is missing")
        return
    with open(index, encoding="utf-8") as f:
        text = f.read()
    linked = set()
    for _, line in prose_lines(text):
        for m in INLINE_LINK.finditer(without_code_spans(line)):
            linked.add(os.path.normpath(m.group(1).partition("#")[0]))
    for page in sorted(glob(os.path.join(root, "docs", "*.md"))):
        name = os.path.basename(page)
        if name != "README.md" and name not in linked:
            problems.append(f"docs/README.md does not list docs/{name}")


def check_architecture():
    page = os.path.join(root, "docs", "architecture.md")
    if not os.path.isfile(page):
        problems.append("docs/architecture.md is missing")
        return
    with open(page, encoding="utf-8") as f:
        spans = set(re.findall(r"`([^`]+)`", f.read()))
    src = os.path.join(root, "crates", "vodupload", "src")
    for path in sorted(glob(os.path.join(src, "**", "*.rs"), recursive=True)):
        name = os.path.relpath(path, src)
        if name not in spans:
            problems.append(f"docs/architecture.md does not name the core's file {name} (crates/vodupload/src/{name})")


# ---- options tables against --help --------------------------------------------------------------

def norm(s):
    return " ".join(s.replace("`", "").split())


def help_options(words):
    """{spec: (description, default, aliases)} from `vodupload WORDS --help`."""
    out = subprocess.run([binary, *words, "--help"], capture_output=True, text=True)
    if out.returncode != 0:
        problems.append(f"`vodupload {' '.join(words)} --help` failed: {out.stderr.strip()}")
        return {}
    options, current, in_options = {}, None, False
    for line in out.stdout.splitlines():
        if re.match(r"^\S.*:$", line):
            in_options = line == "Options:"
            current = None
            continue
        if not in_options or not line.strip():
            continue
        indent = len(line) - len(line.lstrip())
        stripped = line.strip()
        if indent == 0:
            # The text after the options (exit statuses, JSON keys): not an option.
            in_options, current = False, None
            continue
        if stripped.startswith("-") and indent < 8:
            # "--flag <VALUE>  description", or the flag alone with the description below it.
            parts = re.split(r"\s{2,}", stripped, maxsplit=1)
            current = parts[0]
            options[current] = parts[1] if len(parts) > 1 else ""
        elif current is not None:
            options[current] = (options[current] + " " + stripped).strip()
    parsed = {}
    for spec, desc in options.items():
        default, aliases = "", []
        m = re.search(r"\s*\[default: (.*?)\]", desc)
        if m:
            default = m.group(1)
            desc = desc[: m.start()] + desc[m.end():]
        m = re.search(r"\s*\[alias(?:es)?: (.*?)\]", desc)
        if m:
            aliases = [a.strip() for a in m.group(1).split(",")]
            desc = desc[: m.start()] + desc[m.end():]
        desc = re.sub(r"\s*\[env: .*?\]", "", desc)
        parsed[spec] = (norm(desc), norm(default), sorted(aliases))
    return parsed


def split_row(line):
    cells, cell, in_code, i = [], "", False, 0
    s = line.strip()
    if s.startswith("|"):
        s = s[1:]
    if s.endswith("|") and not s.endswith("\\|"):
        s = s[:-1]
    while i < len(s):
        c = s[i]
        if c == "\\" and i + 1 < len(s) and s[i + 1] == "|":
            cell += "|"
            i += 2
            continue
        if c == "`":
            in_code = not in_code
        if c == "|" and not in_code:
            cells.append(cell.strip())
            cell = ""
        else:
            cell += c
        i += 1
    cells.append(cell.strip())
    return cells


def check_options_tables():
    cli = os.path.join(root, "docs", "cli.md")
    if not os.path.isfile(cli):
        problems.append("docs/cli.md is missing")
        return
    with open(cli, encoding="utf-8") as f:
        lines = f.read().splitlines()
    tables = 0
    for i, line in enumerate(lines):
        m = re.match(r"^<!--\s*options-table:\s*(.+?)\s*-->$", line.strip())
        if not m:
            continue
        tables += 1
        command = m.group(1)
        where = f"docs/cli.md:{i + 1} ({command})"
        rows = []
        j = i + 1
        while j < len(lines) and not lines[j].strip():
            j += 1
        while j < len(lines) and lines[j].lstrip().startswith("|"):
            rows.append((j + 1, split_row(lines[j])))
            j += 1
        if len(rows) < 3:
            problems.append(f"{where}: no table after the marker")
            continue
        documented = {}
        for n, cells in rows[2:]:
            if len(cells) != 3:
                problems.append(f"docs/cli.md:{n}: a row of the {command} table needs 3 cells (flag, meaning, default), not {len(cells)}")
                continue
            spans = re.findall(r"`([^`]+)`", cells[0])
            if not spans:
                problems.append(f"docs/cli.md:{n}: the flag cell has no `--flag`")
                continue
            documented[spans[0]] = (n, norm(cells[1]), norm(cells[2]), sorted(spans[1:]))
        actual = help_options(command.split())
        for spec, (desc, default, aliases) in actual.items():
            if spec not in documented:
                problems.append(f"{where}: `{spec}` is in --help but not in the table")
                continue
            n, d_desc, d_default, d_aliases = documented[spec]
            if d_desc != desc:
                problems.append(f"docs/cli.md:{n}: `{spec}` meaning is {d_desc!r}; --help says {desc!r}")
            if d_default != default:
                problems.append(f"docs/cli.md:{n}: `{spec}` default is {d_default!r}; --help says {default!r}")
            if d_aliases != aliases:
                problems.append(f"docs/cli.md:{n}: `{spec}` aliases are {d_aliases}; --help says {aliases}")
        for spec, (n, *_rest) in documented.items():
            if spec not in actual:
                problems.append(f"docs/cli.md:{n}: `{spec}` is in the table but not in `vodupload {command} --help`")
    if not any(re.match(r"^<!--\s*options-table:\s*upload\s*-->$", l.strip()) for l in lines):
        problems.append("docs/cli.md has no `<!-- options-table: upload -->` table")
    return tables


def check_status_table():
    """docs/c.md's status bands against the header's enum vod_status."""
    header = open(os.path.join(root, "include/vodupload.h"), encoding="utf-8").read()
    m = re.search(r"enum vod_status\b[^{]*\{(.*?)\}", header, re.S)
    if not m:
        problems.append("include/vodupload.h has no enum vod_status")
        return 0
    statuses = {name: int(value) for name, value in re.findall(r"\b(VOD_\w+)\s*=\s*(\d+)", m.group(1))}
    doc = open(os.path.join(root, "docs/c.md"), encoding="utf-8").read()
    sm = re.search(r"^## Errors\n(.*?)(?=^## |\Z)", doc, re.S | re.M)
    if not sm:
        problems.append("docs/c.md has no `## Errors` section")
        return 0
    section = sm.group(1)
    named = set(re.findall(r"`(VOD_(?:OK|ERR_\w+))`", section))
    for name in sorted(named - set(statuses)):
        problems.append(f"docs/c.md (Errors): `{name}` is not a status of enum vod_status")
    for name, value in sorted(statuses.items(), key=lambda kv: kv[1]):
        if name not in named:
            problems.append(f"docs/c.md (Errors): `{name}` ({value}) is not described")
            continue
        band = value // 1000
        if 1 <= band <= 5:
            row = next((l for l in section.splitlines() if l.startswith(f"| {band}000s")), None)
            if row is None:
                problems.append(f"docs/c.md (Errors): no row for the {band}000s")
            elif f"`{name}`" not in row:
                problems.append(f"docs/c.md (Errors): `{name}` ({value}) is not in the {band}000s row")
    return len(statuses)


files = markdown_files()
for md in files:
    check_links(md)
check_index()
check_architecture()
tables = check_options_tables()
statuses = check_status_table()

if problems:
    for p in problems:
        print(f"check-docs: {p}")
    print(f"check-docs: {len(problems)} problem(s)")
    sys.exit(1)
print(f"check-docs: ok ({len(files)} Markdown files, their relative links and anchors; the index; "
      f"the core's files in architecture.md; {tables} options tables against --help; "
      f"{statuses} statuses of vodupload.h in docs/c.md)")
PY
