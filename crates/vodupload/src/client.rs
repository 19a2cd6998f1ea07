//! The entry point: a configured, thread-safe client that uploads files.

use std::path::Path;
use std::sync::Arc;

use crate::config::ClientOptions;
use crate::credentials::Credentials;
use crate::error::{Error, Result};
use crate::events::{MAX_CONFIRM_BATCH, PulledEvent};
use crate::options::UploadOptions;
use crate::progress::{CancelToken, ProgressFn};
use crate::transport::{Request, Transport};
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

    /// Reads the app's event queue on [`ClientOptions::events_endpoint`] (one `PullEvent`, retried
    /// like any request): the oldest unconfirmed events, at most 16, each with the `msg_handle`
    /// that confirms it; an empty list when there is none. Events stay queued, and are returned
    /// by every pull, until [`Client::confirm_events`] confirms them. See [`crate::events`].
    ///
    /// Errors: those of any request (network, auth, server), and [`ErrorKind::Protocol`] for a
    /// malformed answer or event (the message gives the event's msgHandle).
    ///
    /// [`ErrorKind::Protocol`]: crate::ErrorKind::Protocol
    pub fn pull_events(&self) -> Result<Vec<PulledEvent>> {
        let mut out = None;
        self.transport.call(
            Request::events("PullEvent", &[]),
            &|| false,
            &Default::default(),
            &mut |body| {
                out = Some(crate::events::parse_pull(body)?);
                Ok(())
            },
        )?;
        Ok(out.unwrap_or_default())
    }

    /// Acknowledges handled events by their `msg_handle` (`ConfirmEvent` with `msgHandle.0`,
    /// `msgHandle.1`, ...; more than 16 handles go in several calls). Confirmed events are not
    /// served again. Confirming a handle twice, or one the service no longer knows, is not an
    /// error on the emulator, so retrying a failed call is safe. No handles: nothing is sent.
    ///
    /// Errors: an empty handle is [`ErrorKind::InvalidInput`] (before anything is sent);
    /// otherwise those of any request, with how many handles were confirmed before the failure.
    ///
    /// [`ErrorKind::InvalidInput`]: crate::ErrorKind::InvalidInput
    pub fn confirm_events<S: AsRef<str>>(&self, msg_handles: &[S]) -> Result<()> {
        let handles: Vec<&str> = msg_handles.iter().map(AsRef::as_ref).collect();
        if let Some(i) = handles.iter().position(|h| h.is_empty()) {
            return Err(Error::invalid_input(format!(
                "message handle {i} is empty: pass the handles exactly as the pull returned them"
            )));
        }
        let mut done = 0;
        for batch in handles.chunks(MAX_CONFIRM_BATCH) {
            let params = crate::events::confirm_params(batch);
            self.transport
                .call(
                    Request::events("ConfirmEvent", &params),
                    &|| false,
                    &Default::default(),
                    &mut crate::events::parse_confirm,
                )
                .map_err(|e| {
                    if done == 0 {
                        e
                    } else {
                        e.with_context(format!(
                            "{done} of {} events were confirmed, the others were not",
                            handles.len()
                        ))
                    }
                })?;
            done += batch.len();
        }
        Ok(())
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
    fn empty_confirm_sends_nothing_and_empty_handles_are_refused() {
        // Port 9 (discard) would fail if anything were sent.
        let mut o = ClientOptions::default();
        o.events_endpoint = "http://127.0.0.1:9/v2/index.php".into();
        let c = Client::new(creds(), o).unwrap();
        c.confirm_events::<&str>(&[]).unwrap();
        let e = c.confirm_events(&["ok", ""]).unwrap_err();
        assert_eq!(e.kind(), crate::ErrorKind::InvalidInput);
        assert!(e.to_string().contains("message handle 1 is empty"), "{e}");
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
        o.concurrency = crate::Concurrency::Fixed(0);
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
        o.events_endpoint = "ftp://x/y".into();
        let e = Client::new(creds(), o).unwrap_err().to_string();
        assert!(
            e.contains("events endpoint") && e.contains("vod.api.qcloud.com"),
            "{e}"
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
