//! `-o json` and `-o jsonl` of the resource commands print the API's objects: its own field
//! names and every field the server sent, unknown ones included. A proxy on 127.0.0.1 adds an
//! unknown field to every object the emulator answers with; tables and CSV keep their columns.

use std::convert::Infallible;
use std::net::SocketAddr;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::{Request, Response, StatusCode};
use hyper_util::rt::TokioIo;
use serde_json::Value;

use crate::support::{Env, small};

/// The field the proxy adds to every object.
const UNKNOWN: &str = "x_added_by_proxy";

fn add_unknown(value: &mut Value) {
    match value {
        Value::Array(items) => items.iter_mut().for_each(add_unknown),
        Value::Object(map) => {
            map.values_mut().for_each(add_unknown);
            map.insert(UNKNOWN.to_owned(), serde_json::json!({"nested": [1, "two"]}));
        }
        _ => {}
    }
}

async fn forward(upstream: SocketAddr, request: Request<Incoming>) -> Result<Response<Full<Bytes>>, Infallible> {
    let failed = || {
        let mut response = Response::new(Full::new(Bytes::from_static(b"proxy failed")));
        *response.status_mut() = StatusCode::BAD_GATEWAY;
        Ok(response)
    };
    let (parts, body) = request.into_parts();
    let Ok(body) = body.collect().await.map(|body| body.to_bytes()) else { return failed() };
    let login = parts.uri.path().contains("/login");
    let Ok(stream) = tokio::net::TcpStream::connect(upstream).await else { return failed() };
    let Ok((mut sender, connection)) = hyper::client::conn::http1::handshake(TokioIo::new(stream)).await else {
        return failed();
    };
    tokio::spawn(connection);
    let Ok(response) = sender.send_request(Request::from_parts(parts, Full::new(body))).await else {
        return failed();
    };
    let (mut parts, body) = response.into_parts();
    let Ok(mut bytes) = body.collect().await.map(|body| body.to_bytes()) else { return failed() };
    if parts.status.is_success()
        && !login
        && let Ok(mut document) = serde_json::from_slice::<Value>(&bytes)
    {
        add_unknown(&mut document);
        bytes = Bytes::from(serde_json::to_vec(&document).expect("json serializes"));
    }
    parts.headers.insert(hyper::header::CONTENT_LENGTH, bytes.len().into());
    Ok(Response::from_parts(parts, Full::new(bytes)))
}

/// Starts the proxy on its own runtime; returns its address and the runtime that runs it.
fn start_proxy(upstream: SocketAddr) -> (SocketAddr, tokio::runtime::Runtime) {
    let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().unwrap();
    let listener = runtime.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).unwrap();
    let addr = listener.local_addr().unwrap();
    runtime.spawn(async move {
        while let Ok((stream, _)) = listener.accept().await {
            tokio::spawn(async move {
                let service = hyper::service::service_fn(move |request| forward(upstream, request));
                let _ =
                    hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(stream), service).await;
            });
        }
    });
    (addr, runtime)
}

/// The objects of a `-o json` document or `-o jsonl` lines: the array's items, or the object.
fn objects(stdout: &str) -> Vec<Value> {
    let values: Vec<Value> =
        serde_json::Deserializer::from_str(stdout).into_iter().collect::<Result<_, _>>().expect("json output");
    values
        .into_iter()
        .flat_map(|value| match value {
            Value::Array(items) => items,
            other => vec![other],
        })
        .collect()
}

#[test]
fn json_output_keeps_the_api_field_names_and_every_field_sent() {
    let env = Env::start(small().with_tls(false));
    let (proxy, _runtime) = start_proxy(env.emu.addr());
    let base_url = env.emu.base_url().replace(&format!(":{}/", env.emu.addr().port()), &format!(":{}/", proxy.port()));
    let run = |args: &[&str]| {
        let mut command = env.command(args);
        command.env("CYRISMA_BASE_URL", &base_url);
        env.run_command(command, None)
    };

    // The instance listing: the API's names, the fields the curated rows leave out, and the
    // unknown field; values typed as the core parses them.
    let instances = objects(run(&["instances", "list", "-o", "json"]).ok());
    assert!(!instances.is_empty());
    for instance in &instances {
        for key in
            ["instance_id", "short_name", "hierarchy", "is_consulting", "number_of_endpoints", "url", "agent_key"]
        {
            assert!(instance.get(key).is_some(), "`{key}` in {instance}");
        }
        for curated in ["endpoints", "consulting", "host"] {
            assert!(instance.get(curated).is_none(), "no curated `{curated}` in {instance}");
        }
        assert_eq!(instance[UNKNOWN], serde_json::json!({"nested": [1, "two"]}), "{instance}");
        assert!(instance["is_consulting"].is_boolean() && instance["number_of_endpoints"].is_u64(), "{instance}");
    }

    // Every resource command, in both JSON formats: each printed object keeps the unknown field.
    let scans = objects(run(&["scans", "vulnerability", "--instance", "cc100003", "-o", "json"]).ok());
    let scan_id = scans[0]["scanId"].as_str().or(scans[0]["scan_id"].as_str()).expect("a scan id").to_owned();
    let cases: Vec<Vec<&str>> = vec![
        vec!["instances", "list"],
        vec!["instances", "get", "cc100003"],
        vec!["users", "list"],
        vec!["scans", "vulnerability", "--instance", "cc100003"],
        vec!["scans", "vulnerability", "--instance", "cc100003", "--scan", &scan_id],
        vec!["scans", "data", "--instance", "cc100003"],
        vec!["scans", "baseline", "--instance", "cc100003"],
        vec!["assets", "list", "--instance", "cc100003"],
        vec!["dashboards", "overall", "--instance", "cc100003"],
        vec!["dashboards", "vulnerability", "--instance", "cc100003"],
        vec!["dashboards", "data", "--instance", "cc100003"],
        vec!["dashboards", "baseline", "--instance", "cc100003"],
        vec!["dashboards", "cves", "--instance", "cc100003"],
    ];
    for case in &cases {
        for format in ["json", "jsonl"] {
            let mut args = case.clone();
            args.extend(["-o", format]);
            let run = run(&args);
            let printed = objects(run.ok());
            assert!(!printed.is_empty(), "{args:?}: {}", run.transcript());
            for object in &printed {
                assert!(object.get(UNKNOWN).is_some(), "{args:?}: the unknown field is kept in {object}");
            }
        }
        // Tables and CSV keep their curated columns: no unknown field.
        let mut args = case.clone();
        args.extend(["-o", "csv"]);
        let run = run(&args);
        assert!(!run.ok().contains(UNKNOWN), "{args:?}: {}", run.transcript());
    }
}
