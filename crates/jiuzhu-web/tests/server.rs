//! The server over real sockets: the time limits the security test found missing (1,500
//! slow-header connections held for 34 s), a slow upload that keeps moving and must not be cut,
//! the client address from the peer, and the graceful shutdown.

mod common;

use std::time::Duration;

use common::*;
use jiuzhu_web::WebConfig;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const LIMIT: Duration = Duration::from_millis(400);
/// How long a test waits for the server before calling it hung (never a speed assertion).
const GIVE_UP: Duration = Duration::from_secs(20);

struct Running {
    addr: std::net::SocketAddr,
    stop: tokio::sync::oneshot::Sender<()>,
    done: tokio::task::JoinHandle<anyhow::Result<()>>,
    app: TestApp,
}

async fn start() -> Running {
    let config = WebConfig {
        header_read_timeout: LIMIT,
        body_idle_timeout: LIMIT,
        ..WebConfig::default()
    };
    let app = TestApp::with_config(config.clone()).await;
    let state = common::app_state(
        app.store.clone(),
        std::sync::Arc::new(app.clock.clone()),
        config,
    );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let (stop, stopped) = tokio::sync::oneshot::channel();
    let done = tokio::spawn(jiuzhu_web::serve(listener, state, async {
        let _ = stopped.await;
    }));
    Running {
        addr,
        stop,
        done,
        app,
    }
}

/// Reads until the server closes the connection; what it sent.
async fn read_to_close(s: &mut TcpStream) -> String {
    let mut out = Vec::new();
    let r = tokio::time::timeout(GIVE_UP, s.read_to_end(&mut out)).await;
    assert!(r.is_ok(), "the server kept the connection open");
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_headers_and_silent_connections_are_closed() {
    let srv = start().await;
    // Headers begun and never finished (slowloris).
    let mut slow = TcpStream::connect(srv.addr).await.unwrap();
    slow.write_all(b"GET /login HTTP/1.1\r\nHost: x\r\nX-A: 1\r\n")
        .await
        .unwrap();
    // A connection that never says anything.
    let mut silent = TcpStream::connect(srv.addr).await.unwrap();
    let answer = read_to_close(&mut slow).await;
    assert!(
        answer.is_empty() || answer.starts_with("HTTP/1.1 408"),
        "{answer}"
    );
    read_to_close(&mut silent).await;
    srv.stop.send(()).unwrap();
    srv.done.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_is_cut_and_a_slow_moving_one_is_not() {
    let srv = start().await;
    let body = br#"{"username":"nobody","password":"wrong-password-123"}"#;
    let head = format!(
        "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    // Stalled after ten bytes: the request ends without waiting for the rest.
    let mut stalled = TcpStream::connect(srv.addr).await.unwrap();
    stalled.write_all(head.as_bytes()).await.unwrap();
    stalled.write_all(&body[..10]).await.unwrap();
    let answer = read_to_close(&mut stalled).await;
    assert!(!answer.contains("BAD_CREDENTIALS"), "{answer}");

    // One byte every 100 ms: far longer in all than the limit, never a pause as long as it.
    let mut moving = TcpStream::connect(srv.addr).await.unwrap();
    moving.write_all(head.as_bytes()).await.unwrap();
    for b in body.iter() {
        moving.write_all(&[*b]).await.unwrap();
        tokio::time::sleep(LIMIT / 4).await;
    }
    let answer = read_to_close(&mut moving).await;
    assert!(answer.starts_with("HTTP/1.1 401"), "{answer}");
    assert!(answer.contains("BAD_CREDENTIALS"), "{answer}");
    assert!(answer
        .to_ascii_lowercase()
        .contains("content-security-policy"));
    srv.stop.send(()).unwrap();
    srv.done.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_peer_address_is_the_client_and_shutdown_finishes_cleanly() {
    let srv = start().await;
    let clerk = srv.app.clerk_a();
    let body =
        serde_json::json!({"username": clerk.username, "password": clerk.password}).to_string();
    let mut s = TcpStream::connect(srv.addr).await.unwrap();
    s.write_all(
        format!(
            "POST /api/v1/login HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             X-Forwarded-For: 203.0.113.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        )
        .as_bytes(),
    )
    .await
    .unwrap();
    let answer = read_to_close(&mut s).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let events = srv.app.store.audit_page(0, 100_000).await.unwrap();
    let login = events.last().unwrap();
    assert_eq!(
        login.entry.origin, "127.0.0.1",
        "no trusted proxy: the header is ignored"
    );
    srv.stop.send(()).unwrap();
    tokio::time::timeout(GIVE_UP, srv.done)
        .await
        .expect("serve returns after the shutdown signal")
        .unwrap()
        .unwrap();
}
