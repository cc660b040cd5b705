//! Percent-encoding for query strings, byte-for-byte what `encodeURIComponent` produces, and
//! its inverse. The queue's storage form and every URL we build go through these two functions.

use super::event::Value;

const HEX: &[u8; 16] = b"0123456789ABCDEF";

fn is_unreserved(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-_.!~*'()".contains(&b)
}

/// Appends `value` to `out`, percent-encoding every byte outside `encodeURIComponent`'s
/// unreserved set.
pub fn encode_into(out: &mut String, value: &str) {
    encode_keeping(out, value, b"");
}

/// [`encode_into`], leaving the bytes of `keep` as they are.
fn encode_keeping(out: &mut String, value: &str, keep: &[u8]) {
    for &b in value.as_bytes() {
        if is_unreserved(b) || keep.contains(&b) {
            out.push(b as char);
        } else {
            out.push('%');
            out.push(HEX[(b >> 4) as usize] as char);
            out.push(HEX[(b & 15) as usize] as char);
        }
    }
}

/// An array as Retail Rocket's tracker sends one: each element encoded, joined with a raw `,`.
pub fn encode_list(items: &[String]) -> String {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        encode_into(&mut out, item);
    }
    out
}

fn hex_value(b: u8) -> Option<u8> {
    match b {
        b'0'..=b'9' => Some(b - b'0'),
        b'a'..=b'f' => Some(b - b'a' + 10),
        b'A'..=b'F' => Some(b - b'A' + 10),
        _ => None,
    }
}

/// Decodes a percent-encoded component (`+` is left as is). `None` if an escape is malformed or
/// the bytes are not UTF-8.
pub fn decode(value: &str) -> Option<String> {
    let bytes = value.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hi = hex_value(*bytes.get(i + 1)?)?;
            let lo = hex_value(*bytes.get(i + 2)?)?;
            out.push(hi << 4 | lo);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).ok()
}

/// Builds `k1=v1&k2=v2…`, encoding keys and values.
#[derive(Debug, Default)]
pub struct Query(String);

impl Query {
    /// Adds one pair.
    pub fn push(&mut self, key: &str, value: &str) -> &mut Self {
        if !self.0.is_empty() {
            self.0.push('&');
        }
        encode_into(&mut self.0, key);
        self.0.push('=');
        encode_into(&mut self.0, value);
        self
    }

    /// Adds one parameter: a text, or an array whose elements are encoded one by one and joined
    /// with a raw `,`, as Retail Rocket's tracker sends arrays. Brackets in the key stay raw
    /// (`items[0].ItemId`), as that tracker sends them.
    pub fn push_value(&mut self, key: &str, value: &Value) -> &mut Self {
        if !self.0.is_empty() {
            self.0.push('&');
        }
        encode_keeping(&mut self.0, key, b"[]");
        self.0.push('=');
        match value {
            Value::Text(text) => encode_into(&mut self.0, text),
            Value::List(items) => self.0.push_str(&encode_list(items)),
        }
        self
    }

    /// The query without a leading `?`.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Consumes the builder.
    pub fn into_string(self) -> String {
        self.0
    }
}

/// Splits `k1=v1&k2=v2…` into decoded pairs; `None` if any pair is malformed.
pub fn parse_pairs(query: &str) -> Option<Vec<(String, String)>> {
    if query.is_empty() {
        return Some(Vec::new());
    }
    let mut pairs = Vec::new();
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=')?;
        pairs.push((decode(k)?, decode(v)?));
    }
    Some(pairs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes_like_encode_uri_component() {
        let mut s = String::new();
        encode_into(&mut s, "Women/Clothing & Skirts?=ё!~*'()");
        assert_eq!(s, "Women%2FClothing%20%26%20Skirts%3F%3D%D1%91!~*'()");
    }

    #[test]
    fn round_trips_any_text() {
        for text in ["", "a b", "100%", "ключ=значение&x", "emoji 🛒", "+plus"] {
            let mut s = String::new();
            encode_into(&mut s, text);
            assert_eq!(decode(&s).as_deref(), Some(text));
        }
    }

    #[test]
    fn rejects_broken_escapes() {
        assert_eq!(decode("%"), None);
        assert_eq!(decode("%4"), None);
        assert_eq!(decode("%zz"), None);
        assert_eq!(decode("%ff"), None, "lone 0xFF is not UTF-8");
    }

    #[test]
    fn arrays_join_encoded_elements_with_a_raw_comma() {
        let mut q = Query::default();
        q.push_value("d.tags", &Value::List(vec!["a b".into(), "c,d".into()]))
            .push_value("basket", &Value::Text("1,2".into()))
            .push_value("items[0].ItemId", &Value::Text("7".into()));
        assert_eq!(q.as_str(), "d.tags=a%20b,c%2Cd&basket=1%2C2&items[0].ItemId=7");
    }

    #[test]
    fn query_pairs_round_trip() {
        let mut q = Query::default();
        q.push("e", "view").push("phrase", "red & blue");
        assert_eq!(q.as_str(), "e=view&phrase=red%20%26%20blue");
        let pairs = parse_pairs(q.as_str()).unwrap();
        assert_eq!(pairs[1], ("phrase".into(), "red & blue".into()));
        assert_eq!(parse_pairs("novalue"), None);
    }
}
