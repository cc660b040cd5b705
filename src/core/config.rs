//! The tracker's configuration: every key is checked, unknown keys are typos, and anything that
//! looks like a credential is refused outright.

use super::error::ConfigError;
use super::ids::{SessionExternalId, ShortText};

/// Where Retail Rocket's browser tracking endpoints live.
pub const DEFAULT_TRACKING_URL: &str = "https://tracking.retailrocket.net";
/// Where Retail Rocket's recommendation and item endpoints live.
pub const DEFAULT_API_URL: &str = "https://api.retailrocket.net";
/// How long a recommendation request may take before the fallback answers (Retail Rocket asks
/// for at most 500 ms).
pub const DEFAULT_TIMEOUT_MS: u32 = 500;
/// How many undelivered events are kept before the oldest are dropped.
pub const DEFAULT_MAX_QUEUE: u32 = 1000;

/// A config value as the JS side handed it over, reduced to what validation needs.
#[derive(Debug, Clone, PartialEq)]
pub enum RawValue {
    /// `undefined`: treated as absent.
    Undefined,
    /// `null`: treated as absent.
    Null,
    /// A boolean.
    Bool(bool),
    /// A number.
    Number(f64),
    /// A string.
    Text(String),
    /// A function (only `onError` takes one).
    Function,
    /// Anything else (object, array, symbol…).
    Other,
}

/// Where the visitor's ids are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StorageMode {
    /// localStorage, then a first-party cookie, then memory: whichever works first.
    #[default]
    Auto,
    /// localStorage only (memory if it fails).
    Local,
    /// A first-party cookie only (memory if it fails).
    Cookie,
    /// Memory only: nothing outlives the page.
    Memory,
}

/// A validated tracker configuration.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// The shop's public id (24 hex characters).
    pub partner_id: String,
    /// Base URL of the tracking endpoints, without a trailing slash.
    pub tracking_url: String,
    /// Base URL of the recommendation endpoints, without a trailing slash.
    pub api_url: String,
    /// Default stock (region/warehouse) for events that take one.
    pub stock_id: Option<ShortText>,
    /// An id handed in by a native app; wins over the stored one.
    pub session_external_id: Option<SessionExternalId>,
    /// Where ids and the queue are kept.
    pub storage: StorageMode,
    /// Most undelivered events kept.
    pub max_queue: u32,
    /// Log refusals and delivery problems to the console.
    pub debug: bool,
    /// False: stay silent (store nothing, send nothing) until `optIn()`.
    pub consent: bool,
    /// Longest wait for a recommendation or items answer.
    pub timeout_ms: u32,
    /// The store's own relay for events (`https://…`, loopback, or a same-origin path like
    /// `/rr`); events then go there, shaped for Retail Rocket's server API, instead of directly.
    pub relay_url: Option<String>,
    /// Send one `pageView` per page load, as Retail Rocket's tracker does.
    pub page_view: bool,
    /// Send `pvid`, `pageUrl` and `referrer` with events, as Retail Rocket's tracker does.
    pub page_context: bool,
    /// Adopt and write the `rcuid` cookie Retail Rocket's tracker keeps the session in.
    pub session_cookie: bool,
}

/// Is this config key a credential in disguise? Compares case-insensitively, ignoring `-` and
/// `_`, against the names secrets travel under (Retail Rocket's apiKey, bearer tokens, the
/// headers other platforms use), and against anything that merely contains one of them.
pub fn is_secret_key(key: &str) -> bool {
    let folded: String = key.chars().filter(|c| *c != '-' && *c != '_').map(|c| c.to_ascii_lowercase()).collect();
    const EXACT: [&str; 7] = ["apikey", "key", "token", "secret", "authorization", "xapikey", "xauthorization"];
    const CONTAINS: [&str; 5] = ["apikey", "secret", "token", "password", "authorization"];
    // Compared as bytes: a substring search on `str` would add a general text searcher.
    let contains = |part: &str| folded.as_bytes().windows(part.len()).any(|w| w == part.as_bytes());
    EXACT.contains(&folded.as_str()) || CONTAINS.iter().any(|part| contains(part))
}

/// True for `https://…`, and for `http://` on a loopback host (local development and tests).
fn is_allowed_base_url(url: &str) -> bool {
    let lower = url.to_ascii_lowercase();
    let rest = if let Some(rest) = lower.strip_prefix("https://") {
        rest
    } else if let Some(rest) = lower.strip_prefix("http://") {
        let host_port = rest.split('/').next().unwrap_or("");
        let host = if host_port.starts_with('[') {
            host_port.split(']').next().map(|h| h.trim_start_matches('[')).unwrap_or("")
        } else {
            host_port.split(':').next().unwrap_or("")
        };
        let loopback_v4 = host.starts_with("127.")
            && host.split('.').count() == 4
            && host
                .split('.')
                .all(|octet| !octet.is_empty() && octet.len() <= 3 && octet.bytes().all(|b| b.is_ascii_digit()));
        if !(host == "localhost" || host == "::1" || loopback_v4) {
            return false;
        }
        rest
    } else {
        return false;
    };
    let host = rest.split('/').next().unwrap_or("");
    !host.is_empty() && !rest.contains(['?', '#', ' ', '@'])
}

/// True for a path on the page's own site: `/rr`, not `//elsewhere` or anything with a query.
pub fn is_same_origin_path(path: &str) -> bool {
    path.starts_with('/') && !path.starts_with("//") && !path.contains(['?', '#', ' ', '\\', ':'])
}

/// Collects config keys one by one, then checks the whole.
#[derive(Debug, Default)]
pub struct ConfigBuilder {
    partner_id: Option<String>,
    tracking_url: Option<String>,
    api_url: Option<String>,
    stock_id: Option<ShortText>,
    session_external_id: Option<SessionExternalId>,
    storage: StorageMode,
    max_queue: Option<u32>,
    debug: bool,
    consent: Option<bool>,
    timeout_ms: Option<u32>,
    relay_url: Option<String>,
    page_view: Option<bool>,
    page_context: Option<bool>,
    session_cookie: Option<bool>,
}

fn text<'a>(key: &'static str, value: &'a RawValue, expected: &'static str) -> Result<Option<&'a str>, ConfigError> {
    match value {
        RawValue::Undefined | RawValue::Null => Ok(None),
        RawValue::Text(s) => Ok(Some(s)),
        _ => Err(ConfigError::Invalid { key, expected }),
    }
}

fn whole_number(
    key: &'static str,
    value: &RawValue,
    min: u32,
    max: u32,
    expected: &'static str,
) -> Result<Option<u32>, ConfigError> {
    match value {
        RawValue::Undefined | RawValue::Null => Ok(None),
        RawValue::Number(n) if n.fract() == 0.0 && (f64::from(min)..=f64::from(max)).contains(n) => Ok(Some(*n as u32)),
        _ => Err(ConfigError::Invalid { key, expected }),
    }
}

fn flag(key: &'static str, value: &RawValue) -> Result<Option<bool>, ConfigError> {
    match value {
        RawValue::Undefined | RawValue::Null => Ok(None),
        RawValue::Bool(b) => Ok(Some(*b)),
        _ => Err(ConfigError::Invalid { key, expected: "true or false" }),
    }
}

fn base_url(key: &'static str, value: &RawValue) -> Result<Option<String>, ConfigError> {
    const EXPECTED: &str = "an https:// URL (http:// only for localhost/127.0.0.1), without query or fragment";
    match text(key, value, EXPECTED)? {
        None => Ok(None),
        Some(url) if is_allowed_base_url(url.trim()) => Ok(Some(url.trim().trim_end_matches('/').to_owned())),
        Some(_) => Err(ConfigError::Invalid { key, expected: EXPECTED }),
    }
}

impl ConfigBuilder {
    /// Takes one key of the page's config object.
    pub fn set(&mut self, key: &str, value: &RawValue) -> Result<(), ConfigError> {
        if is_secret_key(key) {
            return Err(ConfigError::Secret(key.to_owned()));
        }
        match key {
            "partnerId" => {
                const EXPECTED: &str = "your shop's public partnerId: 24 hexadecimal characters";
                if let Some(id) = text("partnerId", value, EXPECTED)? {
                    let id = id.trim();
                    if id.len() != 24 || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
                        return Err(ConfigError::Invalid { key: "partnerId", expected: EXPECTED });
                    }
                    self.partner_id = Some(id.to_ascii_lowercase());
                }
            }
            "trackingUrl" => self.tracking_url = base_url("trackingUrl", value)?,
            "apiUrl" => self.api_url = base_url("apiUrl", value)?,
            "stockId" => {
                const EXPECTED: &str = "non-empty text of at most 50 characters";
                if let Some(stock) = text("stockId", value, EXPECTED)? {
                    let stock = ShortText::parse(stock)
                        .map_err(|_| ConfigError::Invalid { key: "stockId", expected: EXPECTED })?;
                    self.stock_id = Some(stock);
                }
            }
            "sessionExternalId" => {
                const EXPECTED: &str =
                    "1 to 50 letters and digits (a UUID's hyphens are removed), with no personal data";
                if let Some(id) = text("sessionExternalId", value, EXPECTED)? {
                    let id = SessionExternalId::parse(id)
                        .map_err(|_| ConfigError::Invalid { key: "sessionExternalId", expected: EXPECTED })?;
                    self.session_external_id = Some(id);
                }
            }
            "storage" => {
                const EXPECTED: &str = "one of \"auto\", \"local\", \"cookie\", \"memory\"";
                self.storage = match text("storage", value, EXPECTED)? {
                    None | Some("auto") => StorageMode::Auto,
                    Some("local") => StorageMode::Local,
                    Some("cookie") => StorageMode::Cookie,
                    Some("memory") => StorageMode::Memory,
                    Some(_) => return Err(ConfigError::Invalid { key: "storage", expected: EXPECTED }),
                };
            }
            "maxQueue" => {
                self.max_queue = whole_number("maxQueue", value, 1, 10_000, "a whole number from 1 to 10000")?
            }
            "debug" => self.debug = flag("debug", value)?.unwrap_or(false),
            "relayUrl" => {
                const EXPECTED: &str =
                    "a path on this site like \"/rr\", or an https:// URL (http:// only for localhost/127.0.0.1)";
                self.relay_url = match text("relayUrl", value, EXPECTED)? {
                    None => None,
                    Some(path) if is_same_origin_path(path.trim()) => {
                        Some(path.trim().trim_end_matches('/').to_owned())
                    }
                    Some(_) => base_url("relayUrl", value)
                        .map_err(|_| ConfigError::Invalid { key: "relayUrl", expected: EXPECTED })?,
                };
            }
            "timeoutMs" => {
                self.timeout_ms =
                    whole_number("timeoutMs", value, 50, 60_000, "a whole number of milliseconds from 50 to 60000")?;
            }
            "consent" => self.consent = flag("consent", value)?,
            "pageView" => self.page_view = flag("pageView", value)?,
            "pageContext" => self.page_context = flag("pageContext", value)?,
            "sessionCookie" => self.session_cookie = flag("sessionCookie", value)?,
            "onError" => {
                if !matches!(value, RawValue::Undefined | RawValue::Null | RawValue::Function) {
                    return Err(ConfigError::Invalid { key: "onError", expected: "a function (error) => void" });
                }
            }
            _ => return Err(ConfigError::Unknown(key.to_owned())),
        }
        Ok(())
    }

    /// Checks that required keys are present and fills in defaults.
    pub fn build(self) -> Result<Config, ConfigError> {
        Ok(Config {
            partner_id: self.partner_id.ok_or(ConfigError::Missing("partnerId"))?,
            tracking_url: self.tracking_url.unwrap_or_else(|| DEFAULT_TRACKING_URL.to_owned()),
            api_url: self.api_url.unwrap_or_else(|| DEFAULT_API_URL.to_owned()),
            stock_id: self.stock_id,
            session_external_id: self.session_external_id,
            storage: self.storage,
            max_queue: self.max_queue.unwrap_or(DEFAULT_MAX_QUEUE),
            debug: self.debug,
            consent: self.consent.unwrap_or(true),
            timeout_ms: self.timeout_ms.unwrap_or(DEFAULT_TIMEOUT_MS),
            relay_url: self.relay_url,
            page_view: self.page_view.unwrap_or(true),
            page_context: self.page_context.unwrap_or(true),
            session_cookie: self.session_cookie.unwrap_or(true),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PID: &str = "608423a9b126ac6ab3f8f0a5";

    fn build(pairs: &[(&str, RawValue)]) -> Result<Config, ConfigError> {
        let mut b = ConfigBuilder::default();
        for (k, v) in pairs {
            b.set(k, v)?;
        }
        b.build()
    }

    fn text(s: &str) -> RawValue {
        RawValue::Text(s.into())
    }

    #[test]
    fn minimal_config_gets_production_defaults() {
        let c = build(&[("partnerId", text(PID))]).unwrap();
        assert_eq!(c.tracking_url, DEFAULT_TRACKING_URL);
        assert_eq!(c.api_url, DEFAULT_API_URL);
        assert_eq!(c.max_queue, 1000);
        assert_eq!(c.storage, StorageMode::Auto);
        assert!(c.page_view && c.page_context && c.session_cookie, "as Retail Rocket's tracker does");
        let off = build(&[
            ("partnerId", text(PID)),
            ("pageView", RawValue::Bool(false)),
            ("pageContext", RawValue::Bool(false)),
            ("sessionCookie", RawValue::Bool(false)),
        ])
        .unwrap();
        assert!(!off.page_view && !off.page_context && !off.session_cookie);
        assert!(build(&[("partnerId", text(PID)), ("sessionCookie", text("no"))]).is_err());
    }

    #[test]
    fn partner_id_is_required_and_checked() {
        assert_eq!(build(&[]), Err(ConfigError::Missing("partnerId")));
        for bad in ["", "608423a9", "608423a9b126ac6ab3f8f0aZ", "608423a9b126ac6ab3f8f0a5ff"] {
            assert!(matches!(build(&[("partnerId", text(bad))]), Err(ConfigError::Invalid { key: "partnerId", .. })));
        }
        assert!(build(&[("partnerId", RawValue::Number(1.0))]).is_err());
    }

    #[test]
    fn secrets_are_refused_whatever_their_spelling() {
        for key in [
            "apiKey",
            "apikey",
            "APIKEY",
            "api_key",
            "key",
            "token",
            "secret",
            "authorization",
            "Authorization",
            "x-api-key",
            "X-API-KEY",
            "x-authorization",
            "accessToken",
            "clientSecret",
            "password",
        ] {
            let r = build(&[("partnerId", text(PID)), (key, text("s3cr3t"))]);
            assert_eq!(r, Err(ConfigError::Secret(key.into())), "{key}");
        }
    }

    #[test]
    fn unknown_keys_are_typos() {
        let r = build(&[("partnerId", text(PID)), ("trackingURL", text("https://x"))]);
        assert_eq!(r, Err(ConfigError::Unknown("trackingURL".into())));
    }

    #[test]
    fn every_key_named_in_refusals_is_taken() {
        for key in crate::core::error::CONFIG_KEYS {
            let mut b = ConfigBuilder::default();
            assert!(b.set(key, &RawValue::Undefined).is_ok() || key == "partnerId", "{key} is refused");
            assert_ne!(b.set(key, &RawValue::Number(0.5)), Err(ConfigError::Unknown(key.to_owned())), "{key}");
        }
        let message = ConfigError::Unknown("x".into()).to_string();
        for key in ["pageView", "pageContext", "sessionCookie"] {
            assert!(message.contains(key), "{message}");
        }
    }

    #[test]
    fn urls_must_be_https_or_loopback() {
        let ok = |u: &str| build(&[("partnerId", text(PID)), ("trackingUrl", text(u))]).map(|c| c.tracking_url);
        assert_eq!(ok("https://t.example.com/"), Ok("https://t.example.com".into()));
        assert_eq!(ok("http://127.0.0.1:8787"), Ok("http://127.0.0.1:8787".into()));
        assert_eq!(ok("http://localhost:3000/rr"), Ok("http://localhost:3000/rr".into()));
        assert_eq!(ok("http://[::1]:80"), Ok("http://[::1]:80".into()));
        for bad in ["http://shop.example", "ftp://x", "https://", "https://x/?a=1", "//x", "http://127.0.0.1.evil.com"]
        {
            assert!(ok(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn relays_are_same_origin_paths_or_https() {
        let relay = |u: &str| build(&[("partnerId", text(PID)), ("relayUrl", text(u))]).map(|c| c.relay_url);
        assert_eq!(relay("/rr/"), Ok(Some("/rr".into())));
        assert_eq!(relay("https://shop.example/rr"), Ok(Some("https://shop.example/rr".into())));
        assert_eq!(relay("http://127.0.0.1:8080/rr"), Ok(Some("http://127.0.0.1:8080/rr".into())));
        for bad in ["//evil.example/rr", "rr", "http://shop.example/rr", "/rr?x=1", "javascript:alert(1)"] {
            assert!(matches!(relay(bad), Err(ConfigError::Invalid { key: "relayUrl", .. })), "{bad}");
        }
    }

    #[test]
    fn handed_in_ids_are_validated() {
        let c = build(&[("partnerId", text(PID)), ("sessionExternalId", text("3beb9714-82e9-4c08-938d-1391f5d86f2b"))]);
        assert_eq!(c.unwrap().session_external_id.unwrap().as_str(), "3beb971482e94c08938d1391f5d86f2b");
        let bad = build(&[("partnerId", text(PID)), ("sessionExternalId", text("user@example.com"))]);
        assert!(matches!(bad, Err(ConfigError::Invalid { key: "sessionExternalId", .. })));
    }

    #[test]
    fn other_keys_check_their_types() {
        assert!(build(&[("partnerId", text(PID)), ("storage", text("disk"))]).is_err());
        assert!(build(&[("partnerId", text(PID)), ("debug", text("yes"))]).is_err());
        assert!(build(&[("partnerId", text(PID)), ("onError", text("alert"))]).is_err());
        assert!(build(&[("partnerId", text(PID)), ("maxQueue", RawValue::Number(0.0))]).is_err());
        assert!(build(&[("partnerId", text(PID)), ("stockId", text(&"s".repeat(51)))]).is_err());
        let c =
            build(&[("partnerId", text(PID)), ("onError", RawValue::Function), ("maxQueue", RawValue::Number(5.0))]);
        assert_eq!(c.unwrap().max_queue, 5);
    }
}
