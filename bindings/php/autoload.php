<?php

/*
 * For projects without Composer: `require '/path/to/vodupload/autoload.php';` makes the
 * VodUpload\ classes load on demand (PSR-4, src/) and declares the functions (src/functions.php:
 * VodUpload\parse_event()). With Composer, its own autoloader does both.
 */

declare(strict_types=1);

spl_autoload_register(static function (string $class): void {
    if (strncmp($class, 'VodUpload\\', 10) !== 0) {
        return;
    }
    $file = __DIR__ . '/src/' . str_replace('\\', '/', substr($class, 10)) . '.php';
    if (is_file($file)) {
        require $file;
    }
});

require_once __DIR__ . '/src/functions.php';
