<?php

/*
 * Uploads a video with the vodupload PHP package, step by step with progress, and prints its
 * file id and URL.
 *
 *     export TENCENTCLOUD_SECRET_ID=AKID... TENCENTCLOUD_SECRET_KEY=...
 *     php examples/php/upload.php holiday.mp4 --tag travel
 *     (VOD_ENDPOINT=http://127.0.0.1:PORT/v2/index.php points it at another server)
 *
 *     php examples/php/upload.php --emulator
 *     (no account needed: starts the local emulator and uploads a generated 8 MiB file twice; the
 *     second time is an instant upload. The emulator is $VODUPLOAD_EMULATOR, else this
 *     repository's build, else `vodupload` on the PATH: either program, the `vodupload` command
 *     running it as `vodupload emulator`)
 *
 * libvodupload: $VODUPLOAD_LIB, else libvodupload.so.0 on the system paths. Interrupted uploads
 * resume: run it again with the same file and only the missing parts are sent.
 * Exit status: 0 uploaded, 1 failed (one line on stderr), 2 bad usage.
 */

declare(strict_types=1);

// With Composer: require 'vendor/autoload.php';
require __DIR__ . '/../../bindings/php/autoload.php';

use VodUpload\AuthException;
use VodUpload\Client;
use VodUpload\UploadResult;
use VodUpload\VodException;

function upload(Client $client, string $path, array $tags): UploadResult
{
    $up = $client->begin($path, ['tags' => $tags]);     // hashes the file, asks the service what it has
    if ($up->isInstant()) {
        fwrite(STDERR, "the service already has this file: nothing to send\n");
    } elseif ($up->bytesDone() > 0) {
        fwrite(STDERR, sprintf("resuming: %d of %d parts already there\n", $up->partCount() - count($up->partsNeeded()), $up->partCount()));
    }
    foreach ($up->partsNeeded() as $i) {
        $up->uploadPart($i);                            // retries what can be retried
        fwrite(STDERR, sprintf("\ruploaded %3.0f%%", 100 * $up->progress()));
    }
    fwrite(STDERR, $up->isInstant() ? '' : "\n");
    return $up->finish();
}

/**
 * The command that runs the emulator: the `vodupload-emulator` program, or the `vodupload` command
 * (a release install) with its `emulator` subcommand.
 *
 * @return list<string>
 */
function emulatorCommand(): array
{
    $root = dirname(__DIR__, 2);
    $candidates = array_filter([getenv('VODUPLOAD_EMULATOR') ?: null]) ?: [
        "$root/target/release/vodupload", "$root/target/release/vodupload-emulator",
        "$root/target/debug/vodupload-emulator", "$root/target/debug/vodupload",
        ...array_map(fn (string $dir) => "$dir/vodupload", explode(PATH_SEPARATOR, (string) getenv('PATH'))),
        ...array_map(fn (string $dir) => "$dir/vodupload-emulator", explode(PATH_SEPARATOR, (string) getenv('PATH'))),
    ];
    foreach ($candidates as $binary) {
        if (!is_file($binary) || !is_executable($binary)) {
            continue;
        }
        // Which program it is, by what it says, not by its file name.
        exec(escapeshellarg($binary) . ' --version 2>/dev/null', $output);
        return str_starts_with($output[0] ?? '', 'vodupload ') ? [$binary, 'emulator'] : [$binary];
    }
    throw new RuntimeException('no emulator: build it (cargo build -p vodupload-emulator), install the vodupload command,'
        . ' or set VODUPLOAD_EMULATOR to either program; tried ' . implode(', ', $candidates));
}

/** Starts the emulator on a free port; returns [process, endpoint, secretId, secretKey]. */
function startEmulator(): array
{
    $command = emulatorCommand();
    $log = tempnam(sys_get_temp_dir(), 'vodupload-emulator-');
    register_shutdown_function('unlink', $log);
    [$id, $key] = ['AKIDexample', bin2hex(random_bytes(16))];
    $process = proc_open([...$command, '--listen', '127.0.0.1:0', '--credential', "$id:$key"],
        [0 => ['file', '/dev/null', 'r'], 1 => ['file', $log, 'w'], 2 => ['file', $log, 'a']], $pipes);
    for ($tries = 0; $process !== false && proc_get_status($process)['running'] && $tries < 500; $tries++) {
        if (preg_match('~listening on (http://\S+)~', (string) file_get_contents($log), $m) === 1) {
            return [$process, $m[1] . '/v2/index.php', $id, $key];
        }
        usleep(20_000);
    }
    throw new RuntimeException('cannot start the emulator (' . implode(' ', $command) . "):\n" . file_get_contents($log));
}

$args = array_slice($argv, 1);
$emulator = in_array('--emulator', $args, true);
$tags = [];
$path = null;
for ($i = 0; $i < count($args); $i++) {
    if ($args[$i] === '--tag' && isset($args[$i + 1])) {
        $tags[] = $args[++$i];
    } elseif ($args[$i] !== '--emulator' && $path === null && !str_starts_with($args[$i], '-')) {
        $path = $args[$i];
    } elseif ($args[$i] !== '--emulator') {
        fwrite(STDERR, "usage: php upload.php VIDEO [--tag TAG]... | php upload.php --emulator [VIDEO]\n");
        exit(2);
    }
}
if ($path === null && !$emulator) {
    fwrite(STDERR, "usage: php upload.php VIDEO [--tag TAG]... | php upload.php --emulator [VIDEO]\n");
    exit(2);
}

$process = null;
try {
    if ($emulator) {
        [$process, $endpoint, $id, $key] = startEmulator();
        $client = new Client($id, $key, endpoint: $endpoint);
        if ($path === null) {
            $path = sys_get_temp_dir() . '/vodupload-example-' . getmypid() . '.mp4';
            file_put_contents($path, random_bytes(8 << 20));
            register_shutdown_function('unlink', $path);
        }
    } else {
        // Credentials from TENCENTCLOUD_SECRET_ID / TENCENTCLOUD_SECRET_KEY; endpoint: null = the service's.
        $client = new Client(endpoint: getenv('VOD_ENDPOINT') ?: null);
    }
    $client->setPartSize(1 << 20)->setConcurrency(4);

    $r = upload($client, $path, $tags);
    echo "uploaded $path: file id {$r->fileId}, url {$r->url}\n";
    printf("  %d parts sent, %d already there, %.2f s\n", $r->partsUploaded, $r->partsSkipped, $r->elapsed);
    if ($emulator) {
        $again = upload($client, $path, $tags);
        printf("again: instant=%s, same file id: %s\n", var_export($again->instant, true), var_export($again->fileId === $r->fileId, true));
    }
    $status = 0;
} catch (AuthException $e) {
    fwrite(STDERR, "error: the credentials were refused ({$e->getServerCode()}): {$e->getMessage()}\n");
    $status = 1;
} catch (VodException $e) {
    // NetworkException, ServerException...: the parts sent stay on the server, so running the
    // same command again resumes. $e->canRetry() says whether that can help.
    fwrite(STDERR, "\nerror: {$e->getMessage()}" . ($e->canRetry() ? ' (run it again to resume)' : '') . "\n");
    $status = 1;
} catch (RuntimeException $e) {    // the emulator did not start
    fwrite(STDERR, "error: {$e->getMessage()}\n");
    $status = 1;
} finally {
    if ($process !== null) {
        proc_terminate($process);
        proc_close($process);
    }
}
exit($status);
