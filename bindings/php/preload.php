<?php

/*
 * opcache.preload script for php-fpm (and other servers), where PHP's default ffi.enable=preload
 * allows FFI only in preloaded code. In php.ini:
 *
 *     opcache.enable=1
 *     opcache.preload=/path/to/vendor/vodupload/vodupload/preload.php
 *     opcache.preload_user=www-data
 *     ; ffi.enable=preload     (the default)
 *
 * It declares libvodupload in the FFI scope "VODUPLOAD" (VodUpload\Library then uses
 * FFI::scope("VODUPLOAD") in every request) and preloads the VodUpload\ classes. The library is
 * VODUPLOAD_LIB (set it with `env[VODUPLOAD_LIB]` in the pool, or in the server's environment)
 * or libvodupload.so.0 on the system paths. Restart php-fpm after upgrading libvodupload.
 */

declare(strict_types=1);

require __DIR__ . '/autoload.php';

VodUpload\Library::preload();
