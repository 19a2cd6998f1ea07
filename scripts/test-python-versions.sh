#!/usr/bin/env bash
# Proves the wheel's abi3 claim (one wheel for every CPython >= 3.9): the same wheel file,
# installed into a fresh venv of each CPython on this machine with no Rust toolchain on PATH,
# passes the whole Python test suite in each.
#
#   scripts/test-python-versions.sh [WHEEL]
#
# WHEEL: the wheel to test; scripts/test.sh passes the one it built, and the release wheel of
# scripts/build-wheel.sh works too. Without it, one is built here (dev profile, reusing target/).
# VODUPLOAD_PYTHONS: the versions to test, default "3.9 3.11 3.13": the newest X.Y.* under
# ~/.pyenv/versions, else pythonX.Y on PATH. Each venv gets pytest from PyPI (pip's cache makes
# later runs quick); nothing else.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
export PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_ROOT_USER_ACTION=ignore
versions=${VODUPLOAD_PYTHONS:-3.9 3.11 3.13}
work="$(mktemp -d "${TMPDIR:-/tmp}/vodupload-pythons.XXXXXX")"
trap 'rm -rf "$work"' EXIT

wheel=${1:-}
if [ -z "$wheel" ]; then
    (cd python && PATH="$HOME/.cargo/bin:$PATH" python3 -m maturin build --profile dev --out "$work/wheel")
    wheel="$(ls "$work"/wheel/vodupload-*.whl)"
fi
wheel="$(realpath "$wheel")"
case "$(basename "$wheel")" in
    *-abi3-*) ;;
    *) echo "$wheel is not an abi3 wheel" >&2; exit 1 ;;
esac

find_python() {
    local dir
    for dir in $(ls -d "$HOME/.pyenv/versions/$1".* 2>/dev/null | sort -V -r); do
        if [ -x "$dir/bin/python" ]; then
            echo "$dir/bin/python"
            return
        fi
    done
    command -v "python$1"
}

# PATH without cargo, rustc and rustup: the wheel must not need them.
no_rust_path="$(printf '%s' "$PATH" | tr ':' '\n' | grep -v -e '/\.cargo/' -e '/\.rustup/' | paste -sd: -)"

for v in $versions; do
    py="$(find_python "$v")" || { echo "no CPython $v on this machine" >&2; exit 1; }
    venv="$work/venv-$v"
    "$py" -m venv "$venv"
    "$venv/bin/python" -m pip install -q pytest
    "$venv/bin/python" -m pip install -q --no-index --no-deps "$wheel"
    printf '\n=== CPython %s, %s\n' "$("$venv/bin/python" -c 'import platform; print(platform.python_version())')" "$(basename "$wheel")"
    # From outside the source tree, so `import vodupload` can only find the installed wheel.
    (
        cd "$work"
        export PATH="$venv/bin:$no_rust_path"
        if command -v cargo || command -v rustc; then
            echo "a Rust toolchain is still on PATH" >&2
            exit 1
        fi
        python -c 'import vodupload, sys; assert vodupload.__file__.startswith(sys.prefix), vodupload.__file__'
        python -m pytest -q -p no:cacheprovider "$repo/python/tests"
    )
done
