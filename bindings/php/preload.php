<?php

/*
 * opcache.preload script for php-fpm (and other servers), where PHP's default ffi.enable=preload
 * allows FFI only to preloaded code. In php.ini (or a file of its conf.d directory):
 *
 *     ffi.preload=/etc/php/8.2/fpm/vodupload.h      ; php bin/vodupload-preload-header -o /etc/php/8.2/fpm/vodupload.h
 *     opcache.enable=1
 *     opcache.preload=/path/to/vendor/vodupload/vodupload/preload.php
 *     opcache.preload_user=www-data                 ; the pool's user: PHP preloads as it when started as root
 *     ; ffi.enable=preload                          (the default)
 *
 * It preloads the VodUpload\ classes, so that their calls may use FFI in every request, and checks
 * that the FFI scope "VODUPLOAD" that ffi.preload declared is a libvodupload this package can use.
 * Without ffi.preload it declares the scope itself with FFI::load() (the library is
 * $VODUPLOAD_LIB or libvodupload.so.0 on the system paths), which PHP allows only when it does
 * not preload as another user (a server not started as root). Restart the server after upgrading
 * libvodupload or this package.
 *
 * An application with its own opcache.preload script requires this file from it.
 */

declare(strict_types=1);

require __DIR__ . '/autoload.php';

VodUpload\Library::preload();
