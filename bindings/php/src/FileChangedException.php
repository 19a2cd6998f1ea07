<?php

declare(strict_types=1);

namespace VodUpload;

/**
 * The file changed (size, time or content) while it was being uploaded (VOD_ERR_FILE_CHANGED,
 * 2200): upload it again once it is complete.
 */
class FileChangedException extends VodException
{
}
