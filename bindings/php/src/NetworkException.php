<?php

declare(strict_types=1);

namespace VodUpload;

/**
 * The connection failed, was reset, or TLS failed, after the configured tries
 * (VOD_ERR_NETWORK, 3000). canRetry() is true: the parts the service stored stay there, so
 * uploading the same file again later resumes. TimeoutException is a kind of it.
 */
class NetworkException extends VodException
{
}
