#!/usr/bin/env bash
# The C tests of libvodupload.
#
# Usage: tests/c/run.sh [plain] [sanitize] [valgrind]      (no argument: all three)
#
# Needs, built beforehand (same cargo profile, default debug; VOD_PROFILE=release for release):
#   cargo build -p vodupload-ffi -p vodupload-emulator
# and cc, make, pkg-config, nm, readelf; valgrind for the valgrind mode; php-cli (optional) for
# the PHP FFI header check.
#
# What it does:
#   1. installs the library into a temporary PREFIX with `make -C crates/vodupload-ffi install`,
#      and checks the shared library: SONAME libvodupload.so.0, only vod_* symbols exported;
#   2. checks every function declared in include/vodupload.h is called with NULL arguments by
#      test_null_arguments in test_api.c, and (when php with FFI is installed) that PHP's FFI
#      loads bindings/php/vodupload_ffi.h and calls the library through it;
#   3. starts three emulators (plain, slow, HTTPS with a self-signed certificate); test_events
#      starts its own (VOD_TEST_EMULATOR), with a callback receiver, and restarts it;
#   4. per mode, compiles test_api.c, test_upload.c, test_events.c, test_bad_input.c (the
#      bad-input table, C column) and examples/c/upload.c with
#      -Wall -Wextra -Werror -std=c11 against the INSTALLED header and library
#      (`pkg-config --cflags --libs vodupload`), and runs them:
#        plain     as they are
#        sanitize  built with -fsanitize=address,undefined (LeakSanitizer on)
#        valgrind  under valgrind --leak-check=full, which must report "definitely lost: 0"
#   5. prints "N passed, M failed" as its last line; exits 1 if anything failed.
set -uo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
profile="${VOD_PROFILE:-debug}"
target_dir="${CARGO_TARGET_DIR:-$root/target}"
build_dir="$target_dir/$profile"
emulator="$build_dir/vodupload-emulator"
CC="${CC:-cc}"
CXX="${CXX:-c++}"
CFLAGS_STRICT=(-Wall -Wextra -Werror -std=c11 -pthread -g)
CXXFLAGS_STRICT=(-Wall -Wextra -Werror -std=c++17 -pthread -g)
SAN_FLAGS=(-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all)

modes=("$@")
[ ${#modes[@]} -eq 0 ] && modes=(plain sanitize valgrind)

passed=0
failed=0
pass() { passed=$((passed + 1)); echo "ok   $1"; }
fail() { failed=$((failed + 1)); echo "FAIL $1"; }

for f in "$build_dir/libvodupload.so" "$emulator"; do
    if [ ! -e "$f" ]; then
        echo "missing $f: run 'cargo build -p vodupload-ffi -p vodupload-emulator' first" >&2
        exit 2
    fi
done

work="$(mktemp -d "${TMPDIR:-/tmp}/vodupload-ctests.XXXXXX")"
emulator_pids=()
cleanup() {
    for pid in "${emulator_pids[@]}"; do
        kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT

# ---- 1. install, and check the shared library --------------------------------------------
prefix="$work/prefix"
# STRIP=: the tests keep the debug info, for sanitizer and valgrind reports.
if ! make -s -C "$root/crates/vodupload-ffi" install PROFILE="$profile" PREFIX="$prefix" STRIP= \
        TARGET_DIR="$target_dir" > "$work/install.log" 2>&1; then
    cat "$work/install.log"
    fail "install into a temporary PREFIX"
    echo "$passed passed, $failed failed"
    exit 1
fi
pass "make install PREFIX=$prefix"
export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
read -r -a PC_CFLAGS <<< "$(pkg-config --cflags vodupload)"
read -r -a PC_LIBS <<< "$(pkg-config --libs vodupload)"
version="$(sed -n 's/^version *= *"\(.*\)"/\1/p' "$root/Cargo.toml" | head -n1)"
[ "$(pkg-config --modversion vodupload)" = "$version" ] \
    && pass "pkg-config: vodupload $version" || fail "pkg-config --modversion vodupload"

so="$prefix/lib/libvodupload.so.0"
soname="$(readelf -d "$so" | sed -n 's/.*Library soname: \[\(.*\)\].*/\1/p')"
[ "$soname" = "libvodupload.so.0" ] && pass "readelf -d: SONAME $soname" \
    || fail "readelf -d: SONAME is '$soname', expected libvodupload.so.0"
nm -D --defined-only "$so" | awk '{print $NF}' > "$work/exports.txt"
others="$(grep -v '^vod_' "$work/exports.txt" || true)"
count="$(grep -c '^vod_' "$work/exports.txt")"
if [ -z "$others" ] && [ "$count" -gt 0 ]; then
    pass "nm -D --defined-only: only vod_ symbols ($count)"
else
    fail "nm -D --defined-only: exports other than vod_*: $(echo "$others" | head -5 | tr '\n' ' ')"
fi
# Every function the header declares is exported, and the other way round.
grep -E '^[a-z].*[ *]vod_[a-z0-9_]+\(' "$root/include/vodupload.h" | grep -v '^typedef' \
    | sed -E 's/^[^(]*[ *](vod_[a-z0-9_]+)\(.*/\1/' | sort -u > "$work/declared.txt"
if diff -u "$work/declared.txt" <(sort -u "$work/exports.txt") > "$work/decl.diff"; then
    pass "header declarations == exported symbols ($(wc -l < "$work/declared.txt"))"
else
    cat "$work/decl.diff"
    fail "header declarations differ from exported symbols"
fi

# The installed header also compiles as pedantic C99 and, when a C++ compiler is there, as C++11.
printf '#include <vodupload.h>\nint main(void) { return vod_strerror(VOD_OK) == 0; }\n' > "$work/hdr.c"
if "$CC" -std=c99 -pedantic -Wall -Wextra -Werror "${PC_CFLAGS[@]}" -fsyntax-only "$work/hdr.c"; then
    pass "vodupload.h compiles as C99 -pedantic"
else
    fail "vodupload.h as C99"
fi
if command -v "${CXX:-c++}" > /dev/null; then
    if "${CXX:-c++}" -std=c++11 -Wall -Wextra -Werror "${PC_CFLAGS[@]}" -fsyntax-only -x c++ "$work/hdr.c"; then
        pass "vodupload.h compiles as C++11"
    else
        fail "vodupload.h as C++11"
    fi
fi

# ---- 2. NULL-argument coverage -------------------------------------------------------------
sed -n '/BEGIN-NULL-TESTS/,/END-NULL-TESTS/p' "$root/tests/c/test_api.c" > "$work/null-section.c"
missing=""
while read -r fn; do
    grep -q "\\b$fn(" "$work/null-section.c" || missing="$missing $fn"
done < "$work/declared.txt"
[ -z "$missing" ] && pass "test_null_arguments calls every declared function" \
    || fail "test_null_arguments does not call:$missing"

# ---- 2b. the PHP FFI header (bindings/php/vodupload_ffi.h) loads in PHP, when PHP has FFI -----
if command -v php > /dev/null && php -r 'exit(extension_loaded("ffi") ? 0 : 1);' 2> /dev/null; then
    php "$root/tests/c/php_ffi_header.php" "$root/bindings/php/vodupload_ffi.h" "$so" "$version" \
        > "$work/php.log" 2>&1
    rc=$?
    cat "$work/php.log"
    passed=$((passed + $(grep -c '^ok ' "$work/php.log")))
    failed=$((failed + $(grep -c '^FAIL ' "$work/php.log")))
    [ $rc -ne 0 ] && ! grep -q '^FAIL ' "$work/php.log" && fail "php ffi: exit status $rc"
else
    echo "skip php ffi header check: no php with the FFI extension (apt-get install php-cli)"
fi

# ---- 3. emulators --------------------------------------------------------------------------
ID="AKIDctest$$"
KEY="ctestkey$RANDOM$RANDOM"
start_emulator() { # NAME ARGS...: sets $url
    local name="$1"
    shift
    "$emulator" --listen 127.0.0.1:0 --credential "$ID:$KEY" --no-rate-limit \
        --state "$work/$name-state" "$@" > "$work/$name.out" 2> "$work/$name.err" &
    emulator_pids+=("$!")
    url=""
    for _ in $(seq 1 300); do
        url="$(sed -n 's/^listening on \(.*\)$/\1/p' "$work/$name.out")"
        [ -n "$url" ] && break
        if ! kill -0 "${emulator_pids[-1]}" 2>/dev/null; then break; fi
        sleep 0.1
    done
    if [ -z "$url" ]; then
        cat "$work/$name.err" >&2
        echo "the $name emulator did not start" >&2
        echo "$passed passed, $((failed + 1)) failed"
        exit 1
    fi
    url="$url/v2/index.php"
}
start_emulator main;  export VOD_TEST_ENDPOINT="$url"
start_emulator slow --latency-ms 1500; export VOD_TEST_SLOW_ENDPOINT="$url"
start_emulator tls --tls-self-signed "$work/tls-cert.pem"; export VOD_TEST_TLS_ENDPOINT="$url"
export VOD_TEST_CA_FILE="$work/tls-cert.pem" VOD_TEST_ID="$ID" VOD_TEST_KEY="$KEY"
# test_events starts (and restarts) its own emulators from this binary.
export VOD_TEST_EMULATOR="$emulator"
echo "emulators: $VOD_TEST_ENDPOINT, $VOD_TEST_SLOW_ENDPOINT (slow), $VOD_TEST_TLS_ENDPOINT"

# ---- 4. build and run, per mode ------------------------------------------------------------
# Runs a test program, adds its "NAME: N passed, M failed" line to the totals; a program that
# crashes or prints no such line counts as one failure.
run_suite() { # LABEL LOG COMMAND...
    local label="$1" log="$2"
    shift 2
    "$@" > "$log" 2>&1
    local rc=$?
    sed 's/^/  /' "$log"
    local line
    line="$(grep -E '^test_[a-z_]+: [0-9]+ passed, [0-9]+ failed$' "$log" | tail -n1)"
    if [ -z "$line" ]; then
        fail "$label: exited with $rc without a summary"
        return
    fi
    local p f
    p="$(echo "$line" | sed -E 's/.*: ([0-9]+) passed.*/\1/')"
    f="$(echo "$line" | sed -E 's/.* ([0-9]+) failed$/\1/')"
    passed=$((passed + p))
    failed=$((failed + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then fail "$label: exit status $rc"; fi
}

# Runs the example against the emulator: a success, then a missing file.
run_example() { # LABEL BINARY [WRAPPER...]
    local label="$1" bin="$2"
    shift 2
    local video="$work/example video.mp4"
    head -c 1500000 /dev/urandom > "$video"
    if TENCENTCLOUD_SECRET_ID="$ID" TENCENTCLOUD_SECRET_KEY="$KEY" VOD_ENDPOINT="$VOD_TEST_ENDPOINT" \
        "$@" "$bin" "$video" > "$work/example.out" 2> "$work/example.err" \
        && grep -q '^file id: ' "$work/example.out" && grep -q '^url: http' "$work/example.out"; then
        pass "$label: examples/c/upload uploads a file ($(head -n1 "$work/example.out"))"
    else
        sed 's/^/  /' "$work/example.out" "$work/example.err"
        fail "$label: examples/c/upload"
    fi
    if TENCENTCLOUD_SECRET_ID="$ID" TENCENTCLOUD_SECRET_KEY="$KEY" VOD_ENDPOINT="$VOD_TEST_ENDPOINT" \
        "$@" "$bin" "$work/missing.mp4" > "$work/example.out" 2> "$work/example.err"; then
        fail "$label: examples/c/upload with a missing file exits 0"
    elif grep -q 'no such file' "$work/example.err"; then
        pass "$label: examples/c/upload reports a missing file"
    else
        sed 's/^/  /' "$work/example.err"
        fail "$label: examples/c/upload error message"
    fi
}

build() { # OUT SRC [EXTRA FLAGS...]: C, or C++ for a .cpp source
    local out="$1" src="$2"
    shift 2
    local compiler=("$CC" "${CFLAGS_STRICT[@]}")
    [[ "$src" == *.cpp ]] && compiler=("$CXX" "${CXXFLAGS_STRICT[@]}")
    "${compiler[@]}" "$@" "${PC_CFLAGS[@]}" -DVOD_EXPECTED_VERSION="\"$version\"" \
        -o "$out" "$src" "${PC_LIBS[@]}" -Wl,-rpath,"$prefix/lib" 2> "$out.log"
    local rc=$?
    cat "$out.log"
    return $rc
}

seed_base="$(date +%s)$$"
mode_index=0
for mode in "${modes[@]}"; do
    mode_index=$((mode_index + 1))
    echo "== mode: $mode"
    bin="$work/bin-$mode"
    mkdir -p "$bin"
    extra=()
    wrapper=()
    case "$mode" in
        plain) ;;
        sanitize)
            extra=("${SAN_FLAGS[@]}")
            export ASAN_OPTIONS="detect_leaks=1:halt_on_error=1:detect_stack_use_after_return=1"
            export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
            export LSAN_OPTIONS="suppressions=$root/tests/c/lsan.supp:print_suppressions=0"
            ;;
        valgrind)
            if ! command -v valgrind > /dev/null; then
                fail "valgrind is not installed"
                continue
            fi
            # valgrind.supp: two false positives of ring's AES-GCM assembly under TLS (see the
            # file); no leak is suppressed.
            # --child-silent-after-fork: test_events spawns emulators (fork + exec); the forked
            # child's few instructions before exec are not the library's and leave no summary.
            wrapper=(valgrind --leak-check=full --show-leak-kinds=definite --errors-for-leak-kinds=definite
                     --child-silent-after-fork=yes
                     --suppressions="$root/tests/c/valgrind.supp"
                     --error-exitcode=99 --log-file="$work/valgrind-%p.log")
            ;;
        *) echo "unknown mode $mode (plain, sanitize, valgrind)" >&2; exit 2 ;;
    esac
    ok=1
    for prog in test_api test_upload test_events test_bad_input; do
        build "$bin/$prog" "$root/tests/c/$prog.c" "${extra[@]}" || ok=0
    done
    build "$bin/test_wrapper" "$root/tests/cpp/test_wrapper.cpp" "${extra[@]}" || ok=0
    build "$bin/upload" "$root/examples/c/upload.c" "${extra[@]}" || ok=0
    build "$bin/upload-cpp" "$root/examples/cpp/upload.cpp" "${extra[@]}" || ok=0
    if [ $ok = 1 ]; then
        pass "$mode: compiled with ${CFLAGS_STRICT[*]} (C++: ${CXXFLAGS_STRICT[*]}) ${extra[*]} against the installed library"
    else
        fail "$mode: compile"
        continue
    fi
    rm -f "$work"/valgrind-*.log
    for prog in test_api test_upload test_events test_bad_input test_wrapper; do
        files="$work/files-$mode-$prog"
        rm -rf "$files" && mkdir -p "$files"
        VOD_TEST_DIR="$files" VOD_TEST_SEED="$seed_base$mode_index" \
            run_suite "$mode: $prog" "$work/$prog-$mode.log" "${wrapper[@]}" "$bin/$prog"
        # Emulators a crashed test_events left behind (it lists the PIDs it started).
        if [ -f "$files/emulator.pids" ]; then
            while read -r pid; do
                case "$(ps -p "$pid" -o args= 2> /dev/null)" in
                    "$emulator"*) kill "$pid" 2> /dev/null && echo "  stopped emulator $pid left by $prog" ;;
                esac
            done < "$files/emulator.pids"
        fi
    done
    run_example "$mode" "$bin/upload" "${wrapper[@]}"
    run_example "$mode C++" "$bin/upload-cpp" "${wrapper[@]}"
    if [ "$mode" = plain ]; then
        # The static library, with the system libraries the .pc file lists for static linking.
        read -r -a static_libs <<< "$(pkg-config --static --libs-only-l vodupload | sed 's/-lvodupload//')"
        if "$CC" "${CFLAGS_STRICT[@]}" "${PC_CFLAGS[@]}" -o "$bin/upload-static" \
                "$root/examples/c/upload.c" "$prefix/lib/libvodupload.a" "${static_libs[@]}" \
                2> "$work/static.log" \
            && ! readelf -d "$bin/upload-static" | grep -q 'libvodupload'; then
            run_example "static" "$bin/upload-static"
        else
            cat "$work/static.log"
            fail "static: link examples/c/upload.c with libvodupload.a"
        fi
    fi
    if [ "$mode" = valgrind ]; then
        logs=("$work"/valgrind-*.log)
        bad=""
        for log in "${logs[@]}"; do
            # Every process must end with a leak summary of 0 bytes definitely lost (or no heap
            # left at all) and no memory error.
            if ! grep -qE 'definitely lost: 0 bytes|All heap blocks were freed' "$log" \
                || ! grep -q 'ERROR SUMMARY: 0 errors' "$log"; then
                bad="$bad $log"
            fi
        done
        if [ -z "$bad" ] && [ ${#logs[@]} -ge 5 ]; then
            pass "valgrind: definitely lost: 0, no memory errors (${#logs[@]} processes)"
            for log in "${logs[@]}"; do
                echo "  $(sed -n 's/^==[0-9]*== Command: //p' "$log" | sed "s|$work/||g"):" \
                    "$(grep -oE 'definitely lost: .*|All heap blocks were freed' "$log")"
            done
        else
            for log in $bad; do sed 's/^/  /' "$log"; done
            fail "valgrind: leaks or memory errors in:$bad"
        fi
    fi
    unset ASAN_OPTIONS UBSAN_OPTIONS LSAN_OPTIONS
done

echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
