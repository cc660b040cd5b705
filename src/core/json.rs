//! The little JSON this crate writes by hand: string literals, and the fields of one object.

/// Appends `text` as a JSON string literal.
pub fn push_json_string(out: &mut String, text: &str) {
    out.push('"');
    for c in text.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 || c == '\u{2028}' || c == '\u{2029}' => {
                out.push_str("\\u");
                out.push_str(&super::text::hex(c as u64, 4));
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// True for `12` and `19.90`: the unsigned decimals the crate writes as JSON numbers (ids,
/// quantities, prices), checked again because they come back from storage.
pub fn is_number(text: &str) -> bool {
    let mut parts = text.split('.');
    let digits = |p: Option<&str>| p.is_some_and(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    digits(parts.next()) && parts.next().is_none_or(|p| digits(Some(p))) && parts.next().is_none()
}

/// Why a stored event could not be written: a field it needs is missing or malformed.
pub const INCOMPLETE: &str = "a stored event was incomplete; it was not sent";

/// The fields of one JSON object, written in order: `{` and `}` come from [`Fields::close`].
#[derive(Debug, Default)]
pub struct Fields(String);

impl Fields {
    fn key(&mut self, key: &str) {
        self.0.push_str(if self.0.is_empty() { "{\"" } else { ",\"" });
        self.0.push_str(key);
        self.0.push_str("\":");
    }

    /// A string field; [`INCOMPLETE`] if the value is missing.
    pub fn text(&mut self, key: &str, value: Option<&str>) -> Result<&mut Self, &'static str> {
        let value = value.ok_or(INCOMPLETE)?;
        self.key(key);
        push_json_string(&mut self.0, value);
        Ok(self)
    }

    /// A string field, left out when there is no value.
    pub fn opt_text(&mut self, key: &str, value: Option<&str>) -> &mut Self {
        if let Some(value) = value {
            self.key(key);
            push_json_string(&mut self.0, value);
        }
        self
    }

    /// A number field; [`INCOMPLETE`] unless the value is one (see [`is_number`]).
    pub fn number(&mut self, key: &str, value: Option<&str>) -> Result<&mut Self, &'static str> {
        let value = value.filter(|v| is_number(v)).ok_or(INCOMPLETE)?;
        self.key(key);
        self.0.push_str(value);
        Ok(self)
    }

    /// An array of numbers from their comma-joined text (`1,2` becomes `[1,2]`).
    pub fn numbers(&mut self, key: &str, joined: Option<&str>) -> Result<&mut Self, &'static str> {
        let joined = joined.filter(|j| j.split(',').all(is_number)).ok_or(INCOMPLETE)?;
        self.key(key);
        self.0.push('[');
        self.0.push_str(joined);
        self.0.push(']');
        Ok(self)
    }

    /// The object, braces and all.
    pub fn close(mut self) -> String {
        if self.0.is_empty() {
            self.0.push('{');
        }
        self.0.push('}');
        self.0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_strings_are_escaped() {
        let mut s = String::new();
        push_json_string(&mut s, "a\"b\\c\nd\u{1}é\u{2028}");
        assert_eq!(s, r#""a\"b\\c\nd\u0001é\u2028""#);
    }

    #[test]
    fn only_plain_decimals_are_numbers() {
        for ok in ["0", "12", "19.90"] {
            assert!(is_number(ok), "{ok}");
        }
        for bad in ["", ".5", "5.", "1.2.3", "-1", "1e3", "1,2", "1]}"] {
            assert!(!is_number(bad), "{bad}");
        }
    }

    #[test]
    fn fields_make_one_object() {
        let mut f = Fields::default();
        f.text("a", Some("x")).unwrap().opt_text("b", None).number("n", Some("1.5")).unwrap();
        f.numbers("ids", Some("1,2")).unwrap();
        assert_eq!(f.close(), r#"{"a":"x","n":1.5,"ids":[1,2]}"#);
        assert_eq!(Fields::default().close(), "{}");
        assert_eq!(Fields::default().number("n", Some("1]}")).err(), Some(INCOMPLETE));
        assert_eq!(Fields::default().numbers("ids", Some("1,x")).err(), Some(INCOMPLETE));
    }
}
