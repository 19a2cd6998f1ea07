<?php

declare(strict_types=1);

namespace VodUpload;

/**
 * libvodupload could not be used: the FFI extension is missing or restricted (ffi.enable), the
 * shared library was not found, or its version does not match this package. The message says
 * what was tried and what to do. getCode() is 0: it is not a status of the library.
 */
class LibraryException extends VodException
{
}
