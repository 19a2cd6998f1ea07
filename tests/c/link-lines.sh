#!/usr/bin/env bash
# The link lines docs/c.md prints work as printed, from an install outside the system paths.
#
# Usage: tests/c/link-lines.sh
#
# Needs, built beforehand (same cargo profile, default debug; VOD_PROFILE=release for release):
#   cargo build -p vodupload-ffi
# and cc, c++, make, pkg-config, readelf, ldd, python3.
#
# What it does:
#   1. installs the library into a temporary PREFIX with
#      `make -C crates/vodupload-ffi install PREFIX=... PROFILE=debug STRIP=` and points
#      PKG_CONFIG_PATH at it (nothing else: no LD_LIBRARY_PATH, no ldconfig); installs it again
#      with the default STRIP into another PREFIX and checks that one has no debug sections;
#   2. takes every fenced block that follows a `<!-- link-line:NAME -->` marker in docs/c.md
#      (shared, static and cpp at least) and runs it, exactly as printed, with bash in a fresh
#      directory holding the example it names: examples/c/upload.c as app.c, examples/cpp/upload.cpp
#      as app.cpp;
#   3. runs each program it built with no arguments and without LD_LIBRARY_PATH: it must start,
#      print its usage line and exit 2; ldd must find libvodupload.so.0 in the temporary PREFIX
#      (so a copy installed in the system cannot make the test pass), and the static program
#      must not need libvodupload.so at all;
#   4. prints "N passed, M failed" as its last line; exits 1 if anything failed.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
profile="${VOD_PROFILE:-debug}"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
doc="$root/docs/c.md"

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

if [ ! -e "$target_dir/$profile/libvodupload.so" ]; then
    echo "missing $target_dir/$profile/libvodupload.so: run 'cargo build -p vodupload-ffi' first" >&2
    exit 2
fi

work="$(mktemp -d "${TMPDIR:-/tmp}/vodupload-link-lines.XXXXXX")"
trap 'rm -rf "$work"' EXIT

# ---- 1. install outside the system paths ----------------------------------------------------
prefix="$work/prefix"
if ! make -s -C "$root/crates/vodupload-ffi" install PREFIX="$prefix" PROFILE="$profile" STRIP= \
        TARGET_DIR="$target_dir" > "$work/install.log" 2>&1; then
    cat "$work/install.log"
    fail "make install PREFIX=$prefix"
    echo "$passed passed, $failed failed"
    exit 1
fi
pass "make install PREFIX=$prefix PROFILE=$profile STRIP="

# The default install strips: no debug sections in the .so or the .a; STRIP= above kept them.
has_debug() { readelf -S "$1" 2>/dev/null | grep -q '\.debug_info'; }
stripped="$work/stripped"
if make -s -C "$root/crates/vodupload-ffi" install PREFIX="$stripped" PROFILE="$profile" \
        TARGET_DIR="$target_dir" > "$work/install-stripped.log" 2>&1; then
    so="$(readlink -f "$stripped/lib/libvodupload.so")"
    if has_debug "$so" || has_debug "$stripped/lib/libvodupload.a"; then
        fail "make install (default) leaves debug info in $so or libvodupload.a"
    elif ! has_debug "$(readlink -f "$prefix/lib/libvodupload.so")"; then
        fail "make install STRIP= lost the debug info"
    else
        pass "make install strips by default ($(du -h "$so" | cut -f1) .so, $(du -h "$stripped/lib/libvodupload.a" | cut -f1) .a); STRIP= keeps the debug info"
    fi
else
    cat "$work/install-stripped.log"
    fail "make install PREFIX=$stripped (stripped)"
fi
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
unset LD_LIBRARY_PATH

# ---- 2. the marked lines of docs/c.md -------------------------------------------------------
# One file per marker, NAME.sh, holding the fenced block after it as printed.
mkdir -p "$work/lines"
if ! python3 - "$doc" "$work/lines" <<'PY'
import re
import sys

doc, out = sys.argv[1], sys.argv[2]
lines = open(doc, encoding="utf-8").read().splitlines()
found = 0
for i, line in enumerate(lines):
    m = re.match(r"^<!--\s*link-line:([a-z0-9_-]+)\s*-->$", line.strip())
    if not m:
        continue
    name = m.group(1)
    j = i + 1
    while j < len(lines) and not lines[j].strip():
        j += 1
    if j >= len(lines) or not lines[j].startswith("```"):
        sys.exit(f"docs/c.md:{i + 1}: the marker link-line:{name} is not followed by a fenced block")
    body = []
    j += 1
    while j < len(lines) and not lines[j].startswith("```"):
        body.append(lines[j])
        j += 1
    with open(f"{out}/{name}.sh", "w", encoding="utf-8") as f:
        f.write("\n".join(body) + "\n")
    found += 1
if found == 0:
    sys.exit("docs/c.md has no <!-- link-line:NAME --> markers")
PY
then
    fail "extract the marked link lines from docs/c.md"
    echo "$passed passed, $failed failed"
    exit 1
fi
for name in shared static cpp; do
    [ -f "$work/lines/$name.sh" ] || fail "docs/c.md has no <!-- link-line:$name --> line"
done

# ---- 3. run each line, then the program it built ---------------------------------------------
for line in "$work"/lines/*.sh; do
    name="$(basename "$line" .sh)"
    dir="$work/build-$name"
    mkdir -p "$dir"
    if grep -q 'app\.cpp' "$line"; then
        cp "$root/examples/cpp/upload.cpp" "$dir/app.cpp"
    else
        cp "$root/examples/c/upload.c" "$dir/app.c"
    fi
    echo "== $name: $(cat "$line")"
    if ! (cd "$dir" && bash -e "$line") > "$dir/build.log" 2>&1; then
        sed 's/^/  /' "$dir/build.log"
        fail "$name: the line as printed in docs/c.md"
        continue
    fi
    if [ ! -x "$dir/app" ]; then
        fail "$name: the line built no ./app"
        continue
    fi
    pass "$name: built"

    (cd "$dir" && env -u LD_LIBRARY_PATH ./app) > "$dir/run.out" 2> "$dir/run.err"
    rc=$?
    if [ "$rc" -eq 2 ] && grep -q '^usage: ./app VIDEO_FILE' "$dir/run.err"; then
        pass "$name: ./app starts without LD_LIBRARY_PATH (usage line, exit 2)"
    else
        sed 's/^/  /' "$dir/run.out" "$dir/run.err"
        fail "$name: ./app exited $rc without its usage line"
    fi

    needed="$(readelf -d "$dir/app" | grep -c 'NEEDED.*libvodupload' || true)"
    if [ "$name" = static ]; then
        [ "$needed" -eq 0 ] && pass "$name: needs no libvodupload.so" \
            || fail "$name: the static program needs libvodupload.so"
    else
        resolved="$(env -u LD_LIBRARY_PATH ldd "$dir/app" | sed -n 's/^\s*libvodupload\.so\.0 => \(\S*\).*/\1/p')"
        if [ "$(readlink -f "$resolved" 2> /dev/null)" = "$(readlink -f "$prefix/lib/libvodupload.so.0")" ]; then
            pass "$name: libvodupload.so.0 found in the install prefix ($resolved)"
        else
            fail "$name: libvodupload.so.0 resolves to '${resolved:-nothing}', not $prefix/lib"
        fi
    fi
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
