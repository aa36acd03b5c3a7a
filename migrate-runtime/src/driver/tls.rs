//! A CA the URL names (`sslrootcert` on PostgreSQL, `ssl-ca` on MySQL/MariaDB) as the
//! only trust anchor, as in libpq and the MySQL client.
//!
//! sqlx 0.8.6 verifies a server against the operating system's roots *plus* the named
//! CA: its rustls setup starts from the native roots (or, with its other features,
//! Mozilla's list; none starts empty) and adds the file's certificates, and a file with
//! none adds nothing. So a server the system trusts would pass whatever CA the URL
//! names, and an empty or garbage file would be as good as none. Before sqlx connects,
//! the file is read and checked here (a missing, unreadable or certificate-less file is
//! an error naming it), and the server is verified against that CA alone on a TLS
//! handshake of our own; only then does sqlx open its connections. The backends supply
//! the bytes that ask their server for TLS ([`super::postgres`], [`super::mysql`]).
//!
//! What this does not close: sqlx's own connections still accept a certificate the
//! system trusts, so someone who can intercept the connection *and* holds such a
//! certificate for the host could let this check through and take a later connection.
//! Closing that needs sqlx to take a root store of ours (its `tls_rustls.rs` builds the
//! store itself, in 0.8.6 and on its main branch alike).

use crate::error::{MigrateError, TlsCaError};
use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::client::WebPkiServerVerifier;
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, ServerName, UnixTime};
use rustls::{CertificateError, ClientConfig, ClientConnection, DigitallySignedStruct};
use std::io;
use std::net::{TcpStream, ToSocketAddrs};
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// The CA a URL names, read and checked.
pub(crate) struct NamedCa {
    /// The file (for messages), or `<inline PEM>` for a certificate in the URL itself.
    path: PathBuf,
    /// The URL parameter that named it.
    param: &'static str,
    certs: Vec<CertificateDer<'static>>,
}

impl NamedCa {
    /// Reads `value` (a path, or PEM text as sqlx also accepts) named by `param`.
    ///
    /// # Errors
    /// [`TlsCaError::Missing`], [`TlsCaError::Unreadable`],
    /// [`TlsCaError::NoCertificate`] or [`TlsCaError::Invalid`], each naming the file.
    pub(crate) fn read(value: &str, param: &'static str) -> Result<NamedCa, TlsCaError> {
        // sqlx's own test for PEM text in place of a path.
        let trimmed = value.trim();
        let (path, data) = if trimmed.starts_with("-----BEGIN") && trimmed.ends_with("-----") {
            (PathBuf::from("<inline PEM>"), value.as_bytes().to_vec())
        } else {
            let path = PathBuf::from(value);
            match std::fs::read(&path) {
                Ok(data) => (path, data),
                Err(e) if e.kind() == io::ErrorKind::NotFound => {
                    return Err(TlsCaError::Missing { path, param })
                }
                Err(source) => {
                    return Err(TlsCaError::Unreadable {
                        path,
                        param,
                        source,
                    })
                }
            }
        };
        let mut certs = Vec::new();
        for cert in CertificateDer::pem_slice_iter(&data) {
            match cert {
                Ok(cert) => certs.push(cert),
                Err(e) => {
                    return Err(TlsCaError::Invalid {
                        path,
                        param,
                        source: Box::new(e),
                    })
                }
            }
        }
        if certs.is_empty() {
            return Err(TlsCaError::NoCertificate { path, param });
        }
        // A certificate that is PEM but not a usable CA fails here rather than as an
        // unexplained handshake failure.
        let mut roots = rustls::RootCertStore::empty();
        for cert in &certs {
            if let Err(e) = roots.add(cert.clone()) {
                return Err(TlsCaError::Invalid {
                    path,
                    param,
                    source: Box::new(e),
                });
            }
        }
        Ok(NamedCa { path, param, certs })
    }

    /// Verifies the server at `host:port` against this CA alone: `request_tls` asks the
    /// server for TLS in its protocol (`Ok(false)`: it declined), then a TLS handshake
    /// checks its certificate; `check_name` also checks the certificate names `host`
    /// (`verify-full`, `VERIFY_IDENTITY`). `url` (masked), `addr`, `what` and `timeout`
    /// are for the errors, as in [`super::open_pool`].
    ///
    /// # Errors
    /// [`MigrateError::TlsCa`] with [`TlsCaError::NotTrusted`] for a certificate the CA
    /// did not sign (or not for `host`); [`MigrateError::Connect`] when the server
    /// declines TLS or the connection fails; [`MigrateError::ConnectTimeout`].
    pub(crate) async fn verify_server(
        &self,
        host: &str,
        port: u16,
        check_name: bool,
        request_tls: fn(&mut TcpStream) -> io::Result<bool>,
        (url, addr, what, timeout): (String, String, &'static str, Duration),
    ) -> Result<(), MigrateError> {
        let roots = {
            let mut roots = rustls::RootCertStore::empty();
            for cert in &self.certs {
                // Checked in `read`.
                let _ = roots.add(cert.clone());
            }
            Arc::new(roots)
        };
        let connect_error = |source: io::Error| MigrateError::Connect {
            url: url.clone(),
            source: sqlx::Error::Io(source),
        };
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let inner = WebPkiServerVerifier::builder_with_provider(roots, provider.clone())
            .build()
            .map_err(|e| connect_error(io::Error::other(e)))?;
        let verified = Arc::new(AtomicBool::new(false));
        let verifier = OnlyCa {
            inner,
            check_name,
            verified: verified.clone(),
        };
        let config = ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| connect_error(io::Error::other(e)))?
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(verifier))
            .with_no_client_auth();
        let name = ServerName::try_from(host.to_string())
            .map_err(|e| connect_error(io::Error::new(io::ErrorKind::InvalidInput, e)))?;
        let owned_host = host.to_string();
        let handshake = tokio::task::spawn_blocking(move || {
            handshake(&owned_host, port, timeout, request_tls, config, name)
        })
        .await
        .map_err(io::Error::other);
        match handshake.and_then(|r| r) {
            Ok(true) => Ok(()),
            // A server that takes TLS on sqlx's connection but not on this one must not
            // slip past the check: refused as sqlx refuses a server without TLS.
            Ok(false) => Err(MigrateError::Connect {
                url: url.clone(),
                source: sqlx::Error::Tls("server does not support TLS".into()),
            }),
            // The certificate was checked and passed: what failed later (a client
            // certificate the server wants, say) is for sqlx's connection to report.
            Err(_) if verified.load(Ordering::SeqCst) => Ok(()),
            Err(e)
                if matches!(
                    e.kind(),
                    io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock
                ) =>
            {
                Err(MigrateError::ConnectTimeout {
                    addr,
                    url: url.clone(),
                    what,
                    timeout,
                })
            }
            Err(e) => {
                let refused = e
                    .get_ref()
                    .and_then(|inner| inner.downcast_ref::<rustls::Error>())
                    .and_then(|tls| match tls {
                        rustls::Error::InvalidCertificate(
                            CertificateError::NotValidForName
                            | CertificateError::NotValidForNameContext { .. },
                        ) => Some(true),
                        rustls::Error::InvalidCertificate(_) => Some(false),
                        _ => None,
                    });
                // The io::Error displays rustls's reason.
                let source = Box::new(e);
                match refused {
                    Some(true) => Err(MigrateError::TlsCa {
                        url: url.clone(),
                        problem: TlsCaError::NotForHost {
                            host: host.to_string(),
                            source,
                        },
                    }),
                    Some(false) => Err(MigrateError::TlsCa {
                        url: url.clone(),
                        problem: TlsCaError::NotTrusted {
                            path: self.path.clone(),
                            param: self.param,
                            source,
                        },
                    }),
                    None => Err(connect_error(*source)),
                }
            }
        }
    }
}

/// Connects, asks for TLS and runs the handshake to its end; whether the server agreed
/// to TLS. Blocking, bounded by `timeout` at every step.
fn handshake(
    host: &str,
    port: u16,
    timeout: Duration,
    request_tls: fn(&mut TcpStream) -> io::Result<bool>,
    config: ClientConfig,
    name: ServerName<'static>,
) -> io::Result<bool> {
    let mut last = io::Error::new(io::ErrorKind::NotFound, format!("no address for {host}"));
    let mut sock = None;
    for addr in (host, port).to_socket_addrs()? {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(s) => {
                sock = Some(s);
                break;
            }
            Err(e) => last = e,
        }
    }
    let mut sock = sock.ok_or(last)?;
    sock.set_read_timeout(Some(timeout))?;
    sock.set_write_timeout(Some(timeout))?;
    sock.set_nodelay(true)?;
    if !request_tls(&mut sock)? {
        return Ok(false);
    }
    let mut tls = ClientConnection::new(Arc::new(config), name).map_err(io::Error::other)?;
    while tls.is_handshaking() {
        tls.complete_io(&mut sock)?;
    }
    tls.send_close_notify();
    // The server may already have hung up; the check is done.
    let _ = tls.complete_io(&mut sock);
    Ok(true)
}

/// rustls's standard check against the named CA alone; without `check_name`
/// (`verify-ca`, `VERIFY_CA`) a certificate for another name passes. Records that a
/// certificate passed, so that a later handshake failure is not taken for a refusal.
#[derive(Debug)]
struct OnlyCa {
    inner: Arc<WebPkiServerVerifier>,
    check_name: bool,
    verified: Arc<AtomicBool>,
}

impl ServerCertVerifier for OnlyCa {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        let result = match self.inner.verify_server_cert(
            end_entity,
            intermediates,
            server_name,
            ocsp_response,
            now,
        ) {
            Err(rustls::Error::InvalidCertificate(
                CertificateError::NotValidForName | CertificateError::NotValidForNameContext { .. },
            )) if !self.check_name => Ok(ServerCertVerified::assertion()),
            other => other,
        };
        if result.is_ok() {
            self.verified.store(true, Ordering::SeqCst);
        }
        result
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls12_signature(message, cert, dss)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        self.inner.verify_tls13_signature(message, cert, dss)
    }

    fn supported_verify_schemes(&self) -> Vec<rustls::SignatureScheme> {
        self.inner.supported_verify_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_missing_empty_or_garbage_file_is_refused_naming_it() {
        let dir = tempfile::tempdir().expect("temp dir");
        let missing = dir.path().join("nope.pem");
        let err = NamedCa::read(missing.to_str().unwrap(), "sslrootcert").err();
        assert!(
            matches!(&err, Some(TlsCaError::Missing { path, .. }) if *path == missing),
            "{err:?}"
        );
        for (name, text) in [("empty.pem", ""), ("garbage.pem", "not a certificate\n")] {
            let path = dir.path().join(name);
            std::fs::write(&path, text).expect("write");
            let err = NamedCa::read(path.to_str().unwrap(), "ssl-ca").err();
            assert!(
                matches!(&err, Some(TlsCaError::NoCertificate { path: p, .. }) if *p == path),
                "{name}: {err:?}"
            );
            let shown = err.map(|e| e.to_string()).unwrap_or_default();
            assert!(shown.contains(&path.display().to_string()), "{shown}");
        }
        let broken = dir.path().join("broken.pem");
        std::fs::write(
            &broken,
            "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
        )
        .expect("write");
        let err = NamedCa::read(broken.to_str().unwrap(), "ssl-ca").err();
        assert!(matches!(err, Some(TlsCaError::Invalid { .. })), "{err:?}");
    }
}
