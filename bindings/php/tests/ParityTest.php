<?php

declare(strict_types=1);

namespace VodUpload\Tests;

use VodUpload\Client;
use VodUpload\InvalidInputException;
use VodUpload\Library;
use VodUpload\UploadResult;

/**
 * The PHP face has every option and result field of the core, checked against the names the
 * loaded library lists: an option added to the core without its PHP setter, upload key or
 * property fails here. Each setter is also checked to reach its own option, and to work.
 */
final class ParityTest extends EmulatorTestCase
{

    /**
     * For each client option: a value its setter accepts and one the core refuses (null for a
     * bool, which has no wrong value of its type). A new option needs its setter in Client and a
     * row here.
     *
     * @return array<string, array{mixed, mixed}>
     */
    private static function samples(): array
    {
        $dir = Files::tempDir('parity');
        file_put_contents("$dir/a-file", 'x');
        $tls = new Emulator(tls: true);     // for a certificate to trust, which stays when it stops
        $tls->stop();
        return [
            'endpoint' => ['http://127.0.0.1:1/v2/index.php', 'not a url'],
            'region' => ['bj', 'b j'],
            'part_size' => [524288, 1000],
            'concurrency' => [8, 0],
            'max_attempts' => [3, 101],
            'retry_base_delay' => [0.1, 0.0],
            'retry_max_delay' => [2.5, 3601.0],
            'connect_timeout' => [1.5, -1.0],
            'request_timeout' => [30.0, 0.0],
            'ca_file' => [$tls->caFile, "$dir/a-file"],
            'proxy' => ['http://127.0.0.1:3128', '::not a url'],
            'signature_method' => ['HmacSHA256', 'MD5'],
            'rate_limit' => [false, null],
            'rate_upload_part' => [3000, -1],
            'rate_init_finish' => [60, 1000001],
            'pacing_url' => ['redis://127.0.0.1:6379/0', 'http://127.0.0.1:6379/'],
            'fingerprint_cache' => ["$dir/cache", "$dir/a-file"],
            'events_endpoint' => ['http://127.0.0.1:1/v2/index.php', 'ftp://example.com/'],
        ];
    }

    public function testEveryClientOptionHasItsSetterAndEachSetterItsOption(): void
    {
        $names = Library::clientOptionNames();
        self::assertContains('request_timeout', $names, 'the library lists its options');
        $samples = self::samples();
        $class = new \ReflectionClass(Client::class);
        foreach ($names as $name) {
            $setter = 'set' . str_replace('_', '', ucwords($name, '_'));
            self::assertTrue($class->hasMethod($setter), "the core's client option $name has no setter Client::$setter()");
            $method = $class->getMethod($setter);
            self::assertTrue($method->isPublic());
            self::assertSame(1, $method->getNumberOfParameters(), "Client::$setter() takes the value");
            self::assertArrayHasKey($name, $samples, "add a row for $name to ParityTest::samples()");
            [$good, $bad] = $samples[$name];
            $client = self::client();
            self::assertSame($client, $client->$setter($good), "$setter() returns the client");
            self::assertSame($client, $client->setOption($name, null), "$name: null restores the default");
            if ($bad !== null) {
                // The setter reaches its own option: the core's message for it, the same as by name.
                $byName = self::messageOf(fn () => $client->setOption($name, $bad));
                self::assertSame($byName, self::messageOf(fn () => $client->$setter($bad)), "$setter() sets $name");
            }
        }
        // And no setter sets something the core does not list (setRateLimiting is setRateLimit's old name).
        foreach ($class->getMethods(\ReflectionMethod::IS_PUBLIC) as $method) {
            $setter = $method->getName();
            if (str_starts_with($setter, 'set') && !in_array($setter, ['setOption', 'setRateLimiting'], true)) {
                $name = strtolower((string) preg_replace('/(?<=[a-z])([A-Z])/', '_$1', substr($setter, 3)));
                self::assertContains($name, $names, "Client::$setter() sets no option the core lists");
            }
        }
    }

    public function testTheDocsListEveryOptionKeyAndField(): void
    {
        $docs = (string) file_get_contents(dirname(__DIR__, 3) . '/docs/php.md');
        $class = new \ReflectionClass(Client::class);
        foreach (Library::clientOptionNames() as $name) {
            $method = $class->getMethod('set' . str_replace('_', '', ucwords($name, '_')));
            $type = (string) $method->getParameters()[0]->getType();
            self::assertStringContainsString("| `{$method->getName()}($type)` | `$name` |", $docs, "docs/php.md documents $name");
        }
        foreach (array_keys(Client::OPTIONS) as $key) {
            self::assertMatchesRegularExpression("/^\\| `$key` \\| `[a-z_]+` \\| `[^`]+` \\|/m", $docs, "docs/php.md documents the upload option $key");
        }
        foreach ((new \ReflectionClass(UploadResult::class))->getProperties() as $property) {
            self::assertStringContainsString("| `{$property->getName()}` | `{$property->getType()}` |", $docs, "docs/php.md documents UploadResult::\${$property->getName()}");
        }
    }

    public function testTheAliasAndTheGenericSetterAgree(): void
    {
        $client = self::client();
        self::assertSame($client, $client->setRateLimiting(true)->setRateLimit(false)->setOption('rate_limit', 'false'));
        self::assertSame(
            'unknown client option "partSize": the client options are ' . implode(', ', Library::clientOptionNames()),
            self::messageOf(fn () => $client->setOption('partSize', 524288)),
        );
        self::assertSame('rate_limit must be true or false, not "maybe"', self::messageOf(fn () => $client->setOption('rate_limit', 'maybe')));
        $this->expectException(\TypeError::class);
        $client->setOption('concurrency', [4]);
    }

    public function testFloatsReachTheCoreWithEveryDigit(): void
    {
        foreach ([0.1, 1 / 3, 1e-7, 86400.0, 2.5e-5] as $seconds) {
            self::assertSame($seconds, (float) Library::optionText($seconds, 't'));
        }
        self::assertSame('NaN', Library::optionText(NAN, 't'));
        self::assertSame('-inf', Library::optionText(-INF, 't'));
        self::assertSame('true', Library::optionText(true, 't'));
        self::assertSame('-3', Library::optionText(-3, 't'));
        // The last digit matters: 86400.000000000001 is more than a day, 86400 is not.
        $client = self::client();
        $client->setRequestTimeout(86400.0);
        self::assertSame(
            'request_timeout must be more than 0 and at most 86400 seconds, not 86400.00000000001',
            self::messageOf(fn () => $client->setRequestTimeout(86400.00000000001)),
        );
        self::assertSame(
            'connect_timeout must be more than 0 and at most 86400 seconds, not NaN',
            self::messageOf(fn () => $client->setConnectTimeout(NAN)),
        );
    }

    public function testEveryUploadOptionIsAKeyOfOptions(): void
    {
        $names = Library::uploadOptionNames();
        self::assertContains('class_id', $names);
        $keys = [];
        foreach ($names as $name) {
            $key = lcfirst(str_replace('_', '', ucwords($name, '_')));
            self::assertArrayHasKey($key, Client::OPTIONS, "the core's upload option $name has no key '$key' in Client::OPTIONS");
            $keys[] = $key;
        }
        self::assertSame($keys, array_keys(Client::OPTIONS), 'Client::OPTIONS is the core\'s list, in its order');

        // Every key reaches the core: one upload with all of them, and each refused in the core's words.
        $path = Files::random(1000);
        $r = self::client()->upload($path, ['name' => 'every option', 'fileType' => 'mov', 'tags' => ['a', 'b'], 'classId' => 0,
            'transcode' => true, 'screenshot' => true, 'watermark' => true]);
        self::assertSame(1000, $r->fileSize);
        self::assertSame(1000, self::client()->upload(Files::random(1000), array_fill_keys(array_keys(Client::OPTIONS), null))->fileSize,
            'null is every option\'s default');
        $refused = [
            'name' => ['a:b', 'the video name "a:b" contains \':\''],
            'fileType' => ['m p4', 'the video type "m p4" is not valid'],
            'tags' => [[''], 'tag "" is empty or has control characters'],
            'classId' => [-1, 'class_id -1 is out of range'],
        ];
        foreach ($refused as $key => [$value, $message]) {
            self::assertStringStartsWith($message, self::messageOf(fn () => self::client()->begin($path, [$key => $value])), $key);
        }
    }

    public function testEveryResultFieldIsAPropertyOfUploadResult(): void
    {
        $names = Library::resultFieldNames();
        self::assertContains('retries', $names);
        $properties = [];
        foreach ($names as $name) {
            $property = lcfirst(str_replace('_', '', ucwords($name, '_')));
            self::assertTrue(property_exists(UploadResult::class, $property), "the core's result field $name is not UploadResult::\$$property");
            $properties[] = $property;
        }
        $declared = array_map(fn (\ReflectionProperty $p) => $p->getName(), (new \ReflectionClass(UploadResult::class))->getProperties());
        self::assertSame($properties, $declared, 'UploadResult has the core\'s fields, in its order, and nothing else');
    }

    public function testRetriesCountsTheRequestsSentAgain(): void
    {
        $flaky = new Emulator(['--fail-rate', '0.3', '--seed', '7', '--verbose']);
        $r = self::client(emulator: $flaky)->setPartSize(524288)->setConcurrency(1)->setMaxAttempts(100)
            ->setRetryBaseDelay(0.001)->setRetryMaxDelay(0.002)->upload(Files::random(6 * 524288));
        $faults = substr_count($flaky->log(), ' fault=');
        $flaky->stop();
        self::assertGreaterThan(0, $faults, 'the emulator failed some requests: ' . $flaky->log());
        self::assertSame($faults, $r->retries, 'each failed answer was retried once');
        self::assertSame(6, $r->partsUploaded);
        self::assertSame(0, self::client()->upload(Files::random(1000))->retries);
    }

    public function testTheFingerprintCacheIsUsed(): void
    {
        $cache = Files::tempDir('fp') . '/cache';
        $path = Files::random(3 * 524288);
        self::client()->setFingerprintCache($cache)->setPartSize(524288)->upload($path);
        self::assertDirectoryExists($cache, 'created on first use');
        self::assertSame(0700, fileperms($cache) & 0777, 'private');
        self::assertNotSame([], array_diff(scandir($cache) ?: [], ['.', '..']), 'the upload left its fingerprint');
    }

    public function testPathsNeedNotBeUtf8(): void
    {
        // Paths are bytes on the file system: a Latin-1 name works as any other.
        $tls = new Emulator(tls: true);
        $ca = Files::tempDir('latin1') . "/ca-\xe9.pem";
        copy((string) $tls->caFile, $ca);
        $cache = Files::tempDir('latin1') . "/cache-\xe9";
        $r = self::client(emulator: $tls)->setCaFile($ca)->setFingerprintCache($cache)->upload(Files::random(1000));
        $tls->stop();
        self::assertSame(1000, $r->fileSize);
        self::assertDirectoryExists($cache);
        self::assertStringContainsString('is not a directory', self::messageOf(fn () => self::client()->setFingerprintCache($ca)));
        // Other text must be UTF-8, as the library says.
        self::assertStringContainsString('UTF-8', self::messageOf(fn () => self::client()->setRegion("g\xe9")));
    }

    private static function messageOf(callable $call): string
    {
        try {
            $call();
        } catch (InvalidInputException $e) {
            return $e->getMessage();
        } catch (\VodUpload\VodException $e) {
            return get_class($e) . ': ' . $e->getMessage();
        }
        self::fail('expected an exception');
    }
}
