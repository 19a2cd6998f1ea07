<?php

declare(strict_types=1);

namespace VodUpload\Tests;

use VodUpload\Client;
use VodUpload\NetworkException;
use VodUpload\Upload;
use VodUpload\UploadResult;

/** Uploads against the emulator: in one call, again (instant), step by step, and resumed. */
final class UploadTest extends EmulatorTestCase
{
    private const MIB = 1 << 20;

    public function testUploadSendsEveryPartAndReturnsTheResult(): void
    {
        $path = Files::random(2 * self::MIB + 12345);
        $client = self::client()->setPartSize(self::MIB)->setConcurrency(4);

        $r = $client->upload($path, ['tags' => ['a', 'b'], 'classId' => 3, 'transcode' => true, 'name' => 'holiday']);

        self::assertInstanceOf(UploadResult::class, $r);
        self::assertMatchesRegularExpression('/^\d+$/', $r->fileId);
        self::assertStringContainsString($r->fileId, $r->url);
        self::assertFalse($r->instant);
        self::assertSame(sha1_file($path), $r->fileSha1);
        self::assertSame(2 * self::MIB + 12345, $r->fileSize);
        self::assertSame(3, $r->partsTotal);
        self::assertSame(3, $r->partsUploaded);
        self::assertSame(0, $r->partsSkipped);
        self::assertSame($r->fileSize, $r->bytesSent);
        self::assertGreaterThan(0.0, $r->elapsed);
    }

    public function testUploadingTheSameFileAgainIsInstant(): void
    {
        $path = Files::random(700_000);
        $client = self::client();
        $first = $client->upload($path);
        $again = $client->upload($path);

        self::assertFalse($first->instant);
        self::assertTrue($again->instant);
        self::assertSame($first->fileId, $again->fileId);
        self::assertSame($first->url, $again->url);
        self::assertSame(0, $again->partsUploaded);
        self::assertSame(0, $again->bytesSent);
        self::assertSame(1, $again->partsSkipped);

        // Same content under another name: the service knows it by its SHA-1.
        $copy = Files::tempDir('copy') . '/other.mp4';
        copy($path, $copy);
        $up = $client->begin($copy);
        self::assertTrue($up->isInstant());
        self::assertSame([], $up->partsNeeded());
        self::assertSame(1.0, $up->progress());
        self::assertSame($first->fileId, $up->finish()->fileId);
    }

    public function testStepByStep(): void
    {
        $size = 5 * 524288 - 1000;
        $path = Files::random($size);
        $client = self::client()->setPartSize(524288);

        $up = $client->begin($path, ['tags' => ['steps']]);
        self::assertInstanceOf(Upload::class, $up);
        self::assertSame(5, $up->partCount());
        self::assertSame([0, 1, 2, 3, 4], $up->partsNeeded());
        self::assertSame(524288, $up->partSize());
        self::assertSame($size, $up->bytesTotal());
        self::assertSame(0, $up->bytesDone());
        self::assertSame(0.0, $up->progress());
        self::assertFalse($up->isInstant());

        $seen = [];
        foreach (array_reverse($up->partsNeeded()) as $i) {     // any order
            $up->uploadPart($i);
            self::assertFalse($up->partNeeded($i));
            $seen[] = $up->progress();
        }
        self::assertSame($seen, array_values(array_unique($seen)), 'progress grows with every part');
        $sorted = $seen;
        sort($sorted);
        self::assertSame($sorted, $seen, 'progress never decreases');
        self::assertSame(1.0, $up->progress());
        self::assertSame([], $up->partsNeeded());

        $up->uploadPart(2);     // not needed any more: nothing to do
        $r = $up->finish();
        self::assertSame(5, $r->partsTotal);
        self::assertSame(5, $r->partsUploaded);
        self::assertSame(sha1_file($path), $r->fileSha1);
        self::assertSame($r->fileId, $up->finish()->fileId, 'finish() again gives the same result');
    }

    public function testResumesAfterAnInterruptedRunInThisProcess(): void
    {
        $path = Files::random(5 * 524288);
        $client = self::client()->setPartSize(524288);

        $up = $client->begin($path);
        $up->uploadPart(0);
        $up->uploadPart(3);
        unset($up);                         // the run stops here: freed unfinished, nothing sent

        $up = $client->begin($path);
        self::assertSame([1, 2, 4], $up->partsNeeded());
        self::assertSame(2 * 524288, $up->bytesDone());
        self::assertEqualsWithDelta(0.4, $up->progress(), 1e-9);
        foreach ($up->partsNeeded() as $i) {
            $up->uploadPart($i);
        }
        $r = $up->finish();
        self::assertSame(3, $r->partsUploaded);
        self::assertSame(2, $r->partsSkipped);
        self::assertSame(3 * 524288, $r->bytesSent);
    }

    public function testResumesAfterAnotherProcessWasKilledMidUpload(): void
    {
        $path = Files::random(4 * 524288 + 1);
        $code = Php::prelude() . sprintf(
            <<<'PHP'
            $client = new VodUpload\Client(%s, %s, endpoint: %s);
            $client->setRateLimit(false)->setPartSize(524288);
            $up = $client->begin(%s);
            $up->uploadPart(1);
            $up->uploadPart(2);
            echo "sent 2 of ", $up->partCount(), "\n";
            posix_kill(getmypid(), 9);      // killed: no finish, no destructor
            PHP,
            var_export(Emulator::SECRET_ID, true),
            var_export(Emulator::SECRET_KEY, true),
            var_export(self::$emulator->endpoint, true),
            var_export($path, true),
        );
        [$status, $out, $err] = Php::run($code);
        self::assertSame("sent 2 of 5\n", $out, $err);
        self::assertNotSame(0, $status, 'the child was killed');

        $up = self::client()->begin($path);
        self::assertSame([0, 3, 4], $up->partsNeeded());
        foreach ($up->partsNeeded() as $i) {
            $up->uploadPart($i);
        }
        $r = $up->finish();
        self::assertSame(2, $r->partsSkipped);
        self::assertSame(3, $r->partsUploaded);
        self::assertSame(sha1_file($path), $r->fileSha1);
    }

    public function testResumesAfterTheServerWentAwayAndCameBack(): void
    {
        $path = Files::random(3 * 524288);
        $first = new Emulator();
        $client = self::client(emulator: $first)->setPartSize(524288)->setMaxAttempts(1)->setConnectTimeout(2);
        $up = $client->begin($path);
        $up->uploadPart(0);
        $first->stop();

        try {
            $up->uploadPart(1);
            self::fail('uploadPart() to a stopped server must fail');
        } catch (NetworkException $e) {
            self::assertTrue($e->canRetry());
            self::assertSame(3000, $e->getStatus());
            self::assertTrue($up->partNeeded(1), 'a failed part stays needed');
        }

        $second = new Emulator(stateDir: $first->stateDir);     // same state, another port
        $up = self::client(emulator: $second)->begin($path);
        self::assertSame([1, 2], $up->partsNeeded());
        foreach ($up->partsNeeded() as $i) {
            $up->uploadPart($i);
        }
        $r = $up->finish();
        self::assertSame(1, $r->partsSkipped);
        self::assertSame(2, $r->partsUploaded);
        $second->stop();
    }

    public function testUploadOverVerifiedTls(): void
    {
        $tls = new Emulator(tls: true);
        self::assertStringStartsWith('https://', $tls->endpoint);
        $path = Files::random(100_000);

        $client = self::client(emulator: $tls)->setCaFile($tls->caFile);
        self::assertFalse($client->upload($path)->instant);

        // Without trusting its certificate, the connection is refused: TLS is always verified.
        $untrusting = self::client(emulator: $tls)->setMaxAttempts(1);
        try {
            $untrusting->upload($path);
            self::fail('an untrusted certificate must be refused');
        } catch (NetworkException $e) {
            self::assertMatchesRegularExpression('/certificate|tls|TLS/', $e->getMessage());
        }
        $tls->stop();
    }

    public function testNullOptionsMeanTheDefaultsAndTheTypeCanBeGiven(): void
    {
        $path = Files::random(1000, 'recording');     // no extension
        $r = self::client()->upload($path, ['fileType' => 'mp4', 'name' => null, 'tags' => [], 'classId' => null,
            'transcode' => false, 'screenshot' => true, 'watermark' => false]);
        self::assertSame(1000, $r->fileSize);
    }

    public function testAnUploadOutlivesItsClientAndCredentialsMayComeFromTheEnvironment(): void
    {
        putenv('TENCENTCLOUD_SECRET_ID=' . Emulator::SECRET_ID);
        putenv('TENCENTCLOUD_SECRET_KEY=' . Emulator::SECRET_KEY);
        try {
            $client = new Client(endpoint: self::$emulator->endpoint);
        } finally {
            putenv('TENCENTCLOUD_SECRET_ID');
            putenv('TENCENTCLOUD_SECRET_KEY');
        }
        $client->setRateLimit(false);
        $up = $client->begin(Files::random(2000));
        unset($client);
        $up->uploadPart(0);
        self::assertSame(1, $up->finish()->partsUploaded);
    }

    public function testNativeHandlesCannotBeCloned(): void
    {
        $client = self::client();
        $up = $client->begin(Files::random(3000));
        foreach ([$client, $up] as $owner) {
            try {
                $copy = clone $owner;
                self::fail('clone must throw');
            } catch (\LogicException $e) {
                self::assertStringContainsString('cannot be cloned', $e->getMessage());
            }
        }
        // The originals still own their handles (the failed copies freed nothing).
        $up->uploadPart(0);
        self::assertSame(1, $up->finish()->partsUploaded);
        self::assertTrue($client->upload(Files::random(3000))->partsUploaded === 1);
    }
}
