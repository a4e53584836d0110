//! TLS for mail connections: rustls (with ring) trusting the Mozilla roots
//! plus, when a mailbox names one, a PEM file of extra authorities.

use anyhow::{anyhow, Context, Result};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, ServerName};
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio_rustls::rustls::{ClientConfig, RootCertStore};
use tokio_rustls::TlsConnector;

/// The CA certificates in a PEM file.
pub fn ca_certificates(file: &str) -> Result<Vec<CertificateDer<'static>>> {
    let certs = CertificateDer::pem_file_iter(file)
        .with_context(|| format!("reading CA file {file}"))?
        .collect::<Result<Vec<_>, _>>()
        .with_context(|| format!("reading CA file {file}"))?;
    if certs.is_empty() {
        return Err(anyhow!("CA file {file} holds no certificate"));
    }
    Ok(certs)
}

/// A client configuration trusting the public roots and `ca_file`.
pub fn client_config(ca_file: Option<&str>) -> Result<Arc<ClientConfig>> {
    let mut roots = RootCertStore::empty();
    roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned());
    if let Some(file) = ca_file {
        for cert in ca_certificates(file)? {
            roots
                .add(cert)
                .with_context(|| format!("a certificate in {file} is not usable as a CA"))?;
        }
    }
    let config = ClientConfig::builder_with_provider(Arc::new(
        tokio_rustls::rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .context("TLS protocol versions")?
    .with_root_certificates(roots)
    .with_no_client_auth();
    Ok(Arc::new(config))
}

/// Runs the TLS handshake over `stream` for server `host`, verifying its
/// certificate.
pub async fn connect<S>(
    stream: S,
    host: &str,
    ca_file: Option<&str>,
) -> Result<tokio_rustls::client::TlsStream<S>>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let name = ServerName::try_from(host.to_owned())
        .map_err(|_| anyhow!("`{host}` is not a valid server name"))?;
    TlsConnector::from(client_config(ca_file)?)
        .connect(name, stream)
        .await
        .with_context(|| format!("TLS with {host}"))
}
