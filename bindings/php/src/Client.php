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
 * Event notification (issue #8): the service reports "Video Upload Completed" (and other events)
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
 * Not clonable (it owns a native handle). Setters return the client, for chaining, and apply to
 * uploads started afterwards.
 */
final class Client
{
    /** The options upload() and begin() accept, and the type of each. */
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
     * @param ?string $secretId  the API SecretId; with `$secretKey` null too, both come from the
     *                           environment variables TENCENTCLOUD_SECRET_ID and TENCENTCLOUD_SECRET_KEY
     * @param ?string $secretKey the API SecretKey: kept only in the library's memory, never shown in
     *                           a message (and hidden from PHP stack traces)
     * @param ?string $endpoint  the upload API URL; null: https://vod2.qcloud.com/v2/index.php
     * @param ?string $eventsEndpoint the event API URL of pullEvents() and confirmEvents() (see
     *                           setEventsEndpoint()); null: https://vod.api.qcloud.com/v2/index.php
     *
     * @throws LibraryException libvodupload cannot be loaded (see Library)
     * @throws InvalidArgumentException only one of the credentials given, a NUL byte
     * @throws InvalidInputException empty credentials or with whitespace, a bad endpoint or
     *                               events endpoint, a missing environment variable
     */
    public function __construct(
        ?string $secretId = null,
        #[\SensitiveParameter] ?string $secretKey = null,
        ?string $endpoint = null,
        ?string $eventsEndpoint = null,
    ) {
        $this->ffi = Library::ffi();
        if ($endpoint !== null) {
            Library::text($endpoint, 'the endpoint');
        }
        if ($eventsEndpoint !== null) {
            Library::text($eventsEndpoint, 'the events endpoint');
        }
        $out = $this->ffi->new('vod_client *');
        if ($secretId === null && $secretKey === null) {
            $status = $this->ffi->vod_client_new_from_env($endpoint, \FFI::addr($out));
        } elseif ($secretId === null || $secretKey === null) {
            throw new InvalidArgumentException(
                'give both the SecretId and the SecretKey, or neither (then TENCENTCLOUD_SECRET_ID and'
                . ' TENCENTCLOUD_SECRET_KEY are used); the ' . ($secretId === null ? 'SecretId' : 'SecretKey') . ' is missing'
            );
        } else {
            $status = $this->ffi->vod_client_new(
                Library::text($secretId, 'the SecretId'),
                Library::text($secretKey, 'the SecretKey'),
                $endpoint,
                \FFI::addr($out),
            );
        }
        Library::check($this->ffi, $status);
        if ($eventsEndpoint !== null) {
            $status = $this->ffi->vod_client_set_events_endpoint($out, $eventsEndpoint);
            if ($status !== 0) {
                $e = Library::lastError($this->ffi, $status);
                $this->ffi->vod_client_free($out);  // a constructor that throws gets no __destruct
                throw $e;
            }
        }
        $this->handle = $out;
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

    /** The part size: 524288 (512 KiB) or 1048576 (1 MiB, the default); the service takes no other. */
    public function setPartSize(int $bytes): static
    {
        Library::range($bytes, 0, PHP_INT_MAX, 'the part size');
        Library::check($this->ffi, $this->ffi->vod_client_set_part_size($this->handle(), $bytes));
        return $this;
    }

    /** How many parts upload() sends at once: 1 to 64 (default 4). */
    public function setConcurrency(int $parts): static
    {
        Library::range($parts, 0, 0xFFFFFFFF, 'the concurrency');
        Library::check($this->ffi, $this->ffi->vod_client_set_concurrency($this->handle(), $parts));
        return $this;
    }

    /** Trusts only the certificates in this PEM file (like curl's --cacert) instead of the system's roots; read now. */
    public function setCaFile(string $pemPath): static
    {
        Library::text($pemPath, 'the CA file path');
        Library::check($this->ffi, $this->ffi->vod_client_set_ca_file($this->handle(), $pemPath));
        return $this;
    }

    /** Tries per request, the first included (default 5): retries follow the service's canRetry and network failures. */
    public function setMaxAttempts(int $attempts): static
    {
        Library::range($attempts, 0, 0xFFFFFFFF, 'the number of attempts');
        Library::check($this->ffi, $this->ffi->vod_client_set_max_attempts($this->handle(), $attempts));
        return $this;
    }

    /** Connect timeout in seconds (default 10). */
    public function setConnectTimeout(float $seconds): static
    {
        $ms = self::milliseconds($seconds, 'the connect timeout');
        Library::check($this->ffi, $this->ffi->vod_client_set_connect_timeout_ms($this->handle(), $ms));
        return $this;
    }

    /** Timeout of each request in seconds, the part's upload included (default 60). */
    public function setRequestTimeout(float $seconds): static
    {
        $ms = self::milliseconds($seconds, 'the request timeout');
        Library::check($this->ffi, $this->ffi->vod_client_set_request_timeout_ms($this->handle(), $ms));
        return $this;
    }

    /** The service's Region parameter (default "gz"). */
    public function setRegion(string $region): static
    {
        Library::text($region, 'the region');
        Library::check($this->ffi, $this->ffi->vod_client_set_region($this->handle(), $region));
        return $this;
    }

    /** "HmacSHA1" (the default) or "HmacSHA256". */
    public function setSignatureMethod(string $method): static
    {
        Library::text($method, 'the signature method');
        Library::check($this->ffi, $this->ffi->vod_client_set_signature_method($this->handle(), $method));
        return $this;
    }

    /** Sends requests through this HTTP proxy ("http://host:port"); by default HTTPS_PROXY / HTTP_PROXY / ALL_PROXY apply. */
    public function setProxy(string $url): static
    {
        Library::text($url, 'the proxy URL');
        Library::check($this->ffi, $this->ffi->vod_client_set_proxy($this->handle(), $url));
        return $this;
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
        if ($url !== null) {
            Library::text($url, 'the events endpoint');
        }
        Library::check($this->ffi, $this->ffi->vod_client_set_events_endpoint($this->handle(), $url));
        return $this;
    }

    /**
     * Client-side pacing under the service's published rates (10000 UploadPart and 100
     * InitUpload/FinishUpload a minute), on by default. Turn it off only for a test server.
     */
    public function setRateLimiting(bool $enabled): static
    {
        Library::check($this->ffi, $this->ffi->vod_client_set_rate_limiting($this->handle(), $enabled));
        return $this;
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
        return $this->withOptions($options, function (?\FFI\CData $opts) use ($handle, $path): UploadResult {
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
        return $this->withOptions($options, function (?\FFI\CData $opts) use ($handle, $path): Upload {
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
    private function withOptions(array $options, callable $call): mixed
    {
        foreach ($options as $key => $value) {
            if (!isset(self::OPTIONS[$key])) {
                throw new InvalidArgumentException("unknown upload option '$key'; the options are: " . implode(', ', array_keys(self::OPTIONS)));
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
                if ($value === null) {
                    continue;   // null = the default
                }
                $type = self::OPTIONS[$key];
                $ok = match ($type) {
                    'string' => is_string($value),
                    'int' => is_int($value),
                    'bool' => is_bool($value),
                    'list<string>' => is_array($value) && array_is_list($value)
                        && count(array_filter($value, 'is_string')) === count($value),
                };
                if (!$ok) {
                    throw new InvalidArgumentException("upload option '$key' must be a $type, got " . get_debug_type($value)
                        . ($type === 'list<string>' && is_array($value) ? ' (with an element that is not a string, or keys)' : ''));
                }
                $status = match ($key) {
                    'name' => $ffi->vod_upload_options_set_name($out, Library::text($value, 'the name')),
                    'fileType' => $ffi->vod_upload_options_set_type($out, Library::text($value, 'the file type')),
                    'classId' => $ffi->vod_upload_options_set_class_id($out, Library::range($value, 0, PHP_INT_MAX, 'the classId')),
                    'transcode' => $ffi->vod_upload_options_set_transcode($out, $value),
                    'screenshot' => $ffi->vod_upload_options_set_screenshot($out, $value),
                    'watermark' => $ffi->vod_upload_options_set_watermark($out, $value),
                    'tags' => $this->addTags($out, $value),
                };
                Library::check($ffi, $status);
            }
            return $call($out);
        } finally {
            $ffi->vod_upload_options_free($out);
        }
    }

    /** @param list<string> $tags */
    private function addTags(\FFI\CData $options, array $tags): int
    {
        foreach ($tags as $tag) {
            $status = $this->ffi->vod_upload_options_add_tag($options, Library::text($tag, 'a tag'));
            if ($status !== 0) {
                return $status;
            }
        }
        return 0;
    }

    private static function milliseconds(float $seconds, string $what): int
    {
        if (!is_finite($seconds) || $seconds < 0 || $seconds > 1e12) {
            throw new InvalidArgumentException("$what must be a number of seconds ≥ 0, got $seconds");
        }
        return (int) round($seconds * 1000);
    }
}
