//! Outgoing HTTP clients and their TLS: reqwest is built with rustls but
//! without a bundled crypto provider, so the process picks one (ring, which
//! builds quickly and needs no C toolchain beyond the usual) before any client
//! is built, and every client starts from [`client_builder`].

use std::sync::{Arc, OnceLock};

/// Installs ring as the process's rustls crypto provider. Idempotent: call it
/// before building any reqwest client.
pub fn install_crypto_provider() {
    // Err means a provider is already installed, which is all we need.
    let _ = rustls::crypto::ring::default_provider().install_default();
}

/// The TLS configuration of every outgoing client: the platform's verifier
/// over the system's root certificates, HTTP/1.1 by ALPN, as reqwest would
/// build it. Loading and parsing the root certificates is the slowest step
/// of start-up, so it is done once and the result shared (a clone shares the
/// verifier). `None` if it cannot be built; the caller then lets reqwest
/// build its own, which reports the problem in its own words.
pub fn client_config() -> Option<rustls::ClientConfig> {
    static CONFIG: OnceLock<Option<rustls::ClientConfig>> = OnceLock::new();
    CONFIG.get_or_init(build_client_config).clone()
}

fn build_client_config() -> Option<rustls::ClientConfig> {
    install_crypto_provider();
    // The installed provider, as reqwest itself would take.
    let provider = rustls::crypto::CryptoProvider::get_default()
        .cloned()
        .unwrap_or_else(|| Arc::new(rustls::crypto::ring::default_provider()));
    let verifier = rustls_platform_verifier::Verifier::new(Arc::clone(&provider)).ok()?;
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .ok()?
        .dangerous()
        .with_custom_certificate_verifier(Arc::new(verifier))
        .with_no_client_auth();
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Some(config)
}

/// What every outgoing client starts from: our user agent, no redirects (a
/// redirect would re-send a POST, possibly to another host, with the
/// GREEN-API token in its path), and the shared TLS configuration.
pub fn client_builder() -> reqwest::ClientBuilder {
    install_crypto_provider();
    let builder = reqwest::Client::builder()
        .user_agent(concat!("slack-sendcontact/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none());
    match client_config() {
        Some(tls) => builder.tls_backend_preconfigured(tls),
        None => builder,
    }
}
