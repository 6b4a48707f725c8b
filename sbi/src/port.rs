//! Port selection: SBI services bind 127.0.0.1 (never `localhost`, never all interfaces) on the
//! first free port of 4501–4600, so several device services can coexist and clients find each
//! by scanning the range.

use std::ops::RangeInclusive;

use tokio::net::TcpListener;

/// No port of the range could be bound.
#[derive(Debug, thiserror::Error)]
pub enum PortError {
    #[error("no free port on 127.0.0.1 in {first}-{last}: every port is taken (last error: {last_error})")]
    NoFreePort {
        first: u16,
        last: u16,
        last_error: String,
    },
    #[error("empty port range {first}-{last}")]
    EmptyRange { first: u16, last: u16 },
}

/// Binds the first port of `range` that is free on 127.0.0.1.
pub async fn bind_first_free(range: RangeInclusive<u16>) -> Result<(TcpListener, u16), PortError> {
    let (first, last) = (*range.start(), *range.end());
    if first > last {
        return Err(PortError::EmptyRange { first, last });
    }
    let mut last_error = String::new();
    for port in range {
        match TcpListener::bind(("127.0.0.1", port)).await {
            Ok(listener) => return Ok((listener, port)),
            Err(e) => last_error = format!("port {port}: {e}"),
        }
    }
    Err(PortError::NoFreePort {
        first,
        last,
        last_error,
    })
}
