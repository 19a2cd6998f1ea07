//! `vodupload sign`: the string to sign and the signature, to compare with what a failing client
//! sent when the service answers -10002.

use clap::Args;
use vodupload::signature::{SignatureMethod, sign_string, string_to_sign};

use crate::Failure;

#[derive(Args)]
pub(crate) struct SignArgs {
    #[command(flatten)]
    pub(crate) verbosity: crate::verbosity::Verbosity,
    /// HTTP method (the client sends POST).
    #[arg(long, default_value = "POST")]
    method: String,
    /// Host as the client addressed it (with :port only if it had one).
    #[arg(long, default_value = "vod2.qcloud.com")]
    host: String,
    /// The request's path, as the client addressed it.
    #[arg(long, default_value = "/v2/index.php")]
    path: String,
    /// The SecretKey (or set TENCENTCLOUD_SECRET_KEY).
    #[arg(long, env = "TENCENTCLOUD_SECRET_KEY", hide_env_values = true)]
    secret_key: String,
    /// HmacSHA1 or HmacSHA256.
    #[arg(long, default_value = "HmacSHA1")]
    signature_method: String,
    /// Request parameters, raw (not URL-encoded), e.g. Action=InitUpload Nonce=1 ...
    #[arg(value_name = "KEY=VALUE")]
    params: Vec<String>,
}

pub(crate) fn run(a: SignArgs) -> Result<(), Failure> {
    let method = SignatureMethod::parse(&a.signature_method)?;
    let mut params = Vec::with_capacity(a.params.len());
    for p in &a.params {
        let (k, v) = p
            .split_once('=')
            .ok_or_else(|| Failure::usage(format!("parameter {p:?} is not KEY=VALUE")))?;
        params.push((k.to_owned(), v.to_owned()));
    }
    let s = string_to_sign(&a.method, &a.host, &a.path, &params);
    println!("string to sign: {s}");
    println!("signature: {}", sign_string(&s, &a.secret_key, method));
    Ok(())
}
