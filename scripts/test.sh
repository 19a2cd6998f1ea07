#!/usr/bin/env bash
# Every test of the project: lint, Rust unit and end-to-end tests, then each face (C, Python, PHP)
# against the emulator. The README's test command and what CI (.ci/run) runs.
set -euo pipefail
cd "$(dirname "$0")/.."
export CARGO_TERM_COLOR=never

scripts/setup.sh
export PATH="$HOME/.cargo/bin:$PATH"

suites=0
step() {
    # Reaching the next step means the previous one passed (set -e stops at a failure).
    if [ -n "${in_step:-}" ]; then suites=$((suites + 1)); fi
    in_step=1
    printf '\n=== %s\n' "$*"
}

step "format and lint"
cargo fmt --all --check
cargo clippy --workspace --all-targets --quiet -- -D warnings

step "Rust: unit and end-to-end tests (core, emulator, CLI)"
cargo test --workspace --quiet

step "Docs: every relative link resolves, the index and the architecture map are complete, the CLI tables match --help"
cargo build --quiet -p vodupload-cli
scripts/check-docs.sh target/debug/vodupload

step "C: header up to date, SONAME and symbols, C tests plain / ASan+UBSan / valgrind, example"
crates/vodupload-ffi/gen-header.sh --check
cargo build --quiet -p vodupload-ffi -p vodupload-emulator
c_so=target/debug/libvodupload.so
readelf -d "$c_so" | grep -F 'Library soname: [libvodupload.so.0]'
if nm -D --defined-only "$c_so" | awk '{print $NF}' | grep -v '^vod_'; then
    echo "libvodupload.so exports symbols other than vod_*" >&2
    exit 1
fi
tests/c/run.sh plain sanitize valgrind
tests/c/link-lines.sh

step "Python: build the wheel once (dev profile, reusing target/), stubs, types, tests, example"
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
py_wheels="$(mktemp -d)"
if [ -n "${VODUPLOAD_RELEASE_WHEEL:-}" ]; then
    # The wheel users get (release, stripped, manylinux2014): minutes more to build.
    scripts/build-wheel.sh
    cp dist/vodupload-*-abi3-*.whl "$py_wheels"/
else
    (cd python && python3 -m maturin build --profile dev --out "$py_wheels")
fi
python3 -m pip install -q --force-reinstall --no-deps "$py_wheels"/vodupload-*.whl
# From the repository root, so python/vodupload (sources without the extension) does not shadow
# the installed package.
python3 -m mypy.stubtest vodupload._vodupload
(cd python && python3 -m mypy)
python3 -m pytest -q python/tests
python3 examples/python/upload.py --emulator
python3 examples/python/upload_async.py --emulator
python3 examples/python/webhook.py --demo

step "Python: that same wheel on CPython 3.9, 3.11 and 3.13 (abi3), fresh venvs without Rust"
scripts/test-python-versions.sh "$py_wheels"/vodupload-*.whl
rm -rf "$py_wheels"

step "PHP: lint, the example, PHPUnit against the emulator (library and emulator from target/debug), Composer install, php-fpm"
php -r 'exit(extension_loaded("ffi") ? 0 : 1);' || { echo "php has no FFI extension" >&2; exit 1; }
export VODUPLOAD_LIB="$PWD/target/debug/libvodupload.so"
export VODUPLOAD_EMULATOR="$PWD/target/debug/vodupload-emulator"
while IFS= read -r -d '' php_file; do
    php_lint="$(php -l "$php_file" 2>&1)" || { echo "$php_lint" >&2; exit 1; }
done < <(find bindings/php examples/php \( -name '*.php' -o -path '*/bin/*' \) -type f -print0)
php examples/php/upload.php --emulator
phpunit -c bindings/php/phpunit.xml.dist
bindings/php/ci/composer.sh
bindings/php/ci/php-fpm.sh

step "fuzz: a short run of every target (scripts/fuzz.sh 3600 for a long one)"
scripts/fuzz.sh "${FUZZ_SECONDS:-15}"

suites=$((suites + 1))
printf '\n=== all test suites passed\nsuites: %d passed, 0 failed\n' "$suites"
