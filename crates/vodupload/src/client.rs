//! The entry point: a configured, thread-safe client that uploads files.

use std::path::Path;
use std::sync::Arc;

use crate::config::ClientOptions;
use crate::credentials::Credentials;
use crate::error::Result;
use crate::options::UploadOptions;
use crate::progress::{CancelToken, ProgressFn};
use crate::transport::Transport;
use crate::upload::{Upload, UploadResult};

/// A client for the upload host. `Send + Sync` and cheap to clone: share one between threads, and
/// their uploads share its connection pool and its pacing under the service's rates.
#[derive(Debug, Clone)]
pub struct Client {
    transport: Arc<Transport>,
}

impl Client {
    /// Checks every option (endpoint, part size, concurrency, CA file...) and builds the client.
    /// Nothing is sent yet.
    pub fn new(credentials: Credentials, options: ClientOptions) -> Result<Client> {
        Ok(Client {
            transport: Transport::new(credentials, options)?,
        })
    }

    pub fn options(&self) -> &ClientOptions {
        self.transport.options()
    }

    /// Uploads `path` in one call: hash, InitUpload, the missing parts in parallel, FinishUpload.
    /// `progress` sees hashing then uploading; returning false from it, or cancelling `cancel`,
    /// stops the upload with [`ErrorKind::Cancelled`](crate::ErrorKind::Cancelled), and the server
    /// keeps the parts it has for the next run.
    pub fn upload(
        &self,
        path: impl AsRef<Path>,
        options: &UploadOptions,
        progress: ProgressFn<'_>,
        cancel: &CancelToken,
    ) -> Result<UploadResult> {
        let upload = self.begin(path, options, progress, cancel)?;
        upload.upload_parts(None, progress)?;
        upload.finish()
    }

    /// The first step of a step-by-step upload: checks the file, hashes it (reporting
    /// [`Phase::Hashing`](crate::Phase::Hashing)) and calls InitUpload.
    pub fn begin(
        &self,
        path: impl AsRef<Path>,
        options: &UploadOptions,
        progress: ProgressFn<'_>,
        cancel: &CancelToken,
    ) -> Result<Upload> {
        Upload::begin(
            self.transport.clone(),
            path.as_ref(),
            options,
            progress,
            cancel.clone(),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn assert_send_sync<T: Send + Sync>() {}

    #[test]
    fn client_and_upload_are_send_sync() {
        assert_send_sync::<Client>();
        assert_send_sync::<Upload>();
    }

    fn creds() -> Credentials {
        Credentials::new("id", "key").unwrap()
    }

    #[test]
    fn bad_options_fail_before_any_request() {
        let mut o = ClientOptions::default();
        o.part_size = 1000;
        assert!(
            Client::new(creds(), o)
                .unwrap_err()
                .to_string()
                .contains("part size")
        );
        let mut o = ClientOptions::default();
        o.concurrency = 0;
        assert!(
            Client::new(creds(), o)
                .unwrap_err()
                .to_string()
                .contains("concurrency")
        );
        let mut o = ClientOptions::default();
        o.endpoint = "not a url".into();
        assert!(
            Client::new(creds(), o)
                .unwrap_err()
                .to_string()
                .contains("endpoint")
        );
        let mut o = ClientOptions::default();
        o.endpoint = "ftp://x/y".into();
        assert!(
            Client::new(creds(), o)
                .unwrap_err()
                .to_string()
                .contains("scheme")
        );
        let mut o = ClientOptions::default();
        o.ca_file = Some("/nonexistent/ca.pem".into());
        assert!(
            Client::new(creds(), o)
                .unwrap_err()
                .to_string()
                .contains("CA file")
        );
    }
}
