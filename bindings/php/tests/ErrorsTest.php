<?php

declare(strict_types=1);

namespace VodUpload\Tests;

use VodUpload\AbortedException;
use VodUpload\AuthException;
use VodUpload\Client;
use VodUpload\InternalException;
use VodUpload\InvalidArgumentException;
use VodUpload\InvalidInputException;
use VodUpload\Library;
use VodUpload\IoException;
use VodUpload\NetworkException;
use VodUpload\NotFoundException;
use VodUpload\ProtocolException;
use VodUpload\ServerException;
use VodUpload\TimeoutException;
use VodUpload\VodException;

/** Every failure is a VodException subclass with the library's message, from a real failure. */
final class ErrorsTest extends EmulatorTestCase
{
    public function testAWrongKeyIsAnAuthException(): void
    {
        $wrongKey = 'this-is-not-the-key-42';
        $client = self::client($wrongKey);
        try {
            $client->upload(Files::random(1000));
            self::fail('a wrong key must fail');
        } catch (AuthException $e) {
            self::assertSame(4000, $e->getStatus());
            self::assertSame(4000, $e->getCode());
            self::assertSame(-10002, $e->getServerCode());
            self::assertFalse($e->canRetry());
            self::assertStringContainsString('-10002', $e->getMessage());
            self::assertStringNotContainsString($wrongKey, $e->getMessage());
            self::assertStringNotContainsString($wrongKey, (string) $e, 'nor in the trace');
        }
        // begin() too: InitUpload is the first request.
        $this->expectException(AuthException::class);
        $client->begin(Files::random(1000));
    }

    public function testTheSecretKeyStaysOutOfStackTraces(): void
    {
        $key = 'very-secret-key-in-a-trace';
        try {
            new Client("with space", $key);
            self::fail('a SecretId with a space must be refused');
        } catch (InvalidInputException $e) {
            self::assertStringContainsString('SecretId', $e->getMessage());
            self::assertStringNotContainsString($key, (string) $e);
            self::assertStringNotContainsString($key, print_r($e->getTrace(), true));
        }
        foreach ([fn () => new Client('AKIDx', "$key\0"), fn () => \VodUpload\Signer::sign('GET', 'h', '/', [], "$key\0")] as $call) {
            try {
                $call();
                self::fail('a SecretKey with a NUL byte must be refused');
            } catch (InvalidArgumentException $e) {
                self::assertSame('the SecretKey contains a NUL byte', $e->getMessage());
                self::assertStringNotContainsString($key, print_r($e->getTrace(), true));
            }
        }
    }

    public function testAMissingFileIsANotFoundException(): void
    {
        $path = Files::tempDir('missing') . '/nothing-here.mp4';
        foreach (['upload', 'begin'] as $method) {
            try {
                self::client()->$method($path);
                self::fail("$method() of a missing file must fail");
            } catch (NotFoundException $e) {
                self::assertInstanceOf(IoException::class, $e);
                self::assertSame(2101, $e->getStatus());
                self::assertStringContainsString($path, $e->getMessage());
                self::assertFalse($e->canRetry());
                self::assertSame(0, $e->getServerCode());
            }
        }
    }

    public function testFilesThatCannotBeUploaded(): void
    {
        $client = self::client();
        $dir = Files::tempDir('dir');
        self::assertThrows(IoException::class, '/directory/', fn () => $client->upload($dir));

        $empty = Files::tempDir('empty') . '/empty.mp4';
        touch($empty);
        self::assertThrows(InvalidInputException::class, '/empty/', fn () => $client->upload($empty));

        $noExtension = Files::random(100, 'video');
        self::assertThrows(InvalidInputException::class, '/fileType|extension|type/', fn () => $client->upload($noExtension));

        self::assertThrows(InvalidArgumentException::class, '/NUL/', fn () => $client->upload("/tmp/x.mp4\0.txt"));
    }

    /** @return iterable<string, array{callable(Client): mixed, class-string, string}> */
    public function badArguments(): iterable
    {
        yield 'part size not accepted' => [fn (Client $c) => $c->setPartSize(1000), InvalidInputException::class, '/524288/'];
        yield 'negative part size' => [fn (Client $c) => $c->setPartSize(-1), InvalidInputException::class, '/^part size -1 is not accepted by the service/'];
        yield 'concurrency 0' => [fn (Client $c) => $c->setConcurrency(0), InvalidInputException::class, '/concurrency|1 to 64|parallel/i'];
        yield 'concurrency 65' => [fn (Client $c) => $c->setConcurrency(65), InvalidInputException::class, '/64/'];
        yield 'concurrency over 32 bits' => [fn (Client $c) => $c->setConcurrency((1 << 32) + 1), InvalidInputException::class, '/^concurrency 4294967297 is out of range: use 1 to 64$/'];
        yield 'attempts over 64 bits' => [fn (Client $c) => $c->setOption('max_attempts', '18446744073709551617'), InvalidInputException::class, '/^max_attempts 18446744073709551617 is out of range/'];
        yield 'negative timeout' => [fn (Client $c) => $c->setRequestTimeout(-1), InvalidInputException::class, '/^request_timeout must be more than 0 and at most 86400 seconds, not -1$/'];
        yield 'NaN timeout' => [fn (Client $c) => $c->setConnectTimeout(NAN), InvalidInputException::class, '/^connect_timeout must be more than 0 and at most 86400 seconds, not NaN$/'];
        yield 'zero retry delay' => [fn (Client $c) => $c->setRetryBaseDelay(0), InvalidInputException::class, '/^retry_base_delay must be more than 0 and at most 3600 seconds, not 0$/'];
        yield 'unknown region' => [fn (Client $c) => $c->setRegion(''), InvalidInputException::class, '/^region "" is not valid/'];
        yield 'unknown signature method' => [fn (Client $c) => $c->setSignatureMethod('MD5'), InvalidInputException::class, '/MD5/'];
        yield 'missing CA file' => [fn (Client $c) => $c->setCaFile('/nonexistent/ca.pem'), NotFoundException::class, '/ca\.pem/'];
        yield 'CA file without certificates' => [fn (Client $c) => $c->setCaFile(__FILE__), InvalidInputException::class, '/certificate/i'];
        yield 'bad proxy' => [fn (Client $c) => $c->setProxy('not a url'), InvalidInputException::class, '/proxy/i'];
        yield 'unknown option' => [fn (Client $c) => $c->upload(__FILE__, ['tag' => ['x']]), InvalidArgumentException::class, "/unknown upload option 'tag'.*tags/"];
        yield 'tags not a list' => [fn (Client $c) => $c->upload(__FILE__, ['tags' => 'a']), \TypeError::class, "/^VodUpload\\\\Client::upload\\(\\): option 'tags' must be of type \\?list<string>, string given$/"];
        yield 'tag not a string' => [fn (Client $c) => $c->upload(__FILE__, ['tags' => ['a', 3]]), \TypeError::class, "/'tags'.*element that is not a string/"];
        yield 'classId a string' => [fn (Client $c) => $c->begin(__FILE__, ['classId' => '3']), \TypeError::class, "/^VodUpload\\\\Client::begin\\(\\): option 'classId' must be of type \\?int, string given$/"];
        yield 'classId negative' => [fn (Client $c) => $c->upload(__FILE__, ['classId' => -2]), InvalidInputException::class, '/^class_id -2 is out of range: use the id of a category \(0 or more\), or none$/'];
        yield 'transcode an int' => [fn (Client $c) => $c->upload(__FILE__, ['transcode' => 1]), \TypeError::class, "/'transcode' must be of type \\?bool, int given/"];
        yield 'option value with a NUL' => [fn (Client $c) => $c->setRegion("gz\0x"), InvalidArgumentException::class, '/the value of region contains a NUL byte/'];
        yield 'name too long' => [fn (Client $c) => $c->upload(__FILE__, ['name' => str_repeat('x', 41)]), InvalidInputException::class, '/41 bytes/'];
        yield 'name with a slash' => [fn (Client $c) => $c->upload(__FILE__, ['name' => 'a/b']), InvalidInputException::class, '/name/'];
        yield 'type not alphanumeric' => [fn (Client $c) => $c->upload(__FILE__, ['fileType' => 'm p4']), InvalidInputException::class, '/type/'];
    }

    /**
     * @dataProvider badArguments
     * @param callable(Client): mixed $call
     * @param class-string<\Throwable> $class
     */
    public function testBadArgumentsAreRefusedBeforeAnyRequest(callable $call, string $class, string $pattern): void
    {
        self::assertThrows($class, $pattern, fn () => $call(self::client()));
    }

    public function testBadClientArguments(): void
    {
        $endpoint = self::$emulator->endpoint;
        self::assertThrows(InvalidInputException::class, '/SecretId/', fn () => new Client('', 'key', $endpoint));
        self::assertThrows(InvalidInputException::class, '/endpoint|URL|url/', fn () => new Client('id', 'key', 'ftp://example.com/x'));
        self::assertThrows(InvalidInputException::class, '/events endpoint/', fn () => new Client('id', 'key', $endpoint, 'not a url'));
        self::assertThrows(InvalidArgumentException::class, '/NUL/', fn () => new Client("id\0x", 'key', $endpoint));
        putenv('TENCENTCLOUD_SECRET_ID');
        putenv('TENCENTCLOUD_SECRET_KEY');
        self::assertThrows(InvalidInputException::class, '/TENCENTCLOUD_SECRET_ID/', fn () => new Client(endpoint: $endpoint));
        // One credential given, the other from the environment, as in every face.
        self::assertThrows(InvalidInputException::class, '/^a SecretId was given without a SecretKey: pass both, or set TENCENTCLOUD_SECRET_KEY$/',
            fn () => new Client(Emulator::SECRET_ID, null, $endpoint));
        putenv('TENCENTCLOUD_SECRET_KEY=' . Emulator::SECRET_KEY);
        putenv('TENCENTCLOUD_SECRET_ID=AKIDnotTheOneGiven');
        try {
            $r = (new Client(Emulator::SECRET_ID, null, $endpoint))->setRateLimit(false)->upload(Files::random(100));
            self::assertSame(100, $r->fileSize);
            $e = self::assertThrows(AuthException::class, '/-10002|SecretId/', fn () => (new Client(null, Emulator::SECRET_KEY, $endpoint))
                ->setRateLimit(false)->setMaxAttempts(1)->upload(Files::random(100)));
            self::assertStringNotContainsString(Emulator::SECRET_KEY, (string) $e);
        } finally {
            putenv('TENCENTCLOUD_SECRET_ID');
            putenv('TENCENTCLOUD_SECRET_KEY');
        }
    }

    public function testBadStepArguments(): void
    {
        $up = self::client()->setPartSize(524288)->begin(Files::random(524288 + 1));
        self::assertSame(2, $up->partCount());
        self::assertThrows(InvalidInputException::class, '/^part index -1 is out of range: the file has 2 parts$/', fn () => $up->uploadPart(-1));
        self::assertThrows(InvalidInputException::class, '/^part index 2 is out of range: the file has 2 parts$/', fn () => $up->uploadPart(2));
        self::assertFalse($up->partNeeded(-1));
        self::assertFalse($up->partNeeded(2));
        self::assertThrows(InvalidInputException::class, '/part|needed|missing/', fn () => $up->finish());
        $up->uploadPart(0);
        $up->uploadPart(1);
        self::assertSame(2, $up->finish()->partsUploaded);
    }

    public function testACancelledUploadIsAnAbortedExceptionAndResumes(): void
    {
        $path = Files::random(2 * 524288);
        $client = self::client()->setPartSize(524288);
        $up = $client->begin($path);
        $up->uploadPart(0);
        $up->cancel();
        try {
            $up->uploadPart(1);
            self::fail('a cancelled upload must refuse more parts');
        } catch (AbortedException $e) {
            self::assertSame(5000, $e->getStatus());
            self::assertFalse($e->canRetry());
        }
        self::assertSame([1], $client->begin($path)->partsNeeded(), 'the service kept part 0');

        $done = $client->begin(Files::random(1000));
        $done->uploadPart(0);
        $done->cancel();
        self::assertThrows(AbortedException::class, '/./', fn () => $done->finish());
    }

    public function testNoServerIsANetworkExceptionWorthRetrying(): void
    {
        $socket = stream_socket_server('tcp://127.0.0.1:0');
        $address = stream_socket_get_name($socket, false);
        fclose($socket);    // a port nobody listens on
        $client = (new Client('id', 'key', "http://$address/v2/index.php"))->setMaxAttempts(1);
        try {
            $client->upload(Files::random(100));
            self::fail('no server must fail');
        } catch (NetworkException $e) {
            self::assertNotInstanceOf(TimeoutException::class, $e);
            self::assertSame(3000, $e->getStatus());
            self::assertTrue($e->canRetry());
            self::assertStringContainsString($address, $e->getMessage());
        }
    }

    public function testServiceErrorsTimeoutsAndBadAnswers(): void
    {
        $failing = new Emulator(['--fail-rate', '1']);
        $e = self::assertThrows(ServerException::class, '/-10004/', fn () => self::client(emulator: $failing)->setMaxAttempts(2)->upload(Files::random(100)));
        self::assertSame(-10004, $e->getServerCode());
        self::assertTrue($e->canRetry());
        self::assertSame(4100, $e->getStatus());
        $failing->stop();

        $slow = new Emulator(['--latency-ms', '3000']);
        $e = self::assertThrows(TimeoutException::class, '/./', fn () => self::client(emulator: $slow)->setMaxAttempts(1)->setRequestTimeout(0.3)->upload(Files::random(100)));
        self::assertInstanceOf(NetworkException::class, $e);
        self::assertSame(3100, $e->getStatus());
        self::assertTrue($e->canRetry());
        $slow->stop();

        $html = new Emulator(['--http502-rate', '1']);
        $e = self::assertThrows(VodException::class, '/502/', fn () => self::client(emulator: $html)->setMaxAttempts(1)->upload(Files::random(100)));
        self::assertContains($e->getStatus(), [3200, 4100], 'an HTML 502 page is a protocol or server failure');
        $html->stop();

        $wrongPath = str_replace('/v2/index.php', '/not-the-api', self::$emulator->endpoint);
        $e = self::assertThrows(VodException::class, '/./', fn () => (new Client('id', 'key', $wrongPath))->setMaxAttempts(1)->upload(Files::random(100)));
        self::assertInstanceOf(ProtocolException::class, $e, get_class($e) . ': ' . $e->getMessage());
    }

    public function testEveryStatusOfTheHeaderHasItsClass(): void
    {
        // The header's enum, read as text: the source of the numbers, independent of the map.
        $header = (string) file_get_contents(Library::HEADER);
        self::assertSame(1, preg_match('/enum vod_status\s*\{(.*?)\}/s', $header, $enum));
        preg_match_all('/^\s*(VOD_\w+)\s*=\s*(\d+)\s*,/m', $enum[1], $m, PREG_SET_ORDER);
        $statuses = [];
        foreach ($m as [, $name, $value]) {
            $statuses[$name] = (int) $value;
        }
        self::assertGreaterThan(10, count($statuses));
        self::assertSame(0, $statuses['VOD_OK']);
        unset($statuses['VOD_OK']);
        self::assertSame(array_keys($statuses), array_keys(VodException::CLASSES),
            'every status of the header, and only those, has a class in VodException::CLASSES (in the header\'s order)');
        $ffi = Library::ffi();
        foreach ($statuses as $name => $value) {
            self::assertSame($value, $ffi->$name, "FFI reads $name as the header says");
            $e = VodException::fromStatus($value, "m$value", 7, true);
            self::assertSame(VodException::CLASSES[$name], get_class($e), $name);
            self::assertSame($value, $e->getStatus());
            self::assertSame("m$value", $e->getMessage());
            self::assertSame(7, $e->getServerCode());
            self::assertTrue($e->canRetry());
            self::assertInstanceOf(\RuntimeException::class, $e);
        }
        self::assertSame(InvalidInputException::class, get_class(VodException::fromStatus(2000, '', 0, false)));
        self::assertSame(VodException::class, get_class(VodException::fromStatus(2999, 'from a newer library', 0, false)),
            'a status this package does not know: the base class');
    }

    public function testTheDocumentedTableIsTheMap(): void
    {
        // docs/php.md's table of exceptions: each class with the statuses the map gives it.
        $docs = dirname(__DIR__, 3) . '/docs/php.md';
        preg_match_all('/^\| `(\w+)`[^|]*\| ([\d, –]+) \|/mu', (string) file_get_contents($docs), $rows, PREG_SET_ORDER);
        $documented = [];
        foreach ($rows as [, $class, $statuses]) {
            foreach (preg_split('/,\s*/', trim($statuses)) ?: [] as $status) {
                $documented[(int) $status] = 'VodUpload\\' . $class;
            }
        }
        $map = VodException::classes();
        ksort($map);
        ksort($documented);
        self::assertSame($map, $documented, 'docs/php.md lists every status with its class');
    }

    /**
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
