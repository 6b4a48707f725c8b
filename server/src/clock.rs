//! Wall-clock helpers: the database stores epoch milliseconds, the person record ISO 8601.

/// Milliseconds since the Unix epoch.
pub fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Epoch milliseconds as an RFC 3339 string with millisecond precision (`2026-11-23T09:12:03.456Z`).
pub fn iso8601(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .unwrap_or_default()
        .to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}
