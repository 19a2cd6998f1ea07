<?php

declare(strict_types=1);

namespace VodUpload;

/**
 * The file (or the CA file) does not exist (VOD_ERR_NOT_FOUND, 2101).
 */
class NotFoundException extends IoException
{
}
