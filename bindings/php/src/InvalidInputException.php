<?php

declare(strict_types=1);

namespace VodUpload;

/**
 * The library refused an input or setting before sending anything (VOD_ERR_INVALID_INPUT, 2000),
 * by the core's rule for it and in its words, the same in every face: an empty or special file,
 * a file without extension and no `fileType`, a video name over 40 bytes or with a forbidden
 * character, a part size other than 524288 / 1048576, a concurrency outside 1..64, a timeout
 * that is not more than 0 and at most a day, an unusable proxy or endpoint, a fingerprint cache
 * another user could write to, a string that is not UTF-8, a part index out of range, finish()
 * with parts still needed... A kind of InvalidArgumentException: catching that one catches both.
 */
class InvalidInputException extends InvalidArgumentException
{
}
