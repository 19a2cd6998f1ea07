<?php

declare(strict_types=1);

namespace VodUpload;

/**
 * The request signature of this API family (the library's vod_sign / vod_string_to_sign), for
 * calling other actions of the same API or debugging an AuthException with code -10002.
 *
 *     $params = ['Action' => 'InitUpload', 'Region' => 'gz', 'Timestamp' => time(), 'Nonce' => 42,
 *                'SecretId' => $secretId, ...];
 *     $params['Signature'] = Signer::sign('POST', 'vod2.qcloud.com', '/v2/index.php', $params, $secretKey);
 *     $query = http_build_query($params, '', '&', PHP_QUERY_RFC3986);
 *
 * The parameters (every one but Signature itself) are sorted by name, '_' in names becomes '.',
 * values are used raw, and METHOD + host + path + '?' + name=value&... is signed with HMAC keyed
 * with the SecretKey, then Base64-encoded. The result is the raw value: percent-encode it (like
 * every value) in a URL.
 */
final class Signer
{
    private function __construct()
    {
    }

    /**
     * The Signature parameter.
     *
     * @param string $method          "GET" or "POST" (case-insensitive)
     * @param string $host            as the request addresses it, with ":port" only if the URL has one
     * @param string $path            e.g. "/v2/index.php"
     * @param array<string|int, string|int|float|bool> $params name => value (numbers are signed as PHP
     *                                prints them, bools as 1 and 0)
     * @param string $signatureMethod "HmacSHA1" (default) or "HmacSHA256"; put the same in the
     *                                SignatureMethod parameter when it is not HmacSHA1
     *
     * @throws InvalidArgumentException a value that is not a scalar, a NUL byte
     * @throws InvalidInputException    not UTF-8, an unknown signature method
     */
    public static function sign(
        string $method,
        string $host,
        string $path,
        array $params,
        #[\SensitiveParameter] string $secretKey,
        string $signatureMethod = 'HmacSHA1',
    ): string {
        $ffi = Library::ffi();
        [$keys, $values, $n, $keep] = self::arrays($ffi, $params);
        $size = 64;     // VOD_SIGNATURE_MAX
        $out = $ffi->new("char[$size]");
        $written = $ffi->new('size_t');
        $status = $ffi->vod_sign(
            Library::text($method, 'the method'),
            Library::text($host, 'the host'),
            Library::text($path, 'the path'),
            $keys,
            $values,
            $n,
            Library::secret($secretKey, 'the SecretKey'),
            Library::text($signatureMethod, 'the signature method'),
            $out,
            $size,
            \FFI::addr($written),
        );
        Library::check($ffi, $status);
        unset($keep);
        return \FFI::string($out, (int) $written->cdata);
    }

    /**
     * The string that sign() signs (it holds no secret): compare it with what a server expects.
     *
     * @param array<string|int, string|int|float|bool> $params
     */
    public static function stringToSign(string $method, string $host, string $path, array $params): string
    {
        $ffi = Library::ffi();
        [$keys, $values, $n, $keep] = self::arrays($ffi, $params);
        $method = Library::text($method, 'the method');
        $host = Library::text($host, 'the host');
        $path = Library::text($path, 'the path');
        $length = $ffi->new('size_t');
        Library::check($ffi, $ffi->vod_string_to_sign($method, $host, $path, $keys, $values, $n, null, 0, \FFI::addr($length)));
        $size = (int) $length->cdata + 1;
        $out = $ffi->new("char[$size]");
        Library::check($ffi, $ffi->vod_string_to_sign($method, $host, $path, $keys, $values, $n, $out, $size, \FFI::addr($length)));
        unset($keep);
        return \FFI::string($out, (int) $length->cdata);
    }

    /**
     * Two C arrays of `const char *` (NULL when empty), their length, and the buffers they point
     * into (to keep alive until the call returns).
     *
     * @param array<string|int, mixed> $params
     * @return array{?\FFI\CData, ?\FFI\CData, int, list<\FFI\CData>}
     */
    private static function arrays(\FFI $ffi, array $params): array
    {
        $n = count($params);
        if ($n === 0) {
            return [null, null, 0, []];
        }
        $keys = $ffi->new("const char *[$n]");
        $values = $ffi->new("const char *[$n]");
        $keep = [];
        $i = 0;
        foreach ($params as $name => $value) {
            if (is_bool($value)) {
                $value = $value ? '1' : '0';
            } elseif (is_int($value) || is_float($value)) {
                $value = (string) $value;
            } elseif (!is_string($value)) {
                throw new InvalidArgumentException("parameter '$name' must be a string or a number, got " . get_debug_type($value));
            }
            $keys[$i] = self::cString($ffi, Library::text((string) $name, 'a parameter name'), $keep);
            $values[$i] = self::cString($ffi, Library::text($value, "parameter '$name'"), $keep);
            $i++;
        }
        return [$keys, $values, $n, $keep];
    }

    /** @param list<\FFI\CData> $keep */
    private static function cString(\FFI $ffi, string $s, array &$keep): \FFI\CData
    {
        $len = strlen($s);
        $buffer = $ffi->new('char[' . ($len + 1) . ']');  // zeroed: the last byte is the NUL
        \FFI::memcpy($buffer, $s, $len);
        $keep[] = $buffer;
        return $ffi->cast('const char *', $buffer);
    }
}
