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

    /**
     * As a release install would run it: the `vodupload` command's `emulator` subcommand, named
     * by VODUPLOAD_EMULATOR or found on the PATH.
     */
    public function testTheExampleRunsTheEmulatorOfTheVoduploadCommand(): void
    {
        $cli = self::voduploadCommand();
        [$status, $out, $err] = self::runExample(['--emulator'], ['VODUPLOAD_EMULATOR' => $cli]);
        self::assertSame(0, $status, $out . $err);
        self::assertStringContainsString("again: instant=true, same file id: true\n", $out);

        // Outside the repository (no target/ beside it), with only the command on the PATH.
        $copy = Files::tempDir('example-copy');
        mkdir("$copy/examples/php", 0755, true);
        mkdir("$copy/bindings");
        copy(self::EXAMPLE, "$copy/examples/php/upload.php");
        symlink(dirname(__DIR__), "$copy/bindings/php");
        $bin = Files::tempDir('path');
        symlink($cli, "$bin/vodupload");
        [$status, $out, $err] = self::runExample(['--emulator'], ['VODUPLOAD_EMULATOR' => null, 'PATH' => $bin . ':/usr/bin:/bin'],
            "$copy/examples/php/upload.php");
        self::assertSame(0, $status, $out . $err);
        self::assertStringContainsString("again: instant=true, same file id: true\n", $out);

        [$status, $out, $err] = self::runExample(['--emulator'], ['VODUPLOAD_EMULATOR' => null, 'PATH' => '/usr/bin:/bin'],
            "$copy/examples/php/upload.php");
        self::assertSame(1, $status, $out . $err);
        self::assertStringStartsWith('error: no emulator: build it', $err);
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

    /** The `vodupload` command of this repository: the release build if there is one, else the debug one. */
    private static function voduploadCommand(): string
    {
        $target = dirname(__DIR__, 3) . '/target';
        foreach (["$target/release/vodupload", "$target/debug/vodupload"] as $binary) {
            if (is_executable($binary)) {
                return $binary;
            }
        }
        self::markTestSkipped('no vodupload command: cargo build -p vodupload-cli');
    }

    /**
     * @param list<string> $args
     * @param array<string, ?string> $env variables to set (null: unset)
     * @return array{int, string, string}
     */
    private static function runExample(array $args, array $env = [], string $example = self::EXAMPLE): array
    {
        $environment = array_filter(array_merge(getenv(), $env), fn ($v) => $v !== null);
        $process = proc_open([PHP_BINARY, $example, ...$args], [0 => ['file', '/dev/null', 'r'], 1 => ['pipe', 'w'], 2 => ['pipe', 'w']],
            $pipes, null, $environment);
        $out = (string) stream_get_contents($pipes[1]);
        $err = (string) stream_get_contents($pipes[2]);
        fclose($pipes[1]);
        fclose($pipes[2]);
        return [proc_close($process), $out, $err];
    }
}
