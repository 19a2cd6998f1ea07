<?php

/*
 * For projects without Composer: `require '/path/to/vodupload/autoload.php';` makes the
 * VodUpload\ classes load on demand (PSR-4, src/). With Composer, its own autoloader does this.
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
