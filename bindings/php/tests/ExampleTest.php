<?php

declare(strict_types=1);

namespace VodUpload\Tests;

use PHPUnit\Framework\TestCase;

/** examples/php/upload.php runs: against its own emulator, and against this suite's with a wrong key. */
final class ExampleTest extends TestCase
{
    private const EXAMPLE = __DIR__ . '/../../../examples/php/upload.php';

    public function testTheExampleUploadsTwiceToAnEmulator(): void
    {
        [$status, $out, $err] = self::runExample(['--emulator']);
        self::assertSame(0, $status, $out . $err);
        self::assertMatchesRegularExpression('~^uploaded \S+: file id \d+, url http://127\.0\.0\.1:\d+/\S+\n  8 parts sent, 0 already there~', $out);
        self::assertStringContainsString("again: instant=true, same file id: true\n", $out);
        self::assertStringContainsString('uploaded 100%', $err);
    }

    public function testTheExampleReportsErrorsInOneLine(): void
    {
        $emulator = new Emulator();
        $video = Files::random(1000);
        [$status, $out, $err] = self::runExample([$video], ['TENCENTCLOUD_SECRET_ID' => Emulator::SECRET_ID,
            'TENCENTCLOUD_SECRET_KEY' => 'wrong', 'VOD_ENDPOINT' => $emulator->endpoint]);
        $emulator->stop();
        self::assertSame(1, $status, $out . $err);
        self::assertSame('', $out);
        self::assertMatchesRegularExpression('/^error: the credentials were refused \(-10002\): .+\n$/', $err);

        [$status, , $err] = self::runExample([]);
        self::assertSame(2, $status);
        self::assertStringStartsWith('usage:', $err);
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
}
