/*
 * vodupload: chunked server-side uploads to the VOD upload host (InitUpload, UploadPart x N,
 * FinishUpload) with resume, retries, parallel parts and bounded memory.
 *
 * Link: `pkg-config --cflags --libs vodupload` (-lvodupload). SONAME libvodupload.so.0.
 *
 * Conventions, for every function below:
 *  - Status: fallible calls return a vod_status; VOD_OK (0) is success. On failure,
 *    vod_last_error() gives this thread's detailed message, vod_last_server_code() the service's
 *    code (for VOD_ERR_AUTH / VOD_ERR_SERVER) and vod_last_can_retry() whether to try again.
 *  - NULL: a NULL where a pointer is required gives VOD_ERR_INVALID_ARGUMENT (or, for functions
 *    returning a value, the documented fallback: NULL, false or 0), never a crash. Optional
 *    pointers are marked "NULL: ..." in their documentation.
 *  - Out-parameters (`out`) are written only on success; on failure they are left untouched.
 *  - Ownership: each handle type has exactly one *_free function, which accepts NULL; free what
 *    an out-parameter gave you. Strings returned as `const char *` are borrowed: from a handle
 *    (valid until it is freed), static (vod_version, vod_strerror) or thread-local
 *    (vod_last_error). Never free them; nor an event borrowed from a list (vod_event_list_event).
 *  - Strings in are NUL-terminated (except vod_event_parse's, which takes a length). Paths are
 *    bytes, as on the file system (need not be UTF-8); every other string must be UTF-8 (else
 *    VOD_ERR_INVALID_INPUT).
 *  - Threads: a vod_client is safe to share between threads; a vod_upload may be driven from any
 *    thread (vod_upload_part even from several at once); vod_upload_options are not
 *    synchronised; vod_upload_result, vod_event and vod_event_list are immutable. Progress
 *    callbacks run on the library's threads, never two at once (see vod_progress_cb).
 *  - Panics: no Rust panic crosses this interface: it becomes VOD_ERR_PANIC.
 *  - Secrets: the SecretKey never appears in any message.
 *
 * ABI policy: within SONAME libvodupload.so.0, functions, types and vod_status values are only
 * ever added, never removed, renamed, renumbered or changed in signature; opaque types may grow
 * freely. A change that breaks this would bump the SONAME. Unknown vod_status values from a newer
 * library should be handled by their band (status / 1000).
 */

#ifndef VODUPLOAD_H
#define VODUPLOAD_H

/* Generated with cbindgen:0.29.4 */

/* Generated from crates/vodupload-ffi by cbindgen: do not edit. Regenerate with crates/vodupload-ffi/gen-header.sh. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * A buffer of this many bytes always holds a signature from `vod_sign` (44 characters for
 * HmacSHA256, 28 for HmacSHA1, plus the NUL).
 */
#define VOD_SIGNATURE_MAX 64

/**
 * The outcome of a call. `VOD_OK` is 0; failures are grouped in bands of a thousand, so a caller
 * can test the band (`status / 1000`) as well as the exact value:
 *
 * - 1000s: the call itself was wrong (a NULL or out-of-range argument) or the library failed;
 * - 2000s: the input was refused (the file, the name, a setting), or the file could not be read;
 * - 3000s: the transport failed (connection, TLS, timeout, an answer that is not the protocol);
 * - 4000s: the service refused the request (credentials, or an error code: see
 *   `vod_last_server_code`);
 * - 5000s: the caller stopped the upload.
 *
 * ABI policy: values are explicit and only ever appended, never renumbered or reused. A newer
 * library may return a value this header does not know: treat it by its band, and show
 * `vod_last_error()`. In C this is a `uint32_t` whose values are named by `enum vod_status`.
 */
enum vod_status
#if defined(__cplusplus) || __STDC_VERSION__ >= 202311L
  : uint32_t
#endif // defined(__cplusplus) || __STDC_VERSION__ >= 202311L
 {
    /**
     * Success.
     */
    VOD_OK = 0,
    /**
     * A required pointer was NULL, or an argument is out of its documented range.
     */
    VOD_ERR_INVALID_ARGUMENT = 1000,
    /**
     * The library hit an internal error (a Rust panic, caught at the boundary). The handles involved
     * are still safe to free; please report it with `vod_last_error()`.
     */
    VOD_ERR_PANIC = 1001,
    /**
     * The output buffer is too small; `vod_last_error()` says how many bytes are needed.
     */
    VOD_ERR_BUFFER_TOO_SMALL = 1002,
    /**
     * An input or setting is refused before anything is sent: an empty or special file, a bad video
     * name or type, a bad part size, concurrency or endpoint, a string that is not UTF-8, parts
     * still missing at finish...
     */
    VOD_ERR_INVALID_INPUT = 2000,
    /**
     * The local file could not be read (other than the two cases below).
     */
    VOD_ERR_IO = 2100,
    /**
     * The file does not exist.
     */
    VOD_ERR_NOT_FOUND = 2101,
    /**
     * The file may not be read (permissions).
     */
    VOD_ERR_PERMISSION_DENIED = 2102,
    /**
     * The file changed (size, time or content) while it was being uploaded: upload it again once
     * it is complete.
     */
    VOD_ERR_FILE_CHANGED = 2200,
    /**
     * The connection failed, was reset, or TLS failed (after the configured retries).
     */
    VOD_ERR_NETWORK = 3000,
    /**
     * A request did not complete in time (after the configured retries).
     */
    VOD_ERR_TIMEOUT = 3100,
    /**
     * The service answered something that is not the protocol (HTML, malformed JSON...).
     */
    VOD_ERR_PROTOCOL = 3200,
    /**
     * The service refused the credentials or the signature (e.g. code -10002, 4100, 4300).
     */
    VOD_ERR_AUTH = 4000,
    /**
     * The service answered with an error code: `vod_last_server_code()` has it.
     */
    VOD_ERR_SERVER = 4100,
    /**
     * The progress callback returned non-zero, or `vod_upload_cancel` was called. The service
     * keeps the parts it has: running the upload again resumes.
     */
    VOD_ERR_ABORTED = 5000,
    /**
     * A failure this version of the library has no better status for; see `vod_last_error()`.
     */
    VOD_ERR_UNKNOWN = 9000,
};
#ifndef __cplusplus
#if __STDC_VERSION__ >= 202311L
typedef enum vod_status vod_status;
#else
typedef uint32_t vod_status;
#endif // __STDC_VERSION__ >= 202311L
#endif // __cplusplus

/**
 * A client: credentials, endpoint and settings, plus a connection pool and the pacing under the
 * service's request rates, shared by all its uploads. Opaque.
 *
 * Thread-safety: safe to share between threads. Uploads may run on several threads at once with
 * one client; the setters may be called at any time and apply to uploads started afterwards
 * (uploads already running keep the settings they started with). Configure it once, then share
 * it: each setter rebuilds the connection pool. The pacing is the account's, shared by every
 * client of one SecretId and endpoint in the process, so rebuilding never resets it.
 */
typedef struct vod_client vod_client;

/**
 * One event: the JSON the service POSTs to the callback URL, or an event pulled from the queue,
 * e.g. `{"version":"4.0","eventType":"NewFileUpload","data":{"fileId":"...","fileUrl":"...",
 * "fileName":"...","sourceType":"ServerUpload",...}}`. Opaque; read it with the `vod_event_*`
 * accessors.
 *
 * Made by `vod_event_parse` (free it with `vod_event_free`) or borrowed from a `vod_event_list`
 * (`vod_event_list_event`: valid until `vod_event_list_free`; never free it yourself).
 * Immutable: safe to read from several threads at once. The strings its accessors return are
 * borrowed from it.
 */
typedef struct vod_event vod_event;

/**
 * The events one `vod_events_pull` returned, oldest first (at most 16), each with the message
 * handle that confirms it. Opaque; free it with `vod_event_list_free`. Immutable: safe to read
 * from several threads at once.
 */
typedef struct vod_event_list vod_event_list;

/**
 * One upload between its beginning (hashing, InitUpload) and its finish. Opaque.
 *
 * Thread-safety: the calls on one upload may come from any thread, and `vod_upload_part` may run
 * on several threads at once for different parts (the library serialises what must be);
 * `vod_upload_free` must be the last call, once no other call on it is running. It does not
 * borrow its client: the client may be freed first.
 */
typedef struct vod_upload vod_upload;

/**
 * Per-upload parameters, built with setters and passed to `vod_upload_file_with_options` or
 * `vod_upload_begin_with_options` (which copy what they need: the options may be changed or freed
 * once the call returns, and one options object may serve many uploads). Opaque.
 *
 * Every setting is optional: by default the video's name is the file name without its extension
 * (characters the service refuses become '_', cut to 40 bytes), its type is the extension, with
 * no tags, no category and no processing.
 *
 * Thread-safety: not synchronised. Several uploads may read one options object at once, but it
 * must not be changed while a call that was given it is running.
 */
typedef struct vod_upload_options vod_upload_options;

/**
 * The outcome of a finished upload. Opaque; read it with the accessors below, free it with
 * `vod_upload_result_free`. Immutable: safe to read from several threads at once.
 */
typedef struct vod_upload_result vod_upload_result;

/**
 * A progress callback.
 *
 * `bytes_done` counts the bytes the server holds (parts skipped by a resume count, a retried part
 * counts once), so it never decreases; `bytes_total` is the file size. For the upload it is
 * called once before the first part (with what a resume already has, possibly 0), then after
 * every part the server stores, ending with `bytes_done == bytes_total`. For hashing (see
 * `vod_upload_options_set_hash_progress`) it reports the bytes read so far.
 *
 * Return 0 to go on; any other value stops the upload: the call then fails with
 * `VOD_ERR_ABORTED`, the parts in flight finish or stop, and the service keeps what it has, so
 * the next upload of the same file resumes.
 *
 * Threads: the upload callback is called from the library's internal threads, never two calls at
 * once (calls are serialised, and each happens-before the next); the hashing callback is called
 * on the thread that called `vod_upload_file*` or `vod_upload_begin*`. `user_data` is passed
 * through untouched, so it must stay valid, and be usable from those threads, until the call
 * returns. The callback must return normally, and must not call `vod_*` on the same upload. A
 * `longjmp` or a C++ exception out of it is undefined behaviour: it unwinds through Rust frames
 * that hold locks, threads and file handles, and nothing detects it (it may even seem to work);
 * never do it. To stop from a callback, return non-zero.
 */
typedef int32_t (*vod_progress_cb)(void *user_data, uint64_t bytes_done, uint64_t bytes_total);

#ifdef __cplusplus
extern "C" {
#endif // __cplusplus

/**
 * The library's version, e.g. "0.1.0": the version of the vodupload release it was built from.
 * A static string: never free it. Thread-safe.
 */
const char *vod_version(void);

/**
 * A short English description of `status`, e.g. "network error"; "unknown status" for a value
 * this version does not know. A static string: never free it. Thread-safe. For the details of
 * a failure use `vod_last_error()`.
 */
const char *vod_strerror(vod_status status);

/**
 * The message of this thread's last failure ("" when there was none).
 *
 * Set by every call that fails (returns a status other than `VOD_OK`, or its documented failure
 * value: NULL, false or 0 with a NULL argument); calls that succeed leave it as it was, like
 * `errno`, so read it right after the failing call. It says what went wrong and what to do
 * about it; it never contains the SecretKey.
 *
 * Ownership: the string belongs to the library and stays valid on this thread until the next
 * failing `vod_*` call on this thread (or the thread's end). Copy it to keep it. Never NULL.
 * Thread-safety: each thread has its own.
 */
const char *vod_last_error(void);

/**
 * The status of this thread's last failure (`VOD_OK` when there was none). Same lifetime rules
 * as `vod_last_error`; useful after calls that return a value rather than a status.
 */
vod_status vod_last_status(void);

/**
 * The service's error code in this thread's last failure, when the failure was an answer from the
 * service (`VOD_ERR_AUTH` or `VOD_ERR_SERVER`, e.g. -10002 for a bad signature, 4400 for too
 * many requests); 0 otherwise (0 is never an error code of the service).
 */
int64_t vod_last_server_code(void);

/**
 * Whether this thread's last failure is worth retrying as it is: true for network failures,
 * timeouts and service errors marked retryable (after the library's own retries were used up);
 * false for bad input, bad credentials, aborts, and when there was no failure.
 */
bool vod_last_can_retry(void);

/**
 * Creates a client.
 *
 * - `secret_id`, `secret_key`: the API credentials (UTF-8, no whitespace). NULL takes that one
 *   from the environment variable `TENCENTCLOUD_SECRET_ID` / `TENCENTCLOUD_SECRET_KEY` (both
 *   NULL: both from the environment, as `vod_client_new_from_env`). The key is copied and kept
 *   only in memory; no message ever shows it.
 * - `endpoint`: the full URL of the upload API, e.g. "https://vod2.qcloud.com/v2/index.php";
 *   NULL for that default.
 * - `out`: receives the new client on success (untouched on failure). Free it with
 *   `vod_client_free`.
 *
 * Nothing is sent yet. Defaults: part size 1 MiB, 4 parts in parallel, 5 tries per request,
 * connect timeout 10 s, request timeout 60 s, region "gz", HmacSHA1, pacing under the service's
 * published request rates, system CA roots, no fingerprint cache, events endpoint
 * "https://vod.api.qcloud.com/v2/index.php" (see `vod_client_set_events_endpoint`).
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL `out`), `VOD_ERR_INVALID_INPUT` (empty credentials
 * or with whitespace, one missing from both the arguments and the environment, a bad endpoint,
 * not UTF-8).
 */
vod_status vod_client_new(const char *secret_id,
                          const char *secret_key,
                          const char *endpoint,
                          vod_client **out);

/**
 * Creates a client with the credentials in the environment variables `TENCENTCLOUD_SECRET_ID` and
 * `TENCENTCLOUD_SECRET_KEY`; otherwise as `vod_client_new` (`endpoint` NULL for the default).
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL `out`), `VOD_ERR_INVALID_INPUT` (a variable missing
 * or empty, a bad endpoint).
 */
vod_status vod_client_new_from_env(const char *endpoint, vod_client **out);

/**
 * Frees a client. NULL is fine. Uploads begun with it (`vod_upload`) stay usable: they hold what
 * they need. No other thread may be using `client` when it is freed, and it must not be used
 * afterwards.
 */
void vod_client_free(vod_client *client);

/**
 * Sets any client option by its name, from text, as a configuration file would: `name` is one
 * of the names `vod_client_option_name` lists ("concurrency", "request_timeout"...), `value`
 * its text ("8", "2.5" seconds, "true", a path or URL; a path is bytes, as on the file system),
 * or NULL for the option's default. The same rules and messages as the typed setters, and as
 * every other face.
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client or name), `VOD_ERR_INVALID_INPUT` (an unknown
 * name, a value the option refuses, not UTF-8); the setting is then unchanged.
 */
vod_status vod_client_set_option(vod_client *client, const char *name, const char *value);

/**
 * Sets the part size: 524288 (512 KiB) or 1048576 (1 MiB, the default); the service accepts no
 * other. A resumed upload keeps the part size its first attempt used, whatever this says.
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client), `VOD_ERR_INVALID_INPUT` (another size).
 */
vod_status vod_client_set_part_size(vod_client *client, uint64_t bytes);

/**
 * Sets how many parts one `vod_upload_file*` call sends at once: a fixed 1 to 64. The default is
 * "auto" (see `vod_client_set_concurrency_auto`).
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client), `VOD_ERR_INVALID_INPUT` (out of range).
 */
vod_status vod_client_set_concurrency(vod_client *client, uint32_t n);

/**
 * Lets the client choose how many parts are in flight (the default): it starts with one, grows
 * while throughput rises (doubling each round trip), settles where it stops rising (the link,
 * the server or the service's rate is the limit), backs off on timeouts, network errors and
 * 4400, and shares that window among all the uploads of this client. See docs/concurrency.md.
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client).
 */
vod_status vod_client_set_concurrency_auto(vod_client *client);

/**
 * Trusts only the certificates in the PEM file `pem_path` (like curl's `--cacert`) instead of
 * the system's roots, e.g. for a test server. The file is read now; the path is bytes, as on
 * the file system.
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client or path), `VOD_ERR_NOT_FOUND` /
 * `VOD_ERR_PERMISSION_DENIED` / `VOD_ERR_IO` (the file cannot be read), `VOD_ERR_INVALID_INPUT`
 * (it holds no certificate).
 */
vod_status vod_client_set_ca_file(vod_client *client, const char *pem_path);

/**
 * Sets how many times a request is tried, the first included: 1 to 100 (default 5; 1 means no
 * retries). Retries wait with exponential backoff and jitter, and happen only for failures that
 * can pass (network errors, timeouts, HTTP 5xx, service errors marked retryable).
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client), `VOD_ERR_INVALID_INPUT` (out of range).
 */
vod_status vod_client_set_max_attempts(vod_client *client, uint32_t attempts);

/**
 * Sets the time allowed to connect (TCP and TLS), in milliseconds: more than 0, at most a day
 * (default 10000).
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client), `VOD_ERR_INVALID_INPUT` (out of range).
 */
vod_status vod_client_set_connect_timeout_ms(vod_client *client, uint64_t ms);

/**
 * Sets the time allowed for one whole request (connect, send the part, read the answer), in
 * milliseconds: more than 0, at most a day (default 60000). A request that takes longer fails
 * with `VOD_ERR_TIMEOUT` once the retries are used up.
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client), `VOD_ERR_INVALID_INPUT` (out of range).
 */
vod_status vod_client_set_request_timeout_ms(vod_client *client, uint64_t ms);

/**
 * Sets the delay before the first retry, in milliseconds (default 250); each further retry
 * waits twice as long, up to `vod_client_set_retry_max_delay_ms`, with jitter. More than 0, at
 * most an hour.
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client), `VOD_ERR_INVALID_INPUT` (out of range).
 */
vod_status vod_client_set_retry_base_delay_ms(vod_client *client, uint64_t ms);

/**
 * Sets the longest delay between two tries, in milliseconds (default 8000). More than 0, at
 * most an hour.
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client), `VOD_ERR_INVALID_INPUT` (out of range).
 */
vod_status vod_client_set_retry_max_delay_ms(vod_client *client, uint64_t ms);

/**
 * Sets the `Region` parameter: "gz" (default), "bj", "sh", "hk", "ca"...
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL), `VOD_ERR_INVALID_INPUT` (empty, or not letters,
 * digits and '-').
 */
vod_status vod_client_set_region(vod_client *client, const char *region);

/**
 * Sets the signature method: "HmacSHA1" (default) or "HmacSHA256" (case-insensitive).
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL), `VOD_ERR_INVALID_INPUT` (another name).
 */
vod_status vod_client_set_signature_method(vod_client *client, const char *method);

/**
 * Turns the client-side pacing on (default) or off. When on, the client keeps under the
 * service's published rates (10000 UploadPart and 100 InitUpload/FinishUpload calls a minute)
 * across all the threads and clients of this SecretId in the process, waiting rather than
 * earning error 4400. Turn it off only for a server without those limits (a test server).
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client).
 */
vod_status vod_client_set_rate_limiting(vod_client *client, bool enabled);

/**
 * Sets the account's rates, in calls a minute, that the pacing keeps under: UploadPart, and
 * InitUpload and FinishUpload each (defaults 10000 and 100, the service's published caps; 0: not
 * paced). For an account with other caps, or a test server configured with them.
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client), `VOD_ERR_INVALID_INPUT` (over 1,000,000); the
 * settings are then unchanged.
 */
vod_status vod_client_set_rate_limits(vod_client *client,
                                      uint32_t upload_part_per_minute,
                                      uint32_t init_finish_per_minute);

/**
 * Shares the pacing through Redis with every process that uses the same URL, for a fleet of app
 * servers under one SecretId: `redis://[user:password@]host[:port][/db]` (several hosts,
 * comma-separated, for a Redis Cluster). If Redis fails or is slow the pacing goes on locally
 * with one warning; `?strict=true` at the end makes that an error (`VOD_ERR_NETWORK`) instead.
 * The password never appears in messages. NULL: this process only (the default).
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client), `VOD_ERR_INVALID_INPUT` (not a Redis URL);
 * the setting is then unchanged. Nothing is connected yet: Redis is first used by an upload.
 */
vod_status vod_client_set_pacing_url(vod_client *client, const char *url);

/**
 * Sends requests through the HTTP proxy `url` ("http://host:port"). Without this call the
 * usual `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` and `NO_PROXY` variables apply, except for
 * an endpoint on this machine (an emulator), which is reached directly.
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL), `VOD_ERR_INVALID_INPUT` (not a usable proxy URL).
 */
vod_status vod_client_set_proxy(vod_client *client, const char *url);

/**
 * Keeps each file's SHA-1 and part MD5s in the directory `dir` (keyed by path, size, times and
 * inode), so a re-upload or the resume of a large file starts without reading it again. The
 * directory is created private (0700) when needed; one that another user could write to is
 * refused, as its entries decide the file id an upload ends under. NULL turns the cache off
 * (the default).
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client), `VOD_ERR_INVALID_INPUT` (not a directory,
 * owned or writable by another user); the setting is then unchanged.
 */
vod_status vod_client_set_fingerprint_cache(vod_client *client, const char *dir);

/**
 * Sets the full URL of the event API that `vod_events_pull` and `vod_events_confirm` call
 * (signed with the same credentials; their requests are not paced). NULL restores the default,
 * "https://vod.api.qcloud.com/v2/index.php": the provider's general API host, not the upload
 * host. For the emulator, pass its endpoint (the same URL as the upload endpoint).
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client), `VOD_ERR_INVALID_INPUT` (not a usable
 * http/https URL, or not UTF-8); the setting is then unchanged.
 */
vod_status vod_client_set_events_endpoint(vod_client *client, const char *url);

/**
 * The name of client option `index` (0, 1, ... until NULL), as `vod_client_set_option` takes
 * it: "endpoint", "part_size", "request_timeout"... A static string: never free it. Thread-safe.
 */
const char *vod_client_option_name(size_t index);

/**
 * The name of upload option `index` (0, 1, ... until NULL), as `vod_upload_options_set` takes
 * it: "name", "file_type", "tags"... A static string: never free it. Thread-safe.
 */
const char *vod_upload_option_name(size_t index);

/**
 * The name of result field `index` (0, 1, ... until NULL): "file_id", "url", "retries"...; each
 * has an accessor `vod_upload_result_<name>` (`elapsed` as `vod_upload_result_elapsed_ms`). A
 * static string: never free it. Thread-safe.
 */
const char *vod_upload_result_field_name(size_t index);

/**
 * The kind of client option `index` (as `vod_client_option_name`), or NULL past the end:
 * "integer", "seconds" (fractions allowed), "bool" ("true"/"false"), "text", "url", "path"
 * (bytes as on the file system), "text_list" (one item per set), "integer_or_auto" (a number
 * or "auto"). A static string: never free it. Thread-safe.
 */
const char *vod_client_option_kind(size_t index);

/**
 * The kind of upload option `index` (as `vod_upload_option_name`), or NULL past the end; see
 * `vod_client_option_kind`.
 */
const char *vod_upload_option_kind(size_t index);

/**
 * Creates an options object with every setting at its default. Free it with
 * `vod_upload_options_free`.
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL `out`).
 */
vod_status vod_upload_options_new(vod_upload_options **out);

/**
 * Frees an options object. NULL is fine.
 */
void vod_upload_options_free(vod_upload_options *options);

/**
 * Sets any upload option by its name, from text: `name` is one of the names
 * `vod_upload_option_name` lists ("name", "file_type", "tags", "class_id", "transcode"...),
 * `value` its text ("mp4", "42", "true"), or NULL for the default. "tags" adds one tag per call
 * (NULL removes them all). The same rules and messages as the typed setters.
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL options or name), `VOD_ERR_INVALID_INPUT` (an unknown
 * name, a value the option refuses, not UTF-8); the options are then unchanged.
 */
vod_status vod_upload_options_set(vod_upload_options *options, const char *name, const char *value);

/**
 * Sets the video's name (the service's `fileName`): UTF-8, 1 to 40 bytes, none of
 * `\ / : * ? " < >` nor control characters, without the extension. It is checked now and used as
 * given, never silently changed.
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL), `VOD_ERR_INVALID_INPUT` (breaks a rule above).
 */
vod_status vod_upload_options_set_name(vod_upload_options *options, const char *name);

/**
 * Sets the video's type (the service's `fileType`), e.g. "mp4" (a leading '.' is dropped);
 * needed when the file has no extension. Letters and digits only, at most 16.
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL), `VOD_ERR_INVALID_INPUT` (breaks a rule above, not
 * UTF-8).
 */
vod_status vod_upload_options_set_type(vod_upload_options *options, const char *file_type);

/**
 * Adds a tag (sent as `tags.1`, `tags.2`... in the order added). Tags must be non-empty and
 * without control characters.
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL), `VOD_ERR_INVALID_INPUT` (breaks a rule above, not
 * UTF-8).
 */
vod_status vod_upload_options_add_tag(vod_upload_options *options, const char *tag);

/**
 * Removes every tag added so far.
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL).
 */
vod_status vod_upload_options_clear_tags(vod_upload_options *options);

/**
 * Sets the category (the service's `classId`), a non-negative id; -1 removes it (the default:
 * none).
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL), `VOD_ERR_INVALID_INPUT` (another negative value).
 */
vod_status vod_upload_options_set_class_id(vod_upload_options *options, int64_t class_id);

/**
 * Asks the service to transcode the video after the upload (`isTranscode`; default off).
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL).
 */
vod_status vod_upload_options_set_transcode(vod_upload_options *options, bool enabled);

/**
 * Asks the service to take screenshots of the video (`isScreenshot`; default off).
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL).
 */
vod_status vod_upload_options_set_screenshot(vod_upload_options *options, bool enabled);

/**
 * Asks the service to watermark the video (`isWatermark`; default off).
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL).
 */
vod_status vod_upload_options_set_watermark(vod_upload_options *options, bool enabled);

/**
 * Sets a callback for the hashing phase: before anything is sent, the whole file is read once
 * to compute its SHA-1 and part MD5s, which takes a while for a large file. `callback` gets the
 * bytes read so far and the file size, on the thread that called `vod_upload_file*` /
 * `vod_upload_begin*`; a non-zero return stops with `VOD_ERR_ABORTED`. NULL `callback` removes
 * it. See `vod_progress_cb` for the rules; `user_data` must stay valid while uploads using these
 * options run.
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL `options`).
 */
vod_status vod_upload_options_set_hash_progress(vod_upload_options *options,
                                                vod_progress_cb callback,
                                                void *user_data);

/**
 * Uploads the file at `path` in one call: reads it once to hash it, asks the service what it
 * already has (InitUpload), sends the missing parts in parallel (`vod_client_set_concurrency`)
 * with retries, and finishes (FinishUpload). With the default options; see
 * `vod_upload_file_with_options` for name, type, tags...
 *
 * - `client`: required; may be shared with other threads uploading at the same time.
 * - `path`: required; bytes as on the file system (need not be UTF-8). A regular, non-empty file
 *   that must not change during the upload.
 * - `progress`: optional (NULL: none), called with `user_data`; see `vod_progress_cb`. A non-zero
 *   return stops the upload with `VOD_ERR_ABORTED`; uploading the same file again then resumes,
 *   sending only the parts the service lacks.
 * - `out`: required; receives the result on success (untouched on failure); free it with
 *   `vod_upload_result_free`.
 *
 * Blocks until done. Errors: any status; `vod_last_error()` says what happened and
 * `vod_last_server_code()` gives the service's code. Typical: `VOD_ERR_NOT_FOUND`,
 * `VOD_ERR_INVALID_INPUT` (empty file, no extension and no type...), `VOD_ERR_AUTH` (wrong
 * key), `VOD_ERR_NETWORK`, `VOD_ERR_TIMEOUT`, `VOD_ERR_SERVER`, `VOD_ERR_FILE_CHANGED`,
 * `VOD_ERR_ABORTED`.
 */
vod_status vod_upload_file(vod_client *client,
                           const char *path,
                           vod_progress_cb progress,
                           void *user_data,
                           vod_upload_result **out);

/**
 * As `vod_upload_file`, with `options` (NULL: the defaults). The options are only read during
 * the call.
 */
vod_status vod_upload_file_with_options(vod_client *client,
                                        const char *path,
                                        const vod_upload_options *options,
                                        vod_progress_cb progress,
                                        void *user_data,
                                        vod_upload_result **out);

/**
 * Begins a step-by-step upload: checks and hashes the file, then asks the service what it
 * already has (InitUpload). No callbacks are needed, which suits event loops and PHP FFI. Then
 * send each part for which `vod_upload_part_needed` is true with `vod_upload_part`, and call
 * `vod_upload_finish`.
 *
 * If the service already holds some parts (an earlier, interrupted upload of the same content),
 * they are not needed; if it holds the whole file, no part is needed ("instant upload").
 *
 * - `client`, `path`: as for `vod_upload_file`.
 * - `out`: required; receives the upload on success (untouched on failure); free it with
 *   `vod_upload_free`.
 *
 * Blocks while it hashes and asks. Errors: as `vod_upload_file`.
 */
vod_status vod_upload_begin(vod_client *client, const char *path, vod_upload **out);

/**
 * As `vod_upload_begin`, with `options` (NULL: the defaults); a hashing callback set on them is
 * called during this call.
 */
vod_status vod_upload_begin_with_options(vod_client *client,
                                         const char *path,
                                         const vod_upload_options *options,
                                         vod_upload **out);

/**
 * How many parts the file has (all of them, needed or not); parts are numbered from 0.
 * 0 if `upload` is NULL.
 */
size_t vod_upload_part_count(const vod_upload *upload);

/**
 * Whether part `index` still has to be sent: false once the service stored it, when the service
 * already had it (resume, instant upload), and for an index out of range or a NULL `upload`.
 */
bool vod_upload_part_needed(const vod_upload *upload, size_t index);

/**
 * The part size agreed with the service (the client's, or the one an earlier attempt fixed).
 * 0 if `upload` is NULL.
 */
uint64_t vod_upload_part_size(const vod_upload *upload);

/**
 * Bytes the service holds (parts stored plus parts it already had); never decreases.
 * 0 if `upload` is NULL.
 */
uint64_t vod_upload_bytes_done(const vod_upload *upload);

/**
 * The file size. 0 if `upload` is NULL.
 */
uint64_t vod_upload_bytes_total(const vod_upload *upload);

/**
 * Whether the service already had the whole file (no part is needed). False if `upload` is
 * NULL.
 */
bool vod_upload_is_instant(const vod_upload *upload);

/**
 * Sends part `index` (numbered from 0): checks the file has not changed, reads the part and
 * sends it with the MD5 computed while hashing, retrying what can be retried. Blocks until the
 * service stored it. Sending a part that is not needed does nothing and returns `VOD_OK`. May be
 * called from several threads at once for different parts.
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL), `VOD_ERR_INVALID_INPUT` (index out of range),
 * `VOD_ERR_FILE_CHANGED`, `VOD_ERR_IO`, transport and service errors, `VOD_ERR_ABORTED` (after
 * `vod_upload_cancel`). A failed part stays needed: try it again later, or begin again.
 */
vod_status vod_upload_part(vod_upload *upload, size_t index);

/**
 * Finishes the upload (FinishUpload) once no part is needed. `out` receives the result on
 * success (untouched on failure); free it with `vod_upload_result_free`. Calling it again after a
 * success gives another copy of the same result. Should the service say parts are missing, the
 * library asks it what it holds, sends the rest and finishes again.
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL), `VOD_ERR_INVALID_INPUT` (parts still needed),
 * `VOD_ERR_FILE_CHANGED`, transport and service errors.
 */
vod_status vod_upload_finish(vod_upload *upload, vod_upload_result **out);

/**
 * Stops the upload from any thread: a `vod_upload_part` or `vod_upload_finish` running now
 * returns `VOD_ERR_ABORTED` as soon as it can, and so does every later one. The service keeps
 * the parts it has: begin again to resume. Does nothing if `upload` is NULL.
 */
void vod_upload_cancel(const vod_upload *upload);

/**
 * Frees an upload. NULL is fine. Freeing an unfinished upload sends nothing: the service keeps
 * the parts it has for a later resume.
 */
void vod_upload_free(vod_upload *upload);

/**
 * The service's id for the video (`fileId`), e.g. "7031868222808505913". Borrowed from `r`:
 * valid until `vod_upload_result_free(r)`. NULL if `r` is NULL.
 */
const char *vod_upload_result_file_id(const vod_upload_result *r);

/**
 * Where the service serves the video (`url`). Borrowed from `r`: valid until
 * `vod_upload_result_free(r)`. NULL if `r` is NULL.
 */
const char *vod_upload_result_url(const vod_upload_result *r);

/**
 * True when the service already had the file, so nothing was sent ("instant upload"). False if
 * `r` is NULL.
 */
bool vod_upload_result_instant(const vod_upload_result *r);

/**
 * The file's SHA-1, lowercase hex (40 characters). Borrowed from `r`. NULL if `r` is NULL.
 */
const char *vod_upload_result_file_sha1(const vod_upload_result *r);

/**
 * The file's size in bytes. 0 if `r` is NULL.
 */
uint64_t vod_upload_result_file_size(const vod_upload_result *r);

/**
 * How many parts the file has. 0 if `r` is NULL.
 */
size_t vod_upload_result_parts_total(const vod_upload_result *r);

/**
 * How many parts this run sent and the service stored. 0 if `r` is NULL.
 */
size_t vod_upload_result_parts_uploaded(const vod_upload_result *r);

/**
 * How many parts the service already held (a resume) or did not need (an instant upload).
 * 0 if `r` is NULL.
 */
size_t vod_upload_result_parts_skipped(const vod_upload_result *r);

/**
 * Part bytes this run sent and the service answered, retries included. 0 if `r` is NULL.
 */
uint64_t vod_upload_result_bytes_sent(const vod_upload_result *r);

/**
 * Requests this run sent again after a transient failure (network error, timeout, HTTP 5xx, a
 * retryable service error). 0 if `r` is NULL.
 */
uint64_t vod_upload_result_retries(const vod_upload_result *r);

/**
 * The most parts the upload had in flight at once (with the "auto" concurrency, how far it
 * went). 0 if `r` is NULL.
 */
size_t vod_upload_result_concurrency_peak(const vod_upload_result *r);

/**
 * Milliseconds from the start of the upload (hashing included) to its finish. 0 if `r` is NULL.
 */
uint64_t vod_upload_result_elapsed_ms(const vod_upload_result *r);

/**
 * Frees a result (and the strings borrowed from it). NULL is fine.
 */
void vod_upload_result_free(vod_upload_result *r);

/**
 * Computes the `Signature` parameter of a request to this API family: the `n` parameters
 * `keys[i]=values[i]` (every parameter but Signature itself: Action, Region, Timestamp, Nonce,
 * SecretId, SignatureMethod when not HmacSHA1, and the action's own) are sorted by key, '_' in
 * keys becomes '.', values are used raw (not URL-encoded), and `METHOD + host + path + "?" +
 * k=v&...` is signed with HMAC keyed with `secret_key`, then Base64-encoded. The result is the
 * raw value: percent-encode it (like every value) when putting it in a URL.
 *
 * - `method`: "GET" or "POST" (uppercased). `host`: as the request addresses it, with ":port"
 *   only if the URL has one. `path`: e.g. "/v2/index.php". All required.
 * - `keys`, `values`: arrays of `n` NUL-terminated UTF-8 strings; may be NULL when `n` is 0.
 * - `signature_method`: "HmacSHA1" or "HmacSHA256"; NULL for HmacSHA1.
 * - `out`, `out_len`: the buffer for the NUL-terminated signature; `VOD_SIGNATURE_MAX` bytes
 *   always suffice. `written` (may be NULL) receives its length without the NUL.
 *
 * Nothing is written on failure. Pure computation, thread-safe, no network.
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (a required pointer NULL), `VOD_ERR_INVALID_INPUT`
 * (not UTF-8, unknown signature method), `VOD_ERR_BUFFER_TOO_SMALL`.
 */
vod_status vod_sign(const char *method,
                    const char *host,
                    const char *path,
                    const char *const *keys,
                    const char *const *values,
                    size_t n,
                    const char *secret_key,
                    const char *signature_method,
                    char *out,
                    size_t out_len,
                    size_t *written);

/**
 * Writes the string that `vod_sign` signs (no secret in it), for comparing with what a server
 * expects when it answers -10002. Arguments as for `vod_sign`.
 *
 * `out` NULL with `out_len` 0 asks for the length: `*written` receives it (without the NUL) and
 * nothing else is written. Otherwise `out` receives the NUL-terminated string if `out_len` is at
 * least its length + 1 (else `VOD_ERR_BUFFER_TOO_SMALL`, nothing written), and `written` (may be
 * NULL) its length.
 */
vod_status vod_string_to_sign(const char *method,
                              const char *host,
                              const char *path,
                              const char *const *keys,
                              const char *const *values,
                              size_t n,
                              char *out,
                              size_t out_len,
                              size_t *written);

/**
 * Parses an event's JSON: the body of a callback POST, or a stored event.
 *
 * - `json`, `len`: the `len` bytes at `json` (need not be NUL-terminated; the body as received).
 *   Required, even when `len` is 0 (which is then a parse error: no JSON).
 * - `out`: required; receives the event on success (untouched on failure); free it with
 *   `vod_event_free`.
 *
 * Tolerant: only UTF-8 text holding a JSON object with a non-empty string `"eventType"` is
 * required. Other event types and unknown fields are accepted: they stay in
 * `vod_event_raw_json`. Pure computation (no network), thread-safe.
 *
 * Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL `json` or `out`), `VOD_ERR_INVALID_INPUT` (not UTF-8,
 * not valid JSON, not an object, no `"eventType"`...: `vod_last_error()` says which, with line
 * and column, and shows the start of the input).
 */
vod_status vod_event_parse(const char *json, size_t len, vod_event **out);

/**
 * `eventType`: "NewFileUpload" for "Video Upload Completed"; other types are passed through.
 * Never NULL for a non-NULL `e` (a U+0000 in it, which no real event has, reads as U+FFFD).
 * Borrowed from `e`. NULL if `e` is NULL.
 */
const char *vod_event_event_type(const vod_event *e);

/**
 * True when `eventType` is "NewFileUpload" ("Video Upload Completed"). False if `e` is NULL.
 */
bool vod_event_is_new_file_upload(const vod_event *e);

/**
 * `version`, e.g. "4.0".
 *
 * This and the `data` accessors below return a string borrowed from `e`, or NULL when the field
 * is absent, null, not a string or number (numbers, such as a numeric `fileId`, read as their
 * JSON text), or not representable as a C string (it holds U+0000); the exact JSON is in
 * `vod_event_raw_json`. NULL (recorded as `VOD_ERR_INVALID_ARGUMENT`) if `e` is NULL.
 */
const char *vod_event_version(const vod_event *e);

/**
 * `data.fileId`: the video's id, as `vod_upload_result_file_id` gave it. See `vod_event_version`
 * for NULL.
 */
const char *vod_event_file_id(const vod_event *e);

/**
 * `data.fileUrl`: where the service serves the video. See `vod_event_version` for NULL.
 */
const char *vod_event_file_url(const vod_event *e);

/**
 * `data.fileName`: the video's name, without extension. See `vod_event_version` for NULL.
 */
const char *vod_event_file_name(const vod_event *e);

/**
 * `data.sourceType`: "ServerUpload" for uploads made with this library. See `vod_event_version`
 * for NULL.
 */
const char *vod_event_source_type(const vod_event *e);

/**
 * `data.sourceContext`. See `vod_event_version` for NULL.
 */
const char *vod_event_source_context(const vod_event *e);

/**
 * `data.transcodeTaskId`. See `vod_event_version` for NULL.
 */
const char *vod_event_transcode_task_id(const vod_event *e);

/**
 * `data.procedureTaskId`. See `vod_event_version` for NULL.
 */
const char *vod_event_procedure_task_id(const vod_event *e);

/**
 * The event's whole JSON text: exactly the bytes given to `vod_event_parse`, or the JSON of a
 * pulled event. Fields this library does not name (and other event types) are all there.
 * Never NULL for a non-NULL `e`, never contains a NUL byte. Borrowed from `e`. NULL if `e` is
 * NULL.
 */
const char *vod_event_raw_json(const vod_event *e);

/**
 * Frees an event made by `vod_event_parse` (and the strings borrowed from it). NULL is fine.
 * Never pass an event borrowed from a `vod_event_list`.
 */
void vod_event_free(vod_event *e);

/**
 * Reads the app's event queue (one `PullEvent` request on the events endpoint, see
 * `vod_client_set_events_endpoint`, signed with the client's credentials and retried like any
 * request; not paced): the oldest unconfirmed events, at most 16. It does not wait: an empty
 * queue gives an empty list (`vod_event_list_count` 0).
 *
 * Pulled events stay queued, with the same message handle, and every pull returns them again
 * until `vod_events_confirm` acknowledges them: delivery is at least once, so handle events
 * idempotently (key on the file id) and confirm only after handling.
 *
 * - `client`: required; may be shared with other threads.
 * - `out`: required; receives the list on success (untouched on failure); free it with
 *   `vod_event_list_free`.
 *
 * Blocks (network). Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL), then the usual statuses:
 * `VOD_ERR_AUTH` (`vod_last_server_code()` e.g. -10002), `VOD_ERR_SERVER`, `VOD_ERR_NETWORK`,
 * `VOD_ERR_TIMEOUT`, `VOD_ERR_PROTOCOL` (an answer that is not the protocol, or a malformed
 * event in it: the message names `eventList[i]` and its msgHandle).
 */
vod_status vod_events_pull(vod_client *client, vod_event_list **out);

/**
 * How many events the list holds (0 to 16; 0 when the queue was empty). 0 if `l` is NULL.
 */
size_t vod_event_list_count(const vod_event_list *l);

/**
 * The message handle of event `i` (0-based, oldest first): pass it to `vod_events_confirm` once
 * the event is handled. Opaque. Borrowed from `l`: valid until `vod_event_list_free(l)`. NULL
 * (recorded as `VOD_ERR_INVALID_ARGUMENT`) if `l` is NULL or `i` is out of range.
 */
const char *vod_event_list_msg_handle(const vod_event_list *l, size_t i);

/**
 * Event `i` (0-based, oldest first), to read with the `vod_event_*` accessors. Borrowed from
 * `l`: valid until `vod_event_list_free(l)`; never pass it to `vod_event_free`. NULL (recorded
 * as `VOD_ERR_INVALID_ARGUMENT`) if `l` is NULL or `i` is out of range.
 */
const vod_event *vod_event_list_event(const vod_event_list *l, size_t i);

/**
 * Frees a list, with its events and handles. NULL is fine.
 */
void vod_event_list_free(vod_event_list *l);

/**
 * Acknowledges handled events by their message handles (`ConfirmEvent`): confirmed events are
 * not pulled again. Handles that are unknown or already confirmed are ignored by the service, so
 * confirming again after a failure is safe. More than 16 handles are sent in several requests.
 *
 * - `client`: required.
 * - `msg_handles`: an array of `count` NUL-terminated handles from `vod_event_list_msg_handle`
 *   (copied during the call: the list may be freed afterwards); may be NULL when `count` is 0,
 *   which sends nothing and returns `VOD_OK`.
 *
 * Blocks (network). Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL `client`, NULL `msg_handles` with
 * `count` > 0, a NULL element), `VOD_ERR_INVALID_INPUT` (an empty or non-UTF-8 handle; nothing is
 * sent), then the statuses of `vod_events_pull`. A failure after some requests succeeded says in
 * `vod_last_error()` how many events were confirmed.
 */
vod_status vod_events_confirm(vod_client *client, const char *const *msg_handles, size_t count);

#ifdef __cplusplus
}  // extern "C"
#endif  // __cplusplus

#endif  /* VODUPLOAD_H */
