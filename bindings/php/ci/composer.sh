#!/usr/bin/env bash
# The package as Composer users get it: `composer validate --strict`, an install through a path
# repository into a fresh project with the lines of docs/php.md's Install, and its Quick start file
# run from that project against the emulator. A few seconds; cleans up after itself.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

work="$(mktemp -d)"
emulator_pid=
cleanup() {
    [ -n "$emulator_pid" ] && kill "$emulator_pid" 2>/dev/null && wait "$emulator_pid" 2>/dev/null
    rm -rf "$work"
}
trap cleanup EXIT
composer_env "$work"

(cd "$package" && composer validate --strict)

make_project "$work/app"
doc_block quick-start >"$work/app/upload.php"
grep -q "vendor/autoload.php" "$work/app/upload.php" || { echo "docs/php.md has no quick-start block" >&2; exit 1; }

id=AKIDcomposerCheck key="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
start_emulator "$work" "$id" "$key"
head -c 3000000 /dev/urandom >"$work/holiday.mp4"
out="$(cd "$work/app" && TENCENTCLOUD_SECRET_ID="$id" TENCENTCLOUD_SECRET_KEY="$key" VOD_ENDPOINT="$endpoint" \
    php upload.php "$work/holiday.mp4")"
echo "quick start from a Composer project: $out"
[[ "$out" =~ ^[0-9]+\ http://127\.0\.0\.1:[0-9]+/ ]] || { echo "unexpected output" >&2; exit 1; }
echo "composer: validate, path-repository install and the quick start passed"
