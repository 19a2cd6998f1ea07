#!/usr/bin/env bash
# The documented production set-up, for real: Debian's php-fpm with exactly the settings of
# docs/php.md ("Under php-fpm"), its preload header written by the docs' command, serving a fresh
# Composer project from a pool that runs as www-data (as the current user when not root), and one
# request driven through FastCGI (cgi-fcgi, from libfcgi-bin) that uploads to the emulator. The
# request reports who ran it and how FFI was reached; this checks it ran as the pool's user, from
# the preloaded scope, with FFI closed to code that was not preloaded. A few seconds.
#
# Nothing outside a temporary directory is touched: Debian's php.ini and conf.d are read as
# installed, the docs' lines come in an extra conf.d directory (PHP_INI_SCAN_DIR), and php-fpm
# runs with its own configuration file, pid and log there.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

fpm="${PHP_FPM:-$(command -v php-fpm || ls /usr/sbin/php-fpm[0-9]* 2>/dev/null | sort -V | tail -n1 || true)}"
[ -x "$fpm" ] || { echo "php-fpm not found (apt-get install php-fpm)" >&2; exit 1; }
command -v cgi-fcgi >/dev/null || { echo "cgi-fcgi not found (apt-get install libfcgi-bin)" >&2; exit 1; }

work="$(mktemp -d)"
chmod 755 "$work"    # the pool's user reads the project and the video
emulator_pid= fpm_pid=
cleanup() {
    for pid in $fpm_pid $emulator_pid; do
        kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null
    done
    rm -rf "$work"
}
trap cleanup EXIT
composer_env "$work"

if [ "$(id -u)" = 0 ]; then
    user=www-data
    pool_user="user = www-data
group = www-data"
else
    user="$(id -un)"
    pool_user=
fi

app="$work/app"
make_project "$app"
mkdir "$app/public"
cat >"$app/public/upload.php" <<'PHP'
<?php
// One request of the application: an upload with the package, reporting how it ran.
declare(strict_types=1);
require __DIR__ . '/../vendor/autoload.php';

try {
    FFI::cdef('int abs(int);');
    $ffiOpen = true;
} catch (FFI\Exception) {
    $ffiOpen = false;    // code that was not preloaded may not use FFI
}
$client = (new VodUpload\Client(getenv('TENCENTCLOUD_SECRET_ID'), getenv('TENCENTCLOUD_SECRET_KEY'), getenv('VOD_ENDPOINT')))
    ->setPartSize(524288);
$r = $client->upload($_GET['file'], ['tags' => ['fpm']]);
header('Content-Type: application/json');
echo json_encode([
    'user' => posix_getpwuid(posix_geteuid())['name'],
    'sapi' => PHP_SAPI,
    'ffi.enable' => ini_get('ffi.enable'),
    'ffiOpenToOtherCode' => $ffiOpen,
    'source' => VodUpload\Library::source(),
    'fileId' => $r->fileId,
    'fileSha1' => $r->fileSha1,
    'partsUploaded' => $r->partsUploaded,
]), "\n";
PHP

# The docs' command and settings, with this run's paths for the docs' example ones.
paths() { sed -e "s#/var/www/app#$app#g" -e "s#/etc/php/[0-9.]*/fpm#$work#g"; }
header_command="$(doc_block fpm-header | paths)"
settings="$(doc_block fpm-ini | paths)"
[ -n "$header_command" ] && [ -n "$settings" ] || { echo "docs/php.md lacks the fpm-header or fpm-ini block" >&2; exit 1; }
(cd "$app" && eval "$header_command")
mkdir "$work/conf.d"
printf '%s\n' "$settings" >"$work/conf.d/99-vodupload.ini"
if [ "$user" != www-data ]; then
    sed -i "s/^opcache.preload_user=.*/opcache.preload_user=$user/" "$work/conf.d/99-vodupload.ini"
fi
echo "php-fpm settings (docs/php.md):"
sed 's/^/  /' "$work/conf.d/99-vodupload.ini"

id=AKIDfpmCheck key="$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n')"
start_emulator "$work" "$id" "$key"

cat >"$work/php-fpm.conf" <<CONF
[global]
pid = $work/php-fpm.pid
error_log = $work/php-fpm.log
daemonize = no

[app]
$pool_user
listen = $work/php-fpm.sock
pm = static
pm.max_children = 1
catch_workers_output = yes
env[TENCENTCLOUD_SECRET_ID] = $id
env[TENCENTCLOUD_SECRET_KEY] = $key
env[VOD_ENDPOINT] = $endpoint
CONF

# Debian's php.ini and conf.d as installed, then the docs' lines (the empty first entry of
# PHP_INI_SCAN_DIR keeps the default directory).
PHP_INI_SCAN_DIR=":$work/conf.d" "$fpm" --nodaemonize --fpm-config "$work/php-fpm.conf" &
fpm_pid=$!
for _ in $(seq 1 500); do
    [ -S "$work/php-fpm.sock" ] && break
    kill -0 "$fpm_pid" 2>/dev/null || break
    sleep 0.02
done
[ -S "$work/php-fpm.sock" ] || { echo "php-fpm did not start:" >&2; cat "$work/php-fpm.log" >&2; exit 1; }

head -c 1500000 /dev/urandom >"$work/video.mp4"
chmod 644 "$work/video.mp4"
response="$(SCRIPT_FILENAME="$app/public/upload.php" SCRIPT_NAME=/upload.php REQUEST_METHOD=GET \
    QUERY_STRING="file=$work/video.mp4" SERVER_PROTOCOL=HTTP/1.1 GATEWAY_INTERFACE=CGI/1.1 \
    REMOTE_ADDR=127.0.0.1 SERVER_NAME=localhost SERVER_PORT=80 \
    cgi-fcgi -bind -connect "$work/php-fpm.sock")"
body="$(printf '%s\n' "$response" | sed '1,/^\r\{0,1\}$/d')"
echo "FastCGI response: $body"

EXPECTED_USER="$user" EXPECTED_SHA1="$(sha1sum "$work/video.mp4" | cut -d' ' -f1)" php -r '
    $r = json_decode(stream_get_contents(STDIN), true);
    $checks = [
        "ran in php-fpm" => ($r["sapi"] ?? null) === "fpm-fcgi",
        "ran as " . getenv("EXPECTED_USER") => ($r["user"] ?? null) === getenv("EXPECTED_USER"),
        "ffi.enable is the default, preload" => ($r["ffi.enable"] ?? null) === "preload",
        "FFI is closed to code that was not preloaded" => ($r["ffiOpenToOtherCode"] ?? null) === false,
        "the library came from the preloaded scope" => ($r["source"] ?? null) === "FFI scope \"VODUPLOAD\" (preloaded)",
        "the upload finished with the file\x27s SHA-1" => ($r["fileSha1"] ?? null) === getenv("EXPECTED_SHA1") && ($r["partsUploaded"] ?? 0) === 3,
    ];
    foreach ($checks as $what => $ok) {
        echo $ok ? "ok: " : "FAILED: ", $what, "\n";
    }
    exit(in_array(false, $checks, true) ? 1 : 0);
' <<<"$body" || { echo "php-fpm log:" >&2; cat "$work/php-fpm.log" >&2; exit 1; }
echo "php-fpm: the documented production set-up uploaded through FastCGI"
