//! An HTTP component that answers with what its pod exposes, through the `pod-introspect` import.
//!
//! World: imports `pod-introspect:pod/pod-introspect@0.2.1`, exports
//! `wasi:http/incoming-handler@0.2.12`, so it runs in `wasmtime serve`, Spin and wasmCloud once
//! the import is satisfied: by `pod-introspect link` or `wac plug` ahead of time, or by Spin's
//! component dependencies (examples/spin/spin.toml).
//!
//! Routes (GET):
//! - `/` and `/info`: `info-json`, `application/json`.
//! - `/labels/KEY`, `/annotations/KEY`: the value as text; 404 when the pod has no such key.
//! - anything else: 404. A Downward API error is a 500 whose text names the file and line.

// The routes are only called from the wasm32 export (and the native unit tests).
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code))]

#[cfg(target_arch = "wasm32")]
mod component {
    mod bindings {
        wit_bindgen::generate!({
            inline: "
                package example:pod-http;
                world app {
                    import pod-introspect:pod/pod-introspect@0.2.1;
                    export wasi:http/incoming-handler@0.2.12;
                }
            ",
            path: "../../wit",
            world: "example:pod-http/app",
            generate_all,
        });
    }

    use bindings::exports::wasi::http::incoming_handler::Guest;
    use bindings::pod_introspect::pod::pod_introspect as pod;
    use bindings::wasi::http::types::{
        Fields, IncomingRequest, OutgoingBody, OutgoingResponse, ResponseOutparam,
    };

    struct Component;
    bindings::export!(Component with_types_in bindings);

    impl Guest for Component {
        fn handle(request: IncomingRequest, out: ResponseOutparam) {
            let path = request.path_with_query().unwrap_or_default();
            let path = path.split('?').next().unwrap_or_default().to_string();
            let (status, content_type, body) = super::route(&path, &Pod);
            respond(out, status, content_type, body.as_bytes());
        }
    }

    struct Pod;

    impl super::PodSource for Pod {
        fn info_json(&self) -> String {
            pod::info_json()
        }
        fn label(&self, key: &str) -> Result<Option<String>, String> {
            pod::label(key).map_err(describe)
        }
        fn annotation(&self, key: &str) -> Result<Option<String>, String> {
            pod::annotation(key).map_err(describe)
        }
    }

    /// The text `pod-introspect info` prints for the same error: `FILE, line N: REASON`.
    fn describe(e: pod::Error) -> String {
        match e {
            pod::Error::NotExposed(e) => {
                format!("{} is not exposed to this container: {}", e.field, e.hint)
            }
            pod::Error::Malformed(e) => match e.line {
                Some(line) => format!("{}, line {line}: {}", e.file, e.reason),
                None => format!("{}: {}", e.file, e.reason),
            },
            pod::Error::Io(e) => format!("cannot read {}: {}", e.path, e.message),
            pod::Error::Api(e) => format!("Kubernetes API: {e:?}"),
        }
    }

    fn respond(out: ResponseOutparam, status: u16, content_type: &str, body: &[u8]) {
        let headers = Fields::from_list(&[
            ("content-type".to_string(), content_type.as_bytes().to_vec()),
            (
                "content-length".to_string(),
                body.len().to_string().into_bytes(),
            ),
        ])
        .expect("static header names are valid");
        let response = OutgoingResponse::new(headers);
        let _ = response.set_status_code(status);
        let outgoing = response.body().expect("the body is taken once");
        ResponseOutparam::set(out, Ok(response));
        let stream = outgoing.write().expect("the stream is taken once");
        // blocking-write-and-flush takes at most 4096 bytes per call.
        for chunk in body.chunks(4096) {
            if stream.blocking_write_and_flush(chunk).is_err() {
                return;
            }
        }
        drop(stream);
        let _ = OutgoingBody::finish(outgoing, None);
    }
}

/// What a route needs from the pod (the `pod-introspect` import, or a fake in tests).
trait PodSource {
    fn info_json(&self) -> String;
    fn label(&self, key: &str) -> Result<Option<String>, String>;
    fn annotation(&self, key: &str) -> Result<Option<String>, String>;
}

/// `(status, content-type, body)` for a GET of `path`.
fn route(path: &str, pod: &dyn PodSource) -> (u16, &'static str, String) {
    const TEXT: &str = "text/plain; charset=utf-8";
    let lookup = |found: Result<Option<String>, String>, what: &str| match found {
        Ok(Some(v)) => (200, TEXT, v),
        Ok(None) => (404, TEXT, format!("the pod has no {what}\n")),
        Err(e) => (500, TEXT, format!("{e}\n")),
    };
    match path {
        "/" | "/info" => (200, "application/json", pod.info_json()),
        p => match (p.strip_prefix("/labels/"), p.strip_prefix("/annotations/")) {
            (Some(key), _) => lookup(pod.label(key), &format!("label {key:?}")),
            (_, Some(key)) => lookup(pod.annotation(key), &format!("annotation {key:?}")),
            _ => (
                404,
                TEXT,
                format!("no route {p:?}: try /, /labels/KEY, /annotations/KEY\n"),
            ),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Fake;
    impl PodSource for Fake {
        fn info_json(&self) -> String {
            "{\"name\":\"web-0\"}".into()
        }
        fn label(&self, key: &str) -> Result<Option<String>, String> {
            Ok((key == "app").then(|| "store".to_string()))
        }
        fn annotation(&self, _: &str) -> Result<Option<String>, String> {
            Err("/etc/podinfo/annotations, line 2: missing closing quote".into())
        }
    }

    #[test]
    fn routes() {
        assert_eq!(
            route("/", &Fake),
            (200, "application/json", "{\"name\":\"web-0\"}".into())
        );
        assert_eq!(route("/labels/app", &Fake).2, "store");
        assert_eq!(route("/labels/nope", &Fake).0, 404);
        assert_eq!(route("/annotations/x", &Fake).0, 500);
        assert_eq!(route("/elsewhere", &Fake).0, 404);
    }
}
