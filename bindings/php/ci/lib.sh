# Shared by the CI scripts of the PHP package: paths, the emulator, the docs' fenced blocks.
# Sourced, not run. Needs VODUPLOAD_LIB (default: target/debug/libvodupload.so) and an emulator
# (VODUPLOAD_EMULATOR, default: target/debug/vodupload-emulator).

package="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$(cd "$package/../.." && pwd)"
docs="$root/docs/php.md"
export VODUPLOAD_LIB="${VODUPLOAD_LIB:-$root/target/debug/libvodupload.so}"
emulator_bin="${VODUPLOAD_EMULATOR:-$root/target/debug/vodupload-emulator}"

# Composer as a CI job runs it: no questions, its own home, no Packagist (this machine reaches
# no PHP registry, and the package needs nothing from one).
composer_env() {
    export COMPOSER_HOME="$1/composer-home" COMPOSER_NO_INTERACTION=1 COMPOSER_ALLOW_SUPERUSER=1
    composer config --global repo.packagist false
}

# The fenced block that follows the line `<!-- ci: NAME ...-->` in docs/php.md.
doc_block() {
    awk -v name="$1" '
        index($0, "<!-- ci: " name " ") == 1 || $0 == "<!-- ci: " name " -->" { found = 1; next }
        found && /^```/ { if (inside) exit; inside = 1; next }
        inside { print }
    ' "$docs"
}

# Starts the emulator on a free port with the credential ID:KEY; sets emulator_pid and endpoint.
start_emulator() {
    local log="$1/emulator.log"
    "$emulator_bin" --listen 127.0.0.1:0 --credential "$2:$3" >"$log" 2>&1 &
    emulator_pid=$!
    for _ in $(seq 1 500); do
        endpoint="$(grep -o 'listening on http://[0-9.:]*' "$log" | cut -d' ' -f3 || true)"
        if [ -n "$endpoint" ]; then
            endpoint="$endpoint/v2/index.php"
            return 0
        fi
        kill -0 "$emulator_pid" 2>/dev/null || break
        sleep 0.02
    done
    echo "the emulator ($emulator_bin) did not start:" >&2
    cat "$log" >&2
    return 1
}

# A fresh Composer project in DIR with the package installed by the lines of the docs' Install.
make_project() {
    local dir="$1" install
    mkdir -p "$dir"
    echo '{}' >"$dir/composer.json"
    install="$(doc_block install)"
    [ -n "$install" ] || { echo "docs/php.md has no install block" >&2; return 1; }
    (cd "$dir" && eval "${install//\/path\/to\/vodupload/$root}") >"$dir/../composer.log" 2>&1 \
        || { cat "$dir/../composer.log" >&2; return 1; }
    [ -f "$dir/vendor/vodupload/vodupload/src/Client.php" ] \
        || { echo "the install left no vendor/vodupload/vodupload" >&2; cat "$dir/../composer.log" >&2; return 1; }
}
