<?php

declare(strict_types=1);

namespace VodUpload;

/**
 * A request did not complete within the request timeout, after the configured tries
 * (VOD_ERR_TIMEOUT, 3100). A kind of NetworkException.
 */
class TimeoutException extends NetworkException
{
}
