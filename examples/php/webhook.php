<?php

/*
 * Receives the VOD service's "Video Upload Completed" callbacks, and reads the event queue.
 *
 * The service POSTs each event's JSON to the app's callback URL ({"version":"4.0","eventType":
 * "NewFileUpload","data":{"fileId","fileUrl","fileName","sourceType",...}}), gives it 5 s,
 * retries twice, and ignores the answer beyond its status. The same events are kept in a queue
 * the app reads with $client->pullEvents() and acknowledges with $client->confirmEvents(): the
 * callback is the fast path, the queue the reliable one.
 *
 * 1. As the callback endpoint, under php-fpm (with libvodupload preloaded: see docs/php.md, "Under
 *    php-fpm") or PHP's built-in server (which, like php-fpm, allows FFI only in preloaded code
 *    unless ffi.enable=1):
 *
 *        VOD_WEBHOOK_TOKEN=$(openssl rand -hex 16) VOD_WEBHOOK_LOG=/var/log/vod-events.jsonl \
 *            php -q -d ffi.enable=1 -S 0.0.0.0:8000 examples/php/webhook.php
 *        # register http://YOUR-HOST:8000/vod/events?token=THAT-TOKEN as the callback URL
 *        # (-q: no access log, whose request lines would show the token)
 *
 *    Checked before an event is accepted (anything else is refused, and the service retries):
 *    POST; the `token` query parameter equals $VOD_WEBHOOK_TOKEN (hash_equals: the legacy
 *    callbacks are not signed, so a secret in the URL keeps strangers from posting fake events;
 *    serve it over HTTPS so it is not sent in clear); a body of at most 64 KiB that
 *    VodUpload\parse_event() accepts (else 400 with the parser's reason). Each event is appended
 *    to $VOD_WEBHOOK_LOG as one JSON line (its raw text).
 *
 * 2. php examples/php/webhook.php --pull
 *    Reads the queue once (TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY; VOD_EVENTS_ENDPOINT
 *    to use another event API URL), prints each event, confirms it, and says how many are left.
 *
 * 3. php examples/php/webhook.php --demo
 *    No account needed: runs this script under `php -S` as the callback endpoint, starts the
 *    emulator (target/debug/vodupload-emulator, or $VODUPLOAD_EMULATOR) with --notify-url, uploads
 *    a generated file, waits for the callback, then pulls and confirms the same event.
 *
 * Deliveries are at least once (a retried POST, the same event pulled again until confirmed):
 * handle events idempotently, keyed on the file id.
 * Exit status: 0 done, 1 failed (one line on stderr), 2 bad usage.
 */

declare(strict_types=1);

// With Composer: require 'vendor/autoload.php';
require __DIR__ . '/../../bindings/php/autoload.php';

use VodUpload\Client;
use VodUpload\Event;
use VodUpload\InvalidInputException;
use VodUpload\VodException;

use function VodUpload\parse_event;

const MAX_BODY = 64 * 1024;

/** What the app does with an event: here, one line. Key real work on the file id (it may come twice). */
function describe(Event $event): string
{
    if (!$event->isNewFileUpload()) {
        return "event {$event->eventType}: {$event->raw}";
    }
    return "upload completed: file_id={$event->fileId} name={$event->fileName} source={$event->sourceType}"
        . " url={$event->fileUrl} (version {$event->version})";
}

/** The callback endpoint: one request of a web server (php -S, php-fpm). */
function receive(): void
{
    $answer = static function (int $status, string $text): void {
        http_response_code($status);
        header('Content-Type: text/plain; charset=utf-8');
        echo $text, "\n";
    };
    if ($_SERVER['REQUEST_METHOD'] !== 'POST') {
        $answer(405, 'POST events here');
        return;
    }
    $token = (string) getenv('VOD_WEBHOOK_TOKEN');
    $given = $_GET['token'] ?? '';
    if ($token !== '' && (!is_string($given) || !hash_equals($token, $given))) {
        $answer(403, 'bad or missing token');
        return;
    }
    $body = (string) file_get_contents('php://input', false, null, 0, MAX_BODY + 1);
    if (strlen($body) > MAX_BODY) {
        $answer(413, 'body larger than ' . MAX_BODY . ' bytes');
        return;
    }
    try {
        $event = parse_event($body);
    } catch (InvalidInputException $e) {
        $answer(400, 'not an event: ' . $e->getMessage());
        return;
    }
    // Answer first (the service waits at most 5 s), then handle.
    $answer(200, 'ok');
    if (function_exists('fastcgi_finish_request')) {
        fastcgi_finish_request();
    }
    $log = getenv('VOD_WEBHOOK_LOG');
    if (is_string($log) && $log !== '') {
        file_put_contents($log, $event->raw . "\n", FILE_APPEND | LOCK_EX);
    }
    // Never log the request line: its query holds the token. (php -S -q silences error_log().)
    if (PHP_SAPI === 'cli-server') {
        file_put_contents('php://stderr', describe($event) . "\n");
    } else {
        error_log(describe($event));
    }
}

/** Prints and confirms what the queue holds; returns how many events are left. */
function pullOnce(Client $client): int
{
    $pairs = $client->pullEvents();
    foreach ($pairs as [$handle, $event]) {
        echo 'pulled: ', describe($event), "\n";
    }
    $client->confirmEvents(array_column($pairs, 0));    // only after handling
    $left = count($client->pullEvents());
    echo "confirmed ", count($pairs), ", left in the queue: $left\n";
    return $left;
}

/**
 * Starts `$command` with its output in a file and waits for a line matching `$pattern`.
 *
 * @param list<string> $command
 * @param array<string, string> $env
 * @return array{resource, array<int, string>} the process and the pattern's match
 */
function startProcess(array $command, string $pattern, array $env = []): array
{
    $log = (string) tempnam(sys_get_temp_dir(), 'vodupload-webhook-');
    register_shutdown_function('unlink', $log);
    $process = proc_open($command, [0 => ['file', '/dev/null', 'r'], 1 => ['file', $log, 'w'], 2 => ['file', $log, 'a']],
        $pipes, null, array_merge(getenv(), $env));
    for ($tries = 0; $process !== false && proc_get_status($process)['running'] && $tries < 1500; $tries++) {
        if (preg_match($pattern, (string) file_get_contents($log), $m) === 1) {
            return [$process, $m];
        }
        usleep(20_000);
    }
    throw new RuntimeException('cannot start ' . basename($command[0]) . ":\n" . file_get_contents($log));
}

function demo(): void
{
    $token = bin2hex(random_bytes(16));
    $events = (string) tempnam(sys_get_temp_dir(), 'vodupload-events-');
    $video = sys_get_temp_dir() . '/vodupload-webhook-' . getmypid() . '.mp4';
    file_put_contents($video, random_bytes(3 << 20));
    register_shutdown_function('unlink', $events);
    register_shutdown_function('unlink', $video);
    $processes = [];
    try {
        // This script as the callback endpoint, on a free port.
        [$processes[], $m] = startProcess([PHP_BINARY, '-q', '-d', 'ffi.enable=1', '-S', '127.0.0.1:0', __FILE__], '~Development Server \((http://127\.0\.0\.1:\d+)\) started~',
            ['VOD_WEBHOOK_TOKEN' => $token, 'VOD_WEBHOOK_LOG' => $events]);
        $callback = "{$m[1]}/vod/events?token=$token";

        $binary = getenv('VODUPLOAD_EMULATOR') ?: __DIR__ . '/../../target/debug/vodupload-emulator';
        [$id, $key] = ['AKIDexample', bin2hex(random_bytes(16))];
        [$processes[], $m] = startProcess([$binary, '--listen', '127.0.0.1:0', '--credential', "$id:$key", '--notify-url', $callback],
            '~listening on (http://\S+)~');
        $endpoint = $m[1] . '/v2/index.php';

        // The emulator serves the event API on its endpoint too (the service's is another host).
        $client = new Client($id, $key, endpoint: $endpoint, eventsEndpoint: $endpoint);
        $r = $client->upload($video, ['name' => 'webhook-demo']);
        echo "uploaded: file id {$r->fileId}\n";

        $deadline = microtime(true) + 30;
        while (!str_contains((string) file_get_contents($events), $r->fileId) && microtime(true) < $deadline) {
            usleep(50_000);
        }
        $lines = array_filter(explode("\n", (string) file_get_contents($events)));
        if ($lines === []) {
            throw new RuntimeException('no callback arrived within 30 s');
        }
        foreach ($lines as $line) {
            echo 'callback: ', describe(parse_event($line)), "\n";
        }
        if (pullOnce($client) !== 0) {
            throw new RuntimeException('events are left in the queue after confirming them');
        }
    } finally {
        foreach ($processes as $process) {
            proc_terminate($process);
            proc_close($process);
        }
    }
}

if (PHP_SAPI !== 'cli') {
    receive();
    return;
}

$usage = "usage: VOD_WEBHOOK_TOKEN=... php -q -d ffi.enable=1 -S HOST:PORT webhook.php | php webhook.php --pull | php webhook.php --demo\n";
$mode = $argv[1] ?? '';
if (count($argv) !== 2 || !in_array($mode, ['--pull', '--demo'], true)) {
    fwrite(STDERR, $usage);
    exit(2);
}
try {
    if ($mode === '--demo') {
        demo();
    } else {
        // Credentials from TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY; null: the service's event API.
        pullOnce(new Client(eventsEndpoint: getenv('VOD_EVENTS_ENDPOINT') ?: null));
    }
    exit(0);
} catch (VodException $e) {
    fwrite(STDERR, "error: {$e->getMessage()}" . ($e->canRetry() ? ' (try again later)' : '') . "\n");
} catch (RuntimeException $e) {
    fwrite(STDERR, "error: {$e->getMessage()}\n");
}
exit(1);
