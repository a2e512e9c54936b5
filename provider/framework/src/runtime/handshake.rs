//! go-plugin's startup handshake, as Terraform's plugin client performs it.
//!
//! Terraform starts the provider with a few environment variables
//! (hashicorp/go-plugin `client.go`, the `cmd.Env` it builds) and reads one
//! line from the provider's stdout:
//!
//! ```text
//! CORE|APP|NETWORK|ADDR|PROTOCOL|CERT
//! 1   |6  |unix   |/tmp/…/plugin.sock|grpc|<base64 raw-std DER>
//! ```
//!
//! `CORE` is go-plugin's own protocol version (always 1), `APP` the
//! negotiated Terraform protocol major version, `CERT` the server leaf
//! certificate for AutoMTLS (empty when TLS is disabled). Nothing may be
//! written to stdout before that line.

use std::fmt;

use base64::Engine as _;

use super::RuntimeError;

/// Environment variable Terraform sets to prove it launched the plugin.
pub const MAGIC_COOKIE_KEY: &str = "TF_PLUGIN_MAGIC_COOKIE";

/// Its value: fixed by Terraform for every plugin protocol version
/// (hashicorp/terraform `internal/plugin6/serve.go`), identical in OpenTofu.
pub const MAGIC_COOKIE_VALUE: &str =
    "d602bf8f470bc67ca7faa0386276bbdd4330efaf76d1a219cb4d6991ca9872b2";

/// go-plugin's core protocol version, the first field of the handshake line.
pub const CORE_PROTOCOL_VERSION: u32 = 1;

/// The only Terraform plugin protocol major version this crate speaks.
pub const PROTOCOL_VERSION: u32 = 6;

/// The environment go-plugin's client hands to the plugin, read once.
///
/// Built from a lookup function so tests need not touch the process
/// environment.
#[derive(Clone, Default)]
pub struct HandshakeEnv {
    /// `TF_PLUGIN_MAGIC_COOKIE`.
    pub magic_cookie: Option<String>,
    /// `PLUGIN_PROTOCOL_VERSIONS`: comma-separated versions the client
    /// speaks (Terraform offers `5,6`).
    pub protocol_versions: Option<String>,
    /// `PLUGIN_CLIENT_CERT`: PEM certificate of the client when AutoMTLS is
    /// on (Terraform's default unless `TF_DISABLE_PLUGIN_TLS` is set).
    pub client_cert_pem: Option<String>,
    /// `PLUGIN_UNIX_SOCKET_DIR`: where to create the socket.
    pub unix_socket_dir: Option<String>,
    /// `PLUGIN_MIN_PORT` / `PLUGIN_MAX_PORT`: the TCP port range, used only
    /// where unix sockets are not (go-plugin: Windows).
    pub min_port: Option<String>,
    /// See `min_port`.
    pub max_port: Option<String>,
}

// The client certificate is public, but keep Debug short and predictable.
impl fmt::Debug for HandshakeEnv {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("HandshakeEnv")
            .field("magic_cookie_set", &self.magic_cookie.is_some())
            .field("protocol_versions", &self.protocol_versions)
            .field(
                "client_cert",
                &self.client_cert_pem.as_ref().map(|_| "<pem>"),
            )
            .field("unix_socket_dir", &self.unix_socket_dir)
            .field("min_port", &self.min_port)
            .field("max_port", &self.max_port)
            .finish()
    }
}

impl HandshakeEnv {
    /// Reads the variables from the process environment.
    pub fn from_env() -> Self {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the variables through `lookup`; empty values count as unset.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let get = |name: &str| lookup(name).filter(|v| !v.is_empty());
        Self {
            magic_cookie: get(MAGIC_COOKIE_KEY),
            protocol_versions: get("PLUGIN_PROTOCOL_VERSIONS"),
            client_cert_pem: get("PLUGIN_CLIENT_CERT"),
            unix_socket_dir: get("PLUGIN_UNIX_SOCKET_DIR"),
            min_port: get("PLUGIN_MIN_PORT"),
            max_port: get("PLUGIN_MAX_PORT"),
        }
    }

    /// Fails unless Terraform's magic cookie is present and correct, which
    /// is how a plugin tells it was not launched by hand.
    pub fn check_magic_cookie(&self) -> Result<(), RuntimeError> {
        match self.magic_cookie.as_deref() {
            Some(MAGIC_COOKIE_VALUE) => Ok(()),
            _ => Err(RuntimeError::NotLaunchedByTerraform),
        }
    }

    /// Picks the protocol version to answer with.
    ///
    /// Like go-plugin's server: when the client sent no list (a very old
    /// client), answer with our version and let the client judge; when it
    /// sent one, it must contain 6.
    pub fn negotiate_protocol(&self) -> Result<u32, RuntimeError> {
        let Some(list) = self.protocol_versions.as_deref() else {
            return Ok(PROTOCOL_VERSION);
        };
        let offered: Vec<u32> = list
            .split(',')
            .filter_map(|v| v.trim().parse().ok())
            .collect();
        if offered.contains(&PROTOCOL_VERSION) {
            Ok(PROTOCOL_VERSION)
        } else {
            Err(RuntimeError::UnsupportedProtocol {
                offered: list.to_string(),
            })
        }
    }

    /// The TCP port range, when both bounds are set.
    pub fn port_range(&self) -> Result<Option<(u16, u16)>, RuntimeError> {
        let parse = |name: &'static str, value: &str| {
            value
                .trim()
                .parse::<u16>()
                .map_err(|_| RuntimeError::InvalidEnv {
                    name,
                    reason: format!("{value:?} is not a port number"),
                })
        };
        match (self.min_port.as_deref(), self.max_port.as_deref()) {
            (Some(min), Some(max)) => {
                let (min, max) = (
                    parse("PLUGIN_MIN_PORT", min)?,
                    parse("PLUGIN_MAX_PORT", max)?,
                );
                if min > max {
                    return Err(RuntimeError::InvalidEnv {
                        name: "PLUGIN_MIN_PORT",
                        reason: format!("{min} is greater than PLUGIN_MAX_PORT {max}"),
                    });
                }
                Ok(Some((min, max)))
            }
            _ => Ok(None),
        }
    }
}

/// Where the plugin listens, as the handshake line names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Address {
    /// A unix domain socket path.
    Unix(std::path::PathBuf),
    /// A loopback TCP address.
    Tcp(std::net::SocketAddr),
}

impl Address {
    /// go-plugin's network name: `unix` or `tcp`.
    pub fn network(&self) -> &'static str {
        match self {
            Address::Unix(_) => "unix",
            Address::Tcp(_) => "tcp",
        }
    }
}

impl fmt::Display for Address {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Address::Unix(path) => write!(f, "{}", path.display()),
            Address::Tcp(addr) => write!(f, "{addr}"),
        }
    }
}

/// Formats the handshake line (without the trailing newline).
///
/// The certificate is the DER of the server leaf, base64 standard alphabet
/// without padding (go-plugin uses `base64.RawStdEncoding` because the line
/// cannot hold PEM's newlines).
pub fn handshake_line(
    app_version: u32,
    address: &Address,
    server_cert_der: Option<&[u8]>,
) -> String {
    let cert = server_cert_der
        .map(|der| base64::engine::general_purpose::STANDARD_NO_PAD.encode(der))
        .unwrap_or_default();
    format!(
        "{CORE_PROTOCOL_VERSION}|{app_version}|{}|{address}|grpc|{cert}",
        address.network()
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env(pairs: &[(&str, &str)]) -> HandshakeEnv {
        let map: std::collections::HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        HandshakeEnv::from_lookup(|k| map.get(k).cloned())
    }

    #[test]
    fn magic_cookie_must_match_exactly() {
        let cases: &[(Option<&str>, bool)] = &[
            (Some(MAGIC_COOKIE_VALUE), true),
            (None, false),
            (Some(""), false),
            (Some("d602bf8f"), false),
        ];
        for (cookie, ok) in cases {
            let e = match cookie {
                Some(c) => env(&[(MAGIC_COOKIE_KEY, c)]),
                None => env(&[]),
            };
            assert_eq!(e.check_magic_cookie().is_ok(), *ok, "{cookie:?}");
        }
    }

    #[test]
    fn protocol_negotiation() {
        let cases: &[(Option<&str>, Option<u32>)] = &[
            (Some("5,6"), Some(6)),
            (Some("6"), Some(6)),
            (Some(" 6 , 7"), Some(6)),
            (Some("5"), None),
            (Some("4,5,7"), None),
            (Some("junk"), None),
            (None, Some(6)),
        ];
        for (offered, want) in cases {
            let e = match offered {
                Some(v) => env(&[("PLUGIN_PROTOCOL_VERSIONS", v)]),
                None => env(&[]),
            };
            assert_eq!(e.negotiate_protocol().ok(), *want, "{offered:?}");
        }
    }

    #[test]
    fn unsupported_protocol_error_names_what_was_offered() {
        let e = env(&[("PLUGIN_PROTOCOL_VERSIONS", "4,5")]);
        let msg = e.negotiate_protocol().unwrap_err().to_string();
        assert!(msg.contains("4,5"), "{msg}");
        assert!(msg.contains("protocol 6"), "{msg}");
    }

    #[test]
    fn port_range() {
        assert_eq!(env(&[]).port_range().unwrap(), None);
        assert_eq!(
            env(&[("PLUGIN_MIN_PORT", "10000")]).port_range().unwrap(),
            None
        );
        assert_eq!(
            env(&[("PLUGIN_MIN_PORT", "10000"), ("PLUGIN_MAX_PORT", "25000")])
                .port_range()
                .unwrap(),
            Some((10000, 25000))
        );
        assert!(env(&[("PLUGIN_MIN_PORT", "9"), ("PLUGIN_MAX_PORT", "x")])
            .port_range()
            .is_err());
        assert!(env(&[("PLUGIN_MIN_PORT", "20"), ("PLUGIN_MAX_PORT", "10")])
            .port_range()
            .is_err());
    }

    #[test]
    fn handshake_line_format() {
        let unix = Address::Unix("/tmp/plugin1/plugin.sock".into());
        assert_eq!(
            handshake_line(6, &unix, None),
            "1|6|unix|/tmp/plugin1/plugin.sock|grpc|"
        );
        // 0xfb 0xff encodes to "+/8" with padding "=" in standard base64;
        // the handshake uses no padding.
        assert_eq!(
            handshake_line(6, &unix, Some(&[0xfb, 0xff])),
            "1|6|unix|/tmp/plugin1/plugin.sock|grpc|+/8"
        );
        let tcp = Address::Tcp("127.0.0.1:10001".parse().unwrap());
        assert_eq!(
            handshake_line(6, &tcp, None),
            "1|6|tcp|127.0.0.1:10001|grpc|"
        );
    }
}
