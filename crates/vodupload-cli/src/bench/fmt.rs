//! Formatting figures, and the plain column layout every table uses.

use std::time::Duration;

use super::{GIB, KIB, MIB};

/// "64 MiB", "1 GiB", "1.5 GiB", "100 B".
pub(super) fn size(bytes: u64) -> String {
    for (unit, name) in [(GIB, "GiB"), (MIB, "MiB"), (KIB, "KiB")] {
        if bytes >= unit {
            return if bytes.is_multiple_of(unit) {
                format!("{} {name}", bytes / unit)
            } else {
                format!("{:.1} {name}", bytes as f64 / unit as f64)
            };
        }
    }
    format!("{bytes} B")
}

/// Memory, where a tenth of a MiB matters.
pub(super) fn mib(bytes: u64) -> String {
    format!("{:.1} MiB", bytes as f64 / MIB as f64)
}

/// Milliseconds below 10 s, seconds above.
pub(super) fn dur(d: Duration) -> String {
    if d < Duration::from_secs(10) {
        format!("{} ms", d.as_millis())
    } else {
        format!("{:.1} s", d.as_secs_f64())
    }
}

pub(super) fn opt_dur(d: Option<Duration>) -> String {
    d.map_or_else(|| "-".to_owned(), dur)
}

pub(super) fn yes_no(ok: bool) -> &'static str {
    if ok { "yes" } else { "NO" }
}

/// Decimal GB/s, as disks and links are rated.
pub(super) fn gbps(bytes: u64, d: Duration) -> f64 {
    bytes as f64 / d.as_secs_f64().max(1e-9) / 1e9
}

/// Seconds per GiB.
pub(super) fn per_gib(d: Duration, bytes: u64) -> f64 {
    d.as_secs_f64() * GIB as f64 / bytes as f64
}

/// Prints rows as left-aligned columns, two spaces apart.
pub(super) fn print_table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (w, c) in widths.iter_mut().zip(r) {
            *w = (*w).max(c.chars().count());
        }
    }
    let line = |cells: Vec<&str>| {
        let mut s = String::new();
        for (c, w) in cells.iter().zip(&widths) {
            s.push_str(c);
            s.extend(std::iter::repeat_n(' ', w - c.chars().count() + 2));
        }
        println!("{}", s.trim_end());
    };
    line(header.to_vec());
    for r in rows {
        line(r.iter().map(String::as_str).collect());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(size(64 * MIB), "64 MiB");
        assert_eq!(size(GIB + GIB / 2), "1.5 GiB");
        assert_eq!(size(512 * KIB), "512 KiB");
        assert_eq!(size(100), "100 B");
        assert_eq!(mib(MIB + MIB / 2), "1.5 MiB");
        assert_eq!(dur(Duration::from_millis(1234)), "1234 ms");
        assert_eq!(dur(Duration::from_millis(12_345)), "12.3 s");
        assert_eq!(opt_dur(None), "-");
    }
}
