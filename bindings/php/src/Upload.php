<?php

declare(strict_types=1);

namespace VodUpload;

/**
 * An upload driven step by step, from Client::begin(): the file is hashed and the service was
 * asked what it already has. Send each needed part, then finish:
 *
 *     $up = $client->begin('/srv/video.mp4');
 *     foreach ($up->partsNeeded() as $i) {
 *         $up->uploadPart($i);
 *         printf("%.0f%%\n", 100 * $up->progress());
 *     }
 *     $r = $up->finish();
 *
 * Parts the service already holds (an earlier, interrupted upload of the same content) are not
 * needed; if it holds the whole file none are (isInstant()). A part that fails stays needed:
 * send it again later, or begin() again in another process, which resumes where this one
 * stopped. Destroying an unfinished upload sends nothing: the service keeps its parts.
 *
 * Owns a native vod_upload, freed when the object is destroyed; independent of its Client
 * (which may be destroyed first). Not clonable.
 */
final class Upload
{
    private ?\FFI\CData $handle;

    /** @internal Use Client::begin(). */
    public function __construct(private \FFI $ffi, \FFI\CData $handle)
    {
        $this->handle = $handle;
    }

    public function __destruct()
    {
        if ($this->handle !== null) {
            $this->ffi->vod_upload_free($this->handle);
            $this->handle = null;
        }
    }

    public function __clone()
    {
        // The copy would share the handle: it is destroyed (and would free it) even though
        // this throws, so it must not own it.
        $this->handle = null;
        throw new \LogicException('a VodUpload\Upload cannot be cloned (it owns a native handle)');
    }

    /** How many parts the file has (needed or not), numbered from 0. */
    public function partCount(): int
    {
        return (int) $this->ffi->vod_upload_part_count($this->handle());
    }

    /**
     * The indexes of the parts still to send, in order (a snapshot: parts stored since are not
     * needed any more).
     *
     * @return list<int>
     */
    public function partsNeeded(): array
    {
        $handle = $this->handle();
        $needed = [];
        $count = (int) $this->ffi->vod_upload_part_count($handle);
        for ($i = 0; $i < $count; $i++) {
            if ($this->ffi->vod_upload_part_needed($handle, $i)) {
                $needed[] = $i;
            }
        }
        return $needed;
    }

    /** Whether part `$index` still has to be sent (false out of range). */
    public function partNeeded(int $index): bool
    {
        return $index >= 0 && (bool) $this->ffi->vod_upload_part_needed($this->handle(), $index);
    }

    /**
     * Sends part `$index` (blocking until the service stored it, with retries); a part that is
     * not needed is skipped.
     *
     * @throws InvalidInputException `$index` is negative or not below partCount()
     * @throws VodException FileChangedException, NetworkException, ServerException, AbortedException...
     */
    public function uploadPart(int $index): void
    {
        $handle = $this->handle();
        if ($index < 0) {
            // The library takes a size_t, which cannot say -1: its rule, in its words.
            $count = (int) $this->ffi->vod_upload_part_count($handle);
            throw new InvalidInputException("part index $index is out of range: the file has $count parts", $this->ffi->VOD_ERR_INVALID_INPUT);
        }
        Library::check($this->ffi, $this->ffi->vod_upload_part($handle, $index));
    }

    /**
     * Finishes the upload (FinishUpload) once no part is needed. Calling it again after a success
     * gives the same result.
     *
     * @throws InvalidInputException parts are still needed
     * @throws VodException transport and service errors
     */
    public function finish(): UploadResult
    {
        $out = $this->ffi->new('vod_upload_result *');
        Library::check($this->ffi, $this->ffi->vod_upload_finish($this->handle(), \FFI::addr($out)));
        return UploadResult::take($this->ffi, $out);
    }

    /** The share of the file the service holds, from 0.0 to 1.0 (parts it already had count); never decreases. */
    public function progress(): float
    {
        $total = $this->bytesTotal();
        return $total === 0 ? 1.0 : $this->bytesDone() / $total;
    }

    /** Bytes the service holds (stored parts plus those it already had); never decreases. */
    public function bytesDone(): int
    {
        return (int) $this->ffi->vod_upload_bytes_done($this->handle());
    }

    /** The file size in bytes. */
    public function bytesTotal(): int
    {
        return (int) $this->ffi->vod_upload_bytes_total($this->handle());
    }

    /** The part size agreed with the service (a resumed upload keeps its first attempt's). */
    public function partSize(): int
    {
        return (int) $this->ffi->vod_upload_part_size($this->handle());
    }

    /** Whether the service already had the whole file, so no part is needed ("instant upload"). */
    public function isInstant(): bool
    {
        return (bool) $this->ffi->vod_upload_is_instant($this->handle());
    }

    /**
     * Stops this upload: every later uploadPart() and finish() throws AbortedException. The
     * service keeps the parts it has: begin() the same file again to resume.
     */
    public function cancel(): void
    {
        $this->ffi->vod_upload_cancel($this->handle());
    }

    private function handle(): \FFI\CData
    {
        return $this->handle ?? throw new \LogicException('this VodUpload\Upload was destroyed');
    }
}
