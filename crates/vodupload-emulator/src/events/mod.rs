//! Event notification "Video Upload Completed": the event a finished upload creates, the reliable
//! queue served by PullEvent / ConfirmEvent, and the callback POSTer. Events belong to the
//! SecretId that finished the upload: each credential is its own app.

mod notify;
mod queue;

use std::time::Duration;

use serde_json::{Value, json};

pub(crate) use notify::{
    Deliveries, Delivery, Notifier, NotifyCounters, check_notify_url, redact_url,
};
pub(crate) use queue::{EventQueue, StoredEvent};

/// PullEvent answers at most this many events at once (the service's own batch size).
pub(crate) const MAX_PULL: usize = 16;
/// ConfirmEvent takes at most this many `msgHandle.N`.
pub(crate) const MAX_CONFIRM: usize = 16;
/// The callback is given this long per attempt (the service's documented 5 s).
pub(crate) const NOTIFY_TIMEOUT: Duration = Duration::from_secs(5);
/// Attempts after the first (the service's documented 2 retries).
pub(crate) const NOTIFY_RETRIES: u32 = 2;
/// Pause between two attempts.
pub(crate) const NOTIFY_RETRY_DELAY: Duration = Duration::from_secs(1);

/// The JSON of a "Video Upload Completed" event.
pub(crate) fn new_file_upload(file_id: &str, file_url: &str, file_name: &str) -> Value {
    json!({
        "version": "4.0",
        "eventType": "NewFileUpload",
        "data": {
            "fileId": file_id,
            "fileUrl": file_url,
            "fileName": file_name,
            "sourceType": "ServerUpload",
            "sourceContext": "",
            "transcodeTaskId": "",
            "procedureTaskId": "",
        }
    })
}
