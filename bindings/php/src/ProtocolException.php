<?php

declare(strict_types=1);

namespace VodUpload;

/**
 * The server answered something that is not the upload protocol: HTML, malformed or cut JSON
 * (VOD_ERR_PROTOCOL, 3200). Often a wrong endpoint URL, or a proxy in the way.
 */
class ProtocolException extends VodException
{
}
