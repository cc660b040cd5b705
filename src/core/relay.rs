//! First-party relay mode: events go to the store's own server as batches shaped exactly like
//! Retail Rocket's server-side `visitorEvents` API (keyed by `sessionExternalId`, with an
//! ISO 8601 `timestamp`). The store's server adds the secret apiKey and forwards them; the page
//! never sees it.

use super::event::Parts;
use super::ids::SessionExternalId;
use super::json::Fields;
use super::record::Record;
use super::text::padded;
use super::urlenc::Query;

/// `1732430000123` → `2024-11-24T06:33:20.123Z`.
pub fn iso8601(ms: u64) -> String {
    let secs = ms / 1000;
    let days = (secs / 86_400) as i64;
    let rem = secs % 86_400;
    // Civil date from days since 1970-01-01 (Howard Hinnant's algorithm).
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let two = |n: u64| padded(n, 2);
    let (year, month, day) = (year as u64, month as u64, day as u64);
    let (hour, minute, second) = (rem / 3600, rem / 60 % 60, rem % 60);
    [
        &padded(year, 4),
        "-",
        &two(month),
        "-",
        &two(day),
        "T",
        &two(hour),
        ":",
        &two(minute),
        ":",
        &two(second),
        ".",
        &padded(ms % 1000, 3),
        "Z",
    ]
    .concat()
}

/// Why an event cannot travel through the relay, if it cannot (see each kind's `relay` in
/// [`super::event::KINDS`]).
pub fn refusal(parts: &Parts) -> Option<&'static str> {
    (parts.kind.relay)(parts, &mut Fields::default()).err()
}

/// One `{ "<eventName>": { … } }` envelope, or why the relay cannot carry the event.
pub fn envelope(record: &Record, visitor: &SessionExternalId) -> Result<String, &'static str> {
    let mut f = Fields::default();
    f.text("sessionExternalId", Some(visitor.as_str()))?.text("timestamp", Some(&iso8601(record.at_ms)))?;
    let name = (record.parts.kind.relay)(&record.parts, &mut f)?;
    Ok(["{\"", name, "\":", &f.close(), "}"].concat())
}

/// `POST {relay}/visitorEvents?partnerId=…` with a JSON array of envelopes.
pub fn batch_url(relay: &str, partner_id: &str) -> String {
    let mut q = Query::default();
    q.push("partnerId", partner_id);
    [relay, "/visitorEvents?", q.as_str()].concat()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event::Event;
    use crate::core::ids::{Category, Email, ItemId, LongText, Price, Quantity, ShortText};

    fn visitor() -> SessionExternalId {
        SessionExternalId::parse("abc123").unwrap()
    }
    fn id(n: u64) -> ItemId {
        ItemId::parse(&n.to_string()).unwrap()
    }
    fn text(s: &str) -> ShortText {
        ShortText::parse(s).unwrap()
    }
    /// The envelope for `event`, made as the engine makes it: from the line stored for it.
    fn env(event: Event) -> Option<String> {
        let stored = Record::decode(&Record::of(&event, 1_732_430_000_123, Default::default()).encode()).unwrap();
        envelope(&stored, &visitor()).ok()
    }
    fn unsupported(event: &Event) -> Option<&'static str> {
        refusal(&event.parts())
    }

    #[test]
    fn timestamps_are_iso_8601_utc() {
        assert_eq!(iso8601(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601(1_732_430_000_123), "2024-11-24T06:33:20.123Z");
        assert_eq!(iso8601(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(iso8601(4_102_444_799_999), "2099-12-31T23:59:59.999Z");
    }

    #[test]
    fn envelopes_match_the_server_api() {
        let t = r#""sessionExternalId":"abc123","timestamp":"2024-11-24T06:33:20.123Z""#;
        assert_eq!(
            env(Event::View { item: id(101), stock: Some(text("msk")), recom_item: None }).unwrap(),
            format!(r#"{{"view":{{{t},"productId":101,"stockId":"msk"}}}}"#)
        );
        assert_eq!(
            env(Event::GroupView { items: vec![id(1), id(2)], stock: None, recom_item: None }).unwrap(),
            format!(r#"{{"groupView":{{{t},"groupId":1,"productIds":[1,2]}}}}"#)
        );
        assert_eq!(
            env(Event::CategoryView(Category::Path("Дом/\"Кухня\"".into()))).unwrap(),
            format!(r#"{{"categoryViewByCategoryPath":{{{t},"categoryPath":"Дом/\"Кухня\""}}}}"#)
        );
        let order = Event::OrderLine {
            transaction: LongText::parse("T-1").unwrap(),
            item: id(9),
            quantity: Quantity::parse("2").unwrap(),
            price: Price::parse("19.90").unwrap(),
            stock: None,
        };
        assert_eq!(
            env(order).unwrap(),
            format!(r#"{{"order":{{{t},"productId":9,"price":19.90,"quantity":2,"transaction":"T-1"}}}}"#)
        );
        let tap = Event::RecomMouseDown { item: id(5), method: Some(text("popular")), suggester: text("widget") };
        assert_eq!(env(tap).unwrap(), format!(r#"{{"recomTap":{{{t},"productId":5,"recomBlockId":"popular"}}}}"#));
        let contact = Event::SetEmail {
            email: Email::parse("a@b.co").unwrap(),
            agreed: true,
            contact: Some(SessionExternalId::parse("Customer42").unwrap()),
            custom: Vec::new(),
            basket: Vec::new(),
            viewed: Vec::new(),
        };
        assert_eq!(
            env(contact).unwrap(),
            format!(r#"{{"setContact":{{{t},"contactExternalId":"Customer42","email":"a@b.co"}}}}"#)
        );
    }

    #[test]
    fn events_without_a_server_counterpart_are_named() {
        assert!(unsupported(&Event::RemoveFromBasket { item: id(1) }).is_some());
        let email = Event::SetEmail {
            email: Email::parse("a@b.co").unwrap(),
            agreed: true,
            contact: None,
            custom: Vec::new(),
            basket: Vec::new(),
            viewed: Vec::new(),
        };
        assert!(unsupported(&email).unwrap().contains("contactExternalId"));
        assert_eq!(env(email), None);
        assert_eq!(unsupported(&Event::Search { phrase: LongText::parse("x").unwrap() }), None);
        for event in
            [Event::PageView, Event::BackInStock { email: Email::parse("a@b.co").unwrap(), item: id(1), stock: None }]
        {
            assert!(unsupported(&event).is_some());
            assert_eq!(env(event), None);
        }
    }

    #[test]
    fn the_server_api_takes_fifty_characters() {
        let long = Event::Search { phrase: LongText::parse(&"x".repeat(51)).unwrap() };
        assert!(unsupported(&long).unwrap().contains("50 characters"));
        let order = Event::OrderLine {
            transaction: LongText::parse(&"T".repeat(51)).unwrap(),
            item: id(1),
            quantity: Quantity::one(),
            price: Price::parse("1").unwrap(),
            stock: None,
        };
        assert!(unsupported(&order).is_some());
    }

    #[test]
    fn new_events_map_to_their_server_api_names() {
        let t = r#""sessionExternalId":"abc123","timestamp":"2024-11-24T06:33:20.123Z""#;
        let shown = Event::RecomTrack { method: text("popular"), items: vec![id(1)] };
        assert_eq!(env(shown).unwrap(), format!(r#"{{"recomBlockViewed":{{{t},"recomBlockId":"popular"}}}}"#));
        let click = Event::EmailClick { mail_id: LongText::parse("m1").unwrap(), source: None, url_type: None };
        assert_eq!(env(click).unwrap(), format!(r#"{{"emailClick":{{{t},"mailTrackingId":"m1"}}}}"#));
        let welcome = Event::WelcomeSequence { email: Email::parse("a@b.co").unwrap() };
        assert_eq!(env(welcome).unwrap(), format!(r#"{{"welcomeSequence":{{{t},"email":"a@b.co"}}}}"#));
    }

    #[test]
    fn the_batch_goes_to_the_relay() {
        assert_eq!(
            batch_url("/rr", "608423a9b126ac6ab3f8f0a5"),
            "/rr/visitorEvents?partnerId=608423a9b126ac6ab3f8f0a5"
        );
    }
}
