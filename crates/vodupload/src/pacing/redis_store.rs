//! The account's rate budget in Redis, shared by every process that paces with the same URL.
//!
//! One server-side script books a call: it reads the Redis server's clock (`TIME`), so the
//! clients' clocks do not matter, applies the same GCRA as [`super::gcra`] to one key per
//! account and action class, and sets the key to expire once the budget is idle again. It is
//! atomic (Redis runs one script at a time), so two processes can never both take the last
//! place. A key names the account by a hash of endpoint and SecretId, inside `{}`: the three
//! keys of an account hash to one Redis Cluster slot. A comma-separated host list
//! (`redis://h1:7000,h2:7001`) connects to a Cluster.
//!
//! The store must never hold an upload up: connecting and every answer have a short limit
//! ([`TIMEOUT`]), and a failed connection is dropped and made again on the next call.

use std::sync::Mutex;
use std::time::Duration;

use redis::{ConnectionLike, Script};

use super::Class;
use super::gcra::{burst, interval};
use crate::hex::hex;

/// Longest a booking may take, connecting included: the pacing of a part must cost a round
/// trip to Redis, never a stall.
const TIMEOUT: Duration = Duration::from_millis(250);

/// KEYS[1]: the class's key. ARGV[1]: the interval, ARGV[2]: the tolerance, in microseconds.
/// Returns 0 when the call is booked, else the microseconds to wait before asking again.
const BOOK: &str = r#"
if redis.replicate_commands then redis.replicate_commands() end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1]) or now)
if tat < now then tat = now end
local allowed_at = tat - tonumber(ARGV[2])
if allowed_at > now then return allowed_at - now end
local next_tat = tat + tonumber(ARGV[1])
redis.call('SET', KEYS[1], string.format('%.0f', next_tat), 'PX',
    math.ceil((next_tat - now) / 1000) + 1000)
return 0
"#;

enum Conn {
    Single(redis::Connection),
    Cluster(redis::cluster::ClusterConnection),
}

impl Conn {
    fn as_like(&mut self) -> &mut dyn ConnectionLike {
        match self {
            Conn::Single(c) => c,
            Conn::Cluster(c) => c,
        }
    }
}

/// The shared budget of one account on one endpoint.
pub(crate) struct RedisPacing {
    url: String,
    /// `vodupload:pace:{<hash>}:`, completed by the class.
    key_prefix: String,
    script: Script,
    conn: Mutex<Option<Conn>>,
}

impl std::fmt::Debug for RedisPacing {
    /// Shows the store without its password.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RedisPacing")
            .field("url", &redact(&self.url))
            .field("key_prefix", &self.key_prefix)
            .finish()
    }
}

impl RedisPacing {
    pub(crate) fn new(url: &str, endpoint: &str, secret_id: &str) -> Self {
        use sha1::Digest as _;
        let account = sha1::Sha1::digest(format!("{endpoint}\0{secret_id}").as_bytes());
        RedisPacing {
            url: url.to_owned(),
            key_prefix: format!("vodupload:pace:{{{}}}:", &hex(&account)[..16]),
            script: Script::new(BOOK),
            conn: Mutex::new(None),
        }
    }

    /// How messages name the store: its URL without a password.
    pub(crate) fn name(&self) -> String {
        redact(&self.url)
    }

    /// Books a call of `class` at `per_minute`: zero when it may go, else how long to wait.
    pub(crate) fn book(&self, class: Class, per_minute: u32) -> Result<Duration, String> {
        let mut conn = self.conn.lock().unwrap_or_else(|e| e.into_inner());
        if conn.is_none() {
            *conn = Some(connect(&self.url).map_err(|e| describe(&e))?);
        }
        let key = format!("{}{}", self.key_prefix, class.key_suffix());
        let interval = interval(per_minute);
        let tolerance = interval * (burst(per_minute) - 1);
        let answer: redis::RedisResult<i64> = self
            .script
            .key(key)
            .arg(interval.as_micros() as u64)
            .arg(tolerance.as_micros() as u64)
            .invoke(conn.as_mut().expect("connected above").as_like());
        match answer {
            Ok(us) => Ok(Duration::from_micros(us.max(0) as u64)),
            Err(e) => {
                // Connect afresh next time: the connection may be half-broken.
                *conn = None;
                Err(describe(&e))
            }
        }
    }
}

fn connect(url: &str) -> redis::RedisResult<Conn> {
    let hosts = hosts(url);
    if hosts.len() > 1 {
        let client = redis::cluster::ClusterClient::builder(hosts)
            .connection_timeout(TIMEOUT)
            .response_timeout(TIMEOUT)
            .build()?;
        return Ok(Conn::Cluster(client.get_connection()?));
    }
    let client = redis::Client::open(url)?;
    let conn = client.get_connection_with_timeout(TIMEOUT)?;
    conn.set_read_timeout(Some(TIMEOUT))?;
    conn.set_write_timeout(Some(TIMEOUT))?;
    Ok(Conn::Single(conn))
}

/// The node URLs of `redis://[auth@]h1:p1,h2:p2[/db]`: one per host, each with the same scheme,
/// credentials and path.
fn hosts(url: &str) -> Vec<String> {
    let Some((scheme, rest)) = url.split_once("://") else {
        return vec![url.to_owned()];
    };
    let (auth, rest) = match rest.rsplit_once('@') {
        Some((a, r)) => (format!("{a}@"), r),
        None => (String::new(), rest),
    };
    let (authority, path) = match rest.find('/') {
        Some(i) => rest.split_at(i),
        None => (rest, ""),
    };
    authority
        .split(',')
        .map(|h| format!("{scheme}://{auth}{h}{path}"))
        .collect()
}

/// Whether `url` is one Redis accepts, without connecting; why not otherwise.
pub(crate) fn check_url(url: &str) -> Result<(), String> {
    for host in hosts(url) {
        redis::Client::open(host.as_str()).map_err(|e| describe(&e))?;
    }
    Ok(())
}

/// An error's text without anything that could carry the URL's password.
fn describe(e: &redis::RedisError) -> String {
    let text = e.to_string();
    let text = match text.find("://") {
        Some(_) => format!("{:?} error", e.kind()),
        None => text,
    };
    // One node of a Cluster, given as if it were a plain server: say what to give instead.
    if matches!(e.kind(), redis::ErrorKind::Moved | redis::ErrorKind::Ask) {
        return format!(
            "{text}: this is a Redis Cluster node; give every node, redis://HOST1:PORT1,HOST2:PORT2,..."
        );
    }
    text
}

/// `url` with the password replaced by `***`.
pub(crate) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    match rest.rsplit_once('@') {
        Some((auth, host)) => {
            let user = auth.split(':').next().unwrap_or_default();
            if auth.contains(':') {
                format!("{scheme}://{user}:***@{host}")
            } else {
                format!("{scheme}://{user}@{host}")
            }
        }
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls() {
        assert_eq!(
            redact("redis://pacer:s3cret@db:6379/1"),
            "redis://pacer:***@db:6379/1"
        );
        assert_eq!(redact("redis://db:6379"), "redis://db:6379");
        assert_eq!(
            hosts("redis://:pw@a:7000,b:7001/0"),
            ["redis://:pw@a:7000/0", "redis://:pw@b:7001/0"]
        );
        assert_eq!(hosts("redis://a"), ["redis://a"]);
        assert!(check_url("redis://127.0.0.1:6379/0").is_ok());
        assert!(check_url("redis+unix:///run/redis.sock").is_ok());
        assert!(check_url("http://h").is_err());
        let r = RedisPacing::new("redis://u:pw@h/0", "https://e", "AKID");
        assert!(!format!("{r:?}").contains("pw"));
        assert!(r.key_prefix.starts_with("vodupload:pace:{") && r.key_prefix.ends_with("}:"));
    }
}
