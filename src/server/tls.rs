//! HTTPS on the same port: a connection whose first byte is a TLS handshake record (`0x16`) is
//! served over rustls, HTTP/1.1 or HTTP/2 as ALPN decides; anything else is plain HTTP/1.1 or h2c.
//!
//! The certificate is the user's (`--tls-cert`, `--tls-key`) or made at start-up: a small
//! certificate authority that signs a leaf for `localhost`, `127.0.0.1`, `::1` and every
//! `--tls-hostname`. Clients trust the authority's certificate (written to `--tls-ca-out`), which is
//! what boto3 (`AWS_CA_BUNDLE`), Node (`NODE_EXTRA_CA_CERTS`), curl (`--cacert`) and rustls expect:
//! some refuse a self-signed leaf that is its own authority.

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use rustls::ServerConfig;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The first byte of a TLS record carrying a handshake message (a ClientHello, here).
pub(crate) const HANDSHAKE: u8 = 0x16;

/// How this server speaks TLS.
#[derive(Debug, Clone)]
pub struct TlsSetup {
    pub(crate) server: Arc<ServerConfig>,
    /// The generated authority's certificate (PEM); `None` with the user's own certificate.
    ca_pem: Option<String>,
    /// Where the generated authority's certificate is written (`--tls-ca-out`, or a default
    /// named after the port once it is known).
    pub(crate) ca_out: Option<PathBuf>,
    /// The user's certificate file, when one was given.
    pub(crate) cert_file: Option<PathBuf>,
    /// Names besides localhost and the loopback addresses (`--tls-hostname`).
    pub(crate) hostnames: Vec<String>,
    /// The CA file was written at the default path, not one the user gave: removed at exit, so
    /// that servers started on many ports (test suites on port 0) leave no files behind.
    temporary_ca: bool,
}

impl TlsSetup {
    /// A fresh authority and a leaf for the loopback names plus `hostnames`.
    pub fn generate(hostnames: &[String]) -> Result<Self, String> {
        let (ca_pem, chain, key) =
            generate(hostnames).map_err(|err| format!("cannot make a certificate: {err}"))?;
        Ok(Self {
            server: server_config(chain, key)?,
            ca_pem: Some(ca_pem),
            ca_out: None,
            cert_file: None,
            hostnames: hostnames.to_vec(),
            temporary_ca: false,
        })
    }

    /// The user's certificate chain and private key, both PEM files.
    pub fn from_files(cert: &Path, key: &Path, hostnames: &[String]) -> Result<Self, String> {
        let read = |path: &Path| {
            std::fs::read(path).map_err(|err| format!("cannot read {}: {err}", path.display()))
        };
        let cert_pem = read(cert)?;
        let chain = CertificateDer::pem_slice_iter(&cert_pem)
            .collect::<Result<Vec<_>, _>>()
            .map_err(|err| format!("{}: {err}", cert.display()))?;
        if chain.is_empty() {
            return Err(format!(
                "{} holds no PEM certificate (-----BEGIN CERTIFICATE-----)",
                cert.display()
            ));
        }
        let key_der = PrivateKeyDer::from_pem_slice(&read(key)?).map_err(|err| {
            format!(
                "{}: no PEM private key (PKCS#8, PKCS#1 or SEC1): {err}",
                key.display()
            )
        })?;
        Ok(Self {
            server: server_config(chain, key_der)?,
            ca_pem: None,
            ca_out: None,
            cert_file: Some(cert.to_path_buf()),
            hostnames: hostnames.to_vec(),
            temporary_ca: false,
        })
    }

    /// Where the generated authority's certificate was written, once it was.
    pub fn ca_file(&self) -> Option<&Path> {
        self.ca_out.as_deref().filter(|_| self.ca_pem.is_some())
    }

    /// The user's certificate file, when one was given.
    pub fn cert_file(&self) -> Option<&Path> {
        self.cert_file.as_deref()
    }

    /// The generated authority's certificate, PEM (for clients to trust); `None` with the user's
    /// own certificate.
    pub fn ca_pem(&self) -> Option<&str> {
        self.ca_pem.as_deref()
    }

    /// Where `--tls-ca-out` asks for the authority's certificate (`None`: the default, once the
    /// port is known).
    pub fn with_ca_out(mut self, path: Option<PathBuf>) -> Self {
        self.ca_out = path;
        self
    }

    /// Removes the CA file if awsim chose its path (a `--tls-ca-out` file stays).
    pub fn remove_temporary_ca(&self) {
        if let (true, Some(path)) = (self.temporary_ca, &self.ca_out) {
            let _ = std::fs::remove_file(path);
        }
    }

    /// Writes the generated authority's certificate to `--tls-ca-out`, or by default to
    /// `awsim-<port>-ca.pem` in the OS temp directory; the path written, if any. Only a path the
    /// user asked for is an error: a default that cannot be written is logged, and HTTPS is still
    /// served (clients then cannot trust it without the file).
    pub fn write_ca(&mut self, port: u16) -> Result<Option<PathBuf>, String> {
        let Some(pem) = &self.ca_pem else {
            return Ok(None);
        };
        let asked = self.ca_out.is_some();
        let path = self.ca_out.clone().unwrap_or_else(|| default_ca_path(port));
        match std::fs::write(&path, pem) {
            Ok(()) => {
                self.ca_out = Some(path.clone());
                self.temporary_ca = !asked;
                Ok(Some(path))
            }
            Err(err) if asked => Err(format!(
                "cannot write the CA certificate to {} (--tls-ca-out): {err}",
                path.display()
            )),
            Err(err) => {
                tracing::warn!(
                    "cannot write the CA certificate to {}: {err}; give --tls-ca-out FILE to trust HTTPS",
                    path.display()
                );
                Ok(None)
            }
        }
    }
}

/// `$TMPDIR/awsim-<port>-ca.pem`: one per port, so servers on different ports do not overwrite
/// each other's, and a restart on the same port writes the same path.
pub fn default_ca_path(port: u16) -> PathBuf {
    std::env::temp_dir().join(format!("awsim-{port}-ca.pem"))
}

fn server_config(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<Arc<ServerConfig>, String> {
    // The provider is named, not taken from the process default: which crypto features are on can
    // depend on what else is linked in.
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|err| format!("TLS setup: {err}"))?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|err| format!("the TLS certificate and key do not go together: {err}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(Arc::new(config))
}

type Generated = (String, Vec<CertificateDer<'static>>, PrivateKeyDer<'static>);

fn generate(hostnames: &[String]) -> Result<Generated, rcgen::Error> {
    let now = time::OffsetDateTime::now_utc();
    let not_before = now - time::Duration::days(1);
    let not_after = now + time::Duration::days(365);

    let mut ca = CertificateParams::default();
    ca.distinguished_name = name("awsim local certificate authority");
    ca.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    ca.not_before = not_before;
    ca.not_after = not_after;
    let ca_key = KeyPair::generate()?;
    let ca_cert = ca.self_signed(&ca_key)?;
    let issuer = Issuer::new(ca, ca_key);

    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    for extra in hostnames {
        if !names.contains(extra) {
            names.push(extra.clone());
        }
    }
    let mut leaf = CertificateParams::new(names)?;
    leaf.distinguished_name = name("localhost");
    leaf.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    leaf.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    leaf.use_authority_key_identifier_extension = true;
    leaf.not_before = not_before;
    leaf.not_after = not_after;
    let leaf_key = KeyPair::generate()?;
    let leaf_cert = leaf.signed_by(&leaf_key, &issuer)?;

    let key = PrivateKeyDer::Pkcs8(leaf_key.serialize_der().into());
    let chain = vec![leaf_cert.der().clone(), ca_cert.der().clone()];
    Ok((ca_cert.pem(), chain, key))
}

fn name(common_name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::OrganizationName, "awsim");
    dn.push(DnType::CommonName, common_name);
    dn
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_generated_leaf_names_loopback_and_the_extra_hostnames() {
        let (ca, chain, _key) = generate(&["awsim".into(), "10.0.0.5".into()]).unwrap();
        assert!(ca.starts_with("-----BEGIN CERTIFICATE-----"));
        assert_eq!(chain.len(), 2);
        let mut roots = rustls::RootCertStore::empty();
        roots
            .add(CertificateDer::from_pem_slice(ca.as_bytes()).unwrap())
            .unwrap();
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let verifier =
            rustls::client::WebPkiServerVerifier::builder_with_provider(Arc::new(roots), provider)
                .build()
                .unwrap();
        use rustls::client::danger::ServerCertVerifier;
        use rustls::pki_types::{ServerName, UnixTime};
        for host in ["localhost", "127.0.0.1", "::1", "awsim", "10.0.0.5"] {
            let name = ServerName::try_from(host).unwrap();
            verifier
                .verify_server_cert(&chain[0], &chain[1..], &name, &[], UnixTime::now())
                .unwrap_or_else(|err| panic!("{host}: {err}"));
        }
        let other = ServerName::try_from("example.com").unwrap();
        assert!(verifier
            .verify_server_cert(&chain[0], &chain[1..], &other, &[], UnixTime::now())
            .is_err());
    }
}
