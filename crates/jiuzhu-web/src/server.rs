//! The accept loop: HTTP/1.1 over plain TCP or TLS (rustls), with the time limits `axum::serve`
//! does not have — a deadline for the request headers (slow-header clients), for the TLS
//! handshake, and for each pause within a request body (an upload that keeps moving is never
//! cut) — and a graceful shutdown that finishes the requests in flight.

use std::future::Future;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use axum::extract::ConnectInfo;
use axum::http::Request;
use hyper::body::Incoming;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use tokio::net::{TcpListener, TcpStream};
use tokio_rustls::rustls;
use tokio_rustls::TlsAcceptor;
use tower::ServiceExt;
use tower_http::timeout::TimeoutBody;

use crate::{router, AppState, WebConfig};

/// Reads a PEM certificate chain and private key into a rustls server configuration (ring
/// provider, TLS 1.2 and 1.3, HTTP/1.1 by ALPN).
pub fn load_tls(cert: &Path, key: &Path) -> anyhow::Result<Arc<rustls::ServerConfig>> {
    use rustls::pki_types::pem::PemObject;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};
    let certs = CertificateDer::pem_file_iter(cert)
        .with_context(|| format!("reading certificate {}", cert.display()))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("parsing certificate {}", cert.display()))?;
    anyhow::ensure!(!certs.is_empty(), "no certificate in {}", cert.display());
    let key = PrivateKeyDer::from_pem_file(key)
        .with_context(|| format!("reading private key {}", key.display()))?;
    // ring rather than aws-lc-rs: no C toolchain in the build. Its deprecation is for the lack
    // of post-quantum key exchange, which the offices' browsers do not require.
    #[allow(deprecated)]
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .context("TLS protocol versions")?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .context("certificate and key do not match")?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

/// Serves until `shutdown` completes, then finishes the requests in flight.
pub async fn serve(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let config = state.config.clone();
    let app = router(state);
    let tls = config.tls.clone().map(TlsAcceptor::from);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let _ = stream.set_nodelay(true);
        let conn = Conn {
            app: app.clone(),
            config: config.clone(),
            peer,
        };
        let watcher = graceful.watcher();
        let tls = tls.clone();
        tokio::spawn(async move {
            match tls {
                Some(acceptor) => conn.serve_tls(stream, acceptor, watcher).await,
                None => conn.serve(TokioIo::new(stream), watcher).await,
            }
        });
    }
    drop(listener);
    graceful.shutdown().await;
    Ok(())
}

struct Conn {
    app: axum::Router,
    config: Arc<WebConfig>,
    peer: SocketAddr,
}

impl Conn {
    async fn serve_tls(
        self,
        stream: TcpStream,
        acceptor: TlsAcceptor,
        watcher: hyper_util::server::graceful::Watcher,
    ) {
        let deadline = self.config.tls_handshake_timeout;
        match tokio::time::timeout(deadline, acceptor.accept(stream)).await {
            Ok(Ok(tls)) => self.serve(TokioIo::new(tls), watcher).await,
            Ok(Err(e)) => tracing::debug!(peer = %self.peer, error = %e, "TLS handshake failed"),
            Err(_) => tracing::debug!(peer = %self.peer, "TLS handshake timed out"),
        }
    }

    async fn serve<I>(self, io: I, watcher: hyper_util::server::graceful::Watcher)
    where
        I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
    {
        let Conn { app, config, peer } = self;
        let idle = config.body_idle_timeout;
        let service = hyper::service::service_fn(move |req: Request<Incoming>| {
            let mut req = req.map(|body| TimeoutBody::new(idle, body));
            req.extensions_mut().insert(ConnectInfo(peer));
            app.clone().oneshot(req)
        });
        let mut builder = hyper::server::conn::http1::Builder::new();
        builder
            .timer(TokioTimer::new())
            .header_read_timeout(config.header_read_timeout)
            .keep_alive(true);
        let connection = builder.serve_connection(io, service);
        if let Err(e) = watcher.watch(connection).await {
            tracing::debug!(peer = %peer, error = %e, "connection ended with an error");
        }
    }
}
