<?php

declare(strict_types=1);

namespace VodUpload\Tests;

use PHPUnit\Framework\TestCase;

/** examples/php/webhook.php: the demo (callback then queue), and its checks as a callback endpoint under `php -S`. */
final class WebhookExampleTest extends TestCase
{
    private const EXAMPLE = __DIR__ . '/../../../examples/php/webhook.php';

    public function testTheDemoReceivesTheCallbackThenPullsAndConfirms(): void
    {
        [$status, $out, $err] = self::runExample(['--demo']);
        self::assertSame(0, $status, $out . $err);
        self::assertMatchesRegularExpression('~^uploaded: file id (\d+)\n'
            . 'callback: upload completed: file_id=\1 name=webhook-demo source=ServerUpload url=http://127\.0\.0\.1:\d+/\S+ \(version 4\.0\)\n'
            . 'pulled: upload completed: file_id=\1 name=webhook-demo .*\n'
            . 'confirmed 1, left in the queue: 0\n$~', $out);

        [$status, , $err] = self::runExample([]);
        self::assertSame(2, $status);
        self::assertStringStartsWith('usage:', $err);
    }

    public function testPullReadsAndConfirmsTheQueue(): void
    {
        $emulator = new Emulator();
        $client = new \VodUpload\Client(Emulator::SECRET_ID, Emulator::SECRET_KEY, endpoint: $emulator->endpoint);
        $r = $client->setRateLimit(false)->upload(Files::random(1000), ['name' => 'pulled']);
        $env = ['TENCENTCLOUD_SECRET_ID' => Emulator::SECRET_ID, 'TENCENTCLOUD_SECRET_KEY' => Emulator::SECRET_KEY,
            'VOD_EVENTS_ENDPOINT' => $emulator->endpoint];

        [$status, $out, $err] = self::runExample(['--pull'], $env);
        self::assertSame(0, $status, $out . $err);
        self::assertSame("pulled: upload completed: file_id={$r->fileId} name=pulled source=ServerUpload url={$r->url} (version 4.0)\n"
            . "confirmed 1, left in the queue: 0\n", $out);
        [$status, $out] = self::runExample(['--pull'], $env);
        self::assertSame([0, "confirmed 0, left in the queue: 0\n"], [$status, $out]);

        [$status, $out, $err] = self::runExample(['--pull'], ['TENCENTCLOUD_SECRET_KEY' => 'wrong'] + $env);
        $emulator->stop();
        self::assertSame([1, ''], [$status, $out]);
        self::assertMatchesRegularExpression('/^error: .*-10002.*\n$/', $err);
    }

    public function testAsACallbackEndpointItRefusesWhatIsNotAnAuthenticEvent(): void
    {
        $dir = Files::tempDir('webhook');
        $events = "$dir/events.jsonl";
        $log = "$dir/server.log";
        $env = array_merge(getenv(), ['VOD_WEBHOOK_TOKEN' => 'secret-token', 'VOD_WEBHOOK_LOG' => $events]);
        $server = proc_open([PHP_BINARY, '-q', '-d', 'ffi.enable=1', '-S', '127.0.0.1:0', self::EXAMPLE],
            [0 => ['file', '/dev/null', 'r'], 1 => ['file', $log, 'a'], 2 => ['file', $log, 'a']], $pipes, null, $env);
        try {
            $deadline = microtime(true) + 15;
            while (preg_match('~\((http://127\.0\.0\.1:\d+)\) started~', (string) file_get_contents($log), $m) !== 1) {
                self::assertLessThan($deadline, microtime(true), 'php -S did not start: ' . file_get_contents($log));
                usleep(20_000);
            }
            $url = $m[1] . '/vod/events';
            $good = '{"version":"4.0","eventType":"NewFileUpload","data":{"fileId":"42","sourceType":"ServerUpload"}}';

            self::assertSame([405, "POST events here\n"], self::request('GET', "$url?token=secret-token"));
            self::assertSame([403, "bad or missing token\n"], self::request('POST', $url, $good));
            self::assertSame([403, "bad or missing token\n"], self::request('POST', "$url?token=wrong", $good));
            [$status, $text] = self::request('POST', "$url?token=secret-token", '{"data":{}}');
            self::assertSame(400, $status);
            self::assertStringStartsWith('not an event: the event has no "eventType"', $text);
            self::assertSame(413, self::request('POST', "$url?token=secret-token", str_repeat(' ', 64 * 1024 + 1))[0]);
            self::assertFileDoesNotExist($events, 'nothing refused was handled');

            self::assertSame([200, "ok\n"], self::request('POST', "$url?token=secret-token", $good));
            self::assertSame("$good\n", file_get_contents($events));
            for ($deadline = microtime(true) + 5; !str_contains((string) file_get_contents($log), 'file_id=42') && microtime(true) < $deadline;) {
                usleep(20_000);     // logged after the answer
            }
            self::assertStringContainsString('upload completed: file_id=42 ', (string) file_get_contents($log));
            self::assertStringNotContainsString('secret-token', (string) file_get_contents($log), 'the token is never logged');
        } finally {
            proc_terminate($server);
            proc_close($server);
        }
    }

    /**
     * @param list<string> $args
     * @param array<string, string> $env
     * @return array{int, string, string}
     */
    private static function runExample(array $args, array $env = []): array
    {
        $process = proc_open([PHP_BINARY, self::EXAMPLE, ...$args], [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']],
            $pipes, null, array_merge(getenv(), $env));
        $out = (string) stream_get_contents($pipes[1]);
        $err = (string) stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        return [proc_close($process), $out, $err];
    }

    /** @return array{int, string} the status and the body */
    private static function request(string $method, string $url, string $body = ''): array
    {
        $context = stream_context_create(['http' => [
            'method' => $method, 'content' => $body, 'ignore_errors' => true, 'timeout' => 10,
            'header' => "Content-Type: application/json\r\nConnection: close\r\n",
        ]]);
        $text = (string) file_get_contents($url, false, $context);
        preg_match('~^HTTP/\S+ (\d+)~', $http_response_header[0] ?? '', $m);
        return [(int) ($m[1] ?? 0), $text];
    }
}
