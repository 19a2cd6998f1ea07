<?php

declare(strict_types=1);

namespace VodUpload;

/**
 * Finds and loads libvodupload through PHP's FFI, once per request, and checks its version.
 *
 * Order: the FFI scope "VODUPLOAD" when it was preloaded (php.ini's `ffi.preload` with the header
 * written by bin/vodupload-preload-header, and `opcache.preload` with preload.php: the way to use
 * FFI under php-fpm with the default `ffi.enable=preload`); otherwise FFI::cdef() with
 * vodupload_ffi.h and the library named by the environment variable VODUPLOAD_LIB (a path; if
 * set, nothing else is tried), else `libvodupload.so.0` through the dynamic loader's search
 * (LD_LIBRARY_PATH, ld.so.cache), else the usual directories (/usr/local/lib, /usr/lib...).
 *
 * The library must be EXPECTED_VERSION or a later release with the same ABI (SONAME
 * libvodupload.so.0, whose functions are only ever added); anything else is a LibraryException
 * saying which library was found, its version and what to install.
 */
final class Library
{
    /** The version of libvodupload this package was written against (its FFI header's). */
    public const EXPECTED_VERSION = '0.1.0';

    /** The FFI scope of the preloaded declarations (FFI_SCOPE in ffi.preload's header, preload.php), read with FFI::scope(). */
    public const SCOPE = 'VODUPLOAD';

    /** The SONAME: the ABI this package's header describes. */
    public const SONAME = 'libvodupload.so.0';

    /** The declarations for FFI (generated from include/vodupload.h, no preprocessor lines). */
    public const HEADER = __DIR__ . '/../vodupload_ffi.h';

    private static ?\FFI $ffi = null;
    private static string $source = '';

    private function __construct()
    {
    }

    /**
     * The loaded library (loading it on first use).
     *
     * @internal
     * @throws LibraryException
     */
    public static function ffi(): \FFI
    {
        return self::$ffi ?? self::load();
    }

    /** The version the loaded library reports (vod_version()), e.g. "0.1.0". */
    public static function version(): string
    {
        return (string) self::ffi()->vod_version();
    }

    /** Where the library was loaded from: its path or name, or `FFI scope "VODUPLOAD" (preloaded)`. */
    public static function source(): string
    {
        self::ffi();
        return self::$source;
    }

    /**
     * The declarations with the two lines FFI::load() and php.ini's `ffi.preload` read first:
     * `#define FFI_SCOPE "VODUPLOAD"` and `#define FFI_LIB "<library>"`. Written to a file by
     * bin/vodupload-preload-header for `ffi.preload`.
     *
     * `$library`: what the dynamic loader should open, a path or a bare name such as
     * libvodupload.so.0 (searched on the system paths when PHP starts); null: VODUPLOAD_LIB,
     * else the first of the usual names that loads now.
     *
     * @throws LibraryException
     */
    public static function preloadHeader(?string $library = null): string
    {
        self::requireFfi();
        $library ??= self::resolve();
        if (str_contains($library, '/') && ($real = realpath($library)) !== false) {
            $library = $real;   // PHP opens it at startup, from another working directory
        }
        if ($library === '' || str_contains($library, '"') || str_contains($library, "\n") || str_contains($library, "\0")) {
            throw new LibraryException("cannot name the library '$library' in a header: empty, or with '\"', a newline or a NUL");
        }
        // FFI::load() and ffi.preload read FFI_SCOPE and FFI_LIB from #define lines at the top;
        // the generated header has no preprocessor lines (FFI::cdef() takes none).
        return '#define FFI_SCOPE "' . self::SCOPE . "\"\n#define FFI_LIB \"$library\"\n" . self::header();
    }

    /**
     * For opcache.preload (see preload.php): makes libvodupload's FFI scope "VODUPLOAD" available
     * to requests, and preloads this package's classes, whose code may then use FFI where the
     * default `ffi.enable=preload` allows it only to preloaded code (php-fpm, Apache, `php -S`).
     *
     * The scope is the one php.ini's `ffi.preload` declared (with the header written by
     * bin/vodupload-preload-header) when there is one; otherwise this declares it with
     * FFI::load(), which PHP refuses when it preloads as another user (`opcache.preload_user`,
     * as a server started as root must): the exception then says to add `ffi.preload`.
     *
     * `$library`: for FFI::load(), as for preloadHeader().
     *
     * @throws LibraryException
     */
    public static function preload(?string $library = null): void
    {
        self::requireFfi();
        try {
            $ffi = \FFI::scope(self::SCOPE);
            $where = 'the FFI scope "' . self::SCOPE . '" that ffi.preload=' . ini_get('ffi.preload') . ' declared';
        } catch (\FFI\Exception) {
            $ffi = self::loadForPreload($library);
            $where = 'the FFI scope "' . self::SCOPE . '" being preloaded';
        }
        self::checkVersion($ffi, $where);
        // Declared by running their files (not opcache_compile_file()), so that each class is
        // linked to its parent: PHP preloads only linked classes.
        foreach (glob(__DIR__ . '/*.php') ?: [] as $file) {
            if (basename($file) === 'functions.php') {
                require_once $file;
            } else {
                class_exists(__NAMESPACE__ . '\\' . basename($file, '.php'));
            }
        }
    }

    private static function loadForPreload(?string $library): \FFI
    {
        $text = self::preloadHeader($library);
        $tmp = tempnam(sys_get_temp_dir(), 'vodupload-ffi-');
        if ($tmp === false || file_put_contents($tmp, $text) === false) {
            throw new LibraryException('cannot preload libvodupload: cannot write a temporary file in ' . sys_get_temp_dir());
        }
        try {
            $ffi = @\FFI::load($tmp);
        } catch (\FFI\Exception $e) {
            $why = $e->getMessage();
            if (str_contains($why, 'opcache.preload_user')) {
                $header = self::suggestedHeaderPath();
                throw new LibraryException(
                    'cannot preload libvodupload with opcache.preload alone: PHP preloads as opcache.preload_user='
                    . ini_get('opcache.preload_user') . ", where FFI::load() does not work (PHP says: $why). Declare the"
                    . ' library at startup with ffi.preload instead: write the declarations once (again after each upgrade)'
                    . ' with `' . self::headerCommand($header) . "`, then set ffi.preload=$header in " . self::iniFiles()
                    . ' beside opcache.preload=' . self::packageDir() . '/preload.php, and restart PHP'
                );
            }
            if (str_contains($why, 'ffi.enable')) {
                throw self::restricted($why);
            }
            throw new LibraryException("cannot preload libvodupload: $why");
        } finally {
            @unlink($tmp);
        }
        if ($ffi === null) {
            throw new LibraryException('cannot preload libvodupload: ' . (error_get_last()['message'] ?? 'FFI::load() failed'));
        }
        return $ffi;
    }

    /**
     * Why a library of version `$actual` cannot serve this package (null: it can). Same ABI
     * (major version; for 0.x, SONAME libvodupload.so.0) and not older than EXPECTED_VERSION.
     *
     * @internal
     */
    public static function incompatibility(string $actual, string $expected = self::EXPECTED_VERSION): ?string
    {
        if (preg_match('/^(\d+)\.(\d+)\.(\d+)/', $actual, $a) !== 1) {
            return "reports the version '$actual', which is not a version number";
        }
        preg_match('/^(\d+)\.(\d+)\.(\d+)/', $expected, $e);
        $needs = "this package (vodupload/vodupload for libvodupload $expected) needs libvodupload $expected"
            . " or a later {$e[1]}.x release";
        if ($a[1] !== $e[1]) {
            return "is version $actual, another ABI: $needs";
        }
        if (version_compare($a[0], $e[0], '<')) {
            return "is version $actual, older than this package: $needs";
        }
        return null;
    }

    /** @internal Throws the exception for `$status` if it is not VOD_OK (0), with this thread's details. */
    public static function check(\FFI $ffi, int $status): void
    {
        if ($status !== 0) {
            throw self::lastError($ffi, $status);
        }
    }

    /** @internal The exception for a failed call that returned `$status`. */
    public static function lastError(\FFI $ffi, int $status): VodException
    {
        $message = (string) $ffi->vod_last_error();
        if ($message === '') {
            $message = (string) $ffi->vod_strerror($status);
        }
        return VodException::fromStatus($status, $message, (int) $ffi->vod_last_server_code(), (bool) $ffi->vod_last_can_retry());
    }

    /**
     * @internal `$value` for a `const char *` parameter: refused if it holds a NUL byte (C would
     * silently see only what comes before it).
     */
    public static function text(string $value, string $what): string
    {
        if (str_contains($value, "\0")) {
            throw new InvalidArgumentException("$what contains a NUL byte");
        }
        return $value;
    }

    /** @internal As text(), for a secret: its value stays out of stack traces. */
    public static function secret(#[\SensitiveParameter] string $value, string $what): string
    {
        if (str_contains($value, "\0")) {
            throw new InvalidArgumentException("$what contains a NUL byte");
        }
        return $value;
    }

    /**
     * @internal An option's value as the text the library's setters by name take: an int or a
     * string as it is, a float with the shortest digits that read back as the same float
     * ("0.1", "1.0E-7", "inf", "NaN"), a bool as "true" / "false"; null (the default) as null.
     *
     * @throws \TypeError another type
     * @throws InvalidArgumentException a string with a NUL byte
     */
    public static function optionText(mixed $value, string $name): ?string
    {
        return match (true) {
            $value === null => null,
            is_bool($value) => $value ? 'true' : 'false',
            is_int($value) => (string) $value,
            is_float($value) => self::floatText($value),
            is_string($value) => self::text($value, "the value of $name"),
            $value instanceof \Stringable => self::text((string) $value, "the value of $name"),
            default => throw new \TypeError("the value of the option $name must be null, a bool, an int, a float or a string, "
                . get_debug_type($value) . ' given'),
        };
    }

    private static function floatText(float $value): string
    {
        if (is_nan($value)) {
            return 'NaN';
        }
        if (is_infinite($value)) {
            return $value > 0 ? 'inf' : '-inf';
        }
        // Not (string): that rounds to the `precision` ini setting (14 digits by default).
        for ($digits = 1; $digits < 17; $digits++) {
            $text = sprintf("%.{$digits}G", $value);
            if ((float) $text === $value) {
                return $text;
            }
        }
        return sprintf('%.17G', $value);
    }

    /**
     * The names of every client option, as the library lists them (vod_client_option_name):
     * what Client::setOption() takes, and, in StudlyCase, Client's setters (part_size is
     * setPartSize()).
     *
     * @return list<string>
     */
    public static function clientOptionNames(): array
    {
        return self::names('vod_client_option_name');
    }

    /**
     * The names of every upload option, as the library lists them (vod_upload_option_name); in
     * camelCase, the keys of Client::OPTIONS (class_id is classId).
     *
     * @return list<string>
     */
    public static function uploadOptionNames(): array
    {
        return self::names('vod_upload_option_name');
    }

    /**
     * The names of every field of a result, as the library lists them
     * (vod_upload_result_field_name); in camelCase, the properties of UploadResult.
     *
     * @return list<string>
     */
    public static function resultFieldNames(): array
    {
        return self::names('vod_upload_result_field_name');
    }

    /** @return list<string> */
    private static function names(string $function): array
    {
        $ffi = self::ffi();
        $names = [];
        for ($i = 0; ($name = $ffi->$function($i)) !== null; $i++) {
            $names[] = (string) $name;
        }
        return $names;
    }

    private static function load(): \FFI
    {
        self::requireFfi();
        // 1. Preloaded (ffi.preload, or opcache.preload with preload.php): no FFI::cdef() needed.
        try {
            $ffi = \FFI::scope(self::SCOPE);
        } catch (\FFI\Exception) {
            $ffi = null;
        }
        if ($ffi !== null) {
            $where = 'FFI scope "' . self::SCOPE . '" (preloaded)';
            self::checkVersion($ffi, $where);
            self::$source = $where;
            return self::$ffi = $ffi;
        }

        // 2. FFI::cdef() with the header and the first library that loads.
        $header = self::header();
        $tried = [];
        foreach (self::candidates() as $library) {
            try {
                $ffi = \FFI::cdef($header, $library);
            } catch (\FFI\Exception $e) {
                $why = $e->getMessage();
                if (str_contains($why, 'ffi.enable')) {
                    // Not chained to $e: PHP would log that one first, before what to do.
                    throw self::restricted($why);
                }
                if (str_contains($why, 'Failed resolving')) {
                    // The library loads but lacks a function of the header: an older release.
                    throw new LibraryException(self::describeOld($library, $why));
                }
                $tried[] = "$library ($why)";
                continue;
            }
            self::checkVersion($ffi, $library);
            self::$source = $library;
            return self::$ffi = $ffi;
        }
        $env = getenv('VODUPLOAD_LIB');
        $hint = is_string($env) && $env !== ''
            ? "VODUPLOAD_LIB is set to '$env', which could not be loaded: point it at libvodupload.so (the file"
              . ' must exist, be readable and built for this machine), or unset it to search the system paths'
            : 'install libvodupload (`make -C crates/vodupload-ffi install PREFIX=/usr/local && ldconfig`), or'
              . ' set the environment variable VODUPLOAD_LIB to the path of libvodupload.so';
        throw new LibraryException("libvodupload not found. Tried: " . implode('; ', $tried) . ". To fix: $hint");
    }

    /**
     * Why FFI may not be used here and the ways to allow it, each one complete as printed (a test
     * applies each to a PHP server): PHP's own message alone says neither.
     */
    private static function restricted(string $phpSays): LibraryException
    {
        $enable = (string) ini_get('ffi.enable');
        $shown = 'ffi.enable=' . ($enable === '' ? '0' : $enable);
        if (in_array(PHP_SAPI, ['cli', 'phpdbg'], true)) {
            // On the command line only ffi.enable=false restricts FFI.
            return new LibraryException("libvodupload cannot be used: PHP's FFI is disabled by $shown (PHP says: $phpSays)."
                . ' Run PHP with ffi.enable=preload, its default, which allows FFI on the command line'
                . ' (`php -d ffi.enable=preload ...`, or set it in ' . self::iniFiles() . ')');
        }
        $header = self::suggestedHeaderPath();
        $settings = ($enable === 'preload' ? '' : 'ffi.enable=preload ') . self::preloadSettings($header);
        return new LibraryException(
            'libvodupload cannot be used here: PHP\'s FFI is ' . ($enable === 'preload'
                ? "restricted by $shown, which outside the command line allows FFI only to preloaded code"
                : "disabled by $shown") . " (PHP says: $phpSays). Either (1) preload the library and this package, keeping FFI"
            . ' closed to other code: write the declarations once (again after each upgrade) with `' . self::headerCommand($header)
            . "`, then set $settings in " . self::iniFiles() . ' and restart PHP (opcache.preload_user is the user PHP preloads as'
            . ' when it starts as root); or (2) set ffi.enable=true there and restart PHP (each request then declares the library itself)'
        );
    }

    /**
     * @internal The php.ini settings that preload libvodupload with the declarations in `$header`
     * and this package's classes, for `ffi.enable=preload`: "ffi.preload=... opcache.enable=1
     * opcache.preload=.../preload.php opcache.preload_user=...".
     */
    public static function preloadSettings(string $header): string
    {
        return "ffi.preload=$header opcache.enable=1 opcache.preload=" . self::packageDir() . '/preload.php opcache.preload_user='
            . self::preloadUser();
    }

    /** The command that writes the declarations for ffi.preload, with the library this process would use. */
    private static function headerCommand(string $header): string
    {
        $library = getenv('VODUPLOAD_LIB');
        return 'php ' . escapeshellarg(self::packageDir() . '/bin/vodupload-preload-header') . ' -o ' . escapeshellarg($header)
            . (is_string($library) && $library !== '' ? ' ' . escapeshellarg($library) : '');
    }

    /** Beside the php.ini in use (e.g. /etc/php/8.2/fpm/vodupload.h), where an administrator keeps PHP's configuration. */
    private static function suggestedHeaderPath(): string
    {
        $ini = php_ini_loaded_file();
        return ($ini !== false ? dirname($ini) : '/etc/php') . '/vodupload.h';
    }

    /** Where this PHP reads its settings: "/etc/php/8.2/fpm/php.ini or a file of /etc/php/8.2/fpm/conf.d". */
    private static function iniFiles(): string
    {
        $ini = php_ini_loaded_file();
        $scanned = php_ini_scanned_files();
        $dir = $scanned !== false && $scanned !== '' ? dirname(trim(explode(',', $scanned)[0])) : (string) PHP_CONFIG_FILE_SCAN_DIR;
        $where = $ini !== false ? "php.ini ($ini)" : 'php.ini';
        return $dir !== '' ? "$where or a file of $dir" : $where;
    }

    /** The user requests run as (the pool's), which preloading as root needs. */
    private static function preloadUser(): string
    {
        if (function_exists('posix_geteuid') && posix_geteuid() !== 0) {
            $user = posix_getpwuid(posix_geteuid());
            if (is_array($user)) {
                return $user['name'];
            }
        }
        return function_exists('posix_getpwnam') && posix_getpwnam('www-data') === false ? 'nobody' : 'www-data';
    }

    private static function packageDir(): string
    {
        return dirname(__DIR__);
    }

    private static function requireFfi(): void
    {
        if (!extension_loaded('ffi')) {
            throw new LibraryException(
                'vodupload needs PHP\'s FFI extension, which is not loaded: on Debian/Ubuntu it comes with php-cli'
                . ' (check `php -m | grep FFI`); elsewhere build PHP with --with-ffi or enable extension=ffi in php.ini'
            );
        }
    }

    /** @return list<string> */
    private static function candidates(): array
    {
        $env = getenv('VODUPLOAD_LIB');
        if (is_string($env) && $env !== '') {
            return [$env];
        }
        $list = [self::SONAME];     // dlopen's own search: LD_LIBRARY_PATH, ld.so.cache, /lib, /usr/lib
        $dirs = ['/usr/local/lib', '/usr/local/lib64', '/usr/lib/' . php_uname('m') . '-linux-gnu', '/usr/lib64', '/usr/lib'];
        foreach ($dirs as $dir) {
            $list[] = $dir . '/' . self::SONAME;
        }
        return $list;
    }

    /** The first candidate that the dynamic loader accepts (for preload, which needs a name for FFI_LIB). */
    private static function resolve(): string
    {
        $tried = [];
        foreach (self::candidates() as $library) {
            try {
                \FFI::cdef('const char *vod_version(void);', $library);
                return $library;
            } catch (\FFI\Exception $e) {
                $tried[] = "$library ({$e->getMessage()})";
            }
        }
        throw new LibraryException('libvodupload not found (to name it in the preloaded declarations). Tried: '
            . implode('; ', $tried) . '. Install it, set VODUPLOAD_LIB, or give its path');
    }

    private static function header(): string
    {
        $text = @file_get_contents(self::HEADER);
        if ($text === false) {
            throw new LibraryException('cannot read the FFI declarations ' . self::HEADER . ': the package is incomplete');
        }
        return $text;
    }

    private static function checkVersion(\FFI $ffi, string $where): void
    {
        $version = (string) $ffi->vod_version();
        $why = self::incompatibility($version);
        if ($why !== null) {
            throw new LibraryException("libvodupload from $where $why. Install a matching libvodupload, or point VODUPLOAD_LIB at one");
        }
    }

    private static function describeOld(string $library, string $why): string
    {
        try {
            $version = (string) \FFI::cdef('const char *vod_version(void);', $library)->vod_version();
        } catch (\FFI\Exception) {
            $version = 'unknown';
        }
        $detail = self::incompatibility($version) ?? "is version $version but lacks a function this package needs";
        return "libvodupload from $library $detail ($why). Install a matching libvodupload, or point VODUPLOAD_LIB at one";
    }
}
