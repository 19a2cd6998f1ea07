//! GET and HEAD of a finished file's url (`/vod/{fileId}/f0.{type}`), with single byte ranges so
//! a video player can seek. The bytes are read from the file's parts, one after the other.

use std::sync::Arc;
use std::time::Instant;

use crate::app::App;
use crate::http::{Request, RespBody, Response};
use crate::protocol::{E_NOT_FOUND, Reply};
use crate::stats::RequestRecord;
use crate::store::FileRecord;

pub(crate) async fn handle(app: &Arc<App>, req: &mut Request<'_>) -> Response {
    let started = Instant::now();
    let path = req.head.path_lossy().into_owned();
    let resp = respond(app, req, &path);
    let mut rec = RequestRecord::new(&req.head.method, &path);
    rec.result = format!("HTTP {}", resp.status);
    rec.ms = started.elapsed().as_millis() as u64;
    app.record(rec);
    resp
}

fn respond(app: &App, req: &Request<'_>, path: &str) -> Response {
    if req.head.method != "GET" && req.head.method != "HEAD" {
        return error(405, "use GET").with_header("Allow", "GET, HEAD");
    }
    let Some(file) = find(app, path) else {
        return error(404, "no such file");
    };
    let size = file.size();
    let ctype = content_type(&file.meta.file_type);
    let (status, start, len) = match req.head.header_str("range").map(|r| parse_range(r, size)) {
        None | Some(Range::Ignored) => (200, 0, size),
        Some(Range::Bytes(a, b)) => (206, a, b - a + 1),
        Some(Range::Unsatisfiable) => {
            return error(416, "range not satisfiable")
                .with_header("Content-Range", format!("bytes */{size}"));
        }
    };
    let mut resp = Response {
        status,
        headers: vec![
            ("Content-Type", ctype.to_string()),
            ("Accept-Ranges", "bytes".to_string()),
        ],
        body: RespBody::File { file, start, len },
        close: false,
    };
    if status == 206 {
        resp = resp.with_header(
            "Content-Range",
            format!("bytes {start}-{}/{size}", start + len - 1),
        );
    }
    resp
}

fn error(status: u16, msg: &str) -> Response {
    Response::reply(status, &Reply::error(E_NOT_FOUND, msg, false))
}

/// `/vod/{fileId}/f0.{type}`, the type as the file was announced (any case).
fn find(app: &App, path: &str) -> Option<Arc<FileRecord>> {
    let rest = path.strip_prefix("/vod/")?;
    let (id, name) = rest.split_once('/')?;
    let ext = name.strip_prefix("f0.")?;
    app.store
        .file(id)
        .filter(|f| f.meta.file_type.eq_ignore_ascii_case(ext))
}

pub(crate) fn content_type(file_type: &str) -> &'static str {
    match file_type.to_ascii_lowercase().as_str() {
        "mp4" | "m4v" => "video/mp4",
        "flv" => "video/x-flv",
        "mov" => "video/quicktime",
        "webm" => "video/webm",
        "mkv" => "video/x-matroska",
        "ts" => "video/mp2t",
        "mp3" => "audio/mpeg",
        _ => "application/octet-stream",
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Range {
    /// Inclusive.
    Bytes(u64, u64),
    Unsatisfiable,
    /// Not a single byte range: the whole file is sent.
    Ignored,
}

fn parse_range(h: &str, size: u64) -> Range {
    let Some(spec) = h.strip_prefix("bytes=") else {
        return Range::Ignored;
    };
    if spec.contains(',') {
        return Range::Ignored;
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Range::Ignored;
    };
    let num = |s: &str| s.trim().parse::<u64>().ok();
    match (a.trim().is_empty(), num(a), num(b)) {
        // bytes=-N: the last N bytes.
        (true, _, Some(n)) if n > 0 => Range::Bytes(size.saturating_sub(n), size - 1),
        (true, _, _) => Range::Unsatisfiable,
        (false, Some(a), _) if a >= size => Range::Unsatisfiable,
        (false, Some(a), None) if b.trim().is_empty() => Range::Bytes(a, size - 1),
        (false, Some(a), Some(b)) if b >= a => Range::Bytes(a, b.min(size - 1)),
        _ => Range::Ignored,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges() {
        assert_eq!(parse_range("bytes=0-9", 100), Range::Bytes(0, 9));
        assert_eq!(parse_range("bytes=90-", 100), Range::Bytes(90, 99));
        assert_eq!(parse_range("bytes=-10", 100), Range::Bytes(90, 99));
        assert_eq!(parse_range("bytes=50-500", 100), Range::Bytes(50, 99));
        assert_eq!(parse_range("bytes=100-", 100), Range::Unsatisfiable);
        assert_eq!(parse_range("bytes=0-1,5-6", 100), Range::Ignored);
        assert_eq!(parse_range("items=0-1", 100), Range::Ignored);
    }
}
