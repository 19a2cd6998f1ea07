<?php

declare(strict_types=1);

namespace VodUpload;

/**
 * The base of every exception this package throws.
 *
 * - getMessage(): what went wrong and what to do, from the library (vod_last_error()); it
 *   never contains the SecretKey.
 * - getCode() / getStatus(): the library's vod_status (e.g. 4000 for VOD_ERR_AUTH; 0 for a
 *   LibraryException). Statuses come in bands of a thousand: 1000s the call, 2000s the input or
 *   the file, 3000s the transport, 4000s the service, 5000s a cancellation. A status that this
 *   package does not know (a newer library) gives a plain VodException.
 * - getServerCode(): the service's error code (e.g. -10002 bad signature, 4400 too many
 *   requests) for AuthException and ServerException; 0 otherwise.
 * - canRetry(): whether trying the same thing again later can help (network failures, timeouts,
 *   service errors marked retryable), after the library's own retries were used up.
 */
class VodException extends \RuntimeException
{
    /** The exception class of each vod_status this package knows. */
    private const CLASSES = [
        1000 => InvalidArgumentException::class,
        1001 => InternalException::class,
        1002 => InternalException::class,
        2000 => InvalidInputException::class,
        2100 => IoException::class,
        2101 => NotFoundException::class,
        2102 => PermissionDeniedException::class,
        2200 => FileChangedException::class,
        3000 => NetworkException::class,
        3100 => TimeoutException::class,
        3200 => ProtocolException::class,
        4000 => AuthException::class,
        4100 => ServerException::class,
        5000 => AbortedException::class,
    ];

    private int $serverCode;
    private bool $canRetry;

    final public function __construct(
        string $message,
        int $status = 0,
        int $serverCode = 0,
        bool $canRetry = false,
        ?\Throwable $previous = null,
    ) {
        parent::__construct($message, $status, $previous);
        $this->serverCode = $serverCode;
        $this->canRetry = $canRetry;
    }

    /**
     * The exception for a failed call: the class that mirrors `$status`, with the details the
     * library recorded for this thread (message, service code, retry hint).
     *
     * @internal
     */
    public static function fromStatus(int $status, string $message, int $serverCode, bool $canRetry): self
    {
        $class = self::CLASSES[$status] ?? self::class;
        return new $class($message, $status, $serverCode, $canRetry);
    }

    /** The library's vod_status for this failure (the same as getCode()). */
    public function getStatus(): int
    {
        return (int) $this->getCode();
    }

    /** The service's error code (AuthException, ServerException), 0 when the service did not answer with one. */
    public function getServerCode(): int
    {
        return $this->serverCode;
    }

    /** Whether trying again later can help (the library already retried what it could). */
    public function canRetry(): bool
    {
        return $this->canRetry;
    }
}
