<?php

declare(strict_types=1);

namespace VodUpload\Tests;

use PHPUnit\Framework\TestCase;
use VodUpload\InvalidArgumentException;
use VodUpload\InvalidInputException;
use VodUpload\Signer;

/** The request signature: the known answer of docs/protocol.md, and agreement with PHP's own hash_hmac(). */
final class SignerTest extends TestCase
{
    private const PARAMS = [
        'Action' => 'DescribeInstances', 'Nonce' => 11886, 'Region' => 'gz',
        'SecretId' => 'AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA', 'Timestamp' => 1465185768,
        'instanceIds.0' => 'ins-09dx96dg', 'limit' => 20, 'offset' => 0,
    ];

    public function testTheKnownAnswerOfTheProtocol(): void
    {
        self::assertSame(
            'GETcvm.api.qcloud.com/v2/index.php?Action=DescribeInstances&Nonce=11886&Region=gz'
            . '&SecretId=AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA&Timestamp=1465185768&instanceIds.0=ins-09dx96dg&limit=20&offset=0',
            Signer::stringToSign('GET', 'cvm.api.qcloud.com', '/v2/index.php', self::PARAMS),
        );
        self::assertSame(
            'NSI3UqqD99b/UJb4tbG/xZpRW64=',
            Signer::sign('GET', 'cvm.api.qcloud.com', '/v2/index.php', self::PARAMS, 'Gu5t9xGARNpq86cd98joQYCN3Cozk1qA'),
        );
        // Order of the array, method case and '_' for '.' in names do not matter.
        $shuffled = array_reverse(self::PARAMS, true);
        unset($shuffled['instanceIds.0']);
        $shuffled['instanceIds_0'] = 'ins-09dx96dg';
        self::assertSame('NSI3UqqD99b/UJb4tbG/xZpRW64=', Signer::sign('get', 'cvm.api.qcloud.com', '/v2/index.php', $shuffled, 'Gu5t9xGARNpq86cd98joQYCN3Cozk1qA'));
    }

    public function testAgreesWithHashHmacForBothMethods(): void
    {
        $params = ['Action' => 'InitUpload', 'fileName' => 'été 2024', 'tags.1' => 'a b&c=d', 'Nonce' => 7, 'SignatureMethod' => 'HmacSHA256'];
        $string = Signer::stringToSign('POST', 'vod2.qcloud.com:8443', '/v2/index.php', $params);
        ksort($params, SORT_STRING);
        $expected = 'POSTvod2.qcloud.com:8443/v2/index.php?' . implode('&', array_map(fn ($k, $v) => "$k=$v", array_keys($params), $params));
        self::assertSame($expected, $string);
        self::assertSame(base64_encode(hash_hmac('sha256', $string, 'k3y', true)),
            Signer::sign('POST', 'vod2.qcloud.com:8443', '/v2/index.php', $params, 'k3y', 'HmacSHA256'));
        self::assertSame(base64_encode(hash_hmac('sha1', $string, 'k3y', true)),
            Signer::sign('POST', 'vod2.qcloud.com:8443', '/v2/index.php', $params, 'k3y'));
        self::assertSame('GETh/p?', Signer::stringToSign('GET', 'h', '/p', []));
        self::assertSame('GETh/p?a=1&b=0', Signer::stringToSign('GET', 'h', '/p', ['b' => false, 'a' => true]));
    }

    public function testBadArguments(): void
    {
        try {
            Signer::sign('GET', 'h', '/p', ['a' => 1], 'k', 'MD5');
            self::fail('MD5 is not a signature method');
        } catch (InvalidInputException $e) {
            self::assertStringContainsString('MD5', $e->getMessage());
        }
        $this->expectException(InvalidArgumentException::class);
        $this->expectExceptionMessage("parameter 'list' must be a string or a number, got array");
        Signer::sign('GET', 'h', '/p', ['list' => [1]], 'k');
    }
}
