//! Validated values. Each type can only hold a value Retail Rocket accepts, so everything past
//! the JS boundary works with data that is already known to be good.

use std::fmt;

/// Largest id Retail Rocket accepts for products and categories (2^53 − 1, the largest integer a
/// JS number holds exactly).
pub const MAX_ID: u64 = 9_007_199_254_740_991;

/// Longest `stockId` or method name the protocol accepts, and every text field of Retail
/// Rocket's server API (relay mode).
pub const MAX_TEXT: usize = 50;

/// Longest `transaction`, `searchPhrase` or custom value sent directly. Retail Rocket's own
/// tracker sets no limit; this one only keeps URLs within what browsers and servers take.
pub const MAX_LONG_TEXT: usize = 500;

/// Why a value was refused; the caller adds which argument it was.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Invalid {
    /// Wanted a product or category id.
    Id,
    /// Wanted a category id or a `A/B/C` path.
    Category,
    /// Wanted non-empty text of at most [`MAX_TEXT`] characters.
    Text,
    /// Wanted non-empty text of at most [`MAX_LONG_TEXT`] characters.
    LongText,
    /// Wanted a finite price of at least zero.
    Price,
    /// Wanted a finite quantity above zero.
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
    /// Wanted custom data: text, a number, `true`/`false`, or an array of them.
    Custom,
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
            Invalid::LongText => "non-empty text of at most 500 characters",
            Invalid::Price => "a finite number of at least 0, with at most 15 digits before the point and 20 after",
            Invalid::Quantity => "a finite number greater than 0, with at most 15 digits before the point and 20 after",
            Invalid::Email => "an e-mail address like name@example.com",
            Invalid::ExternalId => "1 to 50 letters and digits (a UUID's hyphens are removed)",
            Invalid::IdList => "a non-empty array of at most 100 entries",
            Invalid::Flag => "true or false",
            Invalid::Options => "an object of options (or nothing)",
            // Every name `recs::algorithm` accepts (its tests check that the two agree).
            Invalid::Algorithm => {
                "one of popular, latest, saleByPopular, saleByLatest, alternative, related, accessories, search, \
                 personal, visitorinterest"
            }
            Invalid::Element => "a DOM element (the recommendation block)",
            Invalid::Custom => {
                "custom data: text of at most 500 characters, a number, true or false, or an array of up to 100 \
                 of them (at most 50 keys of 1 to 50 characters)"
            }
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

    /// The id's digits, as the wire and storage carry it.
    pub fn text(self) -> String {
        super::text::decimal(self.0)
    }
}

impl fmt::Display for ItemId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text())
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
    /// Digits (surrounding white space aside) are an id; anything else must be a `/`-separated
    /// path with no empty segment.
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let text = text.trim();
        if !text.is_empty() && text.bytes().all(|b| b.is_ascii_digit()) {
            return ItemId::parse(text).map(Category::Id).map_err(|_| Invalid::Category);
        }
        Category::path(text)
    }

    /// A `/`-separated path with no empty segment, taken as a path even if it is all digits
    /// (how a stored path reads back).
    pub fn path(text: &str) -> Result<Self, Invalid> {
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

/// Non-empty text of at most [`MAX_LONG_TEXT`] characters (`transaction`, `searchPhrase`),
/// trimmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LongText(String);

impl LongText {
    /// Trims and checks the length in characters.
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        let trimmed = text.trim();
        if (1..=MAX_LONG_TEXT).contains(&trimmed.chars().count()) {
            Ok(LongText(trimmed.to_owned()))
        } else {
            Err(Invalid::LongText)
        }
    }

    /// The text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A non-negative decimal kept as the text the page gave (`12`, `0.5`, `19.90`): no float
/// formatting in the module, and sums are exact. At most 15 digits before the point and 20 after.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Decimal(String);

impl Decimal {
    /// Accepts plain decimals; refuses signs, exponents, `NaN`, `Infinity`, `.5` and `5.`.
    fn parse(text: &str) -> Option<Self> {
        let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        let shaped = !whole.is_empty()
            && whole.len() <= 15
            && digits(whole)
            && digits(frac)
            && (frac.is_empty() != text.contains('.'))
            && frac.len() <= 20;
        shaped.then(|| Decimal(text.to_owned()))
    }

    fn is_zero(&self) -> bool {
        !self.0.bytes().any(|b| (b'1'..=b'9').contains(&b))
    }

    /// The exact sum, `None` past 15 digits before the point.
    fn checked_add(&self, other: &Decimal) -> Option<Decimal> {
        let split = |d: &Decimal| -> (Vec<u8>, Vec<u8>) {
            let (w, f) = d.0.split_once('.').unwrap_or((&d.0, ""));
            (w.bytes().map(|b| b - b'0').collect(), f.bytes().map(|b| b - b'0').collect())
        };
        let ((aw, af), (bw, bf)) = (split(self), split(other));
        let frac_len = af.len().max(bf.len());
        let whole_len = aw.len().max(bw.len());
        // Both numbers as digit strings of one shape, least significant digit first.
        let digits = |w: &[u8], f: &[u8]| -> Vec<u8> {
            let mut v: Vec<u8> = (0..frac_len).rev().map(|i| f.get(i).copied().unwrap_or(0)).collect();
            v.extend((0..whole_len).map(|i| if i < w.len() { w[w.len() - 1 - i] } else { 0 }));
            v
        };
        let (a, b) = (digits(&aw, &af), digits(&bw, &bf));
        let mut sum = Vec::with_capacity(a.len() + 1);
        let mut carry = 0;
        for (x, y) in a.iter().zip(&b) {
            let d = x + y + carry;
            sum.push(d % 10);
            carry = d / 10;
        }
        if carry > 0 {
            sum.push(carry);
        }
        let mut text = String::new();
        let mut whole: Vec<u8> = sum[frac_len..].iter().rev().copied().skip_while(|d| *d == 0).collect();
        if whole.is_empty() {
            whole.push(0);
        }
        text.extend(whole.iter().map(|d| (b'0' + d) as char));
        let frac: Vec<u8> = sum[..frac_len].iter().copied().skip_while(|d| *d == 0).collect();
        if !frac.is_empty() {
            text.push('.');
            text.extend(frac.iter().rev().map(|d| (b'0' + d) as char));
        }
        Decimal::parse(&text)
    }

    /// The decimal text, valid as a JSON number and as a query value.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// A unit price of at least 0 (gifts and promotions are free), as decimal text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Price(Decimal);

impl Price {
    /// Accepts `0`, `12`, `12.5`, `0.99`; refuses negatives, exponents, `NaN`, `Infinity`.
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        Decimal::parse(text).map(Price).ok_or(Invalid::Price)
    }

    /// The decimal text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

/// A quantity above 0: whole for most goods, fractional for goods sold by weight.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Quantity(Decimal);

impl Quantity {
    /// One piece, the default.
    pub fn one() -> Self {
        Quantity(Decimal("1".to_owned()))
    }

    /// From decimal text (a JS number's `toString`): `3`, `0.5`; refuses 0 and negatives.
    pub fn parse(text: &str) -> Result<Self, Invalid> {
        Decimal::parse(text).filter(|d| !d.is_zero()).map(Quantity).ok_or(Invalid::Quantity)
    }

    /// The exact sum of two quantities of the same product in one order, if still within
    /// bounds.
    pub fn checked_add(&self, other: &Quantity) -> Result<Quantity, Invalid> {
        self.0.checked_add(&other.0).map(Quantity).ok_or(Invalid::Quantity)
    }

    /// The decimal text.
    pub fn as_str(&self) -> &str {
        self.0.as_str()
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
    fn prices_are_plain_decimals_of_at_least_zero() {
        for good in ["0", "0.00", "1", "19.9", "0.01", "1000000"] {
            assert!(Price::parse(good).is_ok(), "{good}");
        }
        for bad in ["-1", "-0", "1e21", "NaN", "Infinity", "", ".5", "5.", "1.2.3", " 1", "1234567890123456"] {
            assert_eq!(Price::parse(bad), Err(Invalid::Price), "{bad:?}");
        }
    }

    #[test]
    fn quantities_are_positive_decimals() {
        for good in ["3", "0.5", "1.25", "0.001"] {
            assert_eq!(Quantity::parse(good).map(|q| q.as_str().to_owned()), Ok(good.to_owned()));
        }
        for bad in ["0", "0.0", "-2", "1e-7", "NaN", "", "Infinity"] {
            assert_eq!(Quantity::parse(bad), Err(Invalid::Quantity), "{bad:?}");
        }
        assert_eq!(Quantity::one().as_str(), "1");
    }

    #[test]
    fn quantities_sum_exactly() {
        let q = |s: &str| Quantity::parse(s).unwrap();
        let sum = |a: &str, b: &str| q(a).checked_add(&q(b)).map(|s| s.as_str().to_owned());
        assert_eq!(sum("1", "3"), Ok("4".into()));
        assert_eq!(sum("0.5", "0.25"), Ok("0.75".into()));
        assert_eq!(sum("1.1", "2.2"), Ok("3.3".into()), "no binary float error");
        assert_eq!(sum("0.5", "0.5"), Ok("1".into()));
        assert_eq!(sum("99.95", "0.05"), Ok("100".into()));
        assert_eq!(sum("999999999999999", "1"), Err(Invalid::Quantity), "past 15 digits");
    }

    #[test]
    fn long_text_allows_what_tracking_js_sends() {
        assert!(LongText::parse(&"x".repeat(500)).is_ok());
        assert_eq!(LongText::parse(&"x".repeat(501)), Err(Invalid::LongText));
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
