<?php

declare(strict_types=1);

namespace VodUpload;

/**
 * The service refused the SecretId/SecretKey or the signature (VOD_ERR_AUTH, 4000):
 * getServerCode() is its code, e.g. -10002 (bad signature), 4100 (authentication failed) or
 * 4300 (access denied). Not worth retrying with the same credentials.
 */
class AuthException extends VodException
{
}
