//! Validated values. Each type can only hold a value Retail Rocket accepts, so everything past
//! the JS boundary works with data that is already known to be good.

use std::fmt;

/// Largest id Retail Rocket accepts for products and categories (2^53 − 1, the largest integer a
/// JS number holds exactly).
pub const MAX_ID: u64 = 9_007_199_254_740_991;

/// Longest `transaction`, `searchPhrase` or `stockId` the protocol accepts.
pub const MAX_TEXT: usize = 50;

/// Why a value was refused; the caller adds which argument it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// Wanted a product or category id.
    Id,
    /// Wanted a category id or a `A/B/C` path.
    Category,
    /// Wanted non-empty text of at most [`MAX_TEXT`] characters.
    Text,
    /// Wanted a finite price above zero.
    Price,
    /// Wanted a whole quantity of at least one.
    Quantity,
    /// Wanted an e-mail address.
    Email,
    /// Wanted letters and digits only, 1 to 50 of them.
    ExternalId,
    /// Wanted a non-empty list of ids.
    IdList,
    /// Wanted `true` or `false`.
    Flag,
    /// Wanted an options object.
    Options,
    /// Wanted a recommendation algorithm name.
    Algorithm,
    /// Wanted a DOM element.
    Element,
}

impl Invalid {
    /// What the argument should have been, phrased for an error message.
    pub fn expected(self) -> &'static str {
        match self {
            Invalid::Id => "an integer from 1 to 9007199254740991 (a number or a string of digits)",
            Invalid::Category => {
                "a category id (integer from 1 to 9007199254740991) or a category path like \"Women/Clothing/Skirts\""
            }
            Invalid::Text => "non-empty text of at most 50 characters",
            Invalid::Price => "a finite number greater than 0",
            Invalid::Quantity => "a whole number of at least 1",
            Invalid::Email => "an e-mail address like name@example.com",
            Invalid::ExternalId => "1 to 50 letters and digits (a UUID's hyphens are removed)",
            Invalid::IdList => "a non-empty array of at most 100 entries",
            Invalid::Flag => "true or false",
            Invalid::Options => "an object of options (or nothing)",
            Invalid::Algorithm => crate::core::recs::ALGORITHMS,
            Invalid::Element => "a DOM element (the recommendation block)",
        }
    }
}

/// A product or category id: an integer in `1..=2^53−1`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ItemId(u64);

impl ItemId {
    /// From a JS number: must be a whole number in range.
    pub fn from_f64(value: f64) -> Result<Self, Invalid> {
        if value.fract() == 0.0 && value >= 1.0 && value <= MAX_ID as f64 {
            Ok(ItemId(value as u64))
        } else {
            Err(Invalid::Id)
        }
    }

    /// From digits, as feeds and URLs carry ids (`"0042"` is refused: it is not how the feed
    /// spells the id).
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let digits_only = !text.is_empty() && text.len() <= 16 && text.bytes().all(|b| b.is_ascii_digit());
        if !digits_only || text.starts_with('0') {
            return Err(Invalid::Id);
        }
        match text.parse::<u64>() {
            Ok(n) if n <= MAX_ID => Ok(ItemId(n)),
            _ => Err(Invalid::Id),
        }
    }

    /// The numeric value.
    pub fn get(self) -> u64 {
        self.0
    }
}

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

/// The argument of `categoryView`: a numeric id (YML feeds) or a full path (Product API feeds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Category {
    /// A category id from the feed.
    Id(ItemId),
    /// A full path such as `Women/Clothing/Skirts`.
    Path(String),
}

impl Category {
    /// Digits are an id; anything else must be a `/`-separated path with no empty segment.
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            return ItemId::parse(text).map(Category::Id).map_err(|_| Invalid::Category);
        }
        let trimmed = text.trim();
        let well_formed = !trimmed.is_empty()
            && trimmed.chars().count() <= 512
            && trimmed.split('/').all(|segment| !segment.trim().is_empty());
        if well_formed {
            Ok(Category::Path(trimmed.to_owned()))
        } else {
            Err(Invalid::Category)
        }
    }
}

/// Non-empty text of at most 50 characters (`transaction`, `searchPhrase`, `stockId`, method
/// names). Surrounding white space is trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShortText(String);

impl ShortText {
    /// Trims and checks the length in characters.
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let trimmed = text.trim();
        let len = trimmed.chars().count();
        if (1..=MAX_TEXT).contains(&len) {
            Ok(ShortText(trimmed.to_owned()))
        } else {
            Err(Invalid::Text)
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A unit price: kept as the decimal text the page gave (no float formatting in the module),
/// checked to be a plain positive decimal.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Price(String);

impl Price {
    /// Accepts `12`, `12.5`, `0.99`; refuses zero, negatives, exponents, `NaN`, `Infinity`.
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        let shaped = !whole.is_empty()
            && whole.len() <= 15
            && digits(whole)
            && digits(frac)
            && (frac.is_empty() != text.contains('.'))
            && frac.len() <= 20;
        let non_zero = text.bytes().any(|b| (b'1'..=b'9').contains(&b));
        if shaped && non_zero {
            Ok(Price(text.to_owned()))
        } else {
            Err(Invalid::Price)
        }
    }

    /// The decimal text, valid as a JSON number and as a query value.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A quantity of at least one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Quantity(u32);

impl Quantity {
    /// From a JS number: whole, 1 to 1,000,000.
    pub fn from_f64(value: f64) -> Result<Self, Invalid> {
        if value.fract() == 0.0 && (1.0..=1_000_000.0).contains(&value) {
            Ok(Quantity(value as u32))
        } else {
            Err(Invalid::Quantity)
        }
    }

    /// The sum of two quantities of the same product in one order, if still within bounds.
    pub fn checked_add(self, other: Quantity) -> Result<Quantity, Invalid> {
        Quantity::from_f64(f64::from(self.0) + f64::from(other.0))
    }

    /// The count.
    pub fn get(self) -> u32 {
        self.0
    }
}

/// An e-mail address, checked for shape only (`local@domain.tld`, no spaces, ≤ 254 chars).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    /// Trims and checks the shape.
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let text = text.trim();
        let Some((local, domain)) = text.split_once('@') else {
            return Err(Invalid::Email);
        };
        let ok = text.len() <= 254
            && !local.is_empty()
            && !domain.contains('@')
            && domain.contains('.')
            && domain.split('.').all(|label| !label.is_empty())
            && !text.chars().any(|c| c.is_whitespace() || c.is_control());
        if ok {
            Ok(Email(text.to_owned()))
        } else {
            Err(Invalid::Email)
        }
    }

    /// The address.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The visitor's device/browser id as Retail Rocket's server API knows it: letters and digits,
/// 1 to 50 of them, no personal data, never changed on login.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionExternalId(String);

impl SessionExternalId {
    /// Accepts 1–50 ASCII letters and digits. A hyphenated UUID (as native apps produce) is
    /// accepted with its hyphens removed; anything else is refused.
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let text = text.trim();
        let plain = |s: &str| (1..=50).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric());
        if plain(text) {
            return Ok(SessionExternalId(text.to_owned()));
        }
        let groups: Vec<&str> = text.split('-').collect();
        let uuid_shaped = groups.iter().map(|g| g.len()).eq([8, 4, 4, 4, 12])
            && groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_hexdigit()));
        if uuid_shaped {
            Ok(SessionExternalId(groups.concat()))
        } else {
            Err(Invalid::ExternalId)
        }
    }

    /// A new random id: a version-4 UUID written as 32 lowercase hex digits.
    pub fn from_random_bytes(bytes: [u8; 16]) -> Self {
        let uuid = uuid::Builder::from_random_bytes(bytes).into_uuid();
        let mut buf = [0u8; uuid::fmt::Simple::LENGTH];
        SessionExternalId(uuid.simple().encode_lower(&mut buf).to_owned())
    }

    /// The id.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Retail Rocket's own visitor session (the `rcuid` its servers issue), as returned by the
/// initialize call.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RrSession(String);

impl RrSession {
    /// Letters and digits, 1 to 64 of them.
    pub fn parse(text: &str) -> Option<Self> {
        let ok = (1..=64).contains(&text.len()) && text.bytes().all(|b| b.is_ascii_alphanumeric());
        ok.then(|| RrSession(text.to_owned()))
    }

    /// The session.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_accept_only_safe_integers() {
        assert_eq!(ItemId::from_f64(101.0).map(ItemId::get), Ok(101));
        assert_eq!(ItemId::from_f64(MAX_ID as f64).map(ItemId::get), Ok(MAX_ID));
        for bad in [0.0, -1.0, 1.5, f64::NAN, f64::INFINITY, 9_007_199_254_740_992.0] {
            assert_eq!(ItemId::from_f64(bad), Err(Invalid::Id), "{bad}");
        }
        assert_eq!(ItemId::parse("42").map(ItemId::get), Ok(42));
        for bad in ["", "0", "042", "4 2", "-1", "1e3", "9007199254740992", "abc"] {
            assert_eq!(ItemId::parse(bad), Err(Invalid::Id), "{bad}");
        }
    }

    #[test]
    fn categories_are_ids_or_full_paths() {
        assert_eq!(Category::parse("7"), Ok(Category::Id(ItemId(7))));
        assert_eq!(Category::parse(" Women/Skirts "), Ok(Category::Path("Women/Skirts".into())));
        for bad in ["", "  ", "Women//Skirts", "/Women", "Women/", "0"] {
            assert_eq!(Category::parse(bad), Err(Invalid::Category), "{bad:?}");
        }
    }

    #[test]
    fn short_text_counts_characters_not_bytes() {
        assert!(ShortText::parse(&"ж".repeat(50)).is_ok());
        assert_eq!(ShortText::parse(&"ж".repeat(51)), Err(Invalid::Text));
        assert_eq!(ShortText::parse("   "), Err(Invalid::Text));
        assert_eq!(ShortText::parse(" T-1 ").unwrap().as_str(), "T-1");
    }

    #[test]
    fn prices_are_plain_positive_decimals() {
        for good in ["1", "19.9", "0.01", "1000000"] {
            assert!(Price::parse(good).is_ok(), "{good}");
        }
        for bad in ["0", "0.00", "-1", "1e21", "NaN", "Infinity", "", ".5", "5.", "1.2.3", " 1"] {
            assert_eq!(Price::parse(bad), Err(Invalid::Price), "{bad:?}");
        }
    }

    #[test]
    fn quantities_are_whole_and_positive() {
        assert_eq!(Quantity::from_f64(3.0).map(Quantity::get), Ok(3));
        for bad in [0.0, -2.0, 1.5, f64::NAN] {
            assert_eq!(Quantity::from_f64(bad), Err(Invalid::Quantity));
        }
    }

    #[test]
    fn emails_need_a_plausible_shape() {
        assert!(Email::parse("shopper@example.com").is_ok());
        for bad in ["", "shopper", "@example.com", "a@b", "a@@b.c", "a b@c.d", "a@.c", "a@c.", "a@b..c"] {
            assert_eq!(Email::parse(bad), Err(Invalid::Email), "{bad:?}");
        }
    }

    #[test]
    fn external_ids_are_alphanumeric_and_uuids_lose_hyphens() {
        assert_eq!(SessionExternalId::parse("abc123").unwrap().as_str(), "abc123");
        assert_eq!(
            SessionExternalId::parse("3BEB9714-82e9-4c08-938d-1391f5d86f2b").unwrap().as_str(),
            "3BEB971482e94c08938d1391f5d86f2b"
        );
        for bad in ["", "a_b", "a-b", "x".repeat(51).as_str(), "mail@example.com", "3beb9714-82e9-4c08-938d"] {
            assert_eq!(SessionExternalId::parse(bad), Err(Invalid::ExternalId), "{bad:?}");
        }
    }

    #[test]
    fn generated_ids_are_v4_uuids_in_32_lowercase_hex() {
        let id = SessionExternalId::from_random_bytes([0xAB; 16]);
        assert_eq!(id.as_str().len(), 32);
        assert!(id.as_str().bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)));
        assert_eq!(&id.as_str()[12..13], "4", "version nibble");
        assert!(SessionExternalId::parse(id.as_str()).is_ok());
    }
}
