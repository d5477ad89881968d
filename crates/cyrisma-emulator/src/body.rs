//! The response body: a whole buffer, or one of the faulty bodies (cut short, oversized and
//! streamed, or ended by an error that makes the server close the connection).

use std::pin::Pin;
use std::task::{Context, Poll};

use bytes::Bytes;
use hyper::body::{Body, Frame, SizeHint};

/// 64 KiB of filler, streamed for oversized bodies without allocating them.
static FILLER: [u8; 65_536] = [b'x'; 65_536];

/// A response body.
#[derive(Debug)]
pub(crate) enum ReplyBody {
    /// The whole body.
    Full(Option<Bytes>),
    /// Announces `announced` bytes, sends `data`, then fails, so the connection is closed with
    /// the message incomplete.
    Cut { data: Option<Bytes>, announced: u64 },
    /// A JSON string document of exactly `total` bytes: `"xxx…x"`, streamed.
    Filler { total: u64, sent: u64 },
}

impl ReplyBody {
    pub(crate) fn full(bytes: impl Into<Bytes>) -> Self {
        ReplyBody::Full(Some(bytes.into()))
    }

    /// A JSON document of exactly `total` bytes (at least 1).
    pub(crate) fn filler(total: u64) -> Self {
        ReplyBody::Filler { total: total.max(1), sent: 0 }
    }
}

impl Body for ReplyBody {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        let this = self.get_mut();
        match this {
            ReplyBody::Full(data) => Poll::Ready(data.take().map(|bytes| Ok(Frame::data(bytes)))),
            ReplyBody::Cut { data, .. } => match data.take() {
                Some(bytes) => Poll::Ready(Some(Ok(Frame::data(bytes)))),
                None => Poll::Ready(Some(Err(std::io::Error::other("fault: body cut short")))),
            },
            ReplyBody::Filler { total, sent } => {
                if *sent >= *total {
                    return Poll::Ready(None);
                }
                let chunk = if *total < 2 {
                    // Too small for a string: a one-digit number is valid JSON.
                    Bytes::from_static(b"0")
                } else if *sent == 0 || *sent == *total - 1 {
                    Bytes::from_static(b"\"")
                } else {
                    let left = (*total - 1 - *sent).min(FILLER.len() as u64) as usize;
                    Bytes::from_static(&FILLER[..left])
                };
                *sent += chunk.len() as u64;
                Poll::Ready(Some(Ok(Frame::data(chunk))))
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        match self {
            ReplyBody::Full(data) => data.is_none(),
            ReplyBody::Cut { .. } => false,
            ReplyBody::Filler { total, sent } => sent >= total,
        }
    }

    fn size_hint(&self) -> SizeHint {
        match self {
            ReplyBody::Full(data) => SizeHint::with_exact(data.as_ref().map_or(0, |bytes| bytes.len() as u64)),
            ReplyBody::Cut { announced, .. } => SizeHint::with_exact(*announced),
            ReplyBody::Filler { total, .. } => SizeHint::with_exact(*total),
        }
    }
}

/// `[[[…]]]`, `depth` levels deep.
pub(crate) fn deep_json(depth: usize) -> Bytes {
    let depth = depth.max(1);
    let mut out = Vec::with_capacity(depth * 2);
    out.resize(depth, b'[');
    out.resize(depth * 2, b']');
    Bytes::from(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;

    #[tokio::test]
    async fn filler_is_exact_json() {
        for total in [1u64, 2, 3, 100, 65_538, 200_000] {
            let body = ReplyBody::filler(total).collect().await.unwrap().to_bytes();
            assert_eq!(body.len() as u64, total);
            assert!(serde_json::from_slice::<serde_json::Value>(&body).is_ok(), "{total}");
        }
        assert_eq!(&deep_json(3)[..], b"[[[]]]");
    }
}
