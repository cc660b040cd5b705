//! The two kinds of mistakes a page can make: a bad `Tracker` config (thrown from the
//! constructor) and a bad tracking call (reported, never thrown).

use std::fmt;

use super::ids::Invalid;

/// Every key a `Tracker` config takes (the refusal of an unknown key lists them).
pub const CONFIG_KEYS: [&str; 15] = [
    "partnerId",
    "trackingUrl",
    "apiUrl",
    "stockId",
    "sessionExternalId",
    "relayUrl",
    "storage",
    "maxQueue",
    "consent",
    "timeoutMs",
    "pageView",
    "pageContext",
    "sessionCookie",
    "debug",
    "onError",
];

/// Why `new Tracker(config)` refused its config.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum ConfigError {
    /// The config is not a plain object.
    NotAnObject,
    /// A required key is absent.
    Missing(&'static str),
    /// The key looks like a credential. Secrets belong on a server.
    Secret(String),
    /// The key is not one the tracker knows (likely a typo).
    Unknown(String),
    /// The key holds a value of the wrong type or shape.
    Invalid {
        /// The config key.
        key: &'static str,
        /// What it should hold.
        expected: &'static str,
    },
}

impl ConfigError {
    /// A stable machine-readable code, also used as the JS error's `code`.
    pub fn code(&self) -> &'static str {
        match self {
            ConfigError::NotAnObject => "config_not_object",
            ConfigError::Missing(_) => "config_missing",
            ConfigError::Secret(_) => "config_secret",
            ConfigError::Unknown(_) => "config_unknown_key",
            ConfigError::Invalid { .. } => "config_invalid",
        }
    }
}

impl ConfigError {
    /// The message of the `TypeError` thrown.
    pub fn message(&self) -> String {
        match self {
            ConfigError::NotAnObject => "Tracker config must be an object like { partnerId: \"…\" }".into(),
            ConfigError::Missing(key) => ["Tracker config needs `", key, "`"].concat(),
            ConfigError::Secret(key) => [
                "Tracker config key `",
                key,
                "` looks like a secret and was refused. Retail Rocket's apiKey and any other \
                 credential must stay on your server: anything given to a browser or an app is public. This tracker \
                 needs only the public partnerId; for server-side APIs, send events through your own backend \
                 (see the relay section of the README).",
            ]
            .concat(),
            ConfigError::Unknown(key) => {
                ["Tracker config key `", key, "` is not known. Known keys: ", &CONFIG_KEYS.join(", ")].concat()
            }
            ConfigError::Invalid { key, expected } => ["Tracker config `", key, "` must be ", expected].concat(),
        }
    }
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for ConfigError {}

/// Why a tracking call was refused. The call returns `false`, sends nothing, and this goes to
/// `onError` (and the console in debug mode).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InputError {
    /// The tracker method, e.g. `view`.
    pub method: &'static str,
    /// The argument, e.g. `productId` or `items[2].price`.
    pub argument: String,
    /// What was wrong with it.
    pub problem: Invalid,
    /// A short rendering of the value received, when there is one worth showing.
    pub got: Option<String>,
}

impl InputError {
    /// An error without a rendering of the received value.
    pub fn new(method: &'static str, argument: impl Into<String>, problem: Invalid) -> Self {
        InputError { method, argument: argument.into(), problem, got: None }
    }
}

impl InputError {
    /// The message for `onError` and the console.
    pub fn message(&self) -> String {
        let got = self.got.as_deref().map_or(String::new(), |got| [", got ", got].concat());
        [self.method, "(): `", &self.argument, "` must be ", self.problem.expected(), &got, "; nothing was sent"]
            .concat()
    }
}

impl fmt::Display for InputError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for InputError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_name_the_argument_and_the_expectation() {
        let mut e = InputError::new("view", "productId", Invalid::Id);
        e.got = Some("\"abc\"".into());
        assert_eq!(
            e.to_string(),
            "view(): `productId` must be an integer from 1 to 9007199254740991 (a number or a string of digits), \
             got \"abc\"; nothing was sent"
        );
        let secret = ConfigError::Secret("apiKey".into()).to_string();
        assert!(secret.contains("`apiKey`") && secret.contains("server"), "{secret}");
    }
}
