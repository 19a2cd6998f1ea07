<?php

declare(strict_types=1);

namespace VodUpload;

/**
 * A client of the VOD upload service: credentials, endpoint, settings and a connection pool,
 * shared by its uploads. Owns a native vod_client, freed when the object is destroyed.
 *
 *     $client = new Client($secretId, $secretKey);      // or new Client() for the environment's
 *     $r = $client->upload('/srv/video.mp4', ['tags' => ['a']]);
 *     echo $r->fileId, ' ', $r->url, "\n";
 *
 * Uploads hash the file once, ask the service what it already has (so an interrupted upload
 * resumes and a known file is an "instant upload"), send the missing parts in parallel with
 * retries, verify TLS against the system's roots (or setCaFile()), and keep under the service's
 * request rates. Failures are VodException subclasses carrying the library's detailed message.
 *
 * Event notification: the service reports "Video Upload Completed" (and other events)
 * by POSTing JSON to your callback URL (parse it with VodUpload\parse_event()) and by keeping it
 * in the app's queue until confirmed:
 *
 *     $client = new Client($secretId, $secretKey);
 *     foreach ($client->pullEvents() as [$handle, $event]) {
 *         if ($event->isNewFileUpload()) {
 *             markUploaded($event->fileId, $event->fileUrl);     // idempotent: delivery is at least once
 *         }
 *         $client->confirmEvents([$handle]);
 *     }
 *
 * Options: one setter per option of the core (setPartSize(), setRequestTimeout(), ...: `set` and
 * the core's name in StudlyCase), or setOption() with the core's name. The library checks each
 * value by the core's rule, and a refusal is an InvalidInputException with the core's message,
 * the same as in every other face. Setters return the client, for chaining, and apply to uploads
 * started afterwards; configure once, then share (each setter rebuilds the connection pool).
 *
 * Not clonable (it owns a native handle).
 */
final class Client
{
    /**
     * The options upload() and begin() accept, and the PHP type of each (null always means the
     * default). Each is the core's upload option of the same name in snake_case (classId is
     * class_id), with the core's rule and message.
     */
    public const OPTIONS = [
        'name' => 'string',
        'fileType' => 'string',
        'tags' => 'list<string>',
        'classId' => 'int',
        'transcode' => 'bool',
        'screenshot' => 'bool',
        'watermark' => 'bool',
    ];

    private \FFI $ffi;
    private ?\FFI\CData $handle = null;

    /**
     * @param ?string $secretId  the API SecretId; null: TENCENTCLOUD_SECRET_ID
     * @param ?string $secretKey the API SecretKey; null: TENCENTCLOUD_SECRET_KEY. Kept only in the
     *                           library's memory, never shown in a message (and hidden from PHP
     *                           stack traces)
     * @param ?string $endpoint  the upload API URL; null: https://vod2.qcloud.com/v2/index.php
     * @param ?string $eventsEndpoint the event API URL of pullEvents() and confirmEvents() (see
     *                           setEventsEndpoint()); null: https://vod.api.qcloud.com/v2/index.php
     *
     * @throws LibraryException libvodupload cannot be loaded (see Library)
     * @throws InvalidArgumentException a NUL byte
     * @throws InvalidInputException empty credentials or with whitespace, a credential missing
     *                               from both the arguments and the environment, a bad endpoint
     *                               or events endpoint
     */
    public function __construct(
        ?string $secretId = null,
        #[\SensitiveParameter] ?string $secretKey = null,
        ?string $endpoint = null,
        ?string $eventsEndpoint = null,
    ) {
        $this->ffi = Library::ffi();
        $out = $this->ffi->new('vod_client *');
        $status = $this->ffi->vod_client_new(
            $secretId === null ? null : Library::text($secretId, 'the SecretId'),
            $secretKey === null ? null : Library::secret($secretKey, 'the SecretKey'),
            $endpoint === null ? null : Library::text($endpoint, 'the endpoint'),
            \FFI::addr($out),
        );
        Library::check($this->ffi, $status);
        $this->handle = $out;
        if ($eventsEndpoint !== null) {
            try {
                $this->setEventsEndpoint($eventsEndpoint);
            } catch (\Throwable $e) {
                $this->__destruct();    // a constructor that throws gets no __destruct
                throw $e;
            }
        }
    }

    public function __destruct()
    {
        if ($this->handle !== null) {
            $this->ffi->vod_client_free($this->handle);
            $this->handle = null;
        }
    }

    public function __clone()
    {
        // The copy would share the handle: it is destroyed (and would free it) even though
        // this throws, so it must not own it.
        $this->handle = null;
        throw new \LogicException('a VodUpload\Client cannot be cloned (it owns a native handle): share the object instead');
    }

    /**
     * Sets any client option by the core's name for it (snake_case, as Library::clientOptionNames()
     * lists them: "part_size", "request_timeout"...), as a configuration file would. The value is
     * given to the library as text: an int or a string as it is, a float with every digit
     * (seconds, for durations), a bool as "true" / "false"; null restores the option's default.
     * The library applies the option's rule, with the same message as every other face.
     *
     *     $client->setOption('concurrency', 8)->setOption('request_timeout', 2.5);
     *
     * @throws InvalidInputException an unknown name, or a value the option refuses (the setting
     *                               is then unchanged)
     * @throws InvalidArgumentException a NUL byte
     * @throws \TypeError a value that is not null, a bool, an int, a float or a string
     */
    public function setOption(string $name, mixed $value): static
    {
        $handle = $this->handle();
        $text = Library::optionText($value, $name);
        $status = $text !== null && isset(self::PATH_SETTERS[$name]) && preg_match('//u', $text) !== 1
            // A path is bytes on the file system; the setter by name takes only UTF-8 text.
            ? $this->ffi->{self::PATH_SETTERS[$name]}($handle, $text)
            : $this->ffi->vod_client_set_option($handle, Library::text($name, 'the option name'), $text);
        Library::check($this->ffi, $status);
        return $this;
    }

    /** The full URL of the upload API; null: https://vod2.qcloud.com/v2/index.php. */
    public function setEndpoint(?string $url): static
    {
        return $this->setOption('endpoint', $url);
    }

    /** The service's Region parameter: "gz" (the default), "bj", "sh", "hk", "ca"... */
    public function setRegion(string $region): static
    {
        return $this->setOption('region', $region);
    }

    /** The part size: 524288 (512 KiB) or 1048576 (1 MiB, the default); the service takes no other. */
    public function setPartSize(int $bytes): static
    {
        return $this->setOption('part_size', $bytes);
    }

    /** UploadPart calls a minute the account may make, for the pacing (default 10000; 0: not paced). */
    public function setRateUploadPart(int $perMinute): static
    {
        return $this->setOption('rate_upload_part', $perMinute);
    }

    /** InitUpload and FinishUpload calls a minute, each (default 100; 0: not paced). */
    public function setRateInitFinish(int $perMinute): static
    {
        return $this->setOption('rate_init_finish', $perMinute);
    }

    /**
     * Shares the pacing through Redis with every process using the same URL, for a fleet of app
     * servers under one SecretId: redis://[user:password@]host[:port][/db]; '?strict=true' makes a
     * failing Redis an error instead of a fallback to local pacing. null: this process only.
     */
    public function setPacingUrl(?string $url): static
    {
        return $this->setOption('pacing_url', $url);
    }

    /**
     * How many parts upload() keeps in flight: 'auto' (the default: measured and adjusted as the
     * uploads go, shared by this client's uploads) or a fixed 1 to 64.
     */
    public function setConcurrency(int|string $parts): static
    {
        return $this->setOption('concurrency', $parts);
    }

    /**
     * Tries per request, the first included: 1 to 100 (default 5; 1 means no retries). Only
     * failures that can pass are retried (network errors, timeouts, HTTP 5xx, service errors
     * marked retryable).
     */
    public function setMaxAttempts(int $attempts): static
    {
        return $this->setOption('max_attempts', $attempts);
    }

    /** Seconds before the first retry (default 0.25), doubling per retry with jitter: more than 0, at most 3600. */
    public function setRetryBaseDelay(float $seconds): static
    {
        return $this->setOption('retry_base_delay', $seconds);
    }

    /** The longest wait between two tries, in seconds (default 8): more than 0, at most 3600. */
    public function setRetryMaxDelay(float $seconds): static
    {
        return $this->setOption('retry_max_delay', $seconds);
    }

    /** Seconds allowed to connect, TCP and TLS (default 10): more than 0, at most 86400. */
    public function setConnectTimeout(float $seconds): static
    {
        return $this->setOption('connect_timeout', $seconds);
    }

    /**
     * Seconds allowed for one whole request, the part's upload included (default 60): more than
     * 0, at most 86400. A request that takes longer is a TimeoutException once the tries are
     * used up.
     */
    public function setRequestTimeout(float $seconds): static
    {
        return $this->setOption('request_timeout', $seconds);
    }

    /**
     * Trusts only the certificates in this PEM file (like curl's --cacert) instead of the
     * system's roots; the file is read now. null: the system's roots again.
     *
     * @throws NotFoundException|PermissionDeniedException|IoException the file cannot be read
     * @throws InvalidInputException it holds no certificate
     */
    public function setCaFile(?string $pemPath): static
    {
        return $this->setOption('ca_file', $pemPath);
    }

    /**
     * Sends requests through this HTTP proxy ("http://host:port"). null (the default): the
     * HTTPS_PROXY / HTTP_PROXY / ALL_PROXY and NO_PROXY variables apply, except for an endpoint
     * on this machine (an emulator), which is reached directly.
     */
    public function setProxy(?string $url): static
    {
        return $this->setOption('proxy', $url);
    }

    /** "HmacSHA1" (the default) or "HmacSHA256". */
    public function setSignatureMethod(string $method): static
    {
        return $this->setOption('signature_method', $method);
    }

    /**
     * Client-side pacing under the service's published rates (10000 UploadPart and 100
     * InitUpload/FinishUpload a minute, shared by every client of this SecretId and endpoint in
     * the process), on by default. Turn it off only for a server without those limits.
     */
    public function setRateLimit(bool $enabled): static
    {
        return $this->setOption('rate_limit', $enabled);
    }

    /** The same as setRateLimit(), under its earlier name. */
    public function setRateLimiting(bool $enabled): static
    {
        return $this->setRateLimit($enabled);
    }

    /**
     * Keeps each file's SHA-1 and part MD5s in this directory (keyed by path, size, times and
     * inode), so a re-upload or the resume of a large file starts without reading it again.
     * The directory is created private (0700) when needed; one that another user could write to
     * is refused, as its entries decide the file id an upload ends under. null (the default):
     * no cache.
     *
     * @throws InvalidInputException not a directory, or owned or writable by another user
     */
    public function setFingerprintCache(?string $directory): static
    {
        return $this->setOption('fingerprint_cache', $directory);
    }

    /**
     * The full URL of the event API that pullEvents() and confirmEvents() call, signed with this
     * client's credentials (their requests are not paced). null restores the default,
     * https://vod.api.qcloud.com/v2/index.php: the provider's general API host, not the upload
     * host. For the emulator, give its endpoint (the same URL as the upload endpoint).
     *
     * @throws InvalidInputException not a usable http:// or https:// URL (the setting is unchanged)
     */
    public function setEventsEndpoint(?string $url): static
    {
        return $this->setOption('events_endpoint', $url);
    }

    /**
     * Uploads a file in one call (blocking): hashes it, asks the service what it has, sends the
     * missing parts in parallel (setConcurrency) with retries, and finishes.
     *
     * @param string $path    the video; bytes as on the file system
     * @param array<string, mixed> $options see OPTIONS: 'name' (the video's name, ≤ 40 bytes, without
     *                        extension; default: the file name), 'fileType' (default: the extension),
     *                        'tags' (list of strings), 'classId' (category id ≥ 0), 'transcode',
     *                        'screenshot', 'watermark' (bools, default false)
     *
     * @throws VodException a subclass per failure: NotFoundException, InvalidInputException,
     *                      AuthException, NetworkException, ServerException...
     */
    public function upload(string $path, array $options = []): UploadResult
    {
        Library::text($path, 'the path');
        $handle = $this->handle();
        return $this->withOptions($options, 'upload', function (?\FFI\CData $opts) use ($handle, $path): UploadResult {
            $out = $this->ffi->new('vod_upload_result *');
            $status = $this->ffi->vod_upload_file_with_options($handle, $path, $opts, null, null, \FFI::addr($out));
            Library::check($this->ffi, $status);
            return UploadResult::take($this->ffi, $out);
        });
    }

    /**
     * Begins a step-by-step upload (blocking while it hashes the file and asks the service what
     * it has): then Upload::uploadPart() for each of Upload::partsNeeded(), and Upload::finish().
     * No callbacks: progress is read between parts (Upload::progress()).
     *
     * @param array<string, mixed> $options as for upload()
     *
     * @throws VodException as upload()
     */
    public function begin(string $path, array $options = []): Upload
    {
        Library::text($path, 'the path');
        $handle = $this->handle();
        return $this->withOptions($options, 'begin', function (?\FFI\CData $opts) use ($handle, $path): Upload {
            $out = $this->ffi->new('vod_upload *');
            Library::check($this->ffi, $this->ffi->vod_upload_begin_with_options($handle, $path, $opts, \FFI::addr($out)));
            return new Upload($this->ffi, $out);
        });
    }

    /**
     * Reads the app's event queue (one PullEvent request on the events endpoint; blocking, retried
     * like any request): the oldest unconfirmed events, at most 16, oldest first, each with the
     * message handle that confirms it. An empty queue gives [] at once (it does not wait).
     *
     * Pulled events stay queued, with the same handle, and every pull returns them again until
     * confirmEvents() acknowledges them: delivery is at least once, so handle events
     * idempotently (key on the file id) and confirm only after handling.
     *
     *     foreach ($client->pullEvents() as [$handle, $event]) { ... }
     *
     * @return list<array{0: string, 1: Event}> [message handle, event] pairs
     *
     * @throws VodException AuthException (getServerCode() e.g. -10002), ServerException,
     *                      NetworkException, TimeoutException, ProtocolException (an answer that
     *                      is not the protocol, e.g. a wrong events endpoint, or a malformed event
     *                      in it: the message names eventList[i] and its msgHandle)
     */
    public function pullEvents(): array
    {
        $ffi = $this->ffi;
        $out = $ffi->new('vod_event_list *');
        Library::check($ffi, $ffi->vod_events_pull($this->handle(), \FFI::addr($out)));
        try {
            $pairs = [];
            $count = (int) $ffi->vod_event_list_count($out);
            for ($i = 0; $i < $count; $i++) {
                $handle = $ffi->vod_event_list_msg_handle($out, $i);
                $event = $ffi->vod_event_list_event($out, $i);  // borrowed from the list
                if ($handle === null || $event === null) {
                    throw new InternalException("libvodupload's event list lost event $i of $count", 1001);
                }
                $pairs[] = [$handle, Event::copy($ffi, $event)];
            }
            return $pairs;
        } finally {
            $ffi->vod_event_list_free($out);
        }
    }

    /**
     * Acknowledges handled events by their message handles (ConfirmEvent): they are not pulled
     * again. Handles that are unknown or already confirmed are ignored by the service, so
     * confirming again after a failure is safe. [] sends nothing; more than 16 handles go in
     * several requests. Blocking.
     *
     * @param array<string> $msgHandles handles from pullEvents() (the array's values, in order)
     *
     * @throws \TypeError a handle that is not a string (e.g. the [handle, event] pair itself)
     * @throws InvalidArgumentException a handle with a NUL byte
     * @throws InvalidInputException an empty handle (nothing is sent)
     * @throws VodException as pullEvents(); after a partial failure the message says how many
     *                      events were confirmed
     */
    public function confirmEvents(array $msgHandles): void
    {
        $ffi = $this->ffi;
        $client = $this->handle();
        $handles = array_values($msgHandles);
        $n = count($handles);
        if ($n === 0) {
            Library::check($ffi, $ffi->vod_events_confirm($client, null, 0));    // sends nothing
            return;
        }
        // The C strings are PHP-owned buffers, kept alive in $buffers until the call returns.
        $array = $ffi->new("const char *[$n]");
        $buffers = [];
        foreach ($handles as $i => $handle) {
            if (!is_string($handle)) {
                throw new \TypeError("VodUpload\\Client::confirmEvents(): message handle $i must be a string, got "
                    . get_debug_type($handle) . ' (pass the handles: foreach ($client->pullEvents() as [$handle, $event]))');
            }
            Library::text($handle, "message handle $i");
            $length = strlen($handle);
            $buffer = $ffi->new('char[' . ($length + 1) . ']');   // zero-filled: the NUL is there
            if ($length > 0) {
                \FFI::memcpy($buffer, $handle, $length);
            }
            $buffers[] = $buffer;
            $array[$i] = $ffi->cast('const char *', $buffer);
        }
        Library::check($ffi, $ffi->vod_events_confirm($client, $array, $n));
        unset($buffers);
    }

    private function handle(): \FFI\CData
    {
        return $this->handle ?? throw new \LogicException('this VodUpload\Client was destroyed');
    }

    /**
     * Runs `$call` with a vod_upload_options built from `$options` (NULL when empty), freed after.
     *
     * @template T
     * @param array<string, mixed> $options
     * @param callable(?\FFI\CData): T $call
     * @return T
     */
    private function withOptions(array $options, string $method, callable $call): mixed
    {
        foreach ($options as $key => $value) {
            if (!isset(self::OPTIONS[$key])) {
                throw new InvalidArgumentException("unknown upload option '$key'; the options are: " . implode(', ', array_keys(self::OPTIONS)));
            }
            $type = self::OPTIONS[$key];
            $ok = $value === null || match ($type) {
                'string' => is_string($value),
                'int' => is_int($value),
                'bool' => is_bool($value),
                'list<string>' => is_array($value) && array_is_list($value)
                    && count(array_filter($value, 'is_string')) === count($value),
            };
            if (!$ok) {
                throw new \TypeError("VodUpload\\Client::$method(): option '$key' must be of type ?$type, " . get_debug_type($value) . ' given'
                    . ($type === 'list<string>' && is_array($value) ? ' (with an element that is not a string, or keys)' : ''));
            }
        }
        if ($options === []) {
            return $call(null);
        }
        $ffi = $this->ffi;
        $out = $ffi->new('vod_upload_options *');
        Library::check($ffi, $ffi->vod_upload_options_new(\FFI::addr($out)));
        try {
            foreach ($options as $key => $value) {
                $name = self::coreName($key);
                foreach ($key === 'tags' && $value !== null ? $value : [$value] as $one) {
                    $text = Library::optionText($one, $name);
                    Library::check($ffi, $ffi->vod_upload_options_set($out, $name, $text));
                }
            }
            return $call($out);
        } finally {
            $ffi->vod_upload_options_free($out);
        }
    }

    /** The core's name of an upload option: classId is class_id. */
    private static function coreName(string $key): string
    {
        return strtolower((string) preg_replace('/(?<=[a-z0-9])([A-Z])/', '_$1', $key));
    }

    /** The typed setters that take a path as bytes, for a path that is not UTF-8. */
    private const PATH_SETTERS = [
        'ca_file' => 'vod_client_set_ca_file',
        'fingerprint_cache' => 'vod_client_set_fingerprint_cache',
    ];
}
