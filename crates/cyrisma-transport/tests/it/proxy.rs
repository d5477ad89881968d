//! HTTPS through an HTTP `CONNECT` proxy, end to end: the tunnel carries TLS to the emulator, so
//! the proxy sees host names and ports only.

use std::sync::{Arc, Mutex};

use cyrisma_transport::{Client, Proxy};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::support;

/// A `CONNECT` proxy that sends every tunnel to `upstream`, whatever host was asked for, and
/// records the request lines.
async fn proxy(upstream: std::net::SocketAddr) -> (std::net::SocketAddr, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut client, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") {
                    if client.read(&mut byte).await.unwrap_or(0) == 0 {
                        return;
                    }
                    head.push(byte[0]);
                }
                let text = String::from_utf8_lossy(&head).to_string();
                log.lock().unwrap().push(text.lines().next().unwrap_or_default().to_owned());
                let mut server = TcpStream::connect(upstream).await.unwrap();
                client.write_all(b"HTTP/1.1 200 Connection established\r\n\r\n").await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut client, &mut server).await;
            });
        }
    });
    (addr, seen)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn https_goes_through_the_proxy_tunnel() {
    let emulator = support::default_emulator().await;
    let (proxy_addr, seen) = proxy(emulator.addr()).await;
    // No resolve override: the proxy, not the client, reaches the hosts.
    let client = Client::builder()
        .base_url(emulator.base_url())
        .credentials(emulator.api_key(), emulator.api_secret())
        .native_roots(false)
        .add_ca_certificate_file(emulator.ca_cert_path().unwrap())
        .proxy(Proxy::https(&format!("http://{proxy_addr}")).unwrap())
        .build()
        .unwrap();
    let id = support::reportable_ids(&emulator).remove(0);
    client.instance(&id).dashboard_overall().await.unwrap();
    let seen = seen.lock().unwrap().clone();
    let port = emulator.addr().port();
    assert!(seen.contains(&format!("CONNECT api.cyrisma.test:{port} HTTP/1.1")), "{seen:?}");
    assert!(seen.contains(&format!("CONNECT {id}.cyrisma.test:{port} HTTP/1.1")), "{seen:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_proxy_hosts_and_overridden_hosts_connect_directly() {
    let emulator = support::default_emulator().await;
    let (proxy_addr, seen) = proxy(emulator.addr()).await;
    let client =
        support::builder(&emulator).proxy(Proxy::https(&format!("http://{proxy_addr}")).unwrap()).build().unwrap();
    client.users().list().await.unwrap();
    assert!(seen.lock().unwrap().is_empty(), "resolve overrides bypass the proxy");

    let client = Client::builder()
        .base_url(emulator.base_url())
        .credentials(emulator.api_key(), emulator.api_secret())
        .native_roots(false)
        .add_ca_certificate_file(emulator.ca_cert_path().unwrap())
        .proxy(Proxy::https(&format!("http://{proxy_addr}")).unwrap().no_proxy("cyrisma.test"))
        .connect_timeout(std::time::Duration::from_secs(2))
        .max_retries(0)
        .build()
        .unwrap();
    let error = client.users().list().await.unwrap_err();
    // Excluded from the proxy, the name is resolved directly, which fails in a test sandbox.
    assert!(error.is_connect(), "{error}");
    assert!(seen.lock().unwrap().is_empty());
}
