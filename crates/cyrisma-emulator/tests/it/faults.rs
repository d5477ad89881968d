//! Fault injection (scoped by endpoint and count), counters, the request log and the admin API.

use bytes::Bytes;
use cyrisma_core::api::{auth, instances, scans};
use cyrisma_core::endpoint::RequestBody;
use cyrisma_core::types::InstanceType;
use cyrisma_core::{Endpoint, ResponseError};
use cyrisma_emulator::{Fault, FaultKind};
use http::Method;

use crate::support::{Harness, api_error, json, send_on, small};

const LIST: &str = "instances.list_instances";

#[tokio::test]
async fn status_faults_answer_with_retry_after_and_stop_after_times() {
    let h = Harness::start(small()).await;
    let token = h.token().await;
    let list = instances::list_instances::Request::new();
    h.emu.add_fault(Fault::rate_limited("3").on(LIST).times(1));
    let limited = h.central(&list, Some(&token)).await.unwrap_err();
    let error = limited.as_api().unwrap();
    assert_eq!((error.status.as_u16(), error.retry_after.as_deref()), (429, Some("3")));
    assert_eq!(error.code.as_ref().map(ToString::to_string).as_deref(), Some("rate_limited"));
    assert!(h.central(&list, Some(&token)).await.is_ok(), "times = 1");

    h.emu.add_fault(Fault::unavailable("Wed, 21 Oct 2015 07:28:00 GMT").on(LIST).times(1));
    let error = h.central(&list, Some(&token)).await.unwrap_err();
    assert_eq!(error.as_api().unwrap().retry_after.as_deref(), Some("Wed, 21 Oct 2015 07:28:00 GMT"));
    assert_eq!(error.status().as_u16(), 503);

    h.emu.add_fault(Fault::status(500).times(1));
    assert_eq!(api_error(h.central(&list, Some(&token)).await).0, 500);
    // Another endpoint is not affected by a scoped fault.
    h.emu.add_fault(Fault::status(503).on("users.list_users"));
    assert!(h.central(&list, Some(&token)).await.is_ok());
    let faults = h.emu.faults();
    assert_eq!(faults.len(), 4);
    assert_eq!((faults[0].seen, faults[0].fired), (5, 1));
    // A status fault does not handle the request: nothing changes.
    h.emu.clear_faults();
    let before = h.emu.instances().len();
    h.emu.add_fault(Fault::status(503).on("instances.create_instance").times(1));
    let create =
        instances::create_instance::Request::new(InstanceType::Msp, false, "partner01", "X", "x", "US", "a@b.example");
    assert_eq!(api_error(h.central(&create, Some(&token)).await).0, 503);
    assert_eq!(h.emu.instances().len(), before);
}

#[tokio::test]
async fn a_401_on_the_nth_request() {
    let h = Harness::start(small()).await;
    let token = h.token().await;
    let list = instances::list_instances::Request::new();
    h.emu.add_fault(Fault::unauthorized_on_nth(LIST, 3));
    let outcomes: Vec<u16> = {
        let mut outcomes = Vec::new();
        for _ in 0..5 {
            outcomes.push(match h.central(&list, Some(&token)).await {
                Ok(_) => 200,
                Err(error) => error.status().as_u16(),
            });
        }
        outcomes
    };
    assert_eq!(outcomes, [200, 200, 401, 200, 200]);
}

#[tokio::test]
async fn latency_and_expiring_tokens() {
    let h = Harness::start(small()).await;
    let token = h.token().await;
    let list = instances::list_instances::Request::new();
    h.emu.add_fault(Fault::latency(30).on(LIST).times(2));
    assert!(h.central(&list, Some(&token)).await.is_ok());
    assert_eq!(h.emu.faults()[0].fired, 1);
    h.emu.clear_faults();
    h.emu.add_fault(Fault::expire_tokens().on("users.list_users").times(1));
    assert!(h.central(&list, Some(&token)).await.is_ok());
    let users = cyrisma_core::api::users::list_users::Request::new();
    assert_eq!(api_error(h.central(&users, Some(&token)).await).1, "invalid_token");
    assert_eq!(api_error(h.central(&list, Some(&token)).await).1, "invalid_token");
}

#[tokio::test]
async fn drop_after_commit_leaves_an_ambiguous_outcome() {
    let h = Harness::start(small()).await;
    let token = h.token().await;
    let before = h.emu.instances().len();
    h.emu.add_fault(Fault::drop_after_commit().on("instances.create_instance").times(1));
    let create = instances::create_instance::Request::new(
        InstanceType::Msp,
        false,
        "partner01",
        "Ambiguous",
        "amb",
        "US",
        "a@b.example",
    );
    let request = create.to_http_request(&h.base, Some(&token)).unwrap().map(RequestBody::into_bytes);
    assert!(h.send(request).await.is_err(), "no answer arrives");
    assert_eq!(h.emu.instances().len(), before + 1, "but the change was committed");
    assert_eq!(h.emu.count("instances.create_instance"), 1);
    let record = h.emu.requests().into_iter().find(|record| record.endpoint == "instances.create_instance").unwrap();
    assert_eq!(record.status, 0);
    assert_eq!(record.faults, ["drop_after_commit"]);
    // A regen-pass dropped after commit: the secret changed, the client never saw it.
    let old = h.emu.api_secret();
    h.emu.add_fault(Fault::drop_after_commit().on("auth.regen_pass").times(1));
    let regen = auth::regen_pass::Request::new(h.emu.api_key(), old.clone());
    let request = regen.to_http_request(&h.base, None).unwrap().map(RequestBody::into_bytes);
    assert!(h.send(request).await.is_err());
    assert_ne!(h.emu.api_secret(), old);
    assert_eq!(h.emu.count("auth.regen_pass"), 1);
}

#[tokio::test]
async fn body_faults() {
    let h = Harness::start(small()).await;
    let token = h.reporting_token().await;
    let id = h.active_instances()[0].clone();
    let base = h.instance_base(&id);
    let summary = scans::list_vulnerability_scans::Request::new();
    let build = || summary.to_http_request(&base, Some(&token)).unwrap().map(RequestBody::into_bytes);

    // Cut short with the full length announced: the connection closes mid-body.
    h.emu.add_fault(Fault::truncated_body(Some(40), false).on("scans.list_vulnerability_scans").times(1));
    assert!(h.send(build()).await.is_err());
    // Cut short as a complete message: a syntax error for the parser.
    h.emu.add_fault(Fault::truncated_body(Some(40), true).on("scans.list_vulnerability_scans").times(1));
    let response = h.send(build()).await.unwrap();
    assert_eq!(response.body().len(), 40);
    match scans::list_vulnerability_scans::Request::parse_response(&response) {
        Err(ResponseError::Decode(error)) => assert!(error.is_syntax),
        other => panic!("expected a decode error, got {other:?}"),
    }
    // Oversized: exactly N bytes of valid JSON.
    h.emu.add_fault(Fault::oversized_body(300_000).on("scans.list_vulnerability_scans").times(1));
    let response = h.send(build()).await.unwrap();
    assert_eq!(response.body().len(), 300_000);
    assert_eq!(response.headers()["content-length"], "300000");
    assert!(serde_json::from_slice::<serde_json::Value>(response.body()).is_ok());
    // Deeply nested JSON: the core refuses it with a typed error, no panic.
    h.emu.add_fault(Fault::deep_json(10_000).on("scans.list_vulnerability_scans").times(1));
    let response = h.send(build()).await.unwrap();
    assert_eq!(response.body().len(), 20_000);
    assert!(matches!(
        scans::list_vulnerability_scans::Request::parse_response(&response),
        Err(ResponseError::Decode(_))
    ));
    // And then the real answer again.
    assert!(h.on(&id, &summary, &token).await.is_ok());
}

#[tokio::test]
async fn keep_alive_can_be_closed_after_every_response() {
    let h = Harness::start(small()).await;
    let token = h.token().await;
    let request = || {
        instances::list_instances::Request::new()
            .to_http_request(&h.base, Some(&token))
            .unwrap()
            .map(RequestBody::into_bytes)
    };
    // Kept alive by default: two requests on one connection.
    let (mut sender, driver) = h.connect("api.cyrisma.test").await.unwrap();
    let driver = tokio::spawn(driver);
    assert_eq!(send_on(&mut sender, request()).await.unwrap().status(), 200);
    assert_eq!(send_on(&mut sender, request()).await.unwrap().status(), 200);
    drop(sender);
    let _ = driver.await;

    h.emu.set_close_after_response(true);
    let (mut sender, driver) = h.connect("api.cyrisma.test").await.unwrap();
    let driver = tokio::spawn(driver);
    let response = send_on(&mut sender, request()).await.unwrap();
    assert_eq!(response.headers()["connection"], "close");
    // The server closes the connection: the driver ends without being told to.
    assert!(tokio::time::timeout(std::time::Duration::from_secs(5), driver).await.is_ok());
    assert!(send_on(&mut sender, request()).await.is_err());
    h.emu.reset();
    let response = h.send(request()).await.unwrap();
    assert!(!response.headers().contains_key("connection"));
}

#[tokio::test]
async fn counters_and_the_request_log_hold_no_secrets() {
    let h = Harness::start(small()).await;
    let login = h.login().await;
    let token = login.access_token.clone();
    let refresh = login.refresh_token.clone().unwrap();
    h.central(&instances::authenticate_all_instances::Request::new(), Some(&token)).await.unwrap();
    let id = h.active_instances()[0].clone();
    h.on(&id, &scans::list_vulnerability_scans::Request::new(), &token).await.unwrap();
    h.central(&auth::login::Request::refresh(refresh.clone()), None).await.unwrap();
    let secret = h.emu.api_secret();
    let _ = h
        .form(
            Method::POST,
            "/partner/login",
            None,
            &format!("Username={}&Password={}&GrantType=password", h.emu.api_key(), secret.expose_secret()),
        )
        .await;

    let counters = h.emu.counters();
    assert_eq!(counters["auth.login"], 3);
    assert_eq!(counters["instances.authenticate_all_instances"], 1);
    assert_eq!(counters["scans.list_vulnerability_scans"], 1);
    let log = h.emu.requests();
    assert_eq!(log.len(), 5);
    let scan = log.iter().find(|record| record.endpoint == "scans.list_vulnerability_scans").unwrap();
    assert_eq!(scan.host, format!("{id}.cyrisma.test"));
    assert_eq!(scan.token_generation, Some(1));
    assert_eq!(
        (scan.method.as_str(), scan.path.as_str(), scan.status),
        ("GET", "/app/partner/scans/vulnerability", 200)
    );
    let text = serde_json::to_string(&log).unwrap();
    for canary in [token.expose_secret(), refresh.expose_secret(), secret.expose_secret()] {
        assert!(!text.contains(canary), "the log leaks a secret");
    }
    h.emu.reset_counters();
    assert!(h.emu.counters().is_empty() && h.emu.requests().is_empty());
}

#[tokio::test]
async fn the_admin_api_mirrors_the_handle() {
    let h = Harness::start(small()).await;
    let host = "api.cyrisma.test";
    let fault = r#"{"endpoint":"instances.list_instances","times":1,"kind":"status","status":503,"retry_after":"2"}"#;
    let response = h.request(Method::POST, host, "/__emulator/faults", &[], fault).await;
    assert_eq!(response.status(), 200);
    let id = json(&response)["id"].as_u64().unwrap();
    assert_eq!(h.emu.faults()[0].id, id);
    assert!(matches!(h.emu.faults()[0].fault.kind, FaultKind::Status { status: 503, .. }));
    let token = h.token().await;
    assert_eq!(api_error(h.central(&instances::list_instances::Request::new(), Some(&token)).await).0, 503);

    let counters = json(&h.request(Method::GET, host, "/__emulator/counters", &[], "").await);
    assert_eq!(counters["counters"]["instances.list_instances"], 1);
    let requests = json(&h.request(Method::GET, host, "/__emulator/requests", &[], "").await);
    assert_eq!(requests["requests"].as_array().unwrap().len(), 2);
    let faults = json(&h.request(Method::GET, host, "/__emulator/faults", &[], "").await);
    assert_eq!(faults["faults"][0]["fired"], 1);

    assert_eq!(h.request(Method::POST, host, "/__emulator/expire-tokens", &[], "").await.status(), 200);
    assert_eq!(api_error(h.central(&instances::list_instances::Request::new(), Some(&token)).await).1, "invalid_token");
    let keep_alive =
        h.request(Method::POST, host, "/__emulator/keep-alive", &[], r#"{"close_after_response":true}"#).await;
    assert_eq!(keep_alive.status(), 200);
    assert_eq!(h.request(Method::GET, host, "/__emulator/health", &[], "").await.headers()["connection"], "close");
    let instance = h.active_instances()[0].clone();
    let scan = h
        .request(
            Method::POST,
            host,
            "/__emulator/scans",
            &[],
            &format!(r#"{{"instance_id":"{instance}","scan_type":9}}"#),
        )
        .await;
    assert_eq!(scan.status(), 200, "{}", String::from_utf8_lossy(scan.body()));
    let instances = json(&h.request(Method::GET, host, "/__emulator/instances", &[], "").await);
    assert_eq!(instances.as_array().unwrap().len(), h.emu.instances().len());

    assert_eq!(h.request(Method::POST, host, "/__emulator/reset", &[], "").await.status(), 200);
    assert!(h.emu.faults().is_empty() && h.emu.counters().is_empty());
    assert_eq!(h.request(Method::DELETE, host, "/__emulator/faults/99", &[], "").await.status(), 404);
    assert_eq!(h.request(Method::POST, host, "/__emulator/faults", &[], "{not json").await.status(), 400);
    // Only on the central host.
    let response = h.request(Method::GET, &format!("{instance}.cyrisma.test"), "/__emulator/counters", &[], "").await;
    assert_eq!(response.status(), 404);
    let _ = Bytes::new();
}

#[tokio::test]
async fn bad_requests_never_break_the_server() {
    let h = Harness::start(small()).await;
    let host = "api.cyrisma.test";
    let big = "a=".to_owned() + &"x".repeat(2 << 20);
    assert_eq!(h.form(Method::POST, "/partner/login/", None, &big).await.status(), 413);
    for body in ["%%%", "grant_type=password&username=%ZZ&password=\u{0}", "&&&==="] {
        let status = h.form(Method::POST, "/partner/login/", None, body).await.status().as_u16();
        assert!(status == 400 || status == 401, "{body}: {status}");
    }
    for path in [
        "/app/partner/users/info/%FF%FE",
        "/app/partner/instances/info/..",
        "/app//partner//login",
        "/app/partner/instances/info/%2e%2e",
    ] {
        let status = h.request(Method::GET, host, path, &[], "").await.status().as_u16();
        assert!((400..500).contains(&status), "{path}: {status}");
    }
    assert!(h.central(&instances::list_instances::Request::new(), Some(&h.token().await)).await.is_ok());
}

#[tokio::test]
async fn faults_can_target_one_instance_host() {
    let h = Harness::start(small()).await;
    let token = h.reporting_token().await;
    let ids = h.active_instances();
    h.emu.add_fault(Fault::status(503).at_host(&ids[0]));
    let summary = scans::list_vulnerability_scans::Request::new();
    assert_eq!(api_error(h.on(&ids[0], &summary, &token).await).0, 503);
    assert!(h.on(&ids[1], &summary, &token).await.is_ok());
    h.emu.clear_faults();
    h.emu.add_fault(Fault::status(500).at_host(format!("{}.cyrisma.test", ids[1])).times(1));
    assert_eq!(api_error(h.on(&ids[1], &summary, &token).await).0, 500);
    assert!(h.on(&ids[1], &summary, &token).await.is_ok());
}

#[tokio::test]
async fn shutdown_does_not_wait_for_a_hanging_request() {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let emu = cyrisma_emulator::Emulator::start(small()).await.unwrap();
    emu.add_fault(Fault::latency(600_000).on("instances.list_instances"));
    let mut stream = tokio::net::TcpStream::connect(emu.addr()).await.unwrap();
    stream.write_all(b"GET /app/partner/instances/info/ HTTP/1.1\r\nHost: api.cyrisma.test\r\n\r\n").await.unwrap();
    // Wait until the request is in (bounded).
    for _ in 0..100 {
        if emu.count("instances.list_instances") == 1 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(10)).await;
    }
    assert_eq!(emu.count("instances.list_instances"), 1);
    assert!(tokio::time::timeout(std::time::Duration::from_secs(3), emu.shutdown()).await.is_ok());
    let mut rest = Vec::new();
    let _ = stream.read_to_end(&mut rest).await;
    assert!(rest.is_empty(), "no answer for the hanging request");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_in_flight_are_counted_overall_and_per_host() {
    let h = Harness::start(small()).await;
    let token = h.reporting_token().await;
    let ids = h.active_instances();
    let (first, second) = (ids[0].clone(), ids[1].clone());
    h.emu.reset_in_flight_max();
    assert_eq!(h.emu.in_flight().max, 0, "nothing in flight after the logins");
    h.emu.add_fault(Fault::latency(400).on("scans.list_vulnerability_scans"));
    let list = scans::list_vulnerability_scans::Request::new();
    // Three calls on the first host and one on the second, all held at the server together.
    let (a, b, c, d) = tokio::join!(
        h.on(&first, &list, &token),
        h.on(&first, &list, &token),
        h.on(&first, &list, &token),
        h.on(&second, &list, &token),
    );
    assert!(a.is_ok() && b.is_ok() && c.is_ok() && d.is_ok());
    let stats = h.emu.in_flight();
    assert_eq!((stats.current, stats.max, stats.max_per_host), (0, 4, 3), "{stats:?}");
    assert!(stats.busiest_host.as_deref().is_some_and(|host| host.starts_with(first.as_str())), "{stats:?}");
    // The admin API reports the same, and admin requests do not count.
    let host = h.emu.central_host().to_owned();
    let answer = h.request(Method::GET, &host, "/__emulator/in-flight", &[], "").await;
    let value = json(&answer);
    assert_eq!(
        (value["current"].as_u64(), value["max"].as_u64(), value["max_per_host"].as_u64()),
        (Some(0), Some(4), Some(3))
    );
    let answer = h.request(Method::POST, &host, "/__emulator/in-flight/reset", &[], "").await;
    assert_eq!(json(&answer)["max"].as_u64(), Some(0));
}
