//! The inspector's data: one consistent-enough look at the state, counters and recent requests.

use serde::Serialize;

use crate::app::App;
use crate::events::Delivery;
use crate::stats::RequestRecord;
use crate::store;

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct Snapshot {
    pub emulator: EmulatorView,
    pub counters: crate::Stats,
    pub faults_by_kind: Vec<(String, u64)>,
    pub files: Vec<FileView>,
    pub uploads: Vec<UploadView>,
    pub events: EventsView,
    /// Newest first.
    pub recent_requests: Vec<RequestRecord>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EmulatorView {
    pub version: &'static str,
    pub endpoint: String,
    pub state_dir: String,
    pub uptime_secs: u64,
    pub now_unix: i64,
    pub open_connections: usize,
    pub max_connections: usize,
    pub rate_limit: bool,
    pub max_file_size: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct FileView {
    pub file_id: String,
    pub file_name: String,
    pub file_type: String,
    pub size: u64,
    pub sha1: String,
    pub tags: Vec<String>,
    pub class_id: Option<i64>,
    /// The processing InitUpload asked for (`isTranscode`...), as received.
    pub is_transcode: Option<u8>,
    pub is_screenshot: Option<u8>,
    pub is_watermark: Option<u8>,
    pub secret_id: String,
    pub finished_unix: i64,
    pub url: String,
    /// The same file, same origin as the inspector (what its player loads).
    pub path: String,
    pub content_type: &'static str,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct UploadView {
    pub file_sha: String,
    pub file_name: String,
    pub file_type: String,
    pub size: u64,
    pub part_size: u64,
    pub parts_stored: u64,
    pub parts_total: u64,
    pub bytes_stored: u64,
    pub secret_id: String,
    pub created_unix: i64,
    pub updated_unix: i64,
    /// The parts in file order, in cells: `[stored, parts]` of each.
    pub map: Vec<(u64, u64)>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EventsView {
    pub pending: Vec<EventView>,
    /// The latest confirmed since start.
    pub confirmed: Vec<ConfirmedView>,
    pub created: u64,
    pub confirmed_total: u64,
    pub callback: Option<String>,
    pub callback_delivered: u64,
    pub callback_failed: u64,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct EventView {
    pub seq: u64,
    pub msg_handle: String,
    pub file_id: Option<String>,
    pub secret_id: String,
    pub created_unix: i64,
    /// How many PullEvent answers carried it.
    pub pulled: u64,
    /// Its POST to the callback URL: queued, delivered or failed (none without a callback).
    pub delivery: Option<String>,
}

#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ConfirmedView {
    pub seq: u64,
    pub file_id: Option<String>,
    pub secret_id: String,
    pub confirmed_unix: i64,
}

impl Snapshot {
    pub(crate) fn take(app: &App) -> Snapshot {
        let stats = app.stats();
        let mut recent = app.recent.list();
        recent.reverse();
        Snapshot {
            emulator: EmulatorView {
                version: env!("CARGO_PKG_VERSION"),
                endpoint: app.endpoint(),
                state_dir: app.store.root().display().to_string(),
                uptime_secs: app.started.elapsed().as_secs(),
                now_unix: app.now_unix(),
                open_connections: app.conns.len(),
                max_connections: app.limits.max_connections,
                rate_limit: app.rate_limit,
                max_file_size: app.init_rules.max_file_size,
            },
            faults_by_kind: app
                .counters
                .faults_by_kind()
                .iter()
                .map(|(k, n)| (k.to_string(), *n))
                .collect(),
            files: files(app),
            uploads: uploads(app),
            events: events(app, &stats),
            counters: stats,
            recent_requests: recent,
        }
    }
}

/// Newest first.
fn files(app: &App) -> Vec<FileView> {
    let mut files: Vec<FileView> = app
        .store
        .files_view()
        .into_iter()
        .map(|f| FileView {
            url: app.file_url(&f.file_id, &f.meta.file_type),
            path: format!("/vod/{}/f0.{}", f.file_id, f.meta.file_type),
            content_type: crate::download::content_type(&f.meta.file_type),
            file_id: f.file_id.clone(),
            file_name: f.meta.file_name.clone(),
            file_type: f.meta.file_type.clone(),
            size: f.size(),
            sha1: f.meta.file_sha.clone(),
            tags: f.meta.tags.clone(),
            class_id: f.meta.class_id,
            is_transcode: f.meta.is_transcode,
            is_screenshot: f.meta.is_screenshot,
            is_watermark: f.meta.is_watermark,
            secret_id: f.meta.secret_id.clone(),
            finished_unix: f.finished_unix,
        })
        .collect();
    files.sort_by(|a, b| (b.finished_unix, &b.file_id).cmp(&(a.finished_unix, &a.file_id)));
    files
}

/// The most recently active first.
fn uploads(app: &App) -> Vec<UploadView> {
    let mut uploads: Vec<UploadView> = app
        .store
        .sessions_view()
        .into_iter()
        .map(|v: store::SessionView| UploadView {
            file_sha: v.meta.file_sha.clone(),
            file_name: v.meta.file_name.clone(),
            file_type: v.meta.file_type.clone(),
            size: v.meta.file_size,
            part_size: v.meta.data_size,
            parts_stored: v.parts_stored,
            parts_total: v.meta.part_count(),
            bytes_stored: v.stored_bytes,
            secret_id: v.meta.secret_id.clone(),
            created_unix: v.meta.created_unix,
            updated_unix: v.updated_unix,
            map: v.map,
        })
        .collect();
    uploads.sort_by_key(|u| std::cmp::Reverse(u.updated_unix));
    uploads
}

fn events(app: &App, stats: &crate::Stats) -> EventsView {
    let (pending, confirmed) = app.events.view();
    EventsView {
        pending: pending
            .into_iter()
            .map(|(e, pulled)| EventView {
                delivery: app.deliveries.get(e.seq).map(|d| match d {
                    Delivery::Queued => "queued".to_string(),
                    Delivery::Delivered { attempts } => format!("delivered (attempt {attempts})"),
                    Delivery::Failed { attempts, problem } => {
                        format!("failed after {attempts} attempts: {problem}")
                    }
                }),
                seq: e.seq,
                msg_handle: e.msg_handle,
                file_id: e.file_id,
                secret_id: e.secret_id,
                created_unix: e.created_unix,
                pulled,
            })
            .collect(),
        confirmed: confirmed
            .into_iter()
            .rev()
            .map(|c| ConfirmedView {
                seq: c.seq,
                file_id: c.file_id,
                secret_id: c.secret_id,
                confirmed_unix: c.confirmed_unix,
            })
            .collect(),
        created: stats.events_created,
        confirmed_total: stats.events_confirmed,
        callback: app.notify_shown.clone(),
        callback_delivered: stats.notify_delivered,
        callback_failed: stats.notify_failed,
    }
}
