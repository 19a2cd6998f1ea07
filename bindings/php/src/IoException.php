<?php

declare(strict_types=1);

namespace VodUpload;

/**
 * The local file could not be read (VOD_ERR_IO, 2100); the subclasses NotFoundException and
 * PermissionDeniedException are the two common cases.
 */
class IoException extends VodException
{
}
