//! `vod_client`: credentials and settings, shared by every upload made with it.

use std::ffi::c_char;

use vodcore::settings::{CLIENT_OPTIONS, Value};
use vodcore::{Client, ClientOptions, Credentials};

use crate::boundary::{FfiResult, arg_out, arg_path, arg_ref, arg_str, status_call};
use crate::status::vod_status;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};

/// A client: credentials, endpoint and settings, plus a connection pool and the pacing under the
/// service's request rates, shared by all its uploads. Opaque.
///
/// Thread-safety: safe to share between threads. Uploads may run on several threads at once with
/// one client; the setters may be called at any time and apply to uploads started afterwards
/// (uploads already running keep the settings they started with). Configure it once, then share
/// it: each setter rebuilds the connection pool. The pacing is the account's, shared by every
/// client of one SecretId and endpoint in the process, so rebuilding never resets it.
#[derive(Debug)]
pub struct vod_client {
    state: RwLock<ClientState>,
}

#[derive(Debug)]
struct ClientState {
    credentials: Credentials,
    options: ClientOptions,
    client: Client,
}

impl vod_client {
    /// The core client, for one upload.
    pub(crate) fn client(&self) -> Client {
        self.read().client.clone()
    }

    fn read(&self) -> RwLockReadGuard<'_, ClientState> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, ClientState> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }

    /// Sets one option through the core, which applies its rule; on error nothing changes.
    fn configure(&self, name: &str, value: Value<'_>) -> FfiResult<()> {
        self.configure_many(&[(name, value)])
    }

    /// Sets options together: all of them or, on the first error, none.
    fn configure_many(&self, values: &[(&str, Value<'_>)]) -> FfiResult<()> {
        let mut state = self.write();
        let mut options = state.options.clone();
        for (name, value) in values {
            options.set(name, *value)?;
        }
        let client = Client::new(state.credentials.clone(), options.clone())?;
        state.options = options;
        state.client = client;
        Ok(())
    }
}

fn new_client(credentials: Credentials, endpoint: Option<&str>) -> FfiResult<*mut vod_client> {
    let mut options = ClientOptions::default();
    if let Some(e) = endpoint {
        options.endpoint = e.to_owned();
    }
    let client = Client::new(credentials.clone(), options.clone())?;
    Ok(Box::into_raw(Box::new(vod_client {
        state: RwLock::new(ClientState {
            credentials,
            options,
            client,
        }),
    })))
}

/// Creates a client.
///
/// - `secret_id`, `secret_key`: the API credentials (UTF-8, no whitespace). NULL takes that one
///   from the environment variable `TENCENTCLOUD_SECRET_ID` / `TENCENTCLOUD_SECRET_KEY` (both
///   NULL: both from the environment, as `vod_client_new_from_env`). The key is copied and kept
///   only in memory; no message ever shows it.
/// - `endpoint`: the full URL of the upload API, e.g. "https://vod2.qcloud.com/v2/index.php";
///   NULL for that default.
/// - `out`: receives the new client on success (untouched on failure). Free it with
///   `vod_client_free`.
///
/// Nothing is sent yet. Defaults: part size 1 MiB, 4 parts in parallel, 5 tries per request,
/// connect timeout 10 s, request timeout 60 s, region "gz", HmacSHA1, pacing under the service's
/// published request rates, system CA roots, no fingerprint cache, events endpoint
/// "https://vod.api.qcloud.com/v2/index.php" (see `vod_client_set_events_endpoint`).
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL `out`), `VOD_ERR_INVALID_INPUT` (empty credentials
/// or with whitespace, one missing from both the arguments and the environment, a bad endpoint,
/// not UTF-8).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_client_new(
    secret_id: *const c_char,
    secret_key: *const c_char,
    endpoint: *const c_char,
    out: *mut *mut vod_client,
) -> vod_status {
    status_call("vod_client_new", || {
        let optional = |p: *const c_char, name: &str| -> FfiResult<Option<&str>> {
            if p.is_null() {
                Ok(None)
            } else {
                Ok(Some(unsafe { arg_str(p, name) }?))
            }
        };
        let id = optional(secret_id, "secret_id")?;
        let key = optional(secret_key, "secret_key")?;
        let endpoint = optional(endpoint, "endpoint")?;
        let out = arg_out(out, "out")?;
        let client = new_client(Credentials::resolve(id, key)?, endpoint)?;
        unsafe { out.write(client) };
        Ok(())
    })
}

/// Creates a client with the credentials in the environment variables `TENCENTCLOUD_SECRET_ID` and
/// `TENCENTCLOUD_SECRET_KEY`; otherwise as `vod_client_new` (`endpoint` NULL for the default).
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL `out`), `VOD_ERR_INVALID_INPUT` (a variable missing
/// or empty, a bad endpoint).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_client_new_from_env(
    endpoint: *const c_char,
    out: *mut *mut vod_client,
) -> vod_status {
    status_call("vod_client_new_from_env", || {
        let endpoint = if endpoint.is_null() {
            None
        } else {
            Some(unsafe { arg_str(endpoint, "endpoint") }?)
        };
        let out = arg_out(out, "out")?;
        let client = new_client(Credentials::from_env()?, endpoint)?;
        unsafe { out.write(client) };
        Ok(())
    })
}

/// Frees a client. NULL is fine. Uploads begun with it (`vod_upload`) stay usable: they hold what
/// they need. No other thread may be using `client` when it is freed, and it must not be used
/// afterwards.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_client_free(client: *mut vod_client) {
    crate::boundary::value_call("vod_client_free", (), || {
        if !client.is_null() {
            // SAFETY: a pointer from vod_client_new*, freed once (the caller's contract).
            drop(unsafe { Box::from_raw(client) });
        }
        Ok(())
    })
}

/// Shared body of the setters: `value()` converts the C arguments (NULL pointers are
/// `VOD_ERR_INVALID_ARGUMENT` there), the core does the rest.
unsafe fn set<'a>(
    function: &str,
    client: *mut vod_client,
    name: &str,
    value: impl FnOnce() -> FfiResult<Value<'a>>,
) -> vod_status {
    status_call(function, || {
        let client = unsafe { arg_ref(client.cast_const(), "client") }?;
        client.configure(name, value()?)
    })
}

/// Sets any client option by its name, from text, as a configuration file would: `name` is one
/// of the names `vod_client_option_name` lists ("concurrency", "request_timeout"...), `value`
/// its text ("8", "2.5" seconds, "true", a path or URL; a path is bytes, as on the file system),
/// or NULL for the option's default. The same rules and messages as the typed setters, and as
/// every other face.
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client or name), `VOD_ERR_INVALID_INPUT` (an unknown
/// name, a value the option refuses, not UTF-8); the setting is then unchanged.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_client_set_option(
    client: *mut vod_client,
    name: *const c_char,
    value: *const c_char,
) -> vod_status {
    status_call("vod_client_set_option", || {
        let client = unsafe { arg_ref(client.cast_const(), "client") }?;
        let name = unsafe { arg_str(name, "name") }?;
        let value = unsafe { crate::names::option_value(CLIENT_OPTIONS, name, value) }?;
        client.configure(name, value)
    })
}

/// Sets the part size: 524288 (512 KiB) or 1048576 (1 MiB, the default); the service accepts no
/// other. A resumed upload keeps the part size its first attempt used, whatever this says.
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client), `VOD_ERR_INVALID_INPUT` (another size).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_client_set_part_size(
    client: *mut vod_client,
    bytes: u64,
) -> vod_status {
    unsafe {
        set("vod_client_set_part_size", client, "part_size", || {
            Ok(Value::Int(bytes.into()))
        })
    }
}

/// Sets how many parts one `vod_upload_file*` call sends at once: a fixed 1 to 64. The default is
/// "auto" (see `vod_client_set_concurrency_auto`).
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client), `VOD_ERR_INVALID_INPUT` (out of range).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_client_set_concurrency(client: *mut vod_client, n: u32) -> vod_status {
    unsafe {
        set("vod_client_set_concurrency", client, "concurrency", || {
            Ok(Value::Int(n.into()))
        })
    }
}

/// Lets the client choose how many parts are in flight (the default): it starts with one, grows
/// while throughput rises (doubling each round trip), settles where it stops rising (the link,
/// the server or the service's rate is the limit), backs off on timeouts, network errors and
/// 4400, and shares that window among all the uploads of this client. See docs/concurrency.md.
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_client_set_concurrency_auto(client: *mut vod_client) -> vod_status {
    unsafe {
        set(
            "vod_client_set_concurrency_auto",
            client,
            "concurrency",
            || Ok(Value::Text("auto")),
        )
    }
}

/// Trusts only the certificates in the PEM file `pem_path` (like curl's `--cacert`) instead of
/// the system's roots, e.g. for a test server. The file is read now; the path is bytes, as on
/// the file system.
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client or path), `VOD_ERR_NOT_FOUND` /
/// `VOD_ERR_PERMISSION_DENIED` / `VOD_ERR_IO` (the file cannot be read), `VOD_ERR_INVALID_INPUT`
/// (it holds no certificate).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_client_set_ca_file(
    client: *mut vod_client,
    pem_path: *const c_char,
) -> vod_status {
    unsafe {
        set("vod_client_set_ca_file", client, "ca_file", || {
            Ok(Value::Path(arg_path(pem_path, "pem_path")?))
        })
    }
}

/// Sets how many times a request is tried, the first included: 1 to 100 (default 5; 1 means no
/// retries). Retries wait with exponential backoff and jitter, and happen only for failures that
/// can pass (network errors, timeouts, HTTP 5xx, service errors marked retryable).
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client), `VOD_ERR_INVALID_INPUT` (out of range).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_client_set_max_attempts(
    client: *mut vod_client,
    attempts: u32,
) -> vod_status {
    unsafe {
        set(
            "vod_client_set_max_attempts",
            client,
            "max_attempts",
            || Ok(Value::Int(attempts.into())),
        )
    }
}

/// Milliseconds as the core's seconds.
fn millis(ms: u64) -> Value<'static> {
    Value::Float(ms as f64 / 1000.0)
}

/// Sets the time allowed to connect (TCP and TLS), in milliseconds: more than 0, at most a day
/// (default 10000).
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client), `VOD_ERR_INVALID_INPUT` (out of range).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_client_set_connect_timeout_ms(
    client: *mut vod_client,
    ms: u64,
) -> vod_status {
    unsafe {
        set(
            "vod_client_set_connect_timeout_ms",
            client,
            "connect_timeout",
            || Ok(millis(ms)),
        )
    }
}

/// Sets the time allowed for one whole request (connect, send the part, read the answer), in
/// milliseconds: more than 0, at most a day (default 60000). A request that takes longer fails
/// with `VOD_ERR_TIMEOUT` once the retries are used up.
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client), `VOD_ERR_INVALID_INPUT` (out of range).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_client_set_request_timeout_ms(
    client: *mut vod_client,
    ms: u64,
) -> vod_status {
    unsafe {
        set(
            "vod_client_set_request_timeout_ms",
            client,
            "request_timeout",
            || Ok(millis(ms)),
        )
    }
}

/// Sets the delay before the first retry, in milliseconds (default 250); each further retry
/// waits twice as long, up to `vod_client_set_retry_max_delay_ms`, with jitter. More than 0, at
/// most an hour.
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client), `VOD_ERR_INVALID_INPUT` (out of range).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_client_set_retry_base_delay_ms(
    client: *mut vod_client,
    ms: u64,
) -> vod_status {
    unsafe {
        set(
            "vod_client_set_retry_base_delay_ms",
            client,
            "retry_base_delay",
            || Ok(millis(ms)),
        )
    }
}

/// Sets the longest delay between two tries, in milliseconds (default 8000). More than 0, at
/// most an hour.
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client), `VOD_ERR_INVALID_INPUT` (out of range).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_client_set_retry_max_delay_ms(
    client: *mut vod_client,
    ms: u64,
) -> vod_status {
    unsafe {
        set(
            "vod_client_set_retry_max_delay_ms",
            client,
            "retry_max_delay",
            || Ok(millis(ms)),
        )
    }
}

/// Sets the `Region` parameter: "gz" (default), "bj", "sh", "hk", "ca"...
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL), `VOD_ERR_INVALID_INPUT` (empty, or not letters,
/// digits and '-').
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_client_set_region(
    client: *mut vod_client,
    region: *const c_char,
) -> vod_status {
    unsafe {
        set("vod_client_set_region", client, "region", || {
            Ok(Value::Text(arg_str(region, "region")?))
        })
    }
}

/// Sets the signature method: "HmacSHA1" (default) or "HmacSHA256" (case-insensitive).
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL), `VOD_ERR_INVALID_INPUT` (another name).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_client_set_signature_method(
    client: *mut vod_client,
    method: *const c_char,
) -> vod_status {
    unsafe {
        set(
            "vod_client_set_signature_method",
            client,
            "signature_method",
            || Ok(Value::Text(arg_str(method, "method")?)),
        )
    }
}

/// Turns the client-side pacing on (default) or off. When on, the client keeps under the
/// service's published rates (10000 UploadPart and 100 InitUpload/FinishUpload calls a minute)
/// across all the threads and clients of this SecretId in the process, waiting rather than
/// earning error 4400. Turn it off only for a server without those limits (a test server).
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_client_set_rate_limiting(
    client: *mut vod_client,
    enabled: bool,
) -> vod_status {
    unsafe {
        set("vod_client_set_rate_limiting", client, "rate_limit", || {
            Ok(Value::Bool(enabled))
        })
    }
}

/// Sets the account's rates, in calls a minute, that the pacing keeps under: UploadPart, and
/// InitUpload and FinishUpload each (defaults 10000 and 100, the service's published caps; 0: not
/// paced). For an account with other caps, or a test server configured with them.
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client), `VOD_ERR_INVALID_INPUT` (over 1,000,000); the
/// settings are then unchanged.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_client_set_rate_limits(
    client: *mut vod_client,
    upload_part_per_minute: u32,
    init_finish_per_minute: u32,
) -> vod_status {
    status_call("vod_client_set_rate_limits", || {
        let client = unsafe { arg_ref(client.cast_const(), "client") }?;
        client.configure_many(&[
            (
                "rate_upload_part",
                Value::Int(upload_part_per_minute.into()),
            ),
            (
                "rate_init_finish",
                Value::Int(init_finish_per_minute.into()),
            ),
        ])
    })
}

/// Shares the pacing through Redis with every process that uses the same URL, for a fleet of app
/// servers under one SecretId: `redis://[user:password@]host[:port][/db]` (several hosts,
/// comma-separated, for a Redis Cluster). If Redis fails or is slow the pacing goes on locally
/// with one warning; `?strict=true` at the end makes that an error (`VOD_ERR_NETWORK`) instead.
/// The password never appears in messages. NULL: this process only (the default).
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client), `VOD_ERR_INVALID_INPUT` (not a Redis URL);
/// the setting is then unchanged. Nothing is connected yet: Redis is first used by an upload.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_client_set_pacing_url(
    client: *mut vod_client,
    url: *const c_char,
) -> vod_status {
    unsafe {
        set("vod_client_set_pacing_url", client, "pacing_url", || {
            if url.is_null() {
                Ok(Value::Default)
            } else {
                Ok(Value::Text(arg_str(url, "url")?))
            }
        })
    }
}

/// Sends requests through the HTTP proxy `url` ("http://host:port"). Without this call the
/// usual `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` and `NO_PROXY` variables apply, except for
/// an endpoint on this machine (an emulator), which is reached directly.
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL), `VOD_ERR_INVALID_INPUT` (not a usable proxy URL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_client_set_proxy(
    client: *mut vod_client,
    url: *const c_char,
) -> vod_status {
    unsafe {
        set("vod_client_set_proxy", client, "proxy", || {
            Ok(Value::Text(arg_str(url, "url")?))
        })
    }
}

/// Keeps each file's SHA-1 and part MD5s in the directory `dir` (keyed by path, size, times and
/// inode), so a re-upload or the resume of a large file starts without reading it again. The
/// directory is created private (0700) when needed; one that another user could write to is
/// refused, as its entries decide the file id an upload ends under. NULL turns the cache off
/// (the default).
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client), `VOD_ERR_INVALID_INPUT` (not a directory,
/// owned or writable by another user); the setting is then unchanged.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_client_set_fingerprint_cache(
    client: *mut vod_client,
    dir: *const c_char,
) -> vod_status {
    unsafe {
        set(
            "vod_client_set_fingerprint_cache",
            client,
            "fingerprint_cache",
            || {
                if dir.is_null() {
                    Ok(Value::Default)
                } else {
                    Ok(Value::Path(arg_path(dir, "dir")?))
                }
            },
        )
    }
}

/// Sets the full URL of the event API that `vod_events_pull` and `vod_events_confirm` call
/// (signed with the same credentials; their requests are not paced). NULL restores the default,
/// "https://vod.api.qcloud.com/v2/index.php": the provider's general API host, not the upload
/// host. For the emulator, pass its endpoint (the same URL as the upload endpoint).
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client), `VOD_ERR_INVALID_INPUT` (not a usable
/// http/https URL, or not UTF-8); the setting is then unchanged.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_client_set_events_endpoint(
    client: *mut vod_client,
    url: *const c_char,
) -> vod_status {
    unsafe {
        set(
            "vod_client_set_events_endpoint",
            client,
            "events_endpoint",
            || {
                if url.is_null() {
                    Ok(Value::Default)
                } else {
                    Ok(Value::Text(arg_str(url, "url")?))
                }
            },
        )
    }
}
