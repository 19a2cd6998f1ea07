<?php

declare(strict_types=1);

namespace VodUpload;

/**
 * The outcome of a finished upload (Client::upload(), Upload::finish()). A plain value: it holds
 * no native handle (the library's result is copied here and freed at once). Its properties are
 * the library's result fields (Library::resultFieldNames()) in camelCase, in the same order.
 */
final class UploadResult
{
    /**
     * @param string $fileId        the service's id for the video (`fileId`)
     * @param string $url           where the service serves the video
     * @param bool   $instant       the service already had the whole file: nothing was sent
     * @param string $fileSha1      the file's SHA-1, lowercase hex
     * @param int    $fileSize      bytes
     * @param int    $partsTotal    parts the file has
     * @param int    $partsUploaded parts this run sent and the service stored
     * @param int    $partsSkipped  parts the service already held (resume) or did not need (instant)
     * @param int    $bytesSent     part bytes this run sent, retries included
     * @param int    $retries       requests this run sent again after a transient failure (network
     *                              error, timeout, HTTP 5xx, a retryable service error)
     * @param float  $elapsed       seconds from the start (hashing included) to the finish
     * @param int    $concurrencyPeak the most parts the upload had in flight at once
     */
    public function __construct(
        public readonly string $fileId,
        public readonly string $url,
        public readonly bool $instant,
        public readonly string $fileSha1,
        public readonly int $fileSize,
        public readonly int $partsTotal,
        public readonly int $partsUploaded,
        public readonly int $partsSkipped,
        public readonly int $bytesSent,
        public readonly int $retries,
        public readonly float $elapsed,
        public readonly int $concurrencyPeak,
    ) {
    }

    /**
     * Copies a vod_upload_result and frees it.
     *
     * @internal
     */
    public static function take(\FFI $ffi, \FFI\CData $r): self
    {
        try {
            return new self(
                (string) $ffi->vod_upload_result_file_id($r),
                (string) $ffi->vod_upload_result_url($r),
                (bool) $ffi->vod_upload_result_instant($r),
                (string) $ffi->vod_upload_result_file_sha1($r),
                (int) $ffi->vod_upload_result_file_size($r),
                (int) $ffi->vod_upload_result_parts_total($r),
                (int) $ffi->vod_upload_result_parts_uploaded($r),
                (int) $ffi->vod_upload_result_parts_skipped($r),
                (int) $ffi->vod_upload_result_bytes_sent($r),
                (int) $ffi->vod_upload_result_retries($r),
                $ffi->vod_upload_result_elapsed_ms($r) / 1000.0,
                (int) $ffi->vod_upload_result_concurrency_peak($r),
            );
        } finally {
            $ffi->vod_upload_result_free($r);
        }
    }
}
