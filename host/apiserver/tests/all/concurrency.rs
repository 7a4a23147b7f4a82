//! The concurrency judge: many writers updating one ConfigMap with optimistic concurrency.
//!
//! Each writer PUTs the object with the `metadata.resourceVersion` it last read, incrementing
//! only its own `data` key; on 409 it re-reads and retries. This is the guarantee
//! `GuaranteedUpdate` gives every kube-apiserver client (`staging/src/k8s.io/apiserver/pkg/
//! storage/etcd3/store.go`: the update is a compare-and-swap on the key's mod revision, so an
//! update from a stale read fails with `errors.NewConflict` and the
//! `OptimisticLockErrorMsg`, `pkg/registry/generic/registry/store.go` `Update`), which
//! client-go's `retry.RetryOnConflict` relies on. Nothing may be lost, and every successful
//! write takes exactly one resourceVersion.

use std::time::{Duration, Instant};

use bytes::Bytes;
use http::{Method, Request, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::SendRequest;
use serde_json::{Value, json};

use crate::common::{Client, STEP, rv_of, start_default};

const WRITERS: usize = 8;
const UPDATES: u64 = 500;
const PATH: &str = "/api/v1/namespaces/default/configmaps/counters";

/// One writer's keep-alive HTTPS connection (reconnected if the server closed it).
struct Conn<'a> {
    client: &'a Client,
    sender: Option<SendRequest<Full<Bytes>>>,
}

impl Conn<'_> {
    /// Sends one request on the connection; returns the status and the JSON body.
    async fn call(&mut self, method: Method, body: Option<&Value>) -> (StatusCode, Value) {
        tokio::time::timeout(STEP, async {
            let mut sender = match self.sender.take() {
                Some(mut s) => match s.ready().await {
                    Ok(()) => s,
                    Err(_) => self.client.connect().await.expect("connect"),
                },
                None => self.client.connect().await.expect("connect"),
            };
            let mut req = Request::builder()
                .method(method)
                .uri(PATH)
                .header("host", "localhost")
                .header(
                    "authorization",
                    format!("Bearer {}", self.client.token.as_deref().unwrap_or("")),
                );
            let bytes = match body {
                Some(v) => {
                    req = req.header("content-type", "application/json");
                    Bytes::from(serde_json::to_vec(v).unwrap())
                }
                None => Bytes::new(),
            };
            let resp = sender
                .send_request(req.body(Full::new(bytes)).unwrap())
                .await
                .expect("request");
            let status = resp.status();
            let body = resp.into_body().collect().await.expect("body").to_bytes();
            self.sender = Some(sender);
            let json = serde_json::from_slice(&body)
                .unwrap_or_else(|e| panic!("not JSON ({e}): {}", String::from_utf8_lossy(&body)));
            (status, json)
        })
        .await
        .expect("request timed out")
    }
}

/// What one writer saw.
#[derive(Debug, Default)]
struct Tally {
    ok: u64,
    conflicts: u64,
    /// PUTs answered neither 200 nor 409: (status, body).
    other: Vec<(u16, String)>,
    /// The resourceVersion of every 200.
    rvs: Vec<u64>,
}

/// Writer `i`: `UPDATES` successful increments of `data.w{i}`, re-reading on every 409.
async fn writer(client: Client, i: usize) -> Tally {
    let key = format!("w{i}");
    let mut conn = Conn {
        client: &client,
        sender: None,
    };
    let mut tally = Tally::default();
    let (code, mut seen) = conn.call(Method::GET, None).await;
    assert_eq!(code, StatusCode::OK, "{seen}");
    while tally.ok < UPDATES {
        let mine: u64 = seen["data"][&key]
            .as_str()
            .and_then(|s| s.parse().ok())
            .unwrap_or(0);
        // Only this writer changes its key: what it read is what it last wrote.
        assert_eq!(mine, tally.ok, "writer {i} read {seen}");
        let mut next = seen.clone();
        next["data"][&key] = json!((mine + 1).to_string());
        let (code, body) = conn.call(Method::PUT, Some(&next)).await;
        match code {
            StatusCode::OK => {
                tally.ok += 1;
                tally.rvs.push(rv_of(&body));
                assert_eq!(body["data"][&key], json!(tally.ok.to_string()), "{body}");
                seen = body;
            }
            StatusCode::CONFLICT => {
                tally.conflicts += 1;
                assert_eq!(body["reason"], "Conflict", "{body}");
                assert_eq!(
                    body["message"],
                    "Operation cannot be fulfilled on configmaps \"counters\": the object has been modified; please apply your changes to the latest version and try again"
                );
                let (code, current) = conn.call(Method::GET, None).await;
                assert_eq!(code, StatusCode::OK, "{current}");
                seen = current;
            }
            other => {
                tally.other.push((other.as_u16(), body.to_string()));
                return tally;
            }
        }
    }
    tally
}

/// Two worker threads: the writers and the server's connection tasks run in parallel, so the
/// store is written from both threads at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn eight_writers_with_optimistic_concurrency_lose_no_update() {
    let cluster = start_default().await;
    let admin = Client::admin(&cluster);
    let created = admin
        .request(
            Method::POST,
            "/api/v1/namespaces/default/configmaps",
            &[],
            Some(json!({"metadata": {"name": "counters"}, "data": {}})),
        )
        .await;
    assert_eq!(created.status, StatusCode::CREATED);
    let rv0 = rv_of(&created.json());

    let began = Instant::now();
    let tasks: Vec<_> = (0..WRITERS)
        .map(|i| tokio::spawn(writer(Client::admin(&cluster), i)))
        .collect();
    let mut tallies = Vec::new();
    for t in tasks {
        tallies.push(
            tokio::time::timeout(Duration::from_secs(120), t)
                .await
                .expect("writers timed out")
                .expect("writer panicked"),
        );
    }
    let elapsed = began.elapsed();

    for (i, t) in tallies.iter().enumerate() {
        assert_eq!(
            t.other,
            Vec::new(),
            "writer {i}: PUTs answered neither 200 nor 409"
        );
        assert_eq!(t.ok, UPDATES, "writer {i}");
    }
    let oks: u64 = tallies.iter().map(|t| t.ok).sum();
    let conflicts: u64 = tallies.iter().map(|t| t.conflicts).sum();
    assert_eq!(oks, WRITERS as u64 * UPDATES);
    // The writers did race: some PUTs carried a resourceVersion another writer had replaced.
    assert!(conflicts > 0, "no conflicts: the writers never overlapped");

    let last = admin.get(PATH).await;
    assert_eq!(last.status, StatusCode::OK);
    let last = last.json();
    for i in 0..WRITERS {
        assert_eq!(
            last["data"][format!("w{i}")],
            json!(UPDATES.to_string()),
            "w{i} lost updates: {last}"
        );
    }
    assert_eq!(last["data"].as_object().unwrap().len(), WRITERS);
    // One resourceVersion per successful write, each taken by exactly one of them.
    assert_eq!(rv_of(&last), rv0 + oks);
    assert_eq!(cluster.resource_version(), rv0 + oks);
    let mut rvs: Vec<u64> = tallies.iter().flat_map(|t| t.rvs.iter().copied()).collect();
    rvs.sort_unstable();
    assert_eq!(rvs, (rv0 + 1..=rv0 + oks).collect::<Vec<_>>());
    println!(
        "{oks} updates, {conflicts} conflicts, {:.1} s",
        elapsed.as_secs_f64()
    );
    cluster.shutdown().await;
}
