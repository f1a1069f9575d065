//! TLS for outgoing calls: reqwest is built with rustls but without a bundled
//! crypto provider, so the process picks one (ring, which builds quickly and
//! needs no C toolchain beyond the usual) before any client is built.

/// Installs ring as the process's rustls crypto provider. Idempotent: call it
/// before building any reqwest client.
pub fn install_crypto_provider() {
    // Err means a provider is already installed, which is all we need.
    let _ = rustls::crypto::ring::default_provider().install_default();
}
