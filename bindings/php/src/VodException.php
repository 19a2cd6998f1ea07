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
    /**
     * The exception class of each vod_status, by its name in the library's header
     * (vodupload_ffi.h), whose values PHP's FFI reads (`$ffi->VOD_ERR_AUTH`): the numbers have
     * one source. A test checks that every status of the header is here.
     */
    public const CLASSES = [
        'VOD_ERR_INVALID_ARGUMENT' => InvalidArgumentException::class,
        'VOD_ERR_PANIC' => InternalException::class,
        'VOD_ERR_BUFFER_TOO_SMALL' => InternalException::class,
        'VOD_ERR_INVALID_INPUT' => InvalidInputException::class,
        'VOD_ERR_IO' => IoException::class,
        'VOD_ERR_NOT_FOUND' => NotFoundException::class,
        'VOD_ERR_PERMISSION_DENIED' => PermissionDeniedException::class,
        'VOD_ERR_FILE_CHANGED' => FileChangedException::class,
        'VOD_ERR_NETWORK' => NetworkException::class,
        'VOD_ERR_TIMEOUT' => TimeoutException::class,
        'VOD_ERR_PROTOCOL' => ProtocolException::class,
        'VOD_ERR_AUTH' => AuthException::class,
        'VOD_ERR_SERVER' => ServerException::class,
        'VOD_ERR_ABORTED' => AbortedException::class,
        'VOD_ERR_UNKNOWN' => self::class,
    ];

    /** @var ?array<int, class-string<VodException>> CLASSES by value */
    private static ?array $byStatus = null;

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
        $class = self::classes()[$status] ?? self::class;
        return new $class($message, $status, $serverCode, $canRetry);
    }

    /**
     * CLASSES keyed by the values the loaded library's declarations give the names.
     *
     * @internal
     * @return array<int, class-string<VodException>>
     */
    public static function classes(): array
    {
        if (self::$byStatus === null) {
            $ffi = Library::ffi();
            $map = [];
            foreach (self::CLASSES as $name => $class) {
                try {
                    $map[(int) $ffi->$name] = $class;
                } catch (\FFI\Exception) {
                    // Declarations preloaded from an older header: that status cannot occur.
                }
            }
            self::$byStatus = $map;
        }
        return self::$byStatus;
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
