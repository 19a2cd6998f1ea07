<?php

declare(strict_types=1);

namespace VodUpload\Tests;

/**
 * PHP's built-in web server (`php -S`, the cli-server SAPI) on 127.0.0.1 and a free port: a SAPI
 * other than the command line, so `ffi.enable=preload` restricts FFI there as it does under
 * php-fpm. Stopped by stop() or on destruction.
 */
final class PhpServer
{
    public readonly string $url;

    /** @var resource|null */
    private $process;
    private string $log;

    /**
     * @param list<string>           $iniArgs e.g. ['-d', 'ffi.enable=preload']
     * @param array<string, ?string> $env     variables to set (null: unset)
     */
    public function __construct(string $docroot, array $iniArgs, array $env = [])
    {
        $this->log = Files::tempDir('php-server') . '/server.log';
        $socket = stream_socket_server('tcp://127.0.0.1:0');
        $address = stream_socket_get_name($socket, false);
        fclose($socket);
        $environment = array_filter(array_merge(getenv(), $env), fn ($v) => $v !== null);
        $process = proc_open([PHP_BINARY, ...$iniArgs, '-S', $address, '-t', $docroot],
            [0 => ['file', '/dev/null', 'r'], 1 => ['file', $this->log, 'a'], 2 => ['file', $this->log, 'a']], $pipes, $docroot, $environment);
        if ($process === false) {
            throw new \RuntimeException('cannot start php -S');
        }
        $this->process = $process;
        $this->url = "http://$address";
        $deadline = microtime(true) + 30;
        while (!str_contains($this->log(), 'started')) {
            if (!proc_get_status($process)['running'] || microtime(true) > $deadline) {
                $log = $this->log();
                $this->stop();
                throw new \RuntimeException("php -S did not start:\n$log");
            }
            usleep(20_000);
        }
    }

    public function __destruct()
    {
        $this->stop();
    }

    /** The body of GET `$path` (whatever the HTTP status). */
    public function get(string $path): string
    {
        $context = stream_context_create(['http' => ['ignore_errors' => true, 'timeout' => 60]]);
        return (string) file_get_contents($this->url . $path, false, $context);
    }

    /** What the server logged (PHP's errors included). */
    public function log(): string
    {
        return (string) @file_get_contents($this->log);
    }

    public function stop(): void
    {
        if ($this->process === null) {
            return;
        }
        proc_terminate($this->process);
        proc_close($this->process);
        $this->process = null;
    }
}
