//! Reading a response body into one buffer, bounded by the configured maximum.
//!
//! The announced `Content-Length` is checked first (a body announced over the limit is refused
//! before a byte of it is read), then the bytes are counted as they arrive, so a body that lies
//! about its length or is chunked stops at the limit too. Memory stays within the limit plus one
//! frame.

use bytes::{Bytes, BytesMut};
use http_body_util::BodyExt;
use hyper::body::Incoming;

/// Why a body could not be read.
#[derive(Debug)]
pub(crate) enum BodyError {
    /// Over the limit (`declared` is the announced length, if any).
    TooLarge { declared: Option<u64> },
    /// The connection failed while reading.
    Transport(hyper::Error),
}

/// Reads the whole body, refusing more than `limit` bytes.
pub(crate) async fn read_capped(
    mut body: Incoming,
    content_length: Option<u64>,
    limit: u64,
) -> Result<Bytes, BodyError> {
    if let Some(declared) = content_length.filter(|declared| *declared > limit) {
        return Err(BodyError::TooLarge { declared: Some(declared) });
    }
    // The first frame is kept as it is when it is the whole body (the common case for small
    // answers); larger bodies are gathered in one buffer sized from `Content-Length`.
    let mut first: Option<Bytes> = None;
    let mut buffer: Option<BytesMut> = None;
    let mut total: u64 = 0;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(BodyError::Transport)?;
        let Ok(data) = frame.into_data() else { continue };
        if data.is_empty() {
            continue;
        }
        total = total.saturating_add(data.len() as u64);
        if total > limit {
            return Err(BodyError::TooLarge { declared: content_length });
        }
        if let Some(gathered) = buffer.as_mut() {
            gathered.extend_from_slice(&data);
        } else if let Some(head) = first.take() {
            let capacity = content_length.unwrap_or(0).clamp(total, limit);
            let mut gathered = BytesMut::with_capacity(usize::try_from(capacity).unwrap_or(usize::MAX));
            gathered.extend_from_slice(&head);
            gathered.extend_from_slice(&data);
            buffer = Some(gathered);
        } else {
            first = Some(data);
        }
    }
    Ok(match (first, buffer) {
        (_, Some(gathered)) => gathered.freeze(),
        (Some(head), None) => head,
        (None, None) => Bytes::new(),
    })
}
