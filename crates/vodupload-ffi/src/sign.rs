//! The request signature of the API family, for callers of its other actions.

use std::ffi::c_char;

use vodcore::SignatureMethod;
use vodcore::signature::{sign_string, string_to_sign};

use crate::boundary::{Failure, FfiResult, arg_str, status_call};
use crate::status::vod_status;

/// A buffer of this many bytes always holds a signature from `vod_sign` (44 characters for
/// HmacSHA256, 28 for HmacSHA1, plus the NUL).
pub const VOD_SIGNATURE_MAX: usize = 64;

/// The parameters from two C arrays.
unsafe fn params<'a>(
    keys: *const *const c_char,
    values: *const *const c_char,
    n: usize,
) -> FfiResult<Vec<(&'a str, &'a str)>> {
    if n == 0 {
        return Ok(Vec::new());
    }
    if keys.is_null() || values.is_null() {
        return Err(Failure::invalid_argument(format!(
            "keys or values is NULL with n = {n}"
        )));
    }
    (0..n)
        .map(|i| {
            // SAFETY: both arrays hold n pointers (the caller's contract).
            let (k, v) = unsafe { (*keys.add(i), *values.add(i)) };
            let k = unsafe { arg_str(k, &format!("keys[{i}]")) }?;
            let v = unsafe { arg_str(v, &format!("values[{i}]")) }?;
            Ok((k, v))
        })
        .collect()
}

/// Copies `s` and a NUL into `out`, or answers the size query (`out` NULL and `out_len` 0).
unsafe fn write_out(
    s: &str,
    what: &str,
    out: *mut c_char,
    out_len: usize,
    written: *mut usize,
) -> FfiResult<()> {
    let needed = s.len() + 1;
    if out.is_null() {
        if out_len != 0 || written.is_null() {
            return Err(Failure::invalid_argument(
                "out is NULL: pass a buffer, or out_len 0 and a non-NULL written to learn the length",
            ));
        }
        // SAFETY: non-NULL, writable (the caller's contract).
        unsafe { written.write(s.len()) };
        return Ok(());
    }
    if out_len < needed {
        return Err(Failure::new(
            vod_status::VOD_ERR_BUFFER_TOO_SMALL,
            format!("the {what} needs {needed} bytes with its NUL; out_len is {out_len}"),
        ));
    }
    // SAFETY: out holds out_len >= needed bytes (the caller's contract); the regions cannot
    // overlap, `s` being ours.
    unsafe {
        std::ptr::copy_nonoverlapping(s.as_ptr(), out.cast::<u8>(), s.len());
        out.add(s.len()).write(0);
        if !written.is_null() {
            written.write(s.len());
        }
    }
    Ok(())
}

/// Computes the `Signature` parameter of a request to this API family: the `n` parameters
/// `keys[i]=values[i]` (every parameter but Signature itself: Action, Region, Timestamp, Nonce,
/// SecretId, SignatureMethod when not HmacSHA1, and the action's own) are sorted by key, '_' in
/// keys becomes '.', values are used raw (not URL-encoded), and `METHOD + host + path + "?" +
/// k=v&...` is signed with HMAC keyed with `secret_key`, then Base64-encoded. The result is the
/// raw value: percent-encode it (like every value) when putting it in a URL.
///
/// - `method`: "GET" or "POST" (uppercased). `host`: as the request addresses it, with ":port"
///   only if the URL has one. `path`: e.g. "/v2/index.php". All required.
/// - `keys`, `values`: arrays of `n` NUL-terminated UTF-8 strings; may be NULL when `n` is 0.
/// - `signature_method`: "HmacSHA1" or "HmacSHA256"; NULL for HmacSHA1.
/// - `out`, `out_len`: the buffer for the NUL-terminated signature; `VOD_SIGNATURE_MAX` bytes
///   always suffice. `written` (may be NULL) receives its length without the NUL.
///
/// Nothing is written on failure. Pure computation, thread-safe, no network.
///
/// Errors: `VOD_ERR_INVALID_ARGUMENT` (a required pointer NULL), `VOD_ERR_INVALID_INPUT`
/// (not UTF-8, unknown signature method), `VOD_ERR_BUFFER_TOO_SMALL`.
// A C function: each field of the request is an argument, as C callers hold them, rather than a
// struct whose layout would become part of the ABI.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_sign(
    method: *const c_char,
    host: *const c_char,
    path: *const c_char,
    keys: *const *const c_char,
    values: *const *const c_char,
    n: usize,
    secret_key: *const c_char,
    signature_method: *const c_char,
    out: *mut c_char,
    out_len: usize,
    written: *mut usize,
) -> vod_status {
    status_call("vod_sign", || {
        let method = unsafe { arg_str(method, "method") }?;
        let host = unsafe { arg_str(host, "host") }?;
        let path = unsafe { arg_str(path, "path") }?;
        let params = unsafe { params(keys, values, n) }?;
        let key = unsafe { arg_str(secret_key, "secret_key") }?;
        let sm = if signature_method.is_null() {
            SignatureMethod::HmacSha1
        } else {
            SignatureMethod::parse(unsafe { arg_str(signature_method, "signature_method") }?)?
        };
        if out.is_null() {
            return Err(Failure::invalid_argument("out is NULL"));
        }
        let sig = sign_string(&string_to_sign(method, host, path, &params), key, sm);
        unsafe { write_out(&sig, "signature", out, out_len, written) }
    })
}

/// Writes the string that `vod_sign` signs (no secret in it), for comparing with what a server
/// expects when it answers -10002. Arguments as for `vod_sign`.
///
/// `out` NULL with `out_len` 0 asks for the length: `*written` receives it (without the NUL) and
/// nothing else is written. Otherwise `out` receives the NUL-terminated string if `out_len` is at
/// least its length + 1 (else `VOD_ERR_BUFFER_TOO_SMALL`, nothing written), and `written` (may be
/// NULL) its length.
// As vod_sign: the request's fields as arguments.
#[unsafe(no_mangle)]
pub unsafe extern "C" fn vod_string_to_sign(
    method: *const c_char,
    host: *const c_char,
    path: *const c_char,
    keys: *const *const c_char,
    values: *const *const c_char,
    n: usize,
    out: *mut c_char,
    out_len: usize,
    written: *mut usize,
) -> vod_status {
    status_call("vod_string_to_sign", || {
        let method = unsafe { arg_str(method, "method") }?;
        let host = unsafe { arg_str(host, "host") }?;
        let path = unsafe { arg_str(path, "path") }?;
        let params = unsafe { params(keys, values, n) }?;
        let s = string_to_sign(method, host, path, &params);
        unsafe { write_out(&s, "string to sign", out, out_len, written) }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::{CStr, CString};

    #[test]
    fn known_answer_through_the_c_interface() {
        let kv = [
            ("Action", "DescribeInstances"),
            ("Nonce", "11886"),
            ("Region", "gz"),
            ("SecretId", "AKIDz8krbsJ5yKBZQpn74WFkmLPx3gnPhESA"),
            ("Timestamp", "1465185768"),
            ("instanceIds.0", "ins-09dx96dg"),
            ("limit", "20"),
            ("offset", "0"),
        ];
        let keys: Vec<CString> = kv.iter().map(|(k, _)| CString::new(*k).unwrap()).collect();
        let vals: Vec<CString> = kv.iter().map(|(_, v)| CString::new(*v).unwrap()).collect();
        let kp: Vec<*const c_char> = keys.iter().map(|c| c.as_ptr()).collect();
        let vp: Vec<*const c_char> = vals.iter().map(|c| c.as_ptr()).collect();
        let mut buf = [0 as c_char; VOD_SIGNATURE_MAX];
        let mut written = 0usize;
        let s = unsafe {
            vod_sign(
                c"GET".as_ptr(),
                c"cvm.api.qcloud.com".as_ptr(),
                c"/v2/index.php".as_ptr(),
                kp.as_ptr(),
                vp.as_ptr(),
                kv.len(),
                c"Gu5t9xGARNpq86cd98joQYCN3Cozk1qA".as_ptr(),
                std::ptr::null(),
                buf.as_mut_ptr(),
                buf.len(),
                &mut written,
            )
        };
        assert_eq!(s, vod_status::VOD_OK);
        let sig = unsafe { CStr::from_ptr(buf.as_ptr()) }.to_str().unwrap();
        assert_eq!(sig, "NSI3UqqD99b/UJb4tbG/xZpRW64=");
        assert_eq!(written, sig.len());

        let mut small = [7 as c_char; 28];
        let s = unsafe {
            vod_sign(
                c"GET".as_ptr(),
                c"cvm.api.qcloud.com".as_ptr(),
                c"/v2/index.php".as_ptr(),
                kp.as_ptr(),
                vp.as_ptr(),
                kv.len(),
                c"k".as_ptr(),
                std::ptr::null(),
                small.as_mut_ptr(),
                small.len(),
                std::ptr::null_mut(),
            )
        };
        assert_eq!(s, vod_status::VOD_ERR_BUFFER_TOO_SMALL);
        assert!(small.iter().all(|&b| b == 7), "nothing written on failure");
    }
}
