//! The process-wide pool of guests' outbound connections, keyed by origin and trust.
//!
//! Shaped like Go's `net/http.Transport` as client-go configures it (`transport/cache.go`:
//! `IdleConnTimeout` 90 s, `MaxIdleConnsPerHost` 25) and keyed like client-go's transport cache,
//! which shares one transport per TLS configuration (`tlsCacheKey`): a connection is reused only
//! for the same scheme, host and port **and** the same trust ([`TrustKey`]): plain http, the
//! explicit accept-any mode, or one generation of one CA file. Every guest store of the process
//! shares the pool, as every client-go client with the same TLS configuration shares one
//! transport.
//!
//! - HTTP/1.1: a connection carries one request at a time. It goes back to the pool when its
//!   response body was read to the end; a body dropped early, a request that failed or timed out
//!   closes the connection (hyper cannot reuse it, and we abort its task). At most
//!   [`MAX_IDLE_PER_ORIGIN`] idle connections per key are kept, most recently used first.
//! - HTTP/2: one connection per key, multiplexed; it stays in the pool while it is open. While
//!   a dial to an https origin whose protocol is not known to be HTTP/1.1 is in progress, other
//!   requests for it wait for that dial instead of opening their own (hyper-util's pool does the
//!   same for HTTP/2 with its "connecting" lock).
//! - Idle connections (HTTP/1.1 in the pool, HTTP/2 without open streams) are closed after
//!   [`IDLE_TIMEOUT`] by a watcher that runs in the connection's own task.
//! - A CA file generation that is newer than the one the pool knows drops every pooled
//!   connection of the older generations of that file; connections still carrying a response
//!   finish it and are then closed, never pooled again (Go closes idle connections when a
//!   transport is replaced; client-go's CA reload rebuilds the TLS configuration for new
//!   connections).
//! - A reused connection that turns out to be closed before the request was written is retried
//!   once on a new connection by the caller (hyper hands the unsent request back), as hyper-util's
//!   legacy client does with `retry_canceled_requests`.

use std::collections::HashMap;
use std::future::Future;
use std::sync::{Mutex, MutexGuard, OnceLock};
use std::time::Duration;

use hyper::client::conn::{http1, http2};
use tokio::sync::watch;
use tokio::time::Instant;
use wasmtime_wasi_http::{Error, WasiBody};

use super::policy::Scheme;
use crate::credential_files::CredentialPath;

/// How long a connection may stay unused before it is closed (Go `IdleConnTimeout` as client-go
/// sets it, 90 s).
pub(crate) const IDLE_TIMEOUT: Duration = Duration::from_secs(90);
/// Idle HTTP/1.1 connections kept per key (client-go's `MaxIdleConnsPerHost`, 25).
pub(crate) const MAX_IDLE_PER_ORIGIN: usize = 25;
/// How long a pooled HTTP/1.1 connection may take to become ready for the next request (hyper
/// finishes reading the previous response) before a new connection is dialled instead.
const READY_WAIT: Duration = Duration::from_secs(1);

/// What a connection's server certificate was verified with.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum TrustKey {
    /// Plain http: no TLS.
    Plain,
    /// `insecure_skip_tls_verify`: never shared with verified connections.
    Insecure,
    /// Verified against one version of the CA file: `generation` is unique in the process and
    /// grows each time the file's content changes.
    Ca {
        file: CredentialPath,
        generation: u64,
    },
}

/// The pool key: origin and trust.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) struct Key {
    pub scheme: Scheme,
    pub host: String,
    pub port: u16,
    pub trust: TrustKey,
}

/// The sending side of a new hyper client connection and its connection future.
pub(crate) enum Dialled {
    Http1(
        http1::SendRequest<WasiBody>,
        Box<http1::Connection<hyper_util::rt::TokioIo<Box<dyn super::send::Stream>>, WasiBody>>,
    ),
    Http2(
        http2::SendRequest<WasiBody>,
        http2::Connection<
            hyper_util::rt::TokioIo<Box<dyn super::send::Stream>>,
            WasiBody,
            hyper_util::rt::TokioExecutor,
        >,
    ),
}

/// Aborts the connection's task (closing its socket) when dropped.
struct Closer(tokio::task::AbortHandle);

impl Drop for Closer {
    fn drop(&mut self) {
        self.0.abort();
    }
}

struct IdleHttp1 {
    id: u64,
    since: Instant,
    sender: http1::SendRequest<WasiBody>,
    _closer: Closer,
}

struct Http2Conn {
    id: u64,
    sender: http2::SendRequest<WasiBody>,
    /// Requests whose response has not ended.
    streams: usize,
    /// When `streams` last dropped to 0.
    idle_since: Option<Instant>,
}

struct Entry {
    idle: Vec<IdleHttp1>,
    http2: Option<Http2Conn>,
    /// Dials in progress.
    dialing: usize,
    /// The last connection made negotiated HTTP/1.1: no point waiting for another dial.
    http1: bool,
    /// Bumped when a dial ends.
    dialled: watch::Sender<u64>,
}

impl Entry {
    fn new() -> Entry {
        Entry {
            idle: Vec::new(),
            http2: None,
            dialing: 0,
            http1: false,
            dialled: watch::Sender::new(0),
        }
    }
}

#[derive(Default)]
struct Inner {
    entries: HashMap<Key, Entry>,
    /// CA file → the newest generation seen.
    generations: HashMap<CredentialPath, u64>,
    next_id: u64,
}

impl Inner {
    /// Notes `key`'s CA generation; a newer one drops the pooled connections of the older.
    fn note_trust(&mut self, key: &Key) {
        let TrustKey::Ca { file, generation } = &key.trust else {
            return;
        };
        let newest = self.generations.entry(file.clone()).or_insert(*generation);
        if *generation > *newest {
            *newest = *generation;
            let before = self.entries.len();
            self.entries.retain(|k, _| match &k.trust {
                TrustKey::Ca {
                    file: f,
                    generation: g,
                } => f != file || g == generation,
                _ => true,
            });
            tracing::debug!(
                ca_file = %file.display(),
                dropped = before - self.entries.len(),
                "the CA bundle changed: pooled connections verified with the old one are closed"
            );
        }
    }

    /// Whether connections of `key` may be pooled: its CA generation is still the newest.
    fn is_current(&self, key: &Key) -> bool {
        match &key.trust {
            TrustKey::Ca { file, generation } => self.generations.get(file) == Some(generation),
            _ => true,
        }
    }
}

/// The pool of the process.
pub(crate) struct Pool {
    inner: Mutex<Inner>,
}

/// The process-wide pool.
pub(crate) fn pool() -> &'static Pool {
    static POOL: OnceLock<Pool> = OnceLock::new();
    POOL.get_or_init(|| Pool {
        inner: Mutex::new(Inner::default()),
    })
}

/// The response head of a request sent on a [`Lease`].
pub(crate) type ResponseFuture = std::pin::Pin<
    Box<
        dyn Future<
                Output = Result<
                    http::Response<hyper::body::Incoming>,
                    hyper::client::conn::TrySendError<http::Request<WasiBody>>,
                >,
            > + Send,
    >,
>;

/// A connection held for one request until its response ends.
pub(crate) struct Lease {
    key: Key,
    id: u64,
    kind: LeaseKind,
    /// Whether it came from the pool (a retry on a new connection is allowed when hyper hands
    /// the request back unsent).
    pub reused: bool,
}

enum LeaseKind {
    Http1 {
        sender: http1::SendRequest<WasiBody>,
        closer: Closer,
    },
    Http2 {
        sender: http2::SendRequest<WasiBody>,
    },
    Done,
}

impl Lease {
    /// Whether the connection speaks HTTP/2.
    pub(crate) fn is_http2(&self) -> bool {
        matches!(self.kind, LeaseKind::Http2 { .. })
    }

    /// Sends `req`; on an error before the request was written, the error carries it back.
    pub(crate) fn send(&mut self, req: http::Request<WasiBody>) -> ResponseFuture {
        match &mut self.kind {
            LeaseKind::Http1 { sender, .. } => Box::pin(sender.try_send_request(req)),
            LeaseKind::Http2 { sender } => Box::pin(sender.try_send_request(req)),
            LeaseKind::Done => unreachable!("a finished lease is not used"),
        }
    }

    /// The response ended (its body was read to the end): an HTTP/1.1 connection goes back to
    /// the pool, an HTTP/2 stream is counted as closed.
    pub(crate) fn finish(mut self) {
        if let LeaseKind::Http1 { sender, closer } =
            std::mem::replace(&mut self.kind, LeaseKind::Done)
        {
            pool().put_http1(&self.key, self.id, sender, closer);
        }
        // Drop does the HTTP/2 accounting.
    }
}

impl Drop for Lease {
    fn drop(&mut self) {
        match std::mem::replace(&mut self.kind, LeaseKind::Done) {
            // Not finished: the response did not end normally, the connection is closed.
            LeaseKind::Http1 { .. } | LeaseKind::Done => {}
            LeaseKind::Http2 { .. } => pool().stream_done(&self.key, self.id),
        }
    }
}

/// Decrements the dial count of a key when a dial ends, however it ends, and wakes waiters.
struct DialGuard<'a> {
    pool: &'a Pool,
    key: &'a Key,
}

impl Drop for DialGuard<'_> {
    fn drop(&mut self) {
        let mut inner = self.pool.lock();
        if let Some(entry) = inner.entries.get_mut(self.key) {
            entry.dialing = entry.dialing.saturating_sub(1);
            entry.dialled.send_modify(|n| *n += 1);
        }
    }
}

enum Idle {
    Expired,
    Until(Instant),
    Busy,
}

impl Pool {
    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// A connection for `key`: a pooled one, the HTTP/2 connection another dial is opening, or a
    /// new one from `dial` (never with `fresh`, which always dials). The caller bounds the time.
    pub(crate) async fn acquire<F, Fut>(
        &'static self,
        key: &Key,
        fresh: bool,
        dial: F,
    ) -> Result<Lease, Error>
    where
        F: FnOnce() -> Fut,
        Fut: Future<Output = Result<Dialled, Error>>,
    {
        let mut waited = false;
        loop {
            let mut wait = None;
            let mut candidate = None;
            {
                let mut inner = self.lock();
                inner.note_trust(key);
                let entry = inner.entries.entry(key.clone()).or_insert_with(Entry::new);
                if !fresh {
                    if let Some(h2) = entry.http2.as_mut() {
                        if h2.sender.is_closed() {
                            entry.http2 = None;
                        } else {
                            h2.streams += 1;
                            h2.idle_since = None;
                            return Ok(Lease {
                                key: key.clone(),
                                id: h2.id,
                                kind: LeaseKind::Http2 {
                                    sender: h2.sender.clone(),
                                },
                                reused: true,
                            });
                        }
                    }
                    while let Some(idle) = entry.idle.pop() {
                        if !idle.sender.is_closed() {
                            candidate = Some(idle);
                            break;
                        }
                    }
                    if candidate.is_none()
                        && key.scheme == Scheme::Https
                        && !entry.http1
                        && entry.dialing > 0
                        && !waited
                    {
                        wait = Some(entry.dialled.subscribe());
                    }
                }
                if candidate.is_none() && wait.is_none() {
                    entry.dialing += 1;
                }
            }
            if let Some(mut idle) = candidate {
                match tokio::time::timeout(READY_WAIT, idle.sender.ready()).await {
                    Ok(Ok(())) => {
                        tracing::trace!(id = idle.id, "reusing a pooled HTTP/1.1 connection");
                        return Ok(Lease {
                            key: key.clone(),
                            id: idle.id,
                            kind: LeaseKind::Http1 {
                                sender: idle.sender,
                                closer: idle._closer,
                            },
                            reused: true,
                        });
                    }
                    // Closed meanwhile, or still busy: closed (dropping it), try the next one.
                    _ => continue,
                }
            }
            if let Some(mut rx) = wait {
                waited = true;
                // The dial ends (the connection is pooled if it is HTTP/2) or is dropped.
                let _ = rx.changed().await;
                continue;
            }
            let guard = DialGuard { pool: self, key };
            let dialled = dial().await?;
            let lease = self.register(key, dialled);
            drop(guard);
            return Ok(lease);
        }
    }

    /// Spawns a new connection's task (driving it and closing it once idle too long) and, for
    /// HTTP/2, pools it.
    fn register(&'static self, key: &Key, dialled: Dialled) -> Lease {
        let id = {
            let mut inner = self.lock();
            inner.next_id += 1;
            inner.next_id
        };
        let watch_key = key.clone();
        match dialled {
            Dialled::Http1(sender, conn) => {
                let task = tokio::spawn(async move {
                    tokio::select! {
                        r = conn => if let Err(e) = r {
                            tracing::debug!(id, "outbound HTTP/1.1 connection failed: {e}");
                        },
                        () = self.close_when_idle(&watch_key, id) => {}
                    }
                });
                let mut inner = self.lock();
                if let Some(entry) = inner.entries.get_mut(key) {
                    entry.http1 = true;
                }
                Lease {
                    key: key.clone(),
                    id,
                    kind: LeaseKind::Http1 {
                        sender,
                        closer: Closer(task.abort_handle()),
                    },
                    reused: false,
                }
            }
            Dialled::Http2(sender, conn) => {
                tokio::spawn(async move {
                    tokio::select! {
                        r = conn => if let Err(e) = r {
                            tracing::debug!(id, "outbound HTTP/2 connection failed: {e}");
                        },
                        () = self.close_when_idle(&watch_key, id) => {}
                    }
                });
                let mut inner = self.lock();
                let current = inner.is_current(key);
                if let Some(entry) = inner.entries.get_mut(key) {
                    entry.http1 = false;
                    let open = entry.http2.as_ref().is_some_and(|c| !c.sender.is_closed());
                    if current && !open {
                        entry.http2 = Some(Http2Conn {
                            id,
                            sender: sender.clone(),
                            streams: 1,
                            idle_since: None,
                        });
                    }
                }
                Lease {
                    key: key.clone(),
                    id,
                    kind: LeaseKind::Http2 { sender },
                    reused: false,
                }
            }
        }
    }

    /// Puts an HTTP/1.1 connection whose response ended back, unless its trust is outdated or
    /// the key has enough idle connections (then it is closed).
    fn put_http1(&self, key: &Key, id: u64, sender: http1::SendRequest<WasiBody>, closer: Closer) {
        if sender.is_closed() {
            return;
        }
        let mut inner = self.lock();
        if !inner.is_current(key) {
            return;
        }
        let entry = inner.entries.entry(key.clone()).or_insert_with(Entry::new);
        if entry.idle.len() >= MAX_IDLE_PER_ORIGIN {
            return;
        }
        entry.idle.push(IdleHttp1 {
            id,
            since: Instant::now(),
            sender,
            _closer: closer,
        });
    }

    /// One HTTP/2 stream of connection `id` ended.
    fn stream_done(&self, key: &Key, id: u64) {
        let mut inner = self.lock();
        if let Some(h2) = inner
            .entries
            .get_mut(key)
            .and_then(|e| e.http2.as_mut())
            .filter(|c| c.id == id)
        {
            h2.streams = h2.streams.saturating_sub(1);
            if h2.streams == 0 {
                h2.idle_since = Some(Instant::now());
            }
        }
    }

    /// Whether connection `id` is idle in the pool, and removes it when it has been for
    /// [`IDLE_TIMEOUT`].
    fn check_idle(&self, key: &Key, id: u64) -> Idle {
        let now = Instant::now();
        let mut inner = self.lock();
        let Some(entry) = inner.entries.get_mut(key) else {
            return Idle::Busy;
        };
        if let Some(i) = entry.idle.iter().position(|c| c.id == id) {
            let until = entry.idle[i].since + IDLE_TIMEOUT;
            if until > now {
                return Idle::Until(until);
            }
            entry.idle.remove(i);
            return Idle::Expired;
        }
        if let Some(h2) = entry.http2.as_ref().filter(|c| c.id == id) {
            let Some(since) = h2.idle_since else {
                return Idle::Busy;
            };
            let until = since + IDLE_TIMEOUT;
            if until > now {
                return Idle::Until(until);
            }
            entry.http2 = None;
            return Idle::Expired;
        }
        Idle::Busy
    }

    /// Resolves once connection `id` has been idle in the pool for [`IDLE_TIMEOUT`] (it is then
    /// removed from the pool; the caller drops the connection).
    async fn close_when_idle(&self, key: &Key, id: u64) {
        loop {
            match self.check_idle(key, id) {
                Idle::Expired => {
                    tracing::debug!(
                        id,
                        "closing an outbound connection idle for {IDLE_TIMEOUT:?}"
                    );
                    return;
                }
                Idle::Until(t) => tokio::time::sleep_until(t).await,
                Idle::Busy => tokio::time::sleep(IDLE_TIMEOUT).await,
            }
        }
    }
}
