<?php

declare(strict_types=1);

namespace VodUpload;

/**
 * A call was given an argument it cannot take, before anything was sent: a string with a NUL
 * byte, an unknown upload option key (thrown by this package), or VOD_ERR_INVALID_ARGUMENT
 * (1000) from the library. InvalidInputException (the library refused the value itself, by the
 * core's rule for it) is a kind of it. A value of the wrong PHP type is PHP's \TypeError.
 */
class InvalidArgumentException extends VodException
{
}
