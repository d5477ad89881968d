//! `webhooks listen`: a forged delivery is refused, a real one from the emulator is verified and
//! printed as one JSON line.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::Stdio;
use std::time::{Duration, Instant};

use crate::support::Env;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").expect("a free port").local_addr().expect("an address").port()
}

fn post(port: u16, signature: &str, body: &str) -> String {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).expect("the receiver listens");
    stream.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    let request = format!(
        "POST /hook HTTP/1.1\r\nHost: 127.0.0.1\r\nCyrisma-Signature: {signature}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    stream.write_all(request.as_bytes()).unwrap();
    let mut answer = String::new();
    let _ = stream.read_to_string(&mut answer);
    answer.lines().next().unwrap_or_default().to_owned()
}

#[test]
fn listen_verifies_signatures_and_prints_events_as_json_lines() {
    let env = Env::small();
    let port = free_port();
    let url = format!("http://127.0.0.1:{port}/hook");
    let created = env.run(&["webhooks", "create", "--url", &url, "--events", "user.created", "-o", "json"]).json();
    let secret = created["secret"].as_str().expect("the signing secret is shown once").to_owned();

    let mut listener =
        env.command(&["webhooks", "listen", "--port", &port.to_string(), "--secret-stdin", "--max-events", "1"]);
    listener.stdin(Stdio::piped()).stdout(Stdio::piped()).stderr(Stdio::piped());
    let mut child = listener.spawn().expect("the listener starts");
    child.stdin.take().unwrap().write_all(format!("{secret}\n").as_bytes()).unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut line = String::new();
    stderr.read_line(&mut line).unwrap();
    assert!(line.contains(&format!("listening on http://127.0.0.1:{port}/")), "{line}");

    // A forged delivery (wrong key) and an unsigned one are refused, and print nothing.
    let body = r#"{"id":"evt_forged","type":"user.created","data":{}}"#;
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_secs();
    let forged = cyrisma_core::webhook::sign(&cyrisma_core::WebhookSecret::new("whsec_wrong"), now, body.as_bytes());
    assert!(post(port, &forged, body).contains("401"));
    assert!(post(port, "", body).contains("401"));

    // A real event: creating a user makes the emulator deliver `user.created`.
    env.run(&[
        "users",
        "create",
        "--organization",
        "cc100001",
        "--username",
        "hook@example.com",
        "--first-name",
        "Hook",
        "--last-name",
        "Test",
    ])
    .ok();
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(Instant::now() < deadline, "the listener did not receive the event");
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success());
    let mut stdout = String::new();
    child.stdout.take().unwrap().read_to_string(&mut stdout).unwrap();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    let event: serde_json::Value = serde_json::from_str(lines[0]).expect("one json line");
    assert_eq!(event["type"], "user.created");
    assert_ne!(event["id"], "evt_forged");
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    assert_eq!(rest.matches("refused a webhook delivery").count(), 2, "{rest}");
    assert!(!stdout.contains(&secret) && !rest.contains(&secret));
}
