//! The client's options as command-line flags: one flag per core option, its value passed to the
//! core as typed (the core applies the rule and gives the message, as in every other face).

use std::path::PathBuf;

use clap::Args;
use vodupload::settings::Value;
use vodupload::{ClientOptions, Credentials};

use crate::Failure;

/// Where to upload, how to sign, and how to behave on the network.
#[derive(Args, Debug)]
pub(crate) struct ClientArgs {
    /// Upload API URL [default: https://vod2.qcloud.com/v2/index.php].
    #[arg(long, value_name = "URL")]
    pub(crate) endpoint: Option<String>,
    /// The service's Region parameter: gz, bj, sh, hk, ca... [default: gz].
    #[arg(long)]
    region: Option<String>,
    /// SecretId [default: $TENCENTCLOUD_SECRET_ID].
    #[arg(long)]
    secret_id: Option<String>,
    /// SecretKey [default: $TENCENTCLOUD_SECRET_KEY]. Prefer the variable: arguments show in `ps`.
    #[arg(long)]
    secret_key: Option<String>,
    /// Bytes per part: 524288 or 1048576 [default: 1048576].
    #[arg(long, value_name = "BYTES")]
    part_size: Option<String>,
    /// Parts in flight: auto (measured and adjusted as the upload goes) or a fixed 1 to 64
    /// [default: auto].
    #[arg(long, value_name = "N")]
    concurrency: Option<String>,
    /// Tries per request, the first included, 1 to 100; 1 means no retries [default: 5].
    #[arg(long, visible_alias = "attempts", alias = "retries", value_name = "N")]
    max_attempts: Option<String>,
    /// Seconds before the first retry; doubles per retry, with jitter [default: 0.25].
    #[arg(long, value_name = "SECONDS")]
    retry_base_delay: Option<String>,
    /// Longest wait between two tries, in seconds [default: 8].
    #[arg(long, value_name = "SECONDS")]
    retry_max_delay: Option<String>,
    /// Seconds allowed to connect (TCP and TLS) [default: 10].
    #[arg(long, value_name = "SECONDS")]
    connect_timeout: Option<String>,
    /// Seconds allowed for one whole request, the part's bytes included [default: 60].
    #[arg(long, alias = "timeout", value_name = "SECONDS")]
    request_timeout: Option<String>,
    /// Trust only the CA certificates in this PEM file (as curl --cacert).
    #[arg(long, value_name = "PEM")]
    ca_file: Option<PathBuf>,
    /// Send requests through this HTTP proxy, http://host:port [default: $HTTPS_PROXY,
    /// $HTTP_PROXY or $ALL_PROXY, except for an endpoint on this machine].
    #[arg(long, value_name = "URL")]
    proxy: Option<String>,
    /// HmacSHA1 or HmacSHA256 [default: HmacSHA1].
    #[arg(long, value_name = "METHOD")]
    signature_method: Option<String>,
    /// Do not pace requests under the service's published rates (for a test server).
    #[arg(long)]
    no_rate_limit: bool,
    /// UploadPart calls a minute the account may make; 0: not paced [default: 10000].
    #[arg(long, value_name = "N")]
    rate_upload_part: Option<String>,
    /// InitUpload and FinishUpload calls a minute, each; 0: not paced [default: 100].
    #[arg(long, value_name = "N")]
    rate_init_finish: Option<String>,
    /// Share the pacing through Redis with every process using the same URL (a fleet under one
    /// SecretId): redis://[user:password@]host[:port][/db], ?strict=true to fail rather than pace
    /// locally when Redis does [default: none: this process only].
    #[arg(
        long,
        value_name = "URL",
        env = "VODUPLOAD_PACING",
        hide_env_values = true
    )]
    pacing: Option<String>,
    /// Where to cache file fingerprints (SHA-1 and part MD5s) so a re-run does not rehash; a
    /// private directory [default: $XDG_CACHE_HOME/vodupload/fingerprints or
    /// ~/.cache/vodupload/fingerprints].
    #[arg(long, value_name = "DIR")]
    cache_dir: Option<PathBuf>,
    /// Do not use the fingerprint cache.
    #[arg(long, conflicts_with = "cache_dir")]
    no_cache: bool,
}

impl ClientArgs {
    /// The credentials: the flags, else the environment.
    pub(crate) fn credentials(&self) -> Result<Credentials, Failure> {
        Ok(Credentials::resolve(
            self.secret_id.as_deref(),
            self.secret_key.as_deref(),
        )?)
    }

    /// The options these flags give, each through the core's rule.
    pub(crate) fn options(&self) -> Result<ClientOptions, Failure> {
        let mut o = ClientOptions::default();
        let texts = [
            ("endpoint", &self.endpoint),
            ("region", &self.region),
            ("part_size", &self.part_size),
            ("concurrency", &self.concurrency),
            ("max_attempts", &self.max_attempts),
            ("retry_base_delay", &self.retry_base_delay),
            ("retry_max_delay", &self.retry_max_delay),
            ("connect_timeout", &self.connect_timeout),
            ("request_timeout", &self.request_timeout),
            ("proxy", &self.proxy),
            ("signature_method", &self.signature_method),
            ("rate_upload_part", &self.rate_upload_part),
            ("rate_init_finish", &self.rate_init_finish),
            ("pacing_url", &self.pacing),
        ];
        for (name, value) in texts {
            if let Some(v) = value {
                o.set(name, Value::Text(v))?;
            }
        }
        if let Some(ca) = &self.ca_file {
            o.set("ca_file", Value::Path(ca))?;
        }
        if self.no_rate_limit {
            o.set("rate_limit", Value::Bool(false))?;
        }
        if !self.no_cache {
            match &self.cache_dir {
                Some(dir) => o.set("fingerprint_cache", Value::Path(dir))?,
                None => {
                    if let Some(dir) = default_cache_dir() {
                        o.set("fingerprint_cache", Value::Path(&dir))?;
                    }
                }
            }
        }
        Ok(o)
    }

    /// The flag that sets the core option `name`, for the coverage test and `--help`.
    #[cfg(test)]
    fn flag_of(name: &str) -> Option<&'static str> {
        Some(match name {
            "endpoint" => "--endpoint",
            "region" => "--region",
            "part_size" => "--part-size",
            "concurrency" => "--concurrency",
            "max_attempts" => "--max-attempts",
            "retry_base_delay" => "--retry-base-delay",
            "retry_max_delay" => "--retry-max-delay",
            "connect_timeout" => "--connect-timeout",
            "request_timeout" => "--request-timeout",
            "ca_file" => "--ca-file",
            "proxy" => "--proxy",
            "signature_method" => "--signature-method",
            "rate_limit" => "--no-rate-limit",
            "rate_upload_part" => "--rate-upload-part",
            "rate_init_finish" => "--rate-init-finish",
            "pacing_url" => "--pacing",
            "fingerprint_cache" => "--cache-dir",
            // The upload command has no use for the event API: `vodupload events --endpoint`.
            "events_endpoint" => "--endpoint",
            _ => return None,
        })
    }
}

/// The per-user cache directory, by the XDG convention.
fn default_cache_dir() -> Option<PathBuf> {
    let base = std::env::var_os("XDG_CACHE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".cache")))?;
    Some(base.join("vodupload").join("fingerprints"))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every core option has its flag: an option added to the core without one fails here.
    #[test]
    fn every_client_option_has_a_flag() {
        let cmd = <ClientArgs as clap::Args>::augment_args(clap::Command::new("upload"));
        let longs: Vec<String> = cmd
            .get_arguments()
            .filter_map(|a| a.get_long().map(|l| format!("--{l}")))
            .collect();
        for s in vodupload::settings::CLIENT_OPTIONS {
            let flag = ClientArgs::flag_of(s.name)
                .unwrap_or_else(|| panic!("the client option {} has no flag in the CLI", s.name));
            assert!(
                longs.iter().any(|l| l == flag),
                "{flag} is not a flag: {longs:?}"
            );
        }
    }
}
