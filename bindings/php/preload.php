<?php

/*
 * opcache.preload script for php-fpm (and other servers), where PHP's default ffi.enable=preload
 * allows FFI only in preloaded code. In php.ini:
 *
 *     opcache.enable=1
 *     opcache.preload=/path/to/vendor/vodupload/vodupload/preload.php
 *     ; ffi.enable=preload     (the default)
 *
 * It declares libvodupload in the FFI scope "VODUPLOAD" with FFI::load() (VodUpload\Library then
 * uses FFI::scope("VODUPLOAD") in every request) and preloads the VodUpload\ classes. The library
 * is $VODUPLOAD_LIB or libvodupload.so.0 on the system paths. Restart the server after upgrading
 * libvodupload.
 *
 * PHP refuses FFI::load() when opcache.preload_user is set, and requires that setting when the
 * server starts as root (as php-fpm usually does): then this script stops with an error that says
 * so, and the way is php.ini's ffi.preload with the header written by bin/vodupload-preload-header
 * (see the README), which needs no opcache at all.
 */

declare(strict_types=1);

require __DIR__ . '/autoload.php';

VodUpload\Library::preload();
