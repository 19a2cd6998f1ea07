<?php

declare(strict_types=1);

namespace VodUpload\Tests;

/**
 * The test's callback URL: a TCP listener on 127.0.0.1 and a free port, bound before the emulator
 * starts. Single-threaded: the emulator's POST waits in the listen backlog until next() accepts
 * it, reads the request (headers, then Content-Length bytes of body) and answers 200.
 */
final class CallbackReceiver
{
    public readonly int $port;

    /** @var resource|null */
    private $server;

    public function __construct()
    {
        $server = stream_socket_server('tcp://127.0.0.1:0', $errno, $error);
        if ($server === false) {
            throw new \RuntimeException("cannot listen on 127.0.0.1: $error ($errno)");
        }
        $this->server = $server;
        $name = (string) stream_socket_get_name($server, false);
        $this->port = (int) substr($name, strrpos($name, ':') + 1);
    }

    public function __destruct()
    {
        $this->close();
    }

    /** The callback URL to give the emulator (--notify-url), with `$pathAndQuery`, e.g. "/hook?token=t". */
    public function url(string $pathAndQuery): string
    {
        return "http://127.0.0.1:{$this->port}$pathAndQuery";
    }

    /**
     * The next request, answered with `$status` (200: delivered), or null if none came within
     * `$timeout` seconds.
     *
     * @return ?array{requestLine: string, headers: array<string, string>, body: string}
     *         header names lowercase
     */
    public function next(float $timeout, int $status = 200): ?array
    {
        if ($this->server === null) {
            throw new \LogicException('the receiver is closed');
        }
        $conn = @stream_socket_accept($this->server, $timeout);   // @: a timeout is a warning
        if ($conn === false) {
            return null;
        }
        try {
            stream_set_timeout($conn, 10);
            $requestLine = rtrim((string) fgets($conn), "\r\n");
            $headers = [];
            while (($line = fgets($conn)) !== false && rtrim($line, "\r\n") !== '') {
                [$name, $value] = array_map('trim', explode(':', $line, 2)) + [1 => ''];
                $headers[strtolower($name)] = $value;
            }
            $length = (int) ($headers['content-length'] ?? 0);
            $body = '';
            while (strlen($body) < $length && !feof($conn)) {
                $chunk = fread($conn, $length - strlen($body));
                if ($chunk === false || ($chunk === '' && stream_get_meta_data($conn)['timed_out'])) {
                    break;
                }
                $body .= $chunk;
            }
            fwrite($conn, "HTTP/1.1 $status X\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            return ['requestLine' => $requestLine, 'headers' => $headers, 'body' => $body];
        } finally {
            fclose($conn);
        }
    }

    /** Answers 200 to every request already waiting (so the emulator's delivery thread moves on). */
    public function answerPending(): int
    {
        $n = 0;
        while ($this->server !== null && $this->next(0.2) !== null) {
            $n++;
        }
        return $n;
    }

    public function close(): void
    {
        if ($this->server !== null) {
            fclose($this->server);
            $this->server = null;
        }
    }
}
