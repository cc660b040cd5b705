//! The storage form of a queued event: one short query-string line per event, e.g.
//! `v=1&e=view&t=1732430000000&id=101&stockId=msk`: an event's neutral form ([`Parts`]) with its
//! time and page. Human-readable in devtools and cheap to write. Values were validated once, when
//! the event was tracked; reading a line back checks its shape (a known kind, a time, a numeric
//! id) and leaves every kind's meaning to the table in [`super::event`].
//!
//! `v` is the line's format version, so a later version that renames a field can still read the
//! lines waiting in storage. Lines without one were written before versions existed and read as
//! version 1 (the same fields). A line of a later version is left where it is, for the module that
//! wrote it (another tab may run a newer release).

use std::borrow::Cow;

use super::event::{Kind, Params, Parts, Value};
use super::ids::{Email, ItemId};
use super::urlenc::{decode, encode_list, parse_pairs, Query};

/// Where an event happened, as Retail Rocket's tracker reports it with every event: captured
/// when the event is tracked, so an event sent by a later page still names its own page.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Context {
    /// The browser's page-view id (15 digits, kept across visits).
    pub pvid: Option<String>,
    /// The page's URL.
    pub page_url: Option<String>,
    /// The page's referrer.
    pub referrer: Option<String>,
    /// The shopper's e-mail, once `setEmail` has run (search, groupView and order only).
    pub email: Option<Email>,
}

impl Context {
    /// The parameters, named as on the wire.
    pub fn params(&self) -> impl Iterator<Item = (&'static str, &str)> {
        [
            ("pvid", self.pvid.as_deref()),
            ("pageUrl", self.page_url.as_deref()),
            ("referrer", self.referrer.as_deref()),
            ("email", self.email.as_ref().map(Email::as_str)),
        ]
        .into_iter()
        .filter_map(|(k, v)| Some((k, v?)))
    }
}

/// An event with the time it happened (ms since the epoch) and the page it happened on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The event, in its neutral form.
    pub parts: Parts,
    /// When the page reported it.
    pub at_ms: u64,
    /// The page it happened on.
    pub context: Context,
}

/// Stored lines mark an array parameter by this prefix on its key; its value is the number of
/// elements, `:`, and the array as the wire has it (elements encoded, joined with a raw `,`):
/// the count tells `[]` from `[""]`.
const LIST: &str = "@";

/// The format version this module writes (see the module notes).
pub const VERSION: &str = "1";

/// True for a line written by a later format version than this module reads: not ours to
/// judge, it is neither sent nor dropped.
pub fn written_later(line: &str) -> bool {
    line.strip_prefix("v=").is_some_and(|rest| rest.split('&').next() != Some(VERSION))
}

impl Record {
    #[cfg(test)]
    /// The record of `event`, tracked at `at_ms` on the page `context` describes.
    pub fn of(event: &super::event::Event, at_ms: u64, context: Context) -> Record {
        Record { parts: event.parts(), at_ms, context }
    }

    /// The line stored for this record.
    pub fn encode(&self) -> String {
        let mut q = Query::default();
        q.push("v", VERSION).push("e", self.parts.kind.name).push("t", &super::text::decimal(self.at_ms));
        if let Some(id) = &self.parts.id {
            q.push("id", id);
        }
        for (k, v) in &self.parts.params {
            match v {
                Value::Text(text) => q.push(k, text),
                Value::List(items) => q.push(
                    &[LIST, k].concat(),
                    &[&super::text::decimal(items.len() as u64), ":", &encode_list(items)].concat(),
                ),
            };
        }
        for (k, v) in self.context.params() {
            q.push(k, v);
        }
        q.into_string()
    }

    /// Reads a stored line back (version 1, or written before versions, which has the same
    /// fields); `None` if it is not a valid record.
    pub fn decode(line: &str) -> Option<Record> {
        if written_later(line) {
            return None;
        }
        let (mut kind, mut at_ms, mut id) = (None, None, None);
        let mut context = Context::default();
        let mut params = Params::new();
        for (key, value) in parse_pairs(line)? {
            match key.as_str() {
                "v" => {}
                "e" => kind = Kind::named(&value),
                "t" => at_ms = value.parse().ok(),
                "id" => id = Some(ItemId::parse(&value).is_ok().then_some(value)?),
                "pvid" => context.pvid = Some(value),
                "pageUrl" => context.page_url = Some(value),
                "referrer" => context.referrer = Some(value),
                _ => match key.strip_prefix(LIST) {
                    Some(key) => {
                        let (count, list) = value.split_once(':')?;
                        let count: usize = count.parse().ok()?;
                        let mut items = Vec::new();
                        for item in list.split(',').take(count) {
                            items.push(decode(item)?);
                        }
                        if items.len() != count || list.split(',').count() != count.max(1) {
                            return None;
                        }
                        params.push((Cow::Owned(key.to_owned()), Value::List(items)));
                    }
                    None => params.push((Cow::Owned(key), Value::Text(value))),
                },
            }
        }
        let kind = kind?;
        // The shopper's e-mail is page context for the kinds that carry it, and a parameter of
        // the others (setEmail, subscriptions).
        if kind.email {
            if let Some(at) = params.iter().position(|(k, _)| k == "email") {
                let (_, email) = params.remove(at);
                let Value::Text(email) = email else { return None };
                context.email = Some(Email::parse(&email).ok()?);
            }
        }
        // setEmail lines stored before the consent flag was always sent had none: they meant the
        // default, `true`, and go out with it as they would have then.
        const AGREED: &str = "isAgreedToReceiveMarketingMail";
        if kind.name == "setEmail" && !params.iter().any(|(k, _)| k == AGREED) {
            let after = params.iter().rposition(|(k, _)| matches!(k.as_ref(), "email" | "basket" | "viewed"));
            let at = after.map_or(0, |i| i + 1);
            params.insert(at, (Cow::Borrowed(AGREED), Value::Text("true".to_owned())));
        }
        Some(Record { parts: Parts { kind, id, params }, at_ms: at_ms?, context })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::event::Custom;
    use crate::core::event::Event;
    use crate::core::ids::{Category, LongText, Price, Quantity, SessionExternalId, ShortText};

    fn id(n: u64) -> ItemId {
        ItemId::parse(&n.to_string()).unwrap()
    }
    fn text(s: &str) -> ShortText {
        ShortText::parse(s).unwrap()
    }
    fn long(s: &str) -> LongText {
        LongText::parse(s).unwrap()
    }
    fn email() -> Email {
        Email::parse("a@b.co").unwrap()
    }

    /// One of every event kind (and of their optional parts).
    pub(crate) fn every_event() -> Vec<Event> {
        vec![
            Event::PageView,
            Event::View { item: id(101), stock: Some(text("msk")), recom_item: Some(id(105)) },
            Event::View { item: id(101), stock: None, recom_item: None },
            Event::GroupView { items: vec![id(1), id(2)], stock: None, recom_item: Some(id(3)) },
            Event::AddToBasket { item: id(7), stock: Some(text("spb & co")) },
            Event::RemoveFromBasket { item: id(7) },
            Event::CategoryView(Category::Id(id(3))),
            Event::CategoryView(Category::Path("Дом/Кухня, посуда/Вилки".into())),
            Event::Search { phrase: long(&"red=dress&size=M ".repeat(20)) },
            Event::OrderLine {
                transaction: long("T-1"),
                item: id(9),
                quantity: Quantity::parse("0.5").unwrap(),
                price: Price::parse("0").unwrap(),
                stock: None,
            },
            Event::SetEmail {
                email: email(),
                agreed: false,
                contact: None,
                custom: vec![
                    Custom::new("name", Value::Text("Anna & Co".into())).unwrap(),
                    Custom::new("tags", Value::List(vec!["a,b".into(), "c d".into()])).unwrap(),
                    Custom::new("none", Value::List(Vec::new())).unwrap(),
                    Custom::new("blank", Value::List(vec![String::new()])).unwrap(),
                ],
                basket: vec![id(1), id(2)],
                viewed: vec![id(3)],
            },
            Event::SetEmail {
                email: email(),
                agreed: true,
                contact: Some(SessionExternalId::parse("Cust42").unwrap()),
                custom: Vec::new(),
                basket: Vec::new(),
                viewed: Vec::new(),
            },
            Event::RecomMouseDown { item: id(5), method: Some(text("popular")), suggester: text("widget") },
            Event::RecomAddToCart { item: id(5), method: None, suggester: text("widget") },
            Event::RecomTrack { method: text("popular"), items: vec![id(101), id(102)] },
            Event::EmailClick { mail_id: long("m-1/2"), source: Some(long("mail")), url_type: None },
            Event::WelcomeSequence { email: email() },
            Event::BackInStock { email: email(), item: id(8), stock: Some(text("msk")) },
            Event::PriceDrop {
                email: email(),
                items: vec![(id(8), Price::parse("9.99").unwrap()), (id(9), Price::parse("5").unwrap())],
            },
        ]
    }

    #[test]
    fn every_event_round_trips_through_storage() {
        let context = Context {
            pvid: Some("123456789012345".into()),
            page_url: Some("https://shop.example/p/1?a=b&c".into()),
            referrer: Some("https://search.example/?q=x".into()),
            email: None,
        };
        for event in every_event() {
            for context in [Context::default(), context.clone()] {
                let email = event.kind().email.then(email);
                let record = Record::of(&event, 1_732_430_000_123, Context { email, ..context });
                assert_eq!(Record::decode(&record.encode()), Some(record.clone()), "{}", record.encode());
            }
        }
    }

    #[test]
    fn storage_lines_are_readable() {
        let r = Record::of(
            &Event::View { item: id(101), stock: Some(text("msk")), recom_item: None },
            5,
            Context::default(),
        );
        assert_eq!(r.encode(), "v=1&e=view&t=5&id=101&stockId=msk");
    }

    #[test]
    fn lines_stored_before_versions_read_as_version_1() {
        let line = "e=view&t=5&id=101&stockId=msk&pvid=123456789012345&pageUrl=https%3A%2F%2Fshop.example%2F";
        let record = Record::decode(line).unwrap();
        assert_eq!(record.encode(), format!("v=1&{line}"));
        assert!(!written_later(line) && !written_later(&record.encode()));
    }

    /// Lines exactly as the release before format versions wrote them, each with the request it
    /// must still make, byte for byte.
    const STORED_BEFORE_VERSIONS: [(&str, &str); 5] = [
        (
            "e=view&t=5&id=101&stockId=msk&pvid=123456789012345&pageUrl=https%3A%2F%2Fshop.example%2Fp%3Fx%3D1&referrer=",
            "/1.0/event/view/PID/101?COMMON&pvid=123456789012345&pageUrl=https%3A%2F%2Fshop.example%2Fp%3Fx%3D1&referrer=\
             &stockId=msk&_no_cache_=1",
        ),
        (
            "e=search&t=6&searchPhrase=red%20dress&email=anna%40example.com",
            "/1.0/event/search/PID?COMMON&email=anna%40example.com&searchPhrase=red%20dress&_no_cache_=1",
        ),
        (
            "e=setEmail&t=7&email=a%40b.co&basket=1%2C2&isAgreedToReceiveMarketingMail=false&d.name=Anna&%40d.tags=2%3Aa%2520b%2Cc%252Cd",
            "/1.0/event/setEmail/PID?COMMON&email=a%40b.co&basket=1%2C2&isAgreedToReceiveMarketingMail=false&d.name=Anna\
             &d.tags=a%20b,c%2Cd&_no_cache_=1",
        ),
        (
            "e=emailclick&t=8&rr_mailid=ab%2F12&utm_source=mail",
            "/1.0/event/emailclick/PID/ab%2F12?COMMON&rr_mailid=ab%2F12&utm_source=mail&_no_cache_=1",
        ),
        (
            "e=pricedrop&t=9&email=a%40b.co&items%5B0%5D.ItemId=8&items%5B0%5D.Price=9.99",
            "/1.0/partner/PID/subscribe/pricedrop?COMMON&email=a%40b.co&items[0].ItemId=8&items[0].Price=9.99&_no_cache_=1",
        ),
    ];

    #[test]
    fn lines_stored_before_versions_are_delivered_as_before() {
        use crate::core::config::{ConfigBuilder, RawValue};
        use crate::core::engine::{space, Engine, Job};
        use crate::core::store::Stores;
        use crate::core::wire::Reply;
        const PID: &str = "608423a9b126ac6ab3f8f0a5";
        let mut b = ConfigBuilder::default();
        b.set("partnerId", &RawValue::Text(PID.into())).unwrap();
        b.set("trackingUrl", &RawValue::Text("http://127.0.0.1:9".into())).unwrap();
        let config = b.build().unwrap();
        let stores = Stores::memory();
        for (n, (line, _)) in STORED_BEFORE_VERSIONS.iter().enumerate() {
            let key = format!("rrt:q:{}:{:013}:oldtab:{:06}", space(&config), n + 1, n + 1);
            stores.queue.set(&key, line).unwrap();
        }
        let mut engine = Engine::open(config, stores.clone(), "tab", || [7; 16]);
        let visitor = engine.visitor().as_str().to_owned();
        let mut sent = Vec::new();
        while let Some(job) = engine.next_job(1) {
            let body = if matches!(job, Job::Initialize(_)) { r#"{"sessionId":"s1"}"# } else { "" };
            if matches!(job, Job::Deliver { .. }) {
                sent.push(job.request().url.clone());
            }
            engine.complete(&job, &Reply { status: 200, body: body.into(), ..Reply::default() }, 0.5);
        }
        let expected: Vec<String> = STORED_BEFORE_VERSIONS
            .iter()
            .map(|(_, url)| {
                let common = format!("session=s1&sessionExternalId={visitor}");
                format!("http://127.0.0.1:9{}", url.replace("PID", PID).replace("COMMON", &common))
            })
            .collect();
        assert_eq!(sent, expected);
        assert_eq!(engine.take_problems(), vec![], "none unreadable");
        assert_eq!(engine.pending(), 0);
    }

    #[test]
    fn lines_of_a_later_version_are_not_ours() {
        assert!(written_later("v=2&e=view&t=5&id=101"));
        assert!(written_later("v=10&e=view&t=5&id=101"));
        assert!(!written_later("v=1&e=view&t=5&id=101"));
        assert_eq!(Record::decode("v=2&e=view&t=5&id=101"), None);
    }

    #[test]
    fn lines_stored_by_older_versions_still_read() {
        // Before the consent flag was always sent: delivered with its default, as then.
        let old = Record::decode("e=setEmail&t=5&email=a%40b.co&d.name=Ann").unwrap();
        let keys: Vec<&str> = old.parts.params.iter().map(|(k, _)| k.as_ref()).collect();
        assert_eq!(keys, ["email", "isAgreedToReceiveMarketingMail", "d.name"]);
        assert_eq!(old.parts.get("isAgreedToReceiveMarketingMail"), Some("true"));
        let agreed = Record::decode("e=setEmail&t=5&email=a%40b.co&isAgreedToReceiveMarketingMail=false").unwrap();
        assert_eq!(agreed.parts.get("isAgreedToReceiveMarketingMail"), Some("false"), "a stored answer is kept");
        let old = Record::decode("e=order&t=5&id=1&transaction=T&qnt=2&price=1.5").unwrap();
        assert_eq!((old.parts.kind.name, old.parts.id.as_deref()), ("order", Some("1")));
    }

    #[test]
    fn tampered_lines_are_refused() {
        for bad in [
            "",
            "t=5&id=1",
            "e=view&id=1",
            "e=view&t=x&id=1",
            "e=view&t=5&id=1x",
            "e=nope&t=5&id=1",
            "e=search&t=5&searchPhrase=x&email=not-an-address",
            "e=setEmail&t=5&email=a%40b.co&%40d.x=3%3Aa%2Cb",
            "e=setEmail&t=5&email=a%40b.co&%40d.x=a",
            "v=2&e=view&t=5&id=1",
            "%%",
        ] {
            assert_eq!(Record::decode(bad), None, "{bad}");
        }
    }
}
