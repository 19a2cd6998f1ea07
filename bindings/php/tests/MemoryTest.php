<?php

declare(strict_types=1);

namespace VodUpload\Tests;

use VodUpload\Client;
use VodUpload\NotFoundException;

/**
 * 200 cycles of client creation, uploads (one call, and step by step), a failure, and
 * destruction: neither PHP's memory nor the process's resident memory grows (every native
 * handle is freed by a __destruct). Prints both measures; asserts generous bounds only.
 */
final class MemoryTest extends EmulatorTestCase
{
    private const CYCLES = 200;
    private const WARM_UP = 20;

    public function testClientUploadDestroyCyclesDoNotGrowMemory(): void
    {
        $dir = Files::tempDir('memory');
        $path = "$dir/cycle.mp4";
        $missing = "$dir/missing.mp4";

        for ($i = 0; $i < self::WARM_UP; $i++) {
            $this->cycle($i, $path, $missing);
        }
        gc_collect_cycles();
        $phpBefore = memory_get_usage();
        $rssBefore = self::rss();

        for ($i = 0; $i < self::CYCLES; $i++) {
            $this->cycle(self::WARM_UP + $i, $path, $missing);
        }
        gc_collect_cycles();
        $phpAfter = memory_get_usage();
        $rssAfter = self::rss();

        fwrite(STDOUT, sprintf(
            "\n%d client create/upload/destroy cycles (after %d to warm up): memory_get_usage %s -> %s (%+d bytes),"
            . " VmRSS %s -> %s (%+d KiB)\n",
            self::CYCLES, self::WARM_UP, number_format($phpBefore), number_format($phpAfter), $phpAfter - $phpBefore,
            number_format(intdiv($rssBefore, 1024)) . ' KiB', number_format(intdiv($rssAfter, 1024)) . ' KiB',
            intdiv($rssAfter - $rssBefore, 1024),
        ));
        self::assertLessThan(64 * 1024, $phpAfter - $phpBefore, 'PHP memory is back where it was');
        self::assertLessThan(8 << 20, $rssAfter - $rssBefore, 'resident memory grew by less than 8 MiB');
    }

    /** One cycle: a new client, a fresh 2-part file uploaded in one call, again step by step (instant), a failure. */
    private function cycle(int $i, string $path, string $missing): void
    {
        file_put_contents($path, random_bytes(524288 + 4096 + $i));
        $client = new Client(Emulator::SECRET_ID, Emulator::SECRET_KEY, endpoint: self::$emulator->endpoint);
        $client->setRateLimit(false)->setPartSize(524288)->setConcurrency(2);

        $r = $client->upload($path, ['tags' => ["cycle-$i"], 'classId' => $i, 'name' => "cycle $i"]);
        self::assertSame(2, $r->partsUploaded);

        $up = $client->begin($path);
        self::assertTrue($up->isInstant());
        self::assertSame($r->fileId, $up->finish()->fileId);

        try {
            $client->upload($missing);
            self::fail('a missing file must fail');
        } catch (NotFoundException) {
        }
        unset($up, $client);
    }

    /** The process's resident set size in bytes (VmRSS in /proc/self/status). */
    private static function rss(): int
    {
        $status = @file_get_contents('/proc/self/status');
        if ($status === false || preg_match('/^VmRSS:\s+(\d+) kB/m', $status, $m) !== 1) {
            self::markTestSkipped('no /proc/self/status here');
        }
        return (int) $m[1] * 1024;
    }
}
