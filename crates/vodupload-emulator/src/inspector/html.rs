//! The inspector as one HTML page: no framework, nothing fetched from the network (a Content
//! Security Policy says so), a few lines of inline script for local times and refreshing.

use std::fmt::Write as _;

use rand::Rng as _;

use super::Snapshot;
use crate::http::Response;

/// Text made safe inside HTML (element content and quoted attributes).
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

fn size(n: u64) -> String {
    const UNITS: [(u64, &str); 3] = [(1 << 30, "GiB"), (1 << 20, "MiB"), (1 << 10, "KiB")];
    for (u, name) in UNITS {
        if n >= u {
            return format!("{:.1} {name}", n as f64 / u as f64);
        }
    }
    format!("{n} B")
}

/// A time the page's script shows in the reader's local time (UTC without it).
fn time(unix: i64) -> String {
    let text = httpdate::fmt_http_date(
        std::time::UNIX_EPOCH + std::time::Duration::from_secs(unix.max(0) as u64),
    );
    format!(r#"<time data-unix="{unix}">{}</time>"#, esc(&text))
}

const STYLE: &str = "
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#222;background:#fafafa}
h1{font-size:1.4em;margin:0 0 .2em}h2{font-size:1.1em;margin:1.6em 0 .4em}
table{border-collapse:collapse;background:#fff;width:100%}
th,td{border:1px solid #ddd;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f0f0f0}code{font-size:.9em}.num{text-align:right}
.muted{color:#777}.bad{color:#a00}.ok{color:#070}
.map{display:flex;gap:1px;margin-top:.3em}.map span{flex:1;height:14px;background:#2a7}
video{max-width:320px;max-height:180px;display:block}td a{word-break:break-all}
.counters{display:flex;flex-wrap:wrap;gap:.4em}.counters div{background:#fff;border:1px solid #ddd;padding:.3em .6em}
";

/// Shows local times, and reloads every 2 s while the box is ticked and no video plays.
const SCRIPT: &str = "
for (const t of document.querySelectorAll('time[data-unix]')) {
  t.textContent = new Date(Number(t.dataset.unix) * 1000).toLocaleString();
}
const box = document.getElementById('refresh');
box.checked = location.hash !== '#paused';
box.addEventListener('change', () => { location.hash = box.checked ? '' : '#paused'; });
setInterval(() => {
  const playing = [...document.querySelectorAll('video')].some(v => !v.paused);
  if (box.checked && !playing) location.reload();
}, 2000);
document.body.dataset.script = 'ran';
";

pub(super) fn page(s: &Snapshot) -> Response {
    let nonce = crate::store::hex(&rand::rng().random::<[u8; 16]>());
    let mut h = String::with_capacity(16 * 1024);
    let e = &s.emulator;
    let _ = write!(
        h,
        r#"<!doctype html><html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<title>vodupload emulator</title><link rel="icon" href="data:,"><style>{STYLE}</style></head><body>
<h1>vodupload emulator {ver}</h1>
<p class="muted">endpoint <code id="endpoint">{endpoint}</code> · state <code>{state}</code> · up {up} s · connections {open}/{max} ·
<a href="/_emulator/state">JSON</a> · <label><input type="checkbox" id="refresh" checked> refresh every 2 s</label></p>
"#,
        ver = esc(e.version),
        endpoint = esc(&e.endpoint),
        state = esc(&e.state_dir),
        up = e.uptime_secs,
        open = e.open_connections,
        max = e.max_connections,
    );
    counters(&mut h, s);
    uploads(&mut h, s);
    files(&mut h, s);
    events(&mut h, s);
    requests(&mut h, s);
    let _ = write!(
        h,
        "<script nonce=\"{nonce}\">{SCRIPT}</script></body></html>"
    );
    Response::bytes(200, "text/html; charset=utf-8", h.into_bytes()).with_header(
        "Content-Security-Policy",
        format!(
            "default-src 'none'; style-src 'unsafe-inline'; script-src 'nonce-{nonce}'; media-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'"
        ),
    )
}

/// Rows of a table the page shows at most (the JSON has them all).
const ROWS_SHOWN: usize = 500;

/// Says how many rows the table above left out.
fn more(h: &mut String, total: usize) {
    if total > ROWS_SHOWN {
        let _ = write!(
            h,
            "<p class=\"muted\">and {} more: see <a href=\"/_emulator/state\">the JSON</a></p>",
            total - ROWS_SHOWN
        );
    }
}

fn counters(h: &mut String, s: &Snapshot) {
    let c = &s.counters;
    h.push_str("<h2>Counters</h2><div class=\"counters\" id=\"counters\">");
    let items: [(&str, u64); 17] = [
        ("requests", c.requests),
        ("InitUpload", c.init_calls),
        ("UploadPart", c.part_calls),
        ("FinishUpload", c.finish_calls),
        ("PullEvent", c.pull_calls),
        ("ConfirmEvent", c.confirm_calls),
        ("parts stored", c.parts_stored),
        ("errors returned", c.errors_returned),
        ("rate-limited", c.rate_limited),
        ("replays refused", c.replays_refused),
        ("ms timestamps", c.millisecond_timestamps),
        ("faults injected", c.faults_injected),
        ("timed out", c.requests_timed_out),
        ("connections", c.connections_accepted),
        ("evicted", c.connections_evicted),
        ("refused", c.connections_refused),
        ("events created", c.events_created),
    ];
    for (name, n) in items {
        let _ = write!(
            h,
            "<div data-counter=\"{}\">{} <b>{n}</b></div>",
            esc(name),
            esc(name)
        );
    }
    for (kind, n) in &s.faults_by_kind {
        let _ = write!(
            h,
            "<div data-counter=\"fault {k}\">fault {k} <b>{n}</b></div>",
            k = esc(kind)
        );
    }
    h.push_str("</div>");
}

fn uploads(h: &mut String, s: &Snapshot) {
    let _ = write!(h, "<h2>Uploads in progress ({})</h2>", s.uploads.len());
    if s.uploads.is_empty() {
        h.push_str("<p class=\"muted\" id=\"uploads\">none</p>");
        return;
    }
    h.push_str("<table id=\"uploads\"><tr><th>name</th><th>fileSha</th><th>size</th><th>parts received</th><th>SecretId</th><th>last part</th></tr>");
    for u in s.uploads.iter().take(ROWS_SHOWN) {
        let _ = write!(
            h,
            "<tr data-file-sha=\"{sha}\"><td>{name}.{ty}</td><td><code>{sha}</code></td><td class=\"num\">{size}</td>\
             <td><span class=\"parts\">{stored} of {total}</span> parts of {psize} ({bytes})\
             <div class=\"map\" data-stored=\"{stored}\" data-total=\"{total}\">",
            sha = esc(&u.file_sha),
            name = esc(&u.file_name),
            ty = esc(&u.file_type),
            size = size(u.size),
            stored = u.parts_stored,
            total = u.parts_total,
            psize = size(u.part_size),
            bytes = size(u.bytes_stored),
        );
        for (got, of) in &u.map {
            let full = if *of == 0 {
                0.0
            } else {
                *got as f64 / *of as f64
            };
            let _ = write!(
                h,
                "<span title=\"{got}/{of}\" style=\"opacity:{:.2}\"></span>",
                0.08 + 0.92 * full
            );
        }
        let _ = write!(
            h,
            "</div></td><td><code>{}</code></td><td>{}</td></tr>",
            esc(&u.secret_id),
            time(u.updated_unix)
        );
    }
    h.push_str("</table>");
    more(h, s.uploads.len());
}

fn files(h: &mut String, s: &Snapshot) {
    let _ = write!(h, "<h2>Finished files ({})</h2>", s.files.len());
    if s.files.is_empty() {
        h.push_str("<p class=\"muted\" id=\"files\">none</p>");
        return;
    }
    h.push_str("<table id=\"files\"><tr><th>fileId</th><th>name</th><th>size</th><th>SHA-1</th><th>tags</th><th>classId</th><th>finished</th><th>file</th></tr>");
    for f in s.files.iter().take(ROWS_SHOWN) {
        let playable = matches!(
            f.content_type,
            "video/mp4" | "video/webm" | "video/quicktime"
        );
        let media = if playable {
            format!(
                "<video controls preload=\"none\" src=\"{p}\"></video><a href=\"{u}\">{u}</a>",
                p = esc(&f.path),
                u = esc(&f.url)
            )
        } else {
            format!("<a href=\"{u}\">{u}</a>", u = esc(&f.url))
        };
        let tags: Vec<String> = f.tags.iter().map(|t| esc(t)).collect();
        let _ = write!(
            h,
            "<tr data-file-id=\"{id}\"><td><code>{id}</code></td><td>{name}.{ty}</td><td class=\"num\">{size}</td>\
             <td><code>{sha}</code></td><td>{tags}</td><td>{class}</td><td>{when}</td><td>{media}</td></tr>",
            id = esc(&f.file_id),
            name = esc(&f.file_name),
            ty = esc(&f.file_type),
            size = size(f.size),
            sha = esc(&f.sha1),
            tags = tags.join(", "),
            class = f.class_id.map(|c| c.to_string()).unwrap_or_default(),
            when = time(f.finished_unix),
        );
    }
    h.push_str("</table>");
    more(h, s.files.len());
}

fn events(h: &mut String, s: &Snapshot) {
    let ev = &s.events;
    let _ = write!(
        h,
        "<h2>Events</h2><p id=\"event-summary\">{pending} pending · {created} created · {confirmed} confirmed{cb}</p>",
        pending = ev.pending.len(),
        created = ev.created,
        confirmed = ev.confirmed_total,
        cb = match &ev.callback {
            Some(url) => format!(
                " · callback {} ({} delivered, {} failed)",
                esc(url),
                ev.callback_delivered,
                ev.callback_failed
            ),
            None => String::new(),
        }
    );
    h.push_str("<table id=\"events\"><tr><th>#</th><th>state</th><th>fileId</th><th>msgHandle</th><th>SecretId</th><th>created</th><th>pulled</th><th>callback</th></tr>");
    for e in ev.pending.iter().take(ROWS_SHOWN) {
        let _ = write!(
            h,
            "<tr data-event=\"{seq}\" data-state=\"pending\"><td>{seq}</td><td>pending</td><td><code>{id}</code></td><td><code>{handle}</code></td>\
             <td><code>{sid}</code></td><td>{when}</td><td class=\"num\">{pulled}</td><td>{delivery}</td></tr>",
            seq = e.seq,
            id = esc(e.file_id.as_deref().unwrap_or("")),
            handle = esc(&e.msg_handle),
            sid = esc(&e.secret_id),
            when = time(e.created_unix),
            pulled = e.pulled,
            delivery = esc(e.delivery.as_deref().unwrap_or("-")),
        );
    }
    for c in &ev.confirmed {
        let _ = write!(
            h,
            "<tr data-event=\"{seq}\" data-state=\"confirmed\" class=\"muted\"><td>{seq}</td><td>confirmed</td><td><code>{id}</code></td><td></td>\
             <td><code>{sid}</code></td><td>{when}</td><td></td><td></td></tr>",
            seq = c.seq,
            id = esc(c.file_id.as_deref().unwrap_or("")),
            sid = esc(&c.secret_id),
            when = time(c.confirmed_unix),
        );
    }
    h.push_str("</table>");
    more(h, ev.pending.len());
}

fn requests(h: &mut String, s: &Snapshot) {
    let _ = write!(h, "<h2>Recent requests ({})</h2>", s.recent_requests.len());
    h.push_str("<table id=\"requests\"><tr><th>at</th><th>method</th><th>path</th><th>action</th><th>SecretId</th><th>fileSha</th><th>result</th><th>ms</th><th>fault</th></tr>");
    for r in &s.recent_requests {
        let ok =
            r.result == "0" || r.result == "1" || r.result == "2" || r.result.starts_with("HTTP 2");
        let _ = write!(
            h,
            "<tr><td>{at}</td><td>{m}</td><td><code>{p}</code></td><td>{a}</td><td><code>{sid}</code></td><td><code>{sha}</code></td>\
             <td class=\"{cls}\">{res}</td><td class=\"num\">{ms}</td><td>{f}</td></tr>",
            at = time((r.at_unix_ms / 1000) as i64),
            m = esc(&r.method),
            p = esc(&r.path),
            a = esc(&r.action),
            sid = esc(&r.secret_id),
            sha = esc(&r.file_sha),
            cls = if ok { "ok" } else { "bad" },
            res = esc(&r.result),
            ms = r.ms,
            f = esc(&r.fault),
        );
    }
    h.push_str("</table>");
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(
            esc("<a href=\"x\">'&'</a>"),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
