<?php

declare(strict_types=1);

namespace VodUpload;

/**
 * The upload was stopped by Upload::cancel() (VOD_ERR_ABORTED, 5000). The service keeps the
 * parts it has: begin() or upload() the same file again to resume.
 */
class AbortedException extends VodException
{
}
