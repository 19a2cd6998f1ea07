<?php

declare(strict_types=1);

namespace VodUpload;

/**
 * A call was given an argument it cannot take, before anything was sent: a negative or
 * out-of-range number, a string with a NUL byte, an unknown upload option or one of the wrong
 * type, a part index out of range, a missing credential (thrown by this package), or
 * VOD_ERR_INVALID_ARGUMENT (1000) from the library. InvalidInputException (the library refused
 * the value itself) is a kind of it.
 */
class InvalidArgumentException extends VodException
{
}
