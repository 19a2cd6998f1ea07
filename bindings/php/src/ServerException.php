<?php

declare(strict_types=1);

namespace VodUpload;

/**
 * The service answered with an error code (VOD_ERR_SERVER, 4100), after the tries it allowed:
 * getServerCode() is the code (e.g. 4400 too many requests, -10004 write cache failed) and
 * canRetry() whether trying again later can help.
 */
class ServerException extends VodException
{
}
