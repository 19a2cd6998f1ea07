<?php

declare(strict_types=1);

namespace VodUpload\Tests;

use VodUpload\AuthException;
use VodUpload\Client;
use VodUpload\InvalidInputException;
use VodUpload\IoException;
use VodUpload\Library;
use VodUpload\NetworkException;
use VodUpload\NotFoundException;
use VodUpload\PermissionDeniedException;
use VodUpload\ProtocolException;
use VodUpload\VodException;

/**
 * The bad-input table, PHP column: one test per row, each asserting the exception class (the one
 * the library's status maps to) and its message, the core's exact words for the option rows.
 *
 * The protocol rows talk to a fake upload host: a PHP child process (proc_open) on 127.0.0.1
 * answering every request with the same canned body, for at most 60 s. The network and protocol
 * rows use setMaxAttempts(2), so they stay fast.
 */
final class BadInputTableTest extends EmulatorTestCase
{
    public function testUnreadableFile(): void
    {
        // Root reads any file whatever its mode, so as root the upload runs in a child PHP that
        // dropped to nobody (setpriv, as LibraryTest does); the file's directory is open to all,
        // so only the file's own mode stands in the way.
        $dir = Files::tempDir('unreadable');
        chmod($dir, 0755);
        $path = "$dir/secret.mp4";
        file_put_contents($path, str_repeat('x', 100));
        chmod($path, 0);
        // No request may be made: an endpoint nobody listens on would turn one into a NetworkException.
        $endpoint = self::closedPortEndpoint();
        if (!function_exists('posix_geteuid') || posix_geteuid() !== 0) {
            $e = self::assertThrows(PermissionDeniedException::class, '/permission denied/',
                fn () => (new Client('AKIDx', 'k', $endpoint))->upload($path));
            self::assertSame(2102, $e->getStatus());
            return;
        }
        $setpriv = trim((string) shell_exec('command -v setpriv'));
        if ($setpriv === '') {
            self::markTestSkipped('running as root without setpriv to drop privileges: no process of this test can be refused a file');
        }
        $code = Php::prelude() . sprintf(<<<'PHP'
            if (is_readable(%1$s)) {
                echo "READABLE|\n";
                exit(0);
            }
            try {
                (new VodUpload\Client('AKIDx', 'k', %2$s))->setMaxAttempts(1)->upload(%1$s);
                echo "no exception|\n";
            } catch (Throwable $e) {
                echo get_class($e), '|', $e->getCode(), '|', $e->getMessage(), "\n";
            }
            PHP, var_export($path, true), var_export($endpoint, true));
        [$status, $out, $err] = Php::run($code, [], [], [$setpriv, '--reuid=65534', '--regid=65534', '--clear-groups', '--']);
        if ($status !== 0 && str_starts_with(trim($err), 'setpriv:')) {
            self::markTestSkipped("running as root, and setpriv cannot drop to nobody here ($err): no process of this test can be refused a file");
        }
        self::assertSame(0, $status, $out . $err);
        [$class, $code, $message] = explode('|', trim($out), 3) + ['', '', ''];
        self::assertSame(PermissionDeniedException::class, $class, $out . $err);
        self::assertSame('2102', $code);
        self::assertStringContainsString('permission denied', $message);
        self::assertStringContainsString($path, $message);
    }

    public function testMissingFile(): void
    {
        $path = Files::tempDir('missing') . '/nope.mp4';
        $e = self::assertThrows(NotFoundException::class, '/no such file/', fn () => self::client()->upload($path));
        self::assertStringContainsString($path, $e->getMessage());
    }

    public function testEmptyFile(): void
    {
        $path = Files::tempDir('empty') . '/empty.mp4';
        touch($path);
        self::assertThrows(InvalidInputException::class, '/the file is empty/', fn () => self::client()->upload($path));
    }

    public function testDirectory(): void
    {
        $e = self::assertThrows(IoException::class, '/is a directory/', fn () => self::client()->upload(Files::tempDir('dir')));
        self::assertSame(2100, $e->getStatus(), 'a plain IoException, neither NotFound nor PermissionDenied');
    }

    public function testFifo(): void
    {
        $fifo = Files::tempDir('fifo') . '/pipe.mp4';
        self::assertTrue(posix_mkfifo($fifo, 0600));
        self::assertThrows(InvalidInputException::class, '/not a regular file/', fn () => self::client()->upload($fifo));
    }

    public function testNonUtf8PathUploads(): void
    {
        $path = Files::tempDir('non-utf8') . "/clip-\xff\xfe.mp4";
        file_put_contents($path, random_bytes(5000));
        $r = self::client()->upload($path);
        self::assertSame(1, $r->partsTotal);
        self::assertSame(5000, $r->fileSize);
    }

    public function testNoExtensionNoType(): void
    {
        self::assertThrows(InvalidInputException::class, '/no extension/', fn () => self::client()->upload(Files::random(100, 'noext')));
    }

    public function testNameOver40Bytes(): void
    {
        self::assertThrows(InvalidInputException::class, '/is 41 bytes; the service accepts at most 40/',
            fn () => self::client()->upload(Files::random(100), ['name' => str_repeat('x', 41)]));
    }

    public function testNameWithAForbiddenCharacter(): void
    {
        self::assertThrows(InvalidInputException::class, "/contains ':'/",
            fn () => self::client()->upload(Files::random(100), ['name' => 'a:b']));
        foreach (['\\', '/', '*', '?', '"', '<', '>'] as $char) {
            self::assertThrows(InvalidInputException::class, '/contains/',
                fn () => self::client()->upload(Files::random(100), ['name' => "a{$char}b"]));
        }
    }

    public function testBadPartSize(): void
    {
        self::assertThrows(InvalidInputException::class, '/part size 1000 is not accepted.*524288/', fn () => self::client()->setPartSize(1000));
    }

    public function testZeroConcurrency(): void
    {
        self::assertThrows(InvalidInputException::class, '/concurrency 0 is out of range/', fn () => self::client()->setConcurrency(0));
    }

    public function testZeroNegativeAndHugeRequestTimeouts(): void
    {
        foreach ([[0, '0'], [-1, '-1'], [1_000_000_000, '1000000000']] as [$seconds, $shown]) {
            self::assertRefused("request_timeout must be more than 0 and at most 86400 seconds, not $shown",
                fn () => self::client()->setRequestTimeout($seconds));
        }
    }

    public function testAttemptsOutOfRange(): void
    {
        foreach ([0, 1000] as $attempts) {
            self::assertRefused("max_attempts $attempts is out of range: use 1 to 100 (1 means no retries)",
                fn () => self::client()->setMaxAttempts($attempts));
        }
    }

    public function testConcurrencyOverTheMaximum(): void
    {
        self::assertRefused('concurrency 65 is out of range: use 1 to 64', fn () => self::client()->setConcurrency(65));
    }

    public function testNegativeClassId(): void
    {
        self::assertRefused('class_id -2 is out of range: use the id of a category (0 or more), or none',
            fn () => self::client()->upload(Files::random(100), ['classId' => -2]));
    }

    public function testFingerprintCacheWritableByOthers(): void
    {
        $dir = Files::tempDir('fp-open') . '/cache';
        mkdir($dir);
        chmod($dir, 0777);
        self::assertRefused("the fingerprint cache directory $dir is writable by other users (mode 777): another user could plant fingerprints"
            . ' that make an upload end under another file\'s id; make it private (chmod 700, owned by you) or choose another directory',
            fn () => self::client()->setFingerprintCache($dir));
    }

    public function testFingerprintCacheThatIsAFile(): void
    {
        $file = Files::random(10, 'cache');
        self::assertRefused("the fingerprint cache directory $file is not a directory; choose another path",
            fn () => self::client()->setFingerprintCache($file));
    }

    public function testMalformedProxy(): void
    {
        $e = self::assertRefused(null, fn () => self::client()->setProxy('::not a url'));
        self::assertStringStartsWith('proxy "::not a url" is not usable', $e->getMessage());
    }

    public function testNameOfOnlySpaces(): void
    {
        self::assertRefused('the video name "   " is empty or only spaces, which the service refuses; pass a name',
            fn () => self::client()->upload(Files::random(100), ['name' => '   ']));
    }

    public function testFileNamedOnlyDots(): void
    {
        $path = Files::random(100, '....mp4');
        self::assertRefused("cannot name the video after $path: the video name \"...\" is only dots, which the service refuses"
            . ' (it reads as a path); pass a name', fn () => self::client()->upload($path));
    }

    public function testEmptySecretKey(): void
    {
        self::assertThrows(InvalidInputException::class, '/the SecretKey is empty/',
            fn () => new Client(Emulator::SECRET_ID, '', self::$emulator->endpoint));
    }

    public function testSecretKeyWithANewline(): void
    {
        $e = self::assertThrows(InvalidInputException::class, '/whitespace/',
            fn () => new Client(Emulator::SECRET_ID, Emulator::SECRET_KEY . "\n", self::$emulator->endpoint));
        self::assertStringNotContainsString(Emulator::SECRET_KEY, (string) $e);
    }

    public function testNoCredentials(): void
    {
        $saved = [getenv('TENCENTCLOUD_SECRET_ID'), getenv('TENCENTCLOUD_SECRET_KEY')];
        putenv('TENCENTCLOUD_SECRET_ID');
        putenv('TENCENTCLOUD_SECRET_KEY');
        try {
            self::assertThrows(InvalidInputException::class, '/no credentials.*TENCENTCLOUD_SECRET_ID/',
                fn () => new Client(endpoint: self::$emulator->endpoint));
        } finally {
            foreach (['TENCENTCLOUD_SECRET_ID', 'TENCENTCLOUD_SECRET_KEY'] as $i => $name) {
                if ($saved[$i] !== false) {
                    putenv("$name={$saved[$i]}");
                }
            }
        }
    }

    public function testWrongSecretKey(): void
    {
        $e = self::assertThrows(AuthException::class, '/-10002/', fn () => self::client('wrong')->setMaxAttempts(2)->upload(Files::random(100)));
        self::assertSame(-10002, $e->getServerCode());
        self::assertFalse($e->canRetry());
    }

    public function testEndpointNotAUrl(): void
    {
        self::assertThrows(InvalidInputException::class, '/not a usable URL/', fn () => new Client('AKIDx', 'k', 'vod2 dot qcloud'));
    }

    public function testUnreachableEndpoint(): void
    {
        $endpoint = self::closedPortEndpoint();
        $e = self::assertThrows(NetworkException::class, '/cannot connect/',
            fn () => (new Client('AKIDx', 'k', $endpoint))->setMaxAttempts(2)->upload(Files::random(100)));
        self::assertSame(3000, $e->getStatus());
        self::assertStringContainsString(explode('/', $endpoint)[2], $e->getMessage());
        self::assertTrue($e->canRetry());
    }

    public function testServerAnsweringHtml(): void
    {
        $requests = self::withFakeHost('<html><body>Welcome to nginx!</body></html>', fn (string $endpoint) =>
            self::assertThrows(ProtocolException::class, '/not JSON.*<html>/',
                fn () => (new Client('AKIDx', 'k', $endpoint))->setMaxAttempts(2)->upload(Files::random(100))));
        self::assertSame(2, $requests, 'a malformed answer is retried, up to the attempts set');
    }

    public function testJsonWithoutCode(): void
    {
        $requests = self::withFakeHost('{"message":"hello"}', fn (string $endpoint) =>
            self::assertThrows(ProtocolException::class, '/no numeric "code"/',
                fn () => (new Client('AKIDx', 'k', $endpoint))->setMaxAttempts(2)->upload(Files::random(100))));
        self::assertGreaterThanOrEqual(1, $requests);
    }

    public function testHugeResponseBody(): void
    {
        $requests = self::withFakeHost(str_repeat(' ', 4 << 20), fn (string $endpoint) =>
            self::assertThrows(ProtocolException::class, '/larger than \d+ bytes, more than this request can legitimately get/',
                fn () => (new Client('AKIDx', 'k', $endpoint))->setMaxAttempts(2)->upload(Files::random(100))));
        self::assertGreaterThanOrEqual(1, $requests);
    }

    // ---- helpers --------------------------------------------------------------------------

    /** An endpoint on a local port nobody listens on. */
    private static function closedPortEndpoint(): string
    {
        $socket = stream_socket_server('tcp://127.0.0.1:0');
        $address = stream_socket_get_name($socket, false);
        fclose($socket);
        return "http://$address/v2/index.php";
    }

    /**
     * Runs `$test` with the endpoint of a fake upload host answering every request with HTTP 200
     * and `$body` as text/html; returns how many requests the host answered.
     *
     * @param callable(string): mixed $test
     */
    private static function withFakeHost(string $body, callable $test): int
    {
        $dir = Files::tempDir('fake-host');
        file_put_contents("$dir/body", $body);
        file_put_contents("$dir/server.php", <<<'PHP'
            <?php
            // A fake upload host: one connection at a time, each answered with the body file, for 60 s at most.
            $body = file_get_contents($argv[1]);
            $response = "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: " . strlen($body)
                . "\r\nConnection: close\r\n\r\n" . $body;
            $server = stream_socket_server('tcp://127.0.0.1:0', $errno, $errstr) or exit("cannot listen: $errstr\n");
            echo 'listening on ', stream_socket_get_name($server, false), "\n";
            $deadline = microtime(true) + 60;
            while (microtime(true) < $deadline) {
                $c = @stream_socket_accept($server, 0.2);
                if ($c === false) {
                    continue;
                }
                stream_set_timeout($c, 5);
                $in = '';
                while (!str_contains($in, "\r\n\r\n") && ($chunk = fread($c, 8192)) !== false && $chunk !== '') {
                    $in .= $chunk;
                }
                $length = preg_match('/^content-length:\s*(\d+)/mi', $in, $m) === 1 ? (int) $m[1] : 0;
                $have = strlen($in) - (strpos($in, "\r\n\r\n") + 4);
                while ($have < $length && ($chunk = fread($c, 65536)) !== false && $chunk !== '') {
                    $have += strlen($chunk);
                }
                echo "request\n";
                for ($sent = 0; $sent < strlen($response); $sent += $n) {
                    $n = @fwrite($c, substr($response, $sent, 1 << 16));
                    if ($n === false || $n === 0) {
                        break;  // the client stopped reading (the huge body)
                    }
                }
                fclose($c);
            }
            PHP);
        $log = "$dir/server.log";
        $process = proc_open([PHP_BINARY, "$dir/server.php", "$dir/body"],
            [0 => ['file', '/dev/null', 'r'], 1 => ['file', $log, 'w'], 2 => ['file', $log, 'a']], $pipes);
        self::assertIsResource($process);
        try {
            $deadline = microtime(true) + 10;
            while (preg_match('/^listening on (\S+)$/m', (string) file_get_contents($log), $m) !== 1) {
                self::assertTrue(proc_get_status($process)['running'] && microtime(true) < $deadline,
                    'the fake host did not start: ' . file_get_contents($log));
                usleep(10_000);
            }
            $test("http://{$m[1]}/v2/index.php");
        } finally {
            proc_terminate($process);
            proc_close($process);
        }
        return substr_count((string) file_get_contents($log), "request\n");
    }

    /**
     * `$call` is refused as the core refuses it: the class its status maps to
     * (VOD_ERR_INVALID_INPUT), and the core's message, exactly (when `$message` is given).
     */
    private static function assertRefused(?string $message, callable $call): InvalidInputException
    {
        $e = self::assertThrows(InvalidInputException::class, '/./', $call);
        self::assertSame(Library::ffi()->VOD_ERR_INVALID_INPUT, $e->getStatus());
        self::assertSame(InvalidInputException::class, VodException::classes()[$e->getStatus()]);
        if ($message !== null) {
            self::assertSame($message, $e->getMessage());
        }
        return $e;
    }

    /**
     * As ErrorsTest::assertThrows (private there, so copied): `$call` throws `$class` with a
     * message matching `$pattern`; returns the exception.
     *
     * @template T of \Throwable
     * @param class-string<T> $class
     * @return T
     */
    private static function assertThrows(string $class, string $pattern, callable $call): \Throwable
    {
        try {
            $call();
        } catch (\Throwable $e) {
            self::assertInstanceOf($class, $e, get_class($e) . ': ' . $e->getMessage());
            self::assertMatchesRegularExpression($pattern, $e->getMessage());
            return $e;
        }
        self::fail("expected $class");
    }
}
