<?php

declare(strict_types=1);

namespace VodUpload;

/**
 * One event notification: the JSON body the service POSTs to your callback URL, or an event
 * pulled from the app's queue (Client::pullEvents()). For "Video Upload Completed":
 *
 *     {"version":"4.0","eventType":"NewFileUpload","data":{"fileId":"5285890781234567890",
 *      "fileUrl":"https://...","fileName":"holiday","sourceType":"ServerUpload",...}}
 *
 *     $event = VodUpload\parse_event(file_get_contents('php://input'));   // or Event::parse()
 *     if ($event->isNewFileUpload()) {
 *         markUploaded($event->fileId, $event->fileUrl);
 *     }
 *
 * Parsing is tolerant: only a JSON object with a non-empty string "eventType" is required. Other
 * event types and fields this class does not name are accepted and kept (raw, toArray()). A
 * field reads null when it is absent, null, not a string or a number (a numeric fileId reads as
 * its JSON text, "123"), or holds U+0000 (which no real event has; it is still in raw).
 *
 * A plain immutable value: the library's event is copied here and freed at once (no native
 * handle is kept). Two events are == when they hold the same fields and the same JSON text.
 */
final class Event
{
    /**
     * @param string  $eventType       "NewFileUpload" for "Video Upload Completed"; other types pass through
     * @param ?string $version         the event format's version, e.g. "4.0"
     * @param ?string $fileId          data.fileId: the video's id, as UploadResult::$fileId gave it
     * @param ?string $fileUrl         data.fileUrl: where the service serves the video
     * @param ?string $fileName        data.fileName: the video's name, without extension
     * @param ?string $sourceType      data.sourceType: "ServerUpload" for uploads made with this package
     * @param ?string $sourceContext   data.sourceContext
     * @param ?string $transcodeTaskId data.transcodeTaskId
     * @param ?string $procedureTaskId data.procedureTaskId
     * @param string  $raw             the event's whole JSON text: exactly the string given to parse(),
     *                                 or the JSON of a pulled event; every field is there
     */
    private function __construct(
        public readonly string $eventType,
        public readonly ?string $version,
        public readonly ?string $fileId,
        public readonly ?string $fileUrl,
        public readonly ?string $fileName,
        public readonly ?string $sourceType,
        public readonly ?string $sourceContext,
        public readonly ?string $transcodeTaskId,
        public readonly ?string $procedureTaskId,
        public readonly string $raw,
        private readonly bool $newFileUpload,
    ) {
    }

    /**
     * Parses an event's JSON: the body of a callback POST (file_get_contents('php://input')), or
     * a stored event's raw text. Pure computation, no request. The same as
     * VodUpload\parse_event().
     *
     * @throws InvalidInputException the text is not an event: not UTF-8, not valid JSON (the
     *                               message gives the line and column and shows the start of
     *                               the text), not an object, no "eventType", "eventType" not a
     *                               non-empty string
     */
    public static function parse(string $json): self
    {
        $ffi = Library::ffi();
        $out = $ffi->new('vod_event *');
        // A PHP string goes to `const char *` as its buffer: NUL bytes inside are kept, since
        // the length is passed too (and then refused by the parser as not JSON).
        Library::check($ffi, $ffi->vod_event_parse($json, strlen($json), \FFI::addr($out)));
        try {
            return self::copy($ffi, $out);
        } finally {
            $ffi->vod_event_free($out);
        }
    }

    /** Whether this is "Video Upload Completed" (eventType "NewFileUpload"). */
    public function isNewFileUpload(): bool
    {
        return $this->newFileUpload;
    }

    /**
     * The whole event as PHP arrays (json_decode($raw, true)), for the fields this class does
     * not name, e.g. `$event->toArray()['data']['someNewField'] ?? null`. Integers too large for
     * PHP's int stay strings.
     *
     * @return array<string, mixed>
     */
    public function toArray(): array
    {
        // The library checked $raw is a JSON object, so this does not fail.
        return json_decode($this->raw, true, 512, JSON_THROW_ON_ERROR | JSON_BIGINT_AS_STRING);
    }

    /**
     * Copies every field of a native vod_event (owned by the caller, which frees it).
     *
     * @internal
     */
    public static function copy(\FFI $ffi, \FFI\CData $e): self
    {
        // `const char *` results arrive as PHP strings, or null for NULL.
        return new self(
            (string) $ffi->vod_event_event_type($e),
            $ffi->vod_event_version($e),
            $ffi->vod_event_file_id($e),
            $ffi->vod_event_file_url($e),
            $ffi->vod_event_file_name($e),
            $ffi->vod_event_source_type($e),
            $ffi->vod_event_source_context($e),
            $ffi->vod_event_transcode_task_id($e),
            $ffi->vod_event_procedure_task_id($e),
            (string) $ffi->vod_event_raw_json($e),
            (bool) $ffi->vod_event_is_new_file_upload($e),
        );
    }
}
