//! `vodupload events`: read the "Video Upload Completed" events the service keeps for the app
//! (PullEvent), acknowledge them (ConfirmEvent), and check an event's JSON (a callback's body).

use std::io::{Read as _, Write as _};
use std::path::PathBuf;

use clap::{Args, Subcommand};
use serde_json::{Value, json};
use vodupload::settings::Value as SettingValue;
use vodupload::{Client, ClientOptions, Credentials, Event, PulledEvent};

use crate::Failure;

#[derive(Args)]
pub(crate) struct EventsArgs {
    #[command(subcommand)]
    command: EventsCommand,
}

impl EventsArgs {
    /// `-v` given after the subcommand.
    pub(crate) fn verbosity(&self) -> u8 {
        match &self.command {
            EventsCommand::Pull(a) => a.connection.verbosity.verbose,
            EventsCommand::Confirm(a) => a.connection.verbosity.verbose,
            EventsCommand::Parse(a) => a.verbosity.verbose,
        }
    }
}

#[derive(Subcommand)]
enum EventsCommand {
    /// Print the oldest unconfirmed events (at most 16, one PullEvent). They are served again by
    /// every pull until confirmed: add --confirm to acknowledge them once printed.
    Pull(PullArgs),
    /// Acknowledge events by their msg handle, so they are not served again.
    Confirm(ConfirmArgs),
    /// Check an event's JSON (e.g. a callback's POST body) and print its fields.
    Parse(ParseArgs),
}

/// Where the event API is and how to sign for it.
#[derive(Args)]
struct Connection {
    #[command(flatten)]
    verbosity: crate::verbosity::Verbosity,
    /// Event API URL (PullEvent, ConfirmEvent); for the emulator, its endpoint
    /// [default: https://vod.api.qcloud.com/v2/index.php].
    #[arg(long, value_name = "URL")]
    endpoint: Option<String>,
    /// The service's Region parameter [default: gz].
    #[arg(long)]
    region: Option<String>,
    /// SecretId [default: $TENCENTCLOUD_SECRET_ID].
    #[arg(long)]
    secret_id: Option<String>,
    /// SecretKey [default: $TENCENTCLOUD_SECRET_KEY]. Prefer the variable: arguments show in `ps`.
    #[arg(long)]
    secret_key: Option<String>,
    /// Trust only the CA certificates in this PEM file (as curl --cacert).
    #[arg(long, value_name = "PEM")]
    ca_file: Option<PathBuf>,
    /// Send requests through this HTTP proxy, http://host:port.
    #[arg(long, value_name = "URL")]
    proxy: Option<String>,
    /// HmacSHA1 or HmacSHA256 [default: HmacSHA1].
    #[arg(long, value_name = "METHOD")]
    signature_method: Option<String>,
    /// Tries per request, the first included, 1 to 100 [default: 5].
    #[arg(long, alias = "retries", value_name = "N")]
    max_attempts: Option<String>,
    /// Seconds allowed for one whole request [default: 60].
    #[arg(long, alias = "timeout", value_name = "SECONDS")]
    request_timeout: Option<String>,
}

impl Connection {
    fn client(&self) -> Result<Client, Failure> {
        let credentials =
            Credentials::resolve(self.secret_id.as_deref(), self.secret_key.as_deref())?;
        let mut options = ClientOptions::default();
        for (name, value) in [
            ("events_endpoint", &self.endpoint),
            ("region", &self.region),
            ("proxy", &self.proxy),
            ("signature_method", &self.signature_method),
            ("max_attempts", &self.max_attempts),
            ("request_timeout", &self.request_timeout),
        ] {
            if let Some(v) = value {
                options.set(name, SettingValue::Text(v))?;
            }
        }
        if let Some(ca) = &self.ca_file {
            options.set("ca_file", SettingValue::Path(ca))?;
        }
        Ok(Client::new(credentials, options)?)
    }
}

#[derive(Args)]
struct PullArgs {
    #[command(flatten)]
    connection: Connection,
    /// Confirm the events once they are printed (if confirming fails the exit status says so,
    /// and they will be served again).
    #[arg(long)]
    confirm: bool,
    /// Print one JSON object, {"events":[{"msg_handle", "event_type", "version", "file_id",
    /// "file_url", "file_name", "source_type", "event": <the event's JSON>}]}, instead of text.
    #[arg(long)]
    json: bool,
}

#[derive(Args)]
struct ConfirmArgs {
    #[command(flatten)]
    connection: Connection,
    /// The msg handles `vodupload events pull` printed.
    #[arg(value_name = "MSG_HANDLE", required = true)]
    handles: Vec<String>,
}

#[derive(Args)]
struct ParseArgs {
    #[command(flatten)]
    verbosity: crate::verbosity::Verbosity,
    /// A file holding the event's JSON; `-` or nothing: standard input.
    file: Option<PathBuf>,
    /// Print the fields as JSON instead of text.
    #[arg(long)]
    json: bool,
}

pub(crate) fn run(a: EventsArgs) -> Result<(), Failure> {
    match a.command {
        EventsCommand::Pull(a) => pull(a),
        EventsCommand::Confirm(a) => confirm(a),
        EventsCommand::Parse(a) => parse(a),
    }
}

fn pull(a: PullArgs) -> Result<(), Failure> {
    let client = a.connection.client()?;
    let pulled = client.pull_events()?;
    let text = if a.json {
        let events: Vec<Value> = pulled
            .iter()
            .map(|p| {
                let mut o = event_json(&p.event);
                o["msg_handle"] = json!(p.msg_handle);
                o
            })
            .collect();
        format!("{}\n", json!({ "events": events }))
    } else {
        pulled_text(&pulled)
    };
    // Printed (and flushed) before confirming: an event is never confirmed unseen.
    write_stdout(&text)?;
    if a.confirm && !pulled.is_empty() {
        let handles: Vec<&str> = pulled.iter().map(|p| p.msg_handle.as_str()).collect();
        client.confirm_events(&handles).map_err(|e| {
            let mut f = Failure::from(e);
            f.message = format!(
                "the events were printed but not confirmed, so they will be served again: {}",
                f.message
            );
            f
        })?;
        if !a.json {
            write_stdout(&format!("confirmed {}\n", count(handles.len())))?;
        }
    }
    Ok(())
}

fn confirm(a: ConfirmArgs) -> Result<(), Failure> {
    let client = a.connection.client()?;
    client.confirm_events(&a.handles)?;
    write_stdout(&format!("confirmed {}\n", count(a.handles.len())))
}

fn parse(a: ParseArgs) -> Result<(), Failure> {
    let (bytes, source) = match &a.file {
        Some(p) if p.as_os_str() != "-" => (
            std::fs::read(p)
                .map_err(|e| Failure::other(format!("cannot read {}: {e}", p.display())))?,
            p.display().to_string(),
        ),
        _ => {
            let mut b = Vec::new();
            std::io::stdin()
                .read_to_end(&mut b)
                .map_err(|e| Failure::other(format!("cannot read standard input: {e}")))?;
            (b, "standard input".to_string())
        }
    };
    let event = Event::parse(&bytes).map_err(|e| {
        let mut f = Failure::from(e);
        f.message = format!("{source}: {}", f.message);
        f
    })?;
    if a.json {
        write_stdout(&format!("{}\n", event_json(&event)))
    } else {
        write_stdout(&event_text(&event))
    }
}

/// The typed fields (null when absent), then the whole event.
fn event_json(e: &Event) -> Value {
    json!({
        "event_type": e.event_type(),
        "version": e.version(),
        "file_id": e.file_id(),
        "file_url": e.file_url(),
        "file_name": e.file_name(),
        "source_type": e.source_type(),
        "event": e.value(),
    })
}

fn event_text(e: &Event) -> String {
    let mut s = format!("{}\n", e.event_type());
    for (label, v) in [
        ("file id", e.file_id()),
        ("file name", e.file_name()),
        ("file url", e.file_url()),
        ("source", e.source_type()),
        ("version", e.version()),
    ] {
        if let Some(v) = v {
            s.push_str(&format!("  {label:<10}  {v}\n"));
        }
    }
    s
}

fn pulled_text(pulled: &[PulledEvent]) -> String {
    if pulled.is_empty() {
        return "no events waiting\n".to_string();
    }
    let mut s = String::new();
    for p in pulled {
        s.push_str(&event_text(&p.event));
        s.push_str(&format!("  {:<10}  {}\n", "msg handle", p.msg_handle));
    }
    s
}

fn count(n: usize) -> String {
    format!("{n} event{}", if n == 1 { "" } else { "s" })
}

fn write_stdout(text: &str) -> Result<(), Failure> {
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .map_err(|e| Failure::other(format!("cannot write to standard output: {e}")))
}
