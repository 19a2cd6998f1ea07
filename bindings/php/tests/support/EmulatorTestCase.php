<?php

declare(strict_types=1);

namespace VodUpload\Tests;

use PHPUnit\Framework\TestCase;
use VodUpload\Client;

/** Tests against one emulator process per test class (started before its first test, stopped after its last). */
abstract class EmulatorTestCase extends TestCase
{
    protected static ?Emulator $emulator = null;

    public static function setUpBeforeClass(): void
    {
        static::$emulator = new Emulator();
    }

    public static function tearDownAfterClass(): void
    {
        static::$emulator?->stop();
        static::$emulator = null;
    }

    /** A client of the class's emulator, with the client-side pacing off (the emulator has none). */
    protected static function client(?string $secretKey = null, ?Emulator $emulator = null): Client
    {
        $emulator ??= static::$emulator;
        $client = new Client(Emulator::SECRET_ID, $secretKey ?? Emulator::SECRET_KEY, endpoint: $emulator->endpoint);
        return $client->setRateLimit(false);
    }
}
