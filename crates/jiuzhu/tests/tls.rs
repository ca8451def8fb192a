//! `jiuzhu serve --tls-cert --tls-key`: HTTPS terminated by the binary itself (rustls), with
//! secure cookies and HSTS on by default — the security test found the platform HTTP-only.

use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;
use tokio_rustls::rustls;

async fn https(addr: &str, config: Arc<rustls::ClientConfig>, request: String) -> String {
    let tcp = TcpStream::connect(addr).await.unwrap();
    let name = rustls::pki_types::ServerName::try_from("localhost").unwrap();
    let mut tls = tokio_rustls::TlsConnector::from(config)
        .connect(name, tcp)
        .await
        .expect("TLS handshake with the server's certificate");
    tls.write_all(request.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), tls.read_to_end(&mut out)).await;
    String::from_utf8_lossy(&out).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_terminates_tls_with_secure_cookies_and_hsts() {
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert_file, key_file) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_file, cert.cert.pem()).unwrap();
    std::fs::write(&key_file, cert.signing_key.serialize_pem()).unwrap();
    let db = format!("sqlite://{}", dir.path().join("tls.sqlite").display());
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_jiuzhu"))
        .args(["serve", "--listen", "127.0.0.1:0", "--tls-cert"])
        .arg(&cert_file)
        .arg("--tls-key")
        .arg(&key_file)
        .env("JIUZHU_DATABASE", &db)
        .env("JIUZHU_LOG", "warn")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .expect("start jiuzhu serve");
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let (mut addr, mut otp) = (String::new(), String::new());
    tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(line) = lines.next_line().await.unwrap() {
            // "… 用户名 username: admin  一次性密码 one-time password: …" for each administrator.
            if line.contains("username: admin ") {
                if let Some(p) = line.split("one-time password: ").nth(1) {
                    otp = p.trim().to_string();
                }
            }
            if let Some(rest) = line.split("https://").nth(1) {
                addr = rest.split('/').next().unwrap().to_string();
                return;
            }
        }
        panic!("jiuzhu serve exited before listening");
    })
    .await
    .expect("started within 120 s");
    assert!(
        !otp.is_empty(),
        "the first start prints the administrator's password"
    );

    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    #[allow(deprecated)] // ring, as the server: no C toolchain needed
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = Arc::new(
        rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth(),
    );
    let health = https(
        &addr,
        config.clone(),
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n".into(),
    )
    .await;
    assert!(health.starts_with("HTTP/1.1 200"), "{health}");
    assert!(health
        .to_ascii_lowercase()
        .contains("strict-transport-security: max-age=31536000"));

    let body = serde_json::json!({"username": "admin", "password": otp}).to_string();
    let login = https(
        &addr,
        config,
        format!(
            "POST /api/v1/login HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
    )
    .await;
    assert!(login.starts_with("HTTP/1.1 200"), "{login}");
    let cookie = login
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("set-cookie:"))
        .expect("a session cookie");
    assert!(cookie.contains("; Secure"), "{cookie}");
    assert!(cookie.contains("HttpOnly") && cookie.contains("SameSite=Strict"));

    // Plain HTTP on the TLS port gets no page.
    let mut plain = TcpStream::connect(&addr).await.unwrap();
    plain
        .write_all(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut out = Vec::new();
    let _ = tokio::time::timeout(Duration::from_secs(30), plain.read_to_end(&mut out)).await;
    assert!(!String::from_utf8_lossy(&out).contains("200 OK"));
    let _ = child.start_kill();
    let _ = child.wait().await;
}
