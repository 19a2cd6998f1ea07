<?php

/*
 * PHPUnit bootstrap: the package through its own autoload.php (no Composer), the test helpers,
 * and, unless already set, VODUPLOAD_LIB / VODUPLOAD_EMULATOR pointing at this repository's
 * debug build (`cargo build -p vodupload-ffi -p vodupload-emulator`).
 */

declare(strict_types=1);

require dirname(__DIR__) . '/autoload.php';

spl_autoload_register(static function (string $class): void {
    $prefix = 'VodUpload\\Tests\\';
    if (str_starts_with($class, $prefix)) {
        $file = __DIR__ . '/support/' . substr($class, strlen($prefix)) . '.php';
        if (is_file($file)) {
            require $file;
        }
    }
});

$target = dirname(__DIR__, 3) . '/target/debug';
if (getenv('VODUPLOAD_LIB') === false && is_file("$target/libvodupload.so")) {
    putenv("VODUPLOAD_LIB=$target/libvodupload.so");
}
if (getenv('VODUPLOAD_EMULATOR') === false && is_file("$target/vodupload-emulator")) {
    putenv("VODUPLOAD_EMULATOR=$target/vodupload-emulator");
}
fwrite(STDERR, 'libvodupload ' . VodUpload\Library::version() . ' from ' . VodUpload\Library::source()
    . ', emulator ' . VodUpload\Tests\Emulator::binary() . "\n");
