<?php

declare(strict_types=1);

namespace VodUpload;

/**
 * The file may not be read (VOD_ERR_PERMISSION_DENIED, 2102).
 */
class PermissionDeniedException extends IoException
{
}
