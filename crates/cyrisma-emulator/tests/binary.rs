//! The `cyrisma-emulator` binary: prints the client environment on stdout, serves, and stops
//! gracefully on SIGINT (Ctrl-C) and SIGTERM.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

#[test]
fn the_binary_prints_the_environment_and_stops_on_ctrl_c() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cyrisma-emulator"))
        .args(["--listen", "127.0.0.1:0", "--no-tls", "--seed", "3", "--instances", "4", "--organizations", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut env = std::collections::BTreeMap::new();
    for _ in 0..5 {
        let line = lines.next().expect("a line").expect("utf-8");
        let (name, value) = line.strip_prefix("export ").expect("an export line").split_once('=').expect("NAME=value");
        env.insert(name.to_owned(), value.trim_matches('\'').to_owned());
    }
    let base = &env["CYRISMA_BASE_URL"];
    assert!(base.starts_with("http://api.cyrisma.test:") && base.ends_with("/app"), "{base}");
    assert_eq!(env["CYRISMA_RESOLVE"], "*.cyrisma.test=127.0.0.1");
    assert_eq!(env["CYRISMA_ALLOWED_DOMAIN"], "cyrisma.test");
    assert!(!env["CYRISMA_API_SECRET"].is_empty() && env["CYRISMA_API_KEY"].len() == 36);

    // It answers on the printed port.
    let port: u16 = base.trim_end_matches("/app").rsplit(':').next().unwrap().parse().unwrap();
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("it listens");
    std::io::Write::write_all(
        &mut stream,
        b"GET /__emulator/health HTTP/1.1\r\nHost: api.cyrisma.test\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut answer = String::new();
    stream.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");

    // Ctrl-C (SIGINT to the child we started, by its pid) stops it with success.
    let status = Command::new("kill").args(["-INT", &child.id().to_string()]).status().expect("kill runs");
    assert!(status.success());
    let exit = child.wait().expect("it exits");
    assert!(exit.success(), "{exit:?}");
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(stderr.contains("serving plain http on 127.0.0.1:"), "{stderr}");
    assert!(stderr.contains("shutting down"), "{stderr}");
}

#[test]
fn the_binary_refuses_a_non_loopback_address() {
    let output = Command::new(env!("CARGO_BIN_EXE_cyrisma-emulator"))
        .args(["--listen", "0.0.0.0:0", "--no-tls"])
        .output()
        .unwrap();
    assert!(!output.status.success());
    assert!(String::from_utf8_lossy(&output.stderr).contains("loopback"));
    assert!(output.stdout.is_empty());
}

#[test]
fn sigterm_stops_the_binary_gracefully_and_removes_its_temporary_ca() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_cyrisma-emulator"))
        .args(["--listen", "127.0.0.1:0", "--seed", "3", "--instances", "2", "--organizations", "1"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the binary starts");
    let stdout = child.stdout.take().expect("stdout");
    let mut lines = BufReader::new(stdout).lines();
    let mut ca = None;
    for _ in 0..10 {
        let Some(Ok(line)) = lines.next() else { break };
        if let Some(value) = line.strip_prefix("export CYRISMA_CA_CERT=") {
            ca = Some(std::path::PathBuf::from(value.trim_matches('\'')));
            break;
        }
    }
    let ca = ca.expect("a TLS emulator prints CYRISMA_CA_CERT");
    assert!(ca.is_file(), "the CA file exists while serving: {}", ca.display());

    // A plain `kill` (SIGTERM), as a service manager or a script sends it.
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().expect("kill runs");
    assert!(status.success());
    let exit = child.wait().expect("it exits");
    assert!(exit.success(), "{exit:?}");
    let mut stderr = String::new();
    child.stderr.take().unwrap().read_to_string(&mut stderr).unwrap();
    assert!(stderr.contains("shutting down"), "{stderr}");
    assert!(!ca.exists(), "the temporary CA is removed: {}", ca.display());
}
