<?php

declare(strict_types=1);

namespace VodUpload;

/**
 * The library failed internally (VOD_ERR_PANIC 1001, caught at the C boundary, or
 * VOD_ERR_BUFFER_TOO_SMALL 1002): a bug, please report it with the message. The objects involved
 * are still safe to use and free.
 */
class InternalException extends VodException
{
}
