//! InitUpload: starts an upload, resumes one (listing the parts stored), or recognises a file
//! already finished (an instant upload).

use std::sync::Arc;

use serde_json::{Value, json};

use super::blocking;
use crate::app::App;
use crate::protocol::{self, Params, Reply};
use crate::store::{self, FileRecord, InitOutcome};

pub(super) async fn handle(app: &Arc<App>, secret_id: &str, params: &Params) -> Reply {
    let meta = match protocol::init_params(params, secret_id, app.init_rules, app.now_unix()) {
        Ok(m) => m,
        Err(r) => return r,
    };
    let (new_size, sha) = (meta.file_size, meta.file_sha.clone());
    // Held by the work itself, as in FinishUpload (see there).
    let guard = app.key_locks.get(&meta.key()).lock_owned().await;
    let a = app.clone();
    match blocking(move || {
        let _guard = guard;
        a.store.init(meta)
    })
    .await
    {
        Ok(InitOutcome::Started) => Reply::success(0),
        Ok(InitOutcome::Finished(f)) => file_reply(app, 2, &f),
        Ok(InitOutcome::SizeConflict { old }) => Reply::protocol(format!(
            "fileSize {new_size} differs from the fileSize {old} of the upload already started for fileSha {sha}"
        )),
        Ok(InitOutcome::Resume { data_size, parts }) => {
            let list: Vec<Value> = parts
                .iter()
                .map(|(o, len, md5)| json!({"offset": o, "dataSize": len, "dataMd5": store::hex(md5)}))
                .collect();
            Reply::success(1)
                .with("dataSize", json!(data_size))
                .with("listParts", Value::Array(list))
        }
        Err(e) => Reply::write_failed(&e),
    }
}

/// The answer naming a finished file: its id and its url.
pub(super) fn file_reply(app: &App, code: i64, f: &FileRecord) -> Reply {
    Reply::success(code)
        .with("fileId", json!(f.file_id))
        .with("url", json!(app.file_url(&f.file_id, &f.meta.file_type)))
}
