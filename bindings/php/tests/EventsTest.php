<?php

declare(strict_types=1);

namespace VodUpload\Tests;

use PHPUnit\Framework\TestCase;
use VodUpload\AuthException;
use VodUpload\Client;
use VodUpload\Event;
use VodUpload\InvalidArgumentException;
use VodUpload\InvalidInputException;
use VodUpload\NetworkException;
use VodUpload\ProtocolException;
use VodUpload\VodException;

use function VodUpload\parse_event;

/**
 * Event notification: the callback POST an upload triggers, PullEvent until
 * ConfirmEvent, the queue across emulator restarts, malformed events, errors, and memory.
 *
 * The class's emulator is dedicated to these tests (a shared one would hold the other tests'
 * events: a pull returns only the oldest 16), started with --notify-url pointing at a
 * CallbackReceiver bound before it; the tests that restart or fill an emulator start their own.
 */
final class EventsTest extends TestCase
{
    private const TOKEN_PATH = '/hook?token=t';

    private static ?CallbackReceiver $receiver = null;
    private static ?Emulator $emulator = null;

    public static function setUpBeforeClass(): void
    {
        self::$receiver = new CallbackReceiver();
        self::$emulator = new Emulator(['--notify-url', self::$receiver->url(self::TOKEN_PATH)]);
    }

    public static function tearDownAfterClass(): void
    {
        self::$emulator?->stop();
        self::$emulator = null;
        self::$receiver?->close();
        self::$receiver = null;
    }

    protected function setUp(): void
    {
        self::drain(self::client());     // each test starts with an empty queue
    }

    protected function tearDown(): void
    {
        self::$receiver?->answerPending();   // callbacks nobody waited for: the delivery thread moves on
    }

    public function testAnUploadPostsTheEventToTheCallbackUrl(): void
    {
        $client = self::client();
        $r = $client->upload(Files::random(700_000), ['name' => 'events-callback']);

        $request = null;
        $deadline = microtime(true) + 30;   // the emulator tries for ~17 s (5 s timeout, 2 retries)
        while ($request === null && microtime(true) < $deadline) {
            $got = self::$receiver->next(max(0.1, $deadline - microtime(true)));
            if ($got !== null && str_contains($got['body'], $r->fileId)) {
                $request = $got;
            }
        }
        self::assertNotNull($request, "no callback for file {$r->fileId} within 30 s:\n" . self::$emulator->log());

        self::assertStringStartsWith('POST ' . self::TOKEN_PATH . ' HTTP/1.', $request['requestLine'], 'the query string (a token) is kept');
        self::assertStringStartsWith('application/json', $request['headers']['content-type'] ?? '');

        $event = parse_event($request['body']);
        self::assertInstanceOf(Event::class, $event);
        self::assertSame('NewFileUpload', $event->eventType);
        self::assertTrue($event->isNewFileUpload());
        self::assertSame('4.0', $event->version);
        self::assertSame($r->fileId, $event->fileId);
        self::assertSame($r->url, $event->fileUrl);
        self::assertSame('events-callback', $event->fileName);
        self::assertSame('ServerUpload', $event->sourceType);
        self::assertSame($request['body'], $event->raw, 'raw is exactly the text parsed');
        self::assertSame($r->fileId, $event->toArray()['data']['fileId']);
        self::assertEquals($event, Event::parse($request['body']), 'parse_event() and Event::parse() agree');

        // The same event is in the queue.
        $pulled = $client->pullEvents();
        self::assertCount(1, $pulled);
        self::assertSame($r->fileId, $pulled[0][1]->fileId);
        self::assertSame($event->toArray(), $pulled[0][1]->toArray());
    }

    public function testPulledEventsComeBackUntilConfirmed(): void
    {
        $client = self::client();
        $r = $client->upload(Files::random(300_000));

        $first = $client->pullEvents();
        self::assertTrue(array_is_list($first));
        self::assertCount(1, $first);
        [$handle, $event] = $first[0];
        self::assertIsString($handle);
        self::assertNotSame('', $handle);
        self::assertInstanceOf(Event::class, $event);
        self::assertSame($r->fileId, $event->fileId);
        self::assertTrue($event->isNewFileUpload());
        self::assertSame('ServerUpload', $event->sourceType);

        // Not confirmed: the same handle and event again.
        $again = $client->pullEvents();
        self::assertCount(1, $again);
        self::assertSame($handle, $again[0][0]);
        self::assertEquals($event, $again[0][1]);

        $client->confirmEvents([$handle]);
        self::assertSame([], $client->pullEvents(), 'a confirmed event is not pulled again');

        // Confirming again (a retry after a lost answer), or nothing, is harmless.
        $client->confirmEvents([$handle]);
        $client->confirmEvents([]);
        self::assertSame([], $client->pullEvents());
    }

    public function testEventsComeOldestFirstSixteenAtATime(): void
    {
        $emulator = new Emulator();     // no callback: 18 uploads would keep the receiver's backlog busy
        $client = self::client($emulator);
        $fileIds = [];
        for ($i = 0; $i < 18; $i++) {
            $fileIds[] = $client->upload(Files::random(1000 + $i))->fileId;
        }

        $pulled = $client->pullEvents();
        self::assertCount(16, $pulled, 'at most 16 per pull');
        self::assertSame(array_slice($fileIds, 0, 16), array_map(fn (array $p) => $p[1]->fileId, $pulled), 'oldest first');
        self::assertCount(16, array_unique(array_column($pulled, 0)), 'one handle per event');

        // The array's values are the handles, whatever its keys.
        $byFileId = array_combine(array_map(fn (array $p) => $p[1]->fileId, $pulled), array_column($pulled, 0));
        $client->confirmEvents($byFileId);

        $rest = $client->pullEvents();
        self::assertSame(array_slice($fileIds, 16), array_map(fn (array $p) => $p[1]->fileId, $rest));
        $client->confirmEvents(array_column($rest, 0));
        self::assertSame([], $client->pullEvents());
        $emulator->stop();
    }

    public function testUnconfirmedEventsSurviveARestartWithTheSameStateAndCredential(): void
    {
        $state = Files::tempDir('events-state');
        $other = ['--credential', 'AKIDanotherApp:another-key'];
        $emulator = new Emulator($other, $state);
        $r = self::client($emulator)->upload(Files::random(200_000));
        [[$handle, $event]] = self::client($emulator)->pullEvents();
        self::assertSame($r->fileId, $event->fileId);

        foreach ([15 => 'SIGTERM', 9 => 'SIGKILL'] as $signal => $name) {
            $emulator->stop($signal);
            $emulator = new Emulator($other, $state);     // a new port: a new client
            $client = self::client($emulator);
            $pulled = $client->pullEvents();
            self::assertCount(1, $pulled, "after $name");
            self::assertSame($handle, $pulled[0][0], "the same handle after $name");
            self::assertEquals($event, $pulled[0][1], "the same event after $name");

            // Events belong to the SecretId that uploaded.
            $another = new Client('AKIDanotherApp', 'another-key', endpoint: $emulator->endpoint, eventsEndpoint: $emulator->endpoint);
            self::assertSame([], $another->pullEvents(), "another app's queue after $name");
        }

        $client->confirmEvents([$handle]);
        self::assertSame([], $client->pullEvents());
        $emulator->stop();
        $emulator = new Emulator($other, $state);
        self::assertSame([], self::client($emulator)->pullEvents(), 'a confirmed event stays confirmed after a restart');
        $emulator->stop();
    }

    /** @return iterable<string, array{string, string}> */
    public function malformedEvents(): iterable
    {
        yield 'cut JSON' => ['{"eventType":', '/^the event is not valid JSON \(.*line 1 column \d+\); it starts with /'];
        yield 'empty' => ['', '/not valid JSON/'];
        yield 'an array' => ['[]', '/not an object \(an array\)/'];
        yield 'no eventType' => ['{"data":{}}', '/no "eventType" \(fields: data\)/'];
        yield 'numeric eventType' => ['{"eventType":7}', '/"eventType" is a number, not a string/'];
        yield 'empty eventType' => ['{"eventType":""}', '/"eventType".*empty/'];
        yield 'not UTF-8' => ["{\"eventType\":\"\xff\"}", '/not UTF-8/'];
        yield 'a NUL after the JSON' => ["{\"eventType\":\"NewFileUpload\"}\0", '/not valid JSON/'];
        yield 'HTML' => ['<html>502 Bad Gateway</html>', '/not valid JSON.*<html>/'];
    }

    /** @dataProvider malformedEvents */
    public function testAMalformedEventIsAnInvalidInputExceptionSayingWhy(string $json, string $pattern): void
    {
        foreach ([fn () => parse_event($json), fn () => Event::parse($json)] as $parse) {
            try {
                $parse();
                self::fail('a malformed event must be refused');
            } catch (InvalidInputException $e) {
                self::assertInstanceOf(InvalidArgumentException::class, $e);
                self::assertSame(2000, $e->getStatus());
                self::assertFalse($e->canRetry());
                self::assertMatchesRegularExpression($pattern, $e->getMessage());
            }
        }
    }

    public function testParsingIsTolerant(): void
    {
        $json = '{"version":"4.0","eventType":"NewFileUpload","future":true,"data":{"fileId":5285890781234567890,'
            . '"fileUrl":null,"fileName":"a\u0000b","sourceType":"ServerUpload","sourceContext":{"x":1},'
            . '"transcodeTaskId":"t-1","procedureTaskId":"","big":123456789012345678901234567890,"more":{"x":[1,"2"]}}}';
        $e = parse_event($json);
        self::assertSame('5285890781234567890', $e->fileId, 'a numeric fileId reads as its JSON text');
        self::assertNull($e->fileUrl, 'null');
        self::assertNull($e->fileName, 'a U+0000 cannot be a C string: null, the field is in raw');
        self::assertNull($e->sourceContext, 'not a string');
        self::assertSame('t-1', $e->transcodeTaskId);
        self::assertSame('', $e->procedureTaskId);
        self::assertSame($json, $e->raw);
        $array = $e->toArray();
        self::assertTrue($array['future']);
        self::assertSame("a\0b", $array['data']['fileName']);
        self::assertSame(['x' => [1, '2']], $array['data']['more']);
        self::assertSame('123456789012345678901234567890', $array['data']['big'], 'too large for an int: a string');

        $other = parse_event('{"eventType":"ProcedureStateChanged","ProcedureStateChangeEvent":{"taskId":"p-1"}}');
        self::assertSame('ProcedureStateChanged', $other->eventType);
        self::assertFalse($other->isNewFileUpload());
        self::assertNull($other->version);
        self::assertNull($other->fileId);
        self::assertNull($other->sourceType);
        self::assertSame('p-1', $other->toArray()['ProcedureStateChangeEvent']['taskId']);

        self::assertEquals(parse_event(" \n{\"eventType\":\"X\"}\n"), parse_event(" \n{\"eventType\":\"X\"}\n"));
        self::assertNotEquals(parse_event('{"eventType":"X"}'), parse_event('{"eventType":"Y"}'));

        $this->expectException(\TypeError::class);
        parse_event(123);   // strict_types: no conversion
    }

    public function testAMalformedEventInTheQueueIsAProtocolExceptionNamingItsHandle(): void
    {
        $state = Files::tempDir('events-bad');
        $emulator = new Emulator([], $state);
        self::client($emulator)->upload(Files::random(1000));
        [[$handle]] = self::client($emulator)->pullEvents();
        $emulator->stop();

        // The emulator's queue file (events/{seq}.json, its own format): break the event in it.
        $files = glob("$state/events/*.json") ?: [];
        self::assertCount(1, $files);
        $stored = json_decode((string) file_get_contents($files[0]), true, 512, JSON_THROW_ON_ERROR);
        self::assertSame($handle, $stored['msgHandle'], 'the emulator still stores events this way');
        $stored['eventContent'] = ['data' => ['fileId' => '1']];    // no eventType
        file_put_contents($files[0], json_encode($stored));

        $emulator = new Emulator([], $state);
        $client = self::client($emulator);
        try {
            $client->pullEvents();
            self::fail('a malformed event in the answer must fail the pull');
        } catch (ProtocolException $e) {
            self::assertSame(3200, $e->getStatus());
            self::assertStringContainsString('eventList[0]', $e->getMessage());
            self::assertStringContainsString($handle, $e->getMessage());
            self::assertStringContainsString('eventType', $e->getMessage());
        }
        // Confirming it by its handle unblocks the queue.
        $client->confirmEvents([$handle]);
        self::assertSame([], $client->pullEvents());
        $emulator->stop();
    }

    public function testErrors(): void
    {
        $endpoint = self::$emulator->endpoint;

        // A wrong key: the service refuses the signature of PullEvent and ConfirmEvent.
        $wrongKey = 'not-the-events-key-42';
        $wrong = new Client(Emulator::SECRET_ID, $wrongKey, $endpoint, $endpoint);
        foreach ([fn () => $wrong->pullEvents(), fn () => $wrong->confirmEvents(['abc'])] as $call) {
            try {
                $call();
                self::fail('a wrong key must fail');
            } catch (AuthException $e) {
                self::assertSame(4000, $e->getStatus());
                self::assertSame(-10002, $e->getServerCode());
                self::assertStringNotContainsString($wrongKey, (string) $e);
            }
        }

        // Bad events endpoints: refused at once, in the constructor and the setter.
        self::assertThrows(InvalidInputException::class, '/^events endpoint "ftp:\/\/x" is not a usable URL/',
            fn () => new Client('id', 'key', $endpoint, 'ftp://x'));
        $client = self::client();
        self::assertThrows(InvalidInputException::class, '/events endpoint/', fn () => $client->setEventsEndpoint('not a url'));
        self::assertThrows(InvalidArgumentException::class, '/the value of events_endpoint contains a NUL byte/', fn () => $client->setEventsEndpoint("http://h/\0"));
        self::assertThrows(InvalidArgumentException::class, '/the value of events_endpoint contains a NUL byte/', fn () => new Client('id', 'key', null, "http://h/\0"));
        self::assertSame([], $client->pullEvents(), 'a refused setting leaves the previous one');

        // Bad handles: refused before any request.
        self::assertThrows(\TypeError::class, '/message handle 1 must be a string, got int/', fn () => $client->confirmEvents(['a', 1]));
        self::assertThrows(\TypeError::class, '/message handle 0 must be a string, got array/', fn () => $client->confirmEvents([['the handle', 'the event']]));
        self::assertThrows(InvalidInputException::class, '/handle 1 is empty/', fn () => $client->confirmEvents(['abc', '']));
        self::assertThrows(InvalidArgumentException::class, '/message handle 0 contains a NUL byte/', fn () => $client->confirmEvents(["a\0b"]));

        // The default events endpoint is not the upload host: pointing it elsewhere is the user's
        // choice; a wrong path is a ProtocolException, no server a NetworkException.
        $client->setEventsEndpoint(str_replace('/v2/index.php', '/not-the-api', $endpoint))->setMaxAttempts(1);
        self::assertThrows(ProtocolException::class, '/./', fn () => $client->pullEvents());
        $socket = stream_socket_server('tcp://127.0.0.1:0');
        $address = stream_socket_get_name($socket, false);
        fclose($socket);
        $client->setEventsEndpoint("http://$address/v2/index.php");
        $e = self::assertThrows(NetworkException::class, '/' . preg_quote($address, '/') . '/', fn () => $client->pullEvents());
        self::assertTrue($e->canRetry());
        self::assertThrows(NetworkException::class, '/./', fn () => $client->confirmEvents(['abc']));

        // null restores the default; the emulator's own endpoint works again afterwards.
        $client->setEventsEndpoint(null)->setEventsEndpoint($endpoint);
        self::assertSame([], $client->pullEvents());
    }

    /**
     * 300 cycles of 16 parses, a pull of 16 events, a confirm of 16 (unknown) handles and a
     * malformed parse: neither PHP's memory nor the resident memory grows (the lists and events
     * are freed at once; Event holds no native handle). Measured: +32 bytes and +0 KiB; a list
     * or an event not freed would add about 4 MiB.
     */
    public function testEventCyclesDoNotGrowMemory(): void
    {
        $emulator = new Emulator();
        $client = self::client($emulator);
        $fileIds = [];
        for ($i = 0; $i < 16; $i++) {
            $fileIds[] = $client->upload(Files::random(1000 + $i))->fileId;
        }
        $jsons = array_map(fn (array $p) => $p[1]->raw, $client->pullEvents());
        $cycle = function () use ($client, $jsons, $fileIds): void {
            foreach ($jsons as $i => $json) {
                self::assertSame($fileIds[$i], parse_event($json)->fileId);
            }
            $pulled = $client->pullEvents();
            self::assertSame($fileIds, array_map(fn (array $p) => $p[1]->fileId, $pulled));
            $client->confirmEvents(array_map(fn (array $p) => 'unknown-' . $p[0], $pulled));
            try {
                parse_event('{"eventType":');
                self::fail('must throw');
            } catch (InvalidInputException) {
            }
        };
        for ($i = 0; $i < 30; $i++) {
            $cycle();
        }
        gc_collect_cycles();
        [$phpBefore, $rssBefore] = [memory_get_usage(), self::rss()];
        for ($i = 0; $i < 300; $i++) {
            $cycle();
        }
        gc_collect_cycles();
        [$phpAfter, $rssAfter] = [memory_get_usage(), self::rss()];
        fwrite(STDOUT, sprintf("\n300 cycles of 16 event parses, a pull of 16 and a confirm of 16: memory_get_usage %+d bytes, VmRSS %+d KiB\n",
            $phpAfter - $phpBefore, intdiv($rssAfter - $rssBefore, 1024)));
        self::assertLessThan(64 * 1024, $phpAfter - $phpBefore, 'PHP memory is back where it was');
        self::assertLessThan(1 << 20, $rssAfter - $rssBefore, 'resident memory grew by less than 1 MiB');
        $emulator->stop();
    }

    /** A client of `$emulator` (default: the class's), its events endpoint the emulator's endpoint. */
    private static function client(?Emulator $emulator = null): Client
    {
        $emulator ??= self::$emulator;
        return (new Client(Emulator::SECRET_ID, Emulator::SECRET_KEY, endpoint: $emulator->endpoint, eventsEndpoint: $emulator->endpoint))
            ->setRateLimit(false);
    }

    private static function drain(Client $client): void
    {
        while (($pairs = $client->pullEvents()) !== []) {
            $client->confirmEvents(array_column($pairs, 0));
        }
    }

    private static function rss(): int
    {
        $status = @file_get_contents('/proc/self/status');
        if ($status === false || preg_match('/^VmRSS:\s+(\d+) kB/m', $status, $m) !== 1) {
            self::markTestSkipped('no /proc/self/status here');
        }
        return (int) $m[1] * 1024;
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
