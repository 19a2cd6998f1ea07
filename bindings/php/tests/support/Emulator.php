<?php

declare(strict_types=1);

namespace VodUpload\Tests;

/**
 * A vodupload-emulator process (target/debug/vodupload-emulator, or $VODUPLOAD_EMULATOR) on
 * 127.0.0.1 and a free port, started with proc_open and stopped by stop() or on destruction.
 */
final class Emulator
{
    public const SECRET_ID = 'AKIDphpunitVodUploadTest';
    public const SECRET_KEY = 'phpunit-secret-key-0123456789';

    public readonly string $endpoint;
    public readonly string $stateDir;
    /** The PEM certificate to trust (setCaFile) when started with TLS. */
    public readonly ?string $caFile;

    /** @var resource|null */
    private $process;
    private string $log;

    /**
     * @param list<string> $args     more options (--fail-rate 1, --latency-ms 500...)
     * @param ?string      $stateDir a state directory to reuse (a restarted emulator keeps its parts)
     * @param bool         $tls      serve HTTPS with a fresh self-signed certificate (caFile)
     */
    public function __construct(array $args = [], ?string $stateDir = null, bool $tls = false)
    {
        $this->stateDir = $stateDir ?? Files::tempDir('emulator-state');
        $work = Files::tempDir('emulator');
        $this->log = "$work/emulator.log";
        $this->caFile = $tls ? "$work/ca.pem" : null;
        $command = [self::binary(), '--listen', '127.0.0.1:0', '--credential', self::SECRET_ID . ':' . self::SECRET_KEY,
            '--no-rate-limit', '--state', $this->stateDir, ...$args];
        if ($tls) {
            array_push($command, '--tls-self-signed', $this->caFile);
        }
        // stdout and stderr to a file, never a pipe nobody reads (the emulator would block on a full one).
        $process = proc_open($command, [0 => ['file', '/dev/null', 'r'], 1 => ['file', $this->log, 'a'], 2 => ['file', $this->log, 'a']], $pipes);
        if ($process === false) {
            throw new \RuntimeException('cannot start ' . implode(' ', $command));
        }
        $this->process = $process;
        $deadline = microtime(true) + 30;
        while (true) {
            $text = (string) @file_get_contents($this->log);
            if (preg_match('~listening on (https?://127\.0\.0\.1:\d+)~', $text, $m) === 1) {
                $this->endpoint = $m[1] . '/v2/index.php';
                break;
            }
            if (!proc_get_status($process)['running'] || microtime(true) > $deadline) {
                $this->stop();
                throw new \RuntimeException("the emulator did not start:\n$text");
            }
            usleep(20_000);
        }
    }

    public function __destruct()
    {
        $this->stop();
    }

    /** The emulator binary: $VODUPLOAD_EMULATOR, else target/debug/vodupload-emulator in this repository. */
    public static function binary(): string
    {
        $path = getenv('VODUPLOAD_EMULATOR') ?: dirname(__DIR__, 4) . '/target/debug/vodupload-emulator';
        if (!is_executable($path)) {
            throw new \RuntimeException("no emulator at $path: run `cargo build -p vodupload-emulator` or set VODUPLOAD_EMULATOR");
        }
        return $path;
    }

    /**
     * Stops the process (SIGTERM, then SIGKILL after 5 s; or SIGKILL at once with `$signal` 9,
     * as a crash would) and waits for it. Idempotent.
     */
    public function stop(int $signal = 15): void
    {
        if ($this->process === null) {
            return;
        }
        $process = $this->process;
        $this->process = null;
        if (proc_get_status($process)['running']) {
            proc_terminate($process, $signal);
            $deadline = microtime(true) + 5;
            while (proc_get_status($process)['running'] && microtime(true) < $deadline) {
                usleep(10_000);
            }
            if (proc_get_status($process)['running']) {
                proc_terminate($process, 9);
            }
        }
        proc_close($process);
    }

    /** The emulator's output so far (for failure messages). */
    public function log(): string
    {
        return (string) @file_get_contents($this->log);
    }
}
