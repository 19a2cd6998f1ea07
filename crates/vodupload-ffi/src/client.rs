//! `vod_client`: credentials and settings, shared by every upload made with it.

use std::ffi::c_char;
use std::path::PathBuf;
use std::sync::{RwLock, RwLockReadGuard, RwLockWriteGuard};
use std::time::Duration;

use vodcore::{Client, ClientOptions, Credentials, RateLimits, SignatureMethod};

use crate::boundary::{Failure, FfiResult, arg_out, arg_path, arg_ref, arg_str, status_call};
use crate::status::vod_status;

/// A client: credentials, endpoint and settings, plus a connection pool and the pacing under the
/// service's request rates, shared by all its uploads. Opaque.
///
/// Thread-safety: safe to share between threads. Uploads may run on several threads at once with
/// one client; the setters may be called at any time and apply to uploads started afterwards
/// (uploads already running keep the settings they started with). Configure it once, then share
/// it: each setter rebuilds the connection pool.
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

    /// Changes the settings; the core checks the result, and on error nothing changes.
    fn configure(&self, change: impl FnOnce(&mut ClientOptions)) -> FfiResult<()> {
        let mut state = self.write();
        let mut options = state.options.clone();
        change(&mut options);
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
/// - `secret_id`, `secret_key`: the API credentials (required, UTF-8, no whitespace). The key is
///   copied and kept only in memory; no message ever shows it.
/// - `endpoint`: the full URL of the upload API, e.g. "https://vod2.qcloud.com/v2/index.php";
///   NULL for that default.
/// - `out`: receives the new client on success (untouched on failure). Free it with
///   `vod_client_free`.
///
/// Nothing is sent yet. Defaults: part size 1 MiB, 4 parts in parallel, 5 tries per request,
/// connect timeout 10 s, request timeout 60 s, region "gz", HmacSHA1, pacing under the service's
/// published request rates, system CA roots, events endpoint
/// "https://vod.api.qcloud.com/v2/index.php" (see `vod_client_set_events_endpoint`).
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL `secret_id`, `secret_key` or `out`),
/// `VOD_ERR_INVALID_INPUT` (empty credentials or with whitespace, a bad endpoint, not UTF-8).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_client_new(
    secret_id: *const c_char,
    secret_key: *const c_char,
    endpoint: *const c_char,
    out: *mut *mut vod_client,
) -> vod_status {
    status_call("vod_client_new", || {
        let id = unsafe { arg_str(secret_id, "secret_id") }?;
        let key = unsafe { arg_str(secret_key, "secret_key") }?;
        let endpoint = if endpoint.is_null() {
            None
        } else {
            Some(unsafe { arg_str(endpoint, "endpoint") }?)
        };
        let out = arg_out(out, "out")?;
        let client = new_client(Credentials::new(id, key)?, endpoint)?;
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

/// Shared body of the setters.
unsafe fn set(
    function: &str,
    client: *mut vod_client,
    change: impl FnOnce() -> FfiResult<Box<dyn FnOnce(&mut ClientOptions)>>,
) -> vod_status {
    status_call(function, || {
        let client = unsafe { arg_ref(client.cast_const(), "client") }?;
        client.configure(change()?)
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
        set("vod_client_set_part_size", client, || {
            Ok(Box::new(move |o| o.part_size = bytes))
        })
    }
}

/// Sets how many parts one `vod_upload_file*` call sends at once: 1 to 64 (default 4).
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client), `VOD_ERR_INVALID_INPUT` (out of range).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_client_set_concurrency(client: *mut vod_client, n: u32) -> vod_status {
    unsafe {
        set("vod_client_set_concurrency", client, || {
            Ok(Box::new(move |o| {
                o.concurrency = usize::try_from(n).unwrap_or(usize::MAX)
            }))
        })
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
        set("vod_client_set_ca_file", client, || {
            let path = PathBuf::from(arg_path(pem_path, "pem_path")?);
            Ok(Box::new(move |o| o.ca_file = Some(path)))
        })
    }
}

/// Sets how many times a request is tried, the first included (default 5; 1 means no retries).
/// Retries wait with exponential backoff and jitter, and happen only for failures that can pass
/// (network errors, timeouts, HTTP 5xx, service errors marked retryable).
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client), `VOD_ERR_INVALID_INPUT` (0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_client_set_max_attempts(
    client: *mut vod_client,
    attempts: u32,
) -> vod_status {
    unsafe {
        set("vod_client_set_max_attempts", client, || {
            Ok(Box::new(move |o| o.max_attempts = attempts))
        })
    }
}

fn timeout(ms: u64, what: &str) -> FfiResult<Duration> {
    if ms == 0 {
        return Err(Failure::invalid_argument(format!(
            "a {what} timeout of 0 ms would fail every request"
        )));
    }
    Ok(Duration::from_millis(ms))
}

/// Sets the time allowed to connect (TCP and TLS), in milliseconds (default 10000).
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client, or 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_client_set_connect_timeout_ms(
    client: *mut vod_client,
    ms: u64,
) -> vod_status {
    unsafe {
        set("vod_client_set_connect_timeout_ms", client, || {
            let t = timeout(ms, "connect")?;
            Ok(Box::new(move |o| o.connect_timeout = t))
        })
    }
}

/// Sets the time allowed for one whole request (connect, send the part, read the answer), in
/// milliseconds (default 60000). A request that takes longer fails with `VOD_ERR_TIMEOUT` once
/// the retries are used up.
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client, or 0).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_client_set_request_timeout_ms(
    client: *mut vod_client,
    ms: u64,
) -> vod_status {
    unsafe {
        set("vod_client_set_request_timeout_ms", client, || {
            let t = timeout(ms, "request")?;
            Ok(Box::new(move |o| o.request_timeout = t))
        })
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
        set("vod_client_set_region", client, || {
            let region = arg_str(region, "region")?.to_owned();
            Ok(Box::new(move |o| o.region = region))
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
        set("vod_client_set_signature_method", client, || {
            let m = SignatureMethod::parse(arg_str(method, "method")?)?;
            Ok(Box::new(move |o| o.signature_method = m))
        })
    }
}

/// Turns the client-side pacing on (default) or off. When on, the client keeps under the
/// service's published rates (10000 UploadPart and 100 InitUpload/FinishUpload calls a minute)
/// across all the threads using this client, waiting rather than earning error 4400. Turn it off
/// only for a server without those limits (a test server).
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL client).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_client_set_rate_limiting(
    client: *mut vod_client,
    enabled: bool,
) -> vod_status {
    unsafe {
        set("vod_client_set_rate_limiting", client, || {
            Ok(Box::new(move |o| {
                o.rate_limits = if enabled {
                    RateLimits::default()
                } else {
                    RateLimits::unlimited()
                }
            }))
        })
    }
}

/// Sends requests through the HTTP proxy `url` ("http://host:port"). Without this call the
/// usual `HTTPS_PROXY` / `HTTP_PROXY` / `ALL_PROXY` environment variables apply.
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (NULL), `VOD_ERR_INVALID_INPUT` (not a usable proxy URL).
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_client_set_proxy(
    client: *mut vod_client,
    url: *const c_char,
) -> vod_status {
    unsafe {
        set("vod_client_set_proxy", client, || {
            let url = arg_str(url, "url")?.to_owned();
            Ok(Box::new(move |o| o.proxy = Some(url)))
        })
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
        set("vod_client_set_events_endpoint", client, || {
            let url = if url.is_null() {
                vodcore::config::DEFAULT_EVENTS_ENDPOINT.to_owned()
            } else {
                arg_str(url, "url")?.to_owned()
            };
            Ok(Box::new(move |o| o.events_endpoint = url))
        })
    }
}
