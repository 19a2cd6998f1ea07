<?php

declare(strict_types=1);

namespace VodUpload;

/**
 * The library refused an input or setting before sending anything (VOD_ERR_INVALID_INPUT, 2000):
 * an empty or special file, a file without extension and no `fileType`, a video name over 40
 * bytes or with a forbidden character, a part size other than 524288 / 1048576, a concurrency
 * outside 1..64, a bad endpoint, a string that is not UTF-8, finish() with parts still needed...
 * A kind of InvalidArgumentException: catching that one catches both.
 */
class InvalidInputException extends InvalidArgumentException
{
}
