//! Property tests (proptest, native only): percent-encoding, stored-line round trips and the wire
//! forms made from stored lines for every event kind, the value parsers, and the queue's order
//! whatever order storage lists its keys.
//! Each property states its reference in plain code written here, not the code under test.
//! Case counts are kept small (see `CASES`) so `cargo test` stays quick.

use proptest::collection::vec;
use proptest::option;
use proptest::prelude::*;

use super::event::Route;
use super::event::{Custom, Event, Value};
use super::ids::RrSession;
use super::ids::{
    Category, Email, ItemId, LongText, Price, Quantity, SessionExternalId, ShortText, MAX_ID, MAX_LONG_TEXT, MAX_TEXT,
};
use super::queue::Queue;
use super::record::{Context, Record};
use super::relay;
use super::store::{MemoryStore, Store, WriteFailed};
use super::urlenc::{decode, encode_into, encode_list, parse_pairs, Query};
use super::wire::parse_session;
use super::wire::{Method, Tracking};

const CASES: u32 = 256;

fn config() -> ProptestConfig {
    // No persistence file: a failure prints its minimal input, which is what a reader needs.
    ProptestConfig { cases: CASES, failure_persistence: None, ..ProptestConfig::default() }
}

fn encode(value: &str) -> String {
    let mut out = String::new();
    encode_into(&mut out, value);
    out
}

/// `encodeURIComponent` as the ECMAScript spec words it: characters of the unreserved set stay,
/// every other character becomes the `%XX` escapes of its UTF-8 bytes, upper-case hex.
fn encode_uri_component(value: &str) -> String {
    const UNRESERVED: &str = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.!~*'()";
    let mut out = String::new();
    for c in value.chars() {
        if UNRESERVED.contains(c) {
            out.push(c);
        } else {
            let mut buf = [0u8; 4];
            for b in c.encode_utf8(&mut buf).bytes() {
                out.push_str(&format!("%{b:02X}"));
            }
        }
    }
    out
}

/// Any text: every Unicode scalar value, with white space and the characters the encodings
/// treat specially over-represented.
fn any_text(max: usize) -> impl Strategy<Value = String> {
    let special = prop_oneof![
        Just(' '),
        Just('\t'),
        Just('\n'),
        Just('\u{a0}'),
        Just('%'),
        Just('&'),
        Just('='),
        Just(','),
        Just('+'),
        Just('@'),
        Just('/'),
        Just('.'),
        Just('"'),
        Just(':'),
        Just('['),
        Just(']'),
        Just('😀'),
        Just('Ж'),
    ];
    vec(prop_oneof![3 => any::<char>(), 2 => special, 3 => proptest::char::range('a', 'z')], 0..=max)
        .prop_map(String::from_iter)
}

/// Text up to about `max` characters, cheap to make: varied ends around a run of one character
/// (generating every character separately makes long texts slow in a debug build).
fn long_any_text(max: usize) -> impl Strategy<Value = String> {
    (
        any_text(12),
        prop_oneof![Just(' '), Just('é'), Just('%'), Just('😀'), Just('a')],
        0..=max.saturating_sub(10),
        any_text(12),
    )
        .prop_map(|(head, c, n, tail)| format!("{head}{}{tail}", String::from(c).repeat(n)))
}

// ---------------------------------------------------------------- urlenc

#[test]
fn encoding_matches_values_taken_from_encode_uri_component() {
    // Printed by Node's encodeURIComponent, to anchor the reference above in the real thing.
    for (text, js) in [
        ("Дом & ü€😀 !'()*~-_.", "%D0%94%D0%BE%D0%BC%20%26%20%C3%BC%E2%82%AC%F0%9F%98%80%20!'()*~-_."),
        ("a+b=c/d?e#f%g", "a%2Bb%3Dc%2Fd%3Fe%23f%25g"),
        ("\u{0}\u{7f}\u{80}\u{7ff}\u{800}\u{ffff}", "%00%7F%C2%80%DF%BF%E0%A0%80%EF%BF%BF"),
        ("[]{}|\\^`\"<>,;:@$", "%5B%5D%7B%7D%7C%5C%5E%60%22%3C%3E%2C%3B%3A%40%24"),
    ] {
        assert_eq!(encode(text), js, "{text:?}");
        assert_eq!(encode_uri_component(text), js, "the reference, {text:?}");
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn encoding_is_encode_uri_component(text in any_text(40)) {
        prop_assert_eq!(encode(&text), encode_uri_component(&text));
    }

    #[test]
    fn unreserved_text_is_left_alone(text in "[A-Za-z0-9_.!~*'()-]{0,40}") {
        prop_assert_eq!(encode(&text), text.clone());
        prop_assert_eq!(decode(&text), Some(text));
    }

    #[test]
    fn decoding_undoes_encoding(text in any_text(40)) {
        let encoded = encode(&text);
        prop_assert!(encoded.bytes().all(|b| b.is_ascii_graphic()), "{}", encoded);
        prop_assert_eq!(decode(&encoded), Some(text.clone()));
        // Escapes are read in either case.
        prop_assert_eq!(decode(&lower_escapes(&encoded)), Some(text));
    }

    #[test]
    fn decoding_anything_never_panics_and_refuses_broken_escapes(text in "[%0-9a-fA-Fg-z\u{e9}]{0,12}") {
        let decoded = decode(&text);
        if !escapes_consume(&text) {
            prop_assert_eq!(decoded, None, "{:?}", text);
        } else if let Some(decoded) = decoded {
            prop_assert_eq!(decode(&encode(&decoded)), Some(decoded));
        }
    }

    #[test]
    fn query_pairs_read_back(pairs in vec((any_text(12), any_text(12)), 0..6)) {
        let mut q = Query::default();
        for (k, v) in &pairs {
            q.push(k, v);
        }
        prop_assert_eq!(parse_pairs(q.as_str()), Some(pairs));
    }

    #[test]
    fn a_list_is_its_elements_encoded_and_joined(items in vec(any_text(12), 1..6)) {
        let joined = encode_list(&items);
        let back: Vec<_> = joined.split(',').map(decode).collect();
        prop_assert_eq!(back, items.iter().cloned().map(Some).collect::<Vec<_>>());
    }
}

/// The same escapes with lower-case hex digits.
fn lower_escapes(encoded: &str) -> String {
    let mut out = String::new();
    let mut left = 0;
    for c in encoded.chars() {
        if c == '%' {
            left = 2;
            out.push(c);
        } else if left > 0 {
            left -= 1;
            out.push(c.to_ascii_lowercase());
        } else {
            out.push(c);
        }
    }
    out
}

/// True when reading escapes left to right (as a decoder must) never meets a broken one.
fn escapes_consume(text: &str) -> bool {
    let b = text.as_bytes();
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            if !(b.get(i + 1).is_some_and(u8::is_ascii_hexdigit) && b.get(i + 2).is_some_and(u8::is_ascii_hexdigit)) {
                return false;
            }
            i += 3;
        } else {
            i += 1;
        }
    }
    true
}

// ---------------------------------------------------------------- ids

/// Plain decimal text as the parsers accept it: 1–15 digits, optionally a point and 1–20 more.
const DECIMAL: &str = "[0-9]{1,15}(\\.[0-9]{1,20})?";

/// Decimal text in units of 10^-20, computed with integers (10^35 fits a u128 with room).
fn scaled(text: &str) -> u128 {
    let (whole, frac) = text.split_once('.').unwrap_or((text, ""));
    let padded = format!("{frac:0<20}");
    whole.parse::<u128>().unwrap() * 10u128.pow(20) + padded.parse::<u128>().unwrap()
}

/// The shortest decimal text of a value in units of 10^-20.
fn unscaled(value: u128) -> String {
    let whole = value / 10u128.pow(20);
    let frac = format!("{:020}", value % 10u128.pow(20));
    let frac = frac.trim_end_matches('0');
    if frac.is_empty() {
        whole.to_string()
    } else {
        format!("{whole}.{frac}")
    }
}

fn id(n: u64) -> ItemId {
    ItemId::parse(&n.to_string()).unwrap()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn ids_in_range_parse_from_digits_and_numbers(n in 1..=MAX_ID) {
        let parsed = ItemId::parse(&n.to_string());
        prop_assert_eq!(parsed.map(ItemId::get), Ok(n));
        prop_assert_eq!(parsed.map(|i| i.to_string()), Ok(n.to_string()));
        prop_assert_eq!(ItemId::from_f64(n as f64).map(ItemId::get), Ok(n));
    }

    #[test]
    fn ids_out_of_range_are_refused(n in (MAX_ID + 1)..=u64::MAX) {
        prop_assert!(ItemId::parse(&n.to_string()).is_err());
        prop_assert!(ItemId::parse("0").is_err());
        prop_assert!(ItemId::from_f64(n as f64).is_err());
    }

    #[test]
    fn id_text_is_digits_without_a_leading_zero(text in "[0-9 +.e-]{0,18}") {
        let reference = text.len() <= 16
            && text.bytes().all(|b| b.is_ascii_digit())
            && text.bytes().next().is_some_and(|b| b != b'0')
            && text.parse::<u64>().is_ok_and(|n| n <= MAX_ID);
        prop_assert_eq!(ItemId::parse(&text).is_ok(), reference, "{:?}", text);
    }

    #[test]
    fn ids_from_numbers_are_whole_and_in_range(x in any::<f64>()) {
        let reference = x.fract() == 0.0 && (1.0..=MAX_ID as f64).contains(&x);
        let parsed = ItemId::from_f64(x);
        prop_assert_eq!(parsed.is_ok(), reference, "{}", x);
        if let Ok(parsed) = parsed {
            prop_assert_eq!(parsed.get() as f64, x);
        }
    }

    #[test]
    fn decimals_are_accepted_exactly_in_their_shape(text in prop_oneof![DECIMAL.prop_map(|s| s), "[0-9.eE+ -]{0,24}".prop_map(|s| s), Just("NaN".to_owned()), Just("Infinity".to_owned())]) {
        let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
        let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
        let shaped = (1..=15).contains(&whole.len())
            && digits(whole)
            && digits(frac)
            && frac.len() <= 20
            && (text.contains('.') != frac.is_empty());
        let price = Price::parse(&text);
        prop_assert_eq!(price.is_ok(), shaped, "{:?}", text);
        if let Ok(price) = price {
            prop_assert_eq!(price.as_str(), text.as_str(), "kept as given");
            let zero = text.bytes().all(|b| b == b'0' || b == b'.');
            prop_assert_eq!(Quantity::parse(&text).is_ok(), !zero, "a quantity is above 0: {:?}", text);
        } else {
            prop_assert!(Quantity::parse(&text).is_err());
        }
    }

    #[test]
    fn quantities_add_up_exactly(a in DECIMAL, b in DECIMAL) {
        prop_assume!(Quantity::parse(&a).is_ok() && Quantity::parse(&b).is_ok());
        let (qa, qb) = (Quantity::parse(&a).unwrap(), Quantity::parse(&b).unwrap());
        let sum = scaled(&a) + scaled(&b);
        let fits = sum / 10u128.pow(20) < 10u128.pow(15);
        match qa.checked_add(&qb) {
            Ok(total) => {
                prop_assert!(fits, "{} + {} = {} past 15 digits", a, b, total.as_str());
                let reference = unscaled(sum);
                prop_assert_eq!(total.as_str(), reference.as_str(), "{} + {}", a, b);
                prop_assert_eq!(qb.checked_add(&qa).map(|q| q.as_str().to_owned()), Ok(total.as_str().to_owned()));
            }
            Err(_) => prop_assert!(!fits, "{} + {} refused", a, b),
        }
    }

    #[test]
    fn short_and_long_texts_are_trimmed_and_bounded(text in prop_oneof![any_text(60), long_any_text(MAX_LONG_TEXT + 20)]) {
        let trimmed = text.trim();
        let len = trimmed.chars().count();
        let short = ShortText::parse(&text);
        prop_assert_eq!(short.is_ok(), (1..=MAX_TEXT).contains(&len));
        if let Ok(short) = short {
            prop_assert_eq!(short.as_str(), trimmed);
            prop_assert_eq!(ShortText::parse(short.as_str()), Ok(short.clone()), "parsing again changes nothing");
        }
        let long = LongText::parse(&text);
        prop_assert_eq!(long.is_ok(), (1..=MAX_LONG_TEXT).contains(&len));
        if let Ok(long) = long {
            prop_assert_eq!(long.as_str(), trimmed);
            prop_assert_eq!(LongText::parse(long.as_str()), Ok(long.clone()));
        }
    }

    #[test]
    fn well_formed_addresses_are_kept(
        local in "[a-zA-Z0-9._%+'-]{1,30}",
        labels in vec("[a-z0-9-]{1,12}", 2..4),
        pad in "[ \t\n]{0,2}",
    ) {
        let address = format!("{local}@{}", labels.join("."));
        let email = Email::parse(&format!("{pad}{address}{pad}"));
        prop_assert_eq!(email.as_ref().map(Email::as_str), Ok(address.as_str()));
        // Broken the ways people break them: each is refused.
        let (name, domain) = address.split_once('@').unwrap();
        for bad in [
            format!("{name}{domain}"),
            format!("{name}@@{domain}"),
            format!("{name}@{domain}@x.y"),
            format!("{name} x@{domain}"),
            format!("{name}@{domain}\u{7}"),
            format!("{name}@{}", domain.replacen('.', "..", 1)),
            format!("{name}@{domain}."),
            format!("{name}@{}", domain.replace('.', "")),
            format!("@{domain}"),
            format!("{}@{domain}", "a".repeat(255)),
        ] {
            prop_assert!(Email::parse(&bad).is_err(), "{:?}", bad);
        }
    }

    #[test]
    fn any_accepted_address_has_the_promised_shape(text in any_text(30)) {
        if let Ok(email) = Email::parse(&text) {
            let s = email.as_str();
            prop_assert_eq!(s, text.trim());
            prop_assert!(s.len() <= 254 && s.matches('@').count() == 1, "{:?}", s);
            prop_assert!(!s.chars().any(|c| c.is_whitespace() || c.is_control()), "{:?}", s);
            let (local, domain) = s.split_once('@').unwrap();
            prop_assert!(!local.is_empty() && domain.split('.').count() >= 2 && domain.split('.').all(|l| !l.is_empty()));
            prop_assert_eq!(Email::parse(s), Ok(email.clone()));
        }
    }

    #[test]
    fn external_ids_are_letters_and_digits(text in prop_oneof![
        "[ ]?[A-Za-z0-9]{0,55}[ ]?".prop_map(|s| s),
        "[A-Za-z0-9-]{0,40}".prop_map(|s| s),
        any::<[u8; 16]>().prop_map(|b| uuid::Uuid::from_bytes(b).hyphenated().to_string()),
        any::<[u8; 16]>().prop_map(|b| uuid::Uuid::from_bytes(b).hyphenated().to_string().to_uppercase()),
    ]) {
        let t = text.trim();
        let plain = (1..=50).contains(&t.len()) && t.bytes().all(|b| b.is_ascii_alphanumeric());
        let groups: Vec<usize> = t.split('-').map(str::len).collect();
        let uuid = groups == [8, 4, 4, 4, 12] && t.bytes().all(|b| b == b'-' || b.is_ascii_hexdigit());
        let parsed = SessionExternalId::parse(&text);
        prop_assert_eq!(parsed.is_ok(), plain || uuid, "{:?}", text);
        if let Ok(parsed) = parsed {
            prop_assert_eq!(parsed.as_str(), t.replace('-', ""));
            prop_assert_eq!(SessionExternalId::parse(parsed.as_str()), Ok(parsed.clone()));
        }
    }

    #[test]
    fn new_external_ids_are_version_4_uuids(bytes in any::<[u8; 16]>()) {
        let id = SessionExternalId::from_random_bytes(bytes);
        let s = id.as_str();
        prop_assert!(s.len() == 32 && s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b)), "{}", s);
        prop_assert_eq!(&s[12..13], "4");
        prop_assert!("89ab".contains(&s[16..17]), "{}", s);
        prop_assert_eq!(SessionExternalId::parse(s), Ok(id.clone()));
    }

    // ------------------------------------------------------------ wire::parse_session

    #[test]
    fn the_session_is_read_from_any_initialize_answer(
        session in "[A-Za-z0-9]{1,64}",
        legacy in any::<bool>(),
        before in vec(("[a-zA-Z]{1,8}", "[a-zA-Z0-9 ]{0,8}"), 0..3),
        after in vec(("[a-zA-Z]{1,8}", "[a-zA-Z0-9 ]{0,8}"), 0..3),
        space in "[ \n\t]{0,2}",
    ) {
        prop_assume!(before.iter().chain(&after).all(|(k, _)| k != "sessionId" && k != "RrSessionId"));
        let name = if legacy { "RrSessionId" } else { "sessionId" };
        let member = |(k, v): &(String, String)| format!("\"{k}\"{space}:{space}\"{v}\"");
        let mut members: Vec<String> = before.iter().map(member).collect();
        members.push(format!("\"{name}\"{space}:{space}\"{session}\""));
        members.extend(after.iter().map(member));
        let body = format!("{{{space}{}{space}}}", members.join(&format!(",{space}")));
        let read = parse_session(&body);
        prop_assert_eq!(read.as_ref().map(|s| s.as_str()), Some(session.as_str()), "{}", body);
        // A cut-off answer names no session, and an over-long or odd one is refused.
        let ours = format!("\"{name}\"{space}:{space}\"{session}\"");
        let cut = body.find(&ours).map(|at| &body[..at + ours.len() - 1]).unwrap();
        prop_assert!(parse_session(cut).is_none(), "{}", cut);
        for bad in [format!("{session}{}", "x".repeat(65)), format!("{session}-1"), String::new()] {
            let body = format!("{{\"{name}\":\"{bad}\"}}");
            prop_assert!(parse_session(&body).is_none(), "{}", body);
        }
    }

    #[test]
    fn parse_session_of_anything_is_a_valid_session_or_nothing(body in any_text(60)) {
        if let Some(session) = parse_session(&body) {
            let s = session.as_str();
            prop_assert!((1..=64).contains(&s.len()) && s.bytes().all(|b| b.is_ascii_alphanumeric()));
            let quoted = format!("\"{s}\"");
            prop_assert!(body.contains(&quoted), "{}", body);
        }
    }
}

// ---------------------------------------------------------------- record

fn item_id() -> impl Strategy<Value = ItemId> {
    prop_oneof![1..=200u64, 1..=MAX_ID].prop_map(id)
}

fn short_text() -> impl Strategy<Value = ShortText> {
    any_text(50).prop_filter_map("blank or too long", |t| ShortText::parse(&t).ok())
}

fn long_text() -> impl Strategy<Value = LongText> {
    prop_oneof![any_text(50), long_any_text(MAX_LONG_TEXT)]
        .prop_filter_map("blank or too long", |t| LongText::parse(&t).ok())
}

fn price() -> impl Strategy<Value = Price> {
    DECIMAL.prop_map(|t| Price::parse(&t).unwrap())
}

fn quantity() -> impl Strategy<Value = Quantity> {
    DECIMAL.prop_filter_map("zero", |t| Quantity::parse(&t).ok())
}

fn email() -> impl Strategy<Value = Email> {
    ("[a-zA-Z0-9._%+&=-]{1,20}", vec("[a-z0-9-]{1,10}", 2..4))
        .prop_map(|(local, labels)| Email::parse(&format!("{local}@{}", labels.join("."))).unwrap())
}

fn category() -> impl Strategy<Value = Category> {
    prop_oneof![
        item_id().prop_map(Category::Id),
        vec(prop_oneof![any_text(10), "[ 0-9]{1,4}".prop_map(|s| s)], 1..4).prop_filter_map("not a path", |segments| {
            match Category::parse(&segments.join("/")) {
                // Digits only: see `a_category_path_of_digits_reads_back_as_that_path`.
                Ok(Category::Path(p)) if !p.bytes().all(|b| b.is_ascii_digit()) => Some(Category::Path(p)),
                _ => None,
            }
        }),
    ]
}

/// A custom value; lists have at least one element (see `an_empty_custom_list_reads_back_empty`).
fn custom() -> impl Strategy<Value = Custom> {
    let key = any_text(50).prop_filter("1 to 50 characters", |k| !k.is_empty());
    let value = prop_oneof![
        prop_oneof![any_text(20), long_any_text(MAX_LONG_TEXT)].prop_map(Value::Text),
        vec(any_text(20), 1..5).prop_map(Value::List),
    ];
    (key, value).prop_filter_map("refused", |(k, v)| Custom::new(&k, v))
}

fn ids(range: std::ops::Range<usize>) -> impl Strategy<Value = Vec<ItemId>> {
    vec(item_id(), range)
}

/// Every event kind, each with every optional part present or not.
fn event() -> impl Strategy<Value = Event> {
    let stock = || option::of(short_text());
    prop_oneof![
        Just(Event::PageView),
        (item_id(), stock(), option::of(item_id())).prop_map(|(item, stock, recom_item)| Event::View {
            item,
            stock,
            recom_item
        }),
        (ids(1..100), stock(), option::of(item_id())).prop_map(|(items, stock, recom_item)| Event::GroupView {
            items,
            stock,
            recom_item
        }),
        (item_id(), stock()).prop_map(|(item, stock)| Event::AddToBasket { item, stock }),
        item_id().prop_map(|item| Event::RemoveFromBasket { item }),
        category().prop_map(Event::CategoryView),
        long_text().prop_map(|phrase| Event::Search { phrase }),
        (long_text(), item_id(), quantity(), price(), stock()).prop_map(
            |(transaction, item, quantity, price, stock)| {
                Event::OrderLine { transaction, item, quantity, price, stock }
            }
        ),
        (
            email(),
            any::<bool>(),
            option::of("[A-Za-z0-9]{1,50}".prop_map(|s| SessionExternalId::parse(&s).unwrap())),
            vec(custom(), 0..4),
            ids(0..5),
            ids(0..5),
        )
            .prop_map(|(email, agreed, contact, custom, basket, viewed)| Event::SetEmail {
                email,
                agreed,
                contact,
                custom,
                basket,
                viewed
            }),
        (item_id(), option::of(short_text()), short_text())
            .prop_map(|(item, method, suggester)| Event::RecomMouseDown { item, method, suggester }),
        (item_id(), option::of(short_text()), short_text())
            .prop_map(|(item, method, suggester)| Event::RecomAddToCart { item, method, suggester }),
        (short_text(), ids(1..20)).prop_map(|(method, items)| Event::RecomTrack { method, items }),
        (long_text(), option::of(long_text()), option::of(long_text()))
            .prop_map(|(mail_id, source, url_type)| Event::EmailClick { mail_id, source, url_type }),
        email().prop_map(|email| Event::WelcomeSequence { email }),
        (email(), item_id(), stock()).prop_map(|(email, item, stock)| Event::BackInStock { email, item, stock }),
        (email(), vec((item_id(), price()), 1..5)).prop_map(|(email, items)| Event::PriceDrop { email, items }),
    ]
}

fn record() -> impl Strategy<Value = Record> {
    (event(), any::<u64>(), option::of("[0-9]{15}"), option::of(any_text(80)), option::of(any_text(80)), email())
        .prop_map(|(event, at_ms, pvid, page_url, referrer, email)| {
            let email = event.kind().email.then_some(email);
            Record::of(&event, at_ms, Context { pvid, page_url, referrer, email })
        })
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn every_record_reads_back_from_its_stored_line(record in record()) {
        let line = record.encode();
        prop_assert!(line.bytes().all(|b| b.is_ascii_graphic()), "one printable line: {}", line);
        prop_assert_eq!(Record::decode(&line), Some(record.clone()), "{}", line);
    }
}

proptest! {
    #![proptest_config(config())]

    /// The direct request made from a stored line: the kind's path, then the session, the page
    /// context and the event's parameters in their order (a groupView's ids in the body), as the
    /// reference below lays them out from the record alone.
    #[test]
    fn the_direct_request_lays_out_every_parameter_in_order(record in record()) {
        let tracking = Tracking { base: "https://t.example", partner_id: "p1" };
        let session = RrSession::parse("s1").unwrap();
        let visitor = SessionExternalId::parse("v1").unwrap();
        let stored = Record::decode(&record.encode()).unwrap();
        let request = tracking.event(&stored, &session, &visitor, 7);
        prop_assert_eq!(&request, &tracking.event(&record, &session, &visitor, 7), "storage changes nothing");

        let parts = &record.parts;
        let name = parts.kind.name;
        let mut path = match parts.kind.route {
            Route::Event => format!("https://t.example/1.0/event/{name}/p1"),
            Route::Subscribe => format!("https://t.example/1.0/partner/p1/subscribe/{name}"),
        };
        let segment = parts.id.clone().or_else(|| parts.kind.segment.and_then(|k| parts.get(k)).map(str::to_owned));
        if let Some(segment) = segment {
            path = format!("{path}/{}", encode_uri_component(&segment));
        }
        let mut expected = vec![("session".to_owned(), "s1".to_owned()), ("sessionExternalId".into(), "v1".into())];
        let context = &record.context;
        for (key, value) in [("pvid", &context.pvid), ("pageUrl", &context.page_url), ("referrer", &context.referrer)] {
            if let Some(value) = value {
                expected.push((key.into(), value.clone()));
            }
        }
        if let Some(email) = &context.email {
            expected.push(("email".into(), email.as_str().into()));
        }
        let mut body = None;
        for (key, value) in &parts.params {
            match value {
                Value::Text(ids) if key == "productIds" => body = Some(format!("{{\"productIds\":[{ids}]}}")),
                Value::Text(text) => expected.push((key.to_string(), text.clone())),
                Value::List(items) => expected.push((key.to_string(), items.join(","))),
            }
        }
        expected.push(("_no_cache_".into(), "7".into()));
        let (url, query) = request.url.split_once('?').unwrap();
        prop_assert_eq!(url, path);
        prop_assert_eq!(parse_pairs(query), Some(expected));
        prop_assert_eq!(request.method == Method::Post, body.is_some());
        prop_assert_eq!(request.body, body);
    }

    /// The relay envelope made from a stored line is the one made from the event itself, and an
    /// event the relay cannot carry is refused with the reason it was refused at the call.
    #[test]
    fn the_relay_envelope_survives_storage(record in record()) {
        let visitor = SessionExternalId::parse("v1").unwrap();
        let stored = Record::decode(&record.encode()).unwrap();
        let envelope = relay::envelope(&stored, &visitor);
        prop_assert_eq!(&envelope, &relay::envelope(&record, &visitor));
        prop_assert_eq!(envelope.as_ref().err().copied(), relay::refusal(&record.parts));
        if let Ok(envelope) = envelope {
            prop_assert!(envelope.starts_with("{\"") && envelope.ends_with("}}"), "{}", envelope);
            prop_assert!(envelope.contains(r#"":{"sessionExternalId":"v1","timestamp":""#), "{}", envelope);
        }
    }
}

/// Found by the property above with empty lists allowed: `Value::List(vec![])` (a page may pass
/// `[]` as custom data to `setEmail`) once read back as `[""]`; stored lists now carry their length.
#[test]
fn an_empty_custom_list_reads_back_empty() {
    let custom = vec![Custom::new("tags", Value::List(Vec::new())).unwrap()];
    let event = Event::SetEmail {
        email: Email::parse("a@b.co").unwrap(),
        agreed: true,
        contact: None,
        custom,
        basket: Vec::new(),
        viewed: Vec::new(),
    };
    let record = Record::of(&event, 1, Context::default());
    assert_eq!(Record::decode(&record.encode()), Some(record));
}

/// Found by the record property: `categoryView(" 12")` was taken as a path `12`, which read back
/// as the category id 12 (and `" 0"` as nothing at all). Digits are now an id after trimming, and
/// a stored path reads back as a path.
#[test]
fn a_category_given_as_digits_with_spaces_is_an_id_and_reads_back() {
    let category = Category::parse(" 12").unwrap();
    assert_eq!(category, Category::Id(ItemId::parse("12").unwrap()));
    let record = Record::of(&Event::CategoryView(category), 1, Context::default());
    assert_eq!(Record::decode(&record.encode()), Some(record));
    assert_eq!(Category::parse(" 0"), Err(crate::core::ids::Invalid::Category), "refused at the call, never stored");
    let path = Record::of(&Event::CategoryView(Category::path("2024").unwrap()), 1, Context::default());
    assert_eq!(Record::decode(&path.encode()), Some(path), "a stored path of digits stays a path");
}

// ---------------------------------------------------------------- queue order

/// A store that lists its keys in an order the test picks, as localStorage may.
#[derive(Debug)]
struct Scrambled {
    inner: MemoryStore,
    /// Sort keys for the listing, cycled over the keys.
    rank: Vec<u32>,
}

impl Store for Scrambled {
    fn get(&self, key: &str) -> Option<String> {
        self.inner.get(key)
    }
    fn set(&self, key: &str, value: &str) -> Result<(), WriteFailed> {
        self.inner.set(key, value)
    }
    fn remove(&self, key: &str) {
        self.inner.remove(key)
    }
    fn keys_with_prefix(&self, prefix: &str) -> Vec<String> {
        let mut keys: Vec<(u32, String)> = self
            .inner
            .keys_with_prefix(prefix)
            .into_iter()
            .enumerate()
            .map(|(i, k)| (self.rank.get(i % self.rank.len().max(1)).copied().unwrap_or(0), k))
            .collect();
        keys.sort_by_key(|(rank, _)| *rank);
        keys.into_iter().map(|(_, k)| k).collect()
    }
}

proptest! {
    #![proptest_config(config())]

    /// Events leave oldest first whatever order storage lists their keys in: the queue orders
    /// them itself (the store's listing promises no order).
    #[test]
    fn queue_order_ignores_listing_order(
        times in vec(0..5_000u64, 1..30),
        rank in vec(any::<u32>(), 1..30),
    ) {
        let store = std::rc::Rc::new(Scrambled { inner: MemoryStore::default(), rank });
        let mut writer = Queue::new(store.clone(), "tab1", 1000);
        for (n, at_ms) in times.iter().enumerate() {
            writer.push(&Record::of(&Event::RemoveFromBasket { item: id(n as u64 + 1) }, *at_ms, Context::default()));
        }
        // A queue opened afterwards (another page) knows the events only from the listing.
        let mut reader = Queue::new(store, "tab2", 1000);
        let mut order = Vec::new();
        while let Some(entry) = reader.oldest() {
            reader.remove(&entry.key);
            order.push(entry.record.parts.id.and_then(|id| id.parse::<u64>().ok()));
        }
        let pushed: Vec<_> = (1..=times.len() as u64).map(Some).collect();
        prop_assert_eq!(order, pushed);
    }
}
