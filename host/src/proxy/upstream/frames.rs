//! What the API server tells an HTTP/2 client about its connection, read off the bytes it sends:
//! `SETTINGS_MAX_CONCURRENT_STREAMS` (RFC 9113 §6.5.2, identifier `0x3`) and `GOAWAY` (§6.8).
//!
//! hyper's `client::conn::http2` does not expose the peer's stream limit, and the pool needs it
//! to know when a connection is full (Go: `ClientConn.maxConcurrentStreams`, learned in
//! `processSettings`, golang.org/x/net/http2 `transport.go`). [`Watched`] wraps the decrypted
//! stream under hyper (before its first `SETTINGS`: Go's `initialMaxConcurrentStreams` 100; a
//! first `SETTINGS` without the limit: Go's `defaultMaxConcurrentStreams` 1000) and follows the
//! server's frame headers (9 bytes each, §4.1); it reads only
//! `SETTINGS` payloads, and never alters a byte.

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// The stream limit assumed until the server's first `SETTINGS` arrive (Go:
/// `initialMaxConcurrentStreams`).
pub const INITIAL_MAX_STREAMS: usize = 100;
/// The stream limit used when the server's `SETTINGS` set none (Go:
/// `defaultMaxConcurrentStreams`).
pub const DEFAULT_MAX_STREAMS: usize = 1000;

const SETTINGS: u8 = 0x4;
const GOAWAY: u8 = 0x7;
const ACK: u8 = 0x1;
const MAX_CONCURRENT_STREAMS: u16 = 0x3;

/// What the server said so far on one connection. Shared between the connection's reader and
/// the pool.
#[derive(Debug)]
pub struct PeerState {
    max_streams: AtomicUsize,
    goaway: AtomicBool,
}

impl PeerState {
    /// Before the server said anything: [`INITIAL_MAX_STREAMS`], no `GOAWAY`.
    pub fn new() -> Arc<PeerState> {
        Arc::new(PeerState {
            max_streams: AtomicUsize::new(INITIAL_MAX_STREAMS),
            goaway: AtomicBool::new(false),
        })
    }

    /// How many streams the server allows at once on this connection.
    pub fn max_streams(&self) -> usize {
        self.max_streams.load(Ordering::Relaxed)
    }

    /// Whether the server sent `GOAWAY` (no new streams on this connection).
    pub fn goaway(&self) -> bool {
        self.goaway.load(Ordering::Relaxed)
    }
}

/// The frame parser's position in the server's byte stream.
#[derive(Debug, Default)]
struct Parser {
    header: [u8; 9],
    have: usize,
    /// Payload bytes left in the current frame.
    left: usize,
    /// In a non-ACK `SETTINGS` payload: the current 6-byte entry and whether any entry set the
    /// stream limit.
    settings: bool,
    entry: [u8; 6],
    entry_have: usize,
    limit_seen: bool,
    /// Whether the server's first `SETTINGS` were read.
    first_done: bool,
}

impl Parser {
    fn feed(&mut self, mut bytes: &[u8], peer: &PeerState) {
        while !bytes.is_empty() {
            if self.left == 0 && self.have < 9 {
                let n = (9 - self.have).min(bytes.len());
                self.header[self.have..self.have + n].copy_from_slice(&bytes[..n]);
                self.have += n;
                bytes = &bytes[n..];
                if self.have == 9 {
                    self.start_frame(peer);
                }
                continue;
            }
            let n = self.left.min(bytes.len());
            if self.settings {
                for &b in &bytes[..n] {
                    self.entry[self.entry_have] = b;
                    self.entry_have += 1;
                    if self.entry_have == 6 {
                        self.entry_have = 0;
                        let id = u16::from_be_bytes([self.entry[0], self.entry[1]]);
                        if id == MAX_CONCURRENT_STREAMS {
                            let v = u32::from_be_bytes(self.entry[2..6].try_into().unwrap());
                            peer.max_streams.store(v as usize, Ordering::Relaxed);
                            self.limit_seen = true;
                        }
                    }
                }
            }
            self.left -= n;
            bytes = &bytes[n..];
            if self.left == 0 {
                self.end_frame(peer);
            }
        }
    }

    fn start_frame(&mut self, peer: &PeerState) {
        let h = &self.header;
        self.left = u32::from_be_bytes([0, h[0], h[1], h[2]]) as usize;
        let (kind, flags) = (h[3], h[4]);
        self.settings = kind == SETTINGS && flags & ACK == 0;
        self.entry_have = 0;
        self.limit_seen = false;
        if kind == GOAWAY {
            peer.goaway.store(true, Ordering::Relaxed);
        }
        if self.left == 0 {
            self.end_frame(peer);
        }
    }

    fn end_frame(&mut self, peer: &PeerState) {
        // The first SETTINGS without a limit mean "unlimited": Go then uses its default.
        if self.settings && !self.first_done {
            self.first_done = true;
            if !self.limit_seen {
                peer.max_streams
                    .store(DEFAULT_MAX_STREAMS, Ordering::Relaxed);
            }
        }
        self.have = 0;
        self.settings = false;
    }
}

/// A connection whose incoming HTTP/2 frames update a [`PeerState`]; reads and writes pass
/// through unchanged.
pub struct Watched<S> {
    inner: S,
    parser: Parser,
    peer: Arc<PeerState>,
}

impl<S> Watched<S> {
    /// Watches `inner`, reporting into `peer`.
    pub fn new(inner: S, peer: Arc<PeerState>) -> Watched<S> {
        Watched {
            inner,
            parser: Parser::default(),
            peer,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Watched<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        let before = buf.filled().len();
        let r = Pin::new(&mut this.inner).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = r {
            this.parser.feed(&buf.filled()[before..], &this.peer);
        }
        r
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Watched<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(kind: u8, flags: u8, payload: &[u8]) -> Vec<u8> {
        let len = (payload.len() as u32).to_be_bytes();
        let mut f = vec![len[1], len[2], len[3], kind, flags, 0, 0, 0, 0];
        f.extend_from_slice(payload);
        f
    }

    #[test]
    fn learns_the_limit_and_goaway_across_split_reads() {
        let peer = PeerState::new();
        let mut p = Parser::default();
        assert_eq!(peer.max_streams(), 100);
        let mut bytes = frame(0x0, 0x1, b"data, not settings");
        // SETTINGS: INITIAL_WINDOW_SIZE = 65535, MAX_CONCURRENT_STREAMS = 200.
        bytes.extend(frame(
            SETTINGS,
            0,
            &[0, 4, 0, 0, 0xff, 0xff, 0, 3, 0, 0, 0, 200],
        ));
        bytes.extend(frame(SETTINGS, ACK, &[]));
        // Fed one byte at a time: reads split anywhere.
        for b in &bytes {
            p.feed(std::slice::from_ref(b), &peer);
        }
        assert_eq!(peer.max_streams(), 200);
        assert!(!peer.goaway());
        p.feed(&frame(GOAWAY, 0, &[0, 0, 0, 7, 0, 0, 0, 0]), &peer);
        assert!(peer.goaway());
        assert_eq!(peer.max_streams(), 200);
    }

    #[test]
    fn settings_without_a_limit_mean_go_s_default() {
        let peer = PeerState::new();
        let mut p = Parser::default();
        p.feed(&frame(SETTINGS, 0, &[]), &peer);
        assert_eq!(peer.max_streams(), DEFAULT_MAX_STREAMS);
        // Later SETTINGS without the key keep the value in force.
        p.feed(&frame(SETTINGS, 0, &[0, 3, 0, 0, 0, 100]), &peer);
        p.feed(&frame(SETTINGS, 0, &[0, 4, 0, 0, 0xff, 0xff]), &peer);
        assert_eq!(peer.max_streams(), 100);
    }
}
