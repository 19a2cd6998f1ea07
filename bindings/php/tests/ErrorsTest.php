<?php

declare(strict_types=1);

namespace VodUpload\Tests;

use VodUpload\AbortedException;
use VodUpload\AuthException;
use VodUpload\Client;
use VodUpload\InternalException;
use VodUpload\InvalidArgumentException;
use VodUpload\InvalidInputException;
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
        yield 'negative part size' => [fn (Client $c) => $c->setPartSize(-1), InvalidArgumentException::class, '/part size/'];
        yield 'concurrency 0' => [fn (Client $c) => $c->setConcurrency(0), InvalidInputException::class, '/concurrency|1 to 64|parallel/i'];
        yield 'concurrency 65' => [fn (Client $c) => $c->setConcurrency(65), InvalidInputException::class, '/64/'];
        yield 'concurrency over 32 bits' => [fn (Client $c) => $c->setConcurrency((1 << 32) + 1), InvalidArgumentException::class, '/concurrency/'];
        yield 'negative timeout' => [fn (Client $c) => $c->setRequestTimeout(-1), InvalidArgumentException::class, '/timeout/'];
        yield 'NaN timeout' => [fn (Client $c) => $c->setConnectTimeout(NAN), InvalidArgumentException::class, '/timeout/'];
        yield 'unknown signature method' => [fn (Client $c) => $c->setSignatureMethod('MD5'), InvalidInputException::class, '/MD5/'];
        yield 'missing CA file' => [fn (Client $c) => $c->setCaFile('/nonexistent/ca.pem'), NotFoundException::class, '/ca\.pem/'];
        yield 'CA file without certificates' => [fn (Client $c) => $c->setCaFile(__FILE__), InvalidInputException::class, '/certificate/i'];
        yield 'bad proxy' => [fn (Client $c) => $c->setProxy('not a url'), InvalidInputException::class, '/proxy/i'];
        yield 'unknown option' => [fn (Client $c) => $c->upload(__FILE__, ['tag' => ['x']]), InvalidArgumentException::class, "/unknown upload option 'tag'.*tags/"];
        yield 'tags not a list' => [fn (Client $c) => $c->upload(__FILE__, ['tags' => 'a']), InvalidArgumentException::class, "/'tags' must be a list<string>, got string/"];
        yield 'tag not a string' => [fn (Client $c) => $c->upload(__FILE__, ['tags' => ['a', 3]]), InvalidArgumentException::class, "/'tags'/"];
        yield 'classId a string' => [fn (Client $c) => $c->begin(__FILE__, ['classId' => '3']), InvalidArgumentException::class, "/'classId' must be a int, got string/"];
        yield 'classId negative' => [fn (Client $c) => $c->upload(__FILE__, ['classId' => -2]), InvalidArgumentException::class, '/classId/'];
        yield 'transcode an int' => [fn (Client $c) => $c->upload(__FILE__, ['transcode' => 1]), InvalidArgumentException::class, "/'transcode' must be a bool, got int/"];
        yield 'name too long' => [fn (Client $c) => $c->upload(__FILE__, ['name' => str_repeat('x', 41)]), InvalidInputException::class, '/41 bytes/'];
        yield 'name with a slash' => [fn (Client $c) => $c->upload(__FILE__, ['name' => 'a/b']), InvalidInputException::class, '/name/'];
        yield 'type not alphanumeric' => [fn (Client $c) => $c->upload(__FILE__, ['fileType' => 'm p4']), InvalidInputException::class, '/type/'];
    }

    /**
     * @dataProvider badArguments
     * @param callable(Client): mixed $call
     * @param class-string<VodException> $class
     */
    public function testBadArgumentsAreRefusedBeforeAnyRequest(callable $call, string $class, string $pattern): void
    {
        self::assertThrows($class, $pattern, fn () => $call(self::client()));
    }

    public function testBadClientArguments(): void
    {
        $endpoint = self::$emulator->endpoint;
        self::assertThrows(InvalidArgumentException::class, '/SecretKey is missing/', fn () => new Client('id', null, $endpoint));
        self::assertThrows(InvalidArgumentException::class, '/SecretId is missing/', fn () => new Client(null, 'key', $endpoint));
        self::assertThrows(InvalidInputException::class, '/SecretId/', fn () => new Client('', 'key', $endpoint));
        self::assertThrows(InvalidInputException::class, '/endpoint|URL|url/', fn () => new Client('id', 'key', 'ftp://example.com/x'));
        self::assertThrows(InvalidArgumentException::class, '/NUL/', fn () => new Client("id\0x", 'key', $endpoint));
        putenv('TENCENTCLOUD_SECRET_ID');
        putenv('TENCENTCLOUD_SECRET_KEY');
        self::assertThrows(InvalidInputException::class, '/TENCENTCLOUD_SECRET_ID/', fn () => new Client(endpoint: $endpoint));
    }

    public function testBadStepArguments(): void
    {
        $up = self::client()->setPartSize(524288)->begin(Files::random(524288 + 1));
        self::assertSame(2, $up->partCount());
        self::assertThrows(InvalidArgumentException::class, '/part index -1 is out of range: the file has 2 parts/', fn () => $up->uploadPart(-1));
        self::assertThrows(InvalidArgumentException::class, '/part index 2 is out of range/', fn () => $up->uploadPart(2));
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

    public function testEachStatusHasItsClassAndUnknownOnesTheBase(): void
    {
        $expected = [
            1000 => InvalidArgumentException::class, 1001 => InternalException::class, 1002 => InternalException::class,
            2000 => InvalidInputException::class, 2100 => IoException::class, 2101 => NotFoundException::class,
            2102 => \VodUpload\PermissionDeniedException::class, 2200 => \VodUpload\FileChangedException::class,
            3000 => NetworkException::class, 3100 => TimeoutException::class, 3200 => ProtocolException::class,
            4000 => AuthException::class, 4100 => ServerException::class, 5000 => AbortedException::class,
            9000 => VodException::class, 2999 => VodException::class,
        ];
        foreach ($expected as $status => $class) {
            $e = VodException::fromStatus($status, "m$status", 7, true);
            self::assertSame($class, get_class($e));
            self::assertSame($status, $e->getStatus());
            self::assertSame("m$status", $e->getMessage());
            self::assertSame(7, $e->getServerCode());
            self::assertTrue($e->canRetry());
            self::assertInstanceOf(\RuntimeException::class, $e);
        }
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
