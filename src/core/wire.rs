//! Retail Rocket's partnerId-only browser protocol (the one its own `tracking.js` speaks):
//! `GET {trackingUrl}/1.0/event/{event}/{partnerId}[/{id}]?session=…`, except `groupView`,
//! which POSTs its ids as JSON. No apiKey exists anywhere in this module.

use super::event::{Route, Value, PRODUCT_IDS};
use super::ids::{RrSession, SessionExternalId};
use super::json::is_number;
use super::record::Record;
use super::retry::retry_after_seconds;
use super::text::decimal;
use super::urlenc::Query;

/// HTTP method of a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// GET, no body.
    Get,
    /// POST with a JSON body.
    Post,
}

/// A request, ready for the transport.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WireRequest {
    /// GET or POST.
    pub method: Method,
    /// Absolute URL.
    pub url: String,
    /// JSON body for POST.
    pub body: Option<String>,
    /// Send the browser's cookies for the endpoint (only the session handshake does, as
    /// Retail Rocket's tracker does: its answer may come from a cookie on Retail Rocket's
    /// domain).
    pub credentials: bool,
}

impl WireRequest {
    /// A request without cookies.
    pub fn new(method: Method, url: String, body: Option<String>) -> Self {
        WireRequest { method, url, body, credentials: false }
    }
}

/// What the transport got back.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Reply {
    /// HTTP status; 0 for a network error or timeout.
    pub status: u16,
    /// Response body (read for the session handshake and recommendations).
    pub body: String,
    /// The server's `Retry-After`, converted to milliseconds.
    pub retry_after_ms: Option<u64>,
    /// The server's `Cache-Control`.
    pub cache_control: Option<String>,
    /// No answer came before our own timer (status 0): the request may still be under way.
    pub timed_out: bool,
}

impl Reply {
    /// Reads what the browser layer's `send` (`js/host.js`) settles with: five lines, `{status}`
    /// (0: no answer), `1` when our timer ran out, `={Retry-After}`, `={Cache-Control}` (a
    /// line without `=`: no such header) and the body. `date_ms` turns an HTTP date in
    /// `Retry-After` into the milliseconds until then (seconds are read here).
    pub fn from_host(text: &str, date_ms: impl Fn(&str) -> Option<u64>) -> Reply {
        let mut lines = text.splitn(5, '\n');
        let mut line = || lines.next().unwrap_or_default();
        let status = line().parse().unwrap_or(0);
        let timed_out = line() == "1";
        let retry_after = line().strip_prefix('=').and_then(|h| retry_after_seconds(h).or_else(|| date_ms(h)));
        let cache_control = line().strip_prefix('=').map(str::to_owned);
        Reply { status, body: line().to_owned(), retry_after_ms: retry_after, cache_control, timed_out }
    }
}

/// How a request travels (the browser layer's `fetch` options).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Transfer {
    /// Abort after this long.
    pub timeout_ms: u32,
    /// Read the body (the session handshake and recommendations need it).
    pub read_body: bool,
    /// Let the request outlive the page (see `Job::outlives_page`). Once the page is gone, no
    /// timer of ours can abort it: a hand-off our timer gave up on may still arrive (see
    /// `Engine::settle_after_ms`).
    pub keepalive: bool,
    /// Never answer from, or store in, the browser's HTTP cache (events). Recommendations leave
    /// it on: the browser honours their `Cache-Control` across page loads.
    pub bypass_cache: bool,
}

/// The tracking endpoint of one shop.
#[derive(Debug, Clone, Copy)]
pub struct Tracking<'a> {
    /// Base URL without a trailing slash.
    pub base: &'a str,
    /// The shop's partnerId.
    pub partner_id: &'a str,
}

impl Tracking<'_> {
    /// `GET …/1.0/event/initialize/{partnerId}[?session={known}]&_nocache=…`, with cookies:
    /// asks Retail Rocket for the visitor's session. The session already known (stored, or the
    /// `rcuid` cookie of Retail Rocket's own tracker) is offered; a new visitor offers none.
    pub fn initialize(&self, known: Option<&RrSession>, nonce: u64) -> WireRequest {
        let mut q = Query::default();
        if let Some(session) = known {
            q.push("session", session.as_str());
        }
        q.push("_nocache", &decimal(nonce));
        let url = [self.base, "/1.0/event/initialize/", self.partner_id, "?", q.as_str()].concat();
        WireRequest { credentials: true, ..WireRequest::new(Method::Get, url, None) }
    }

    /// The request that reports `record` for this visitor.
    pub fn event(&self, record: &Record, session: &RrSession, visitor: &SessionExternalId, nonce: u64) -> WireRequest {
        let parts = &record.parts;
        let name = parts.kind.name;
        let mut url = match parts.kind.route {
            Route::Event => [self.base, "/1.0/event/", name, "/", self.partner_id].concat(),
            Route::Subscribe => [self.base, "/1.0/partner/", self.partner_id, "/subscribe/", name].concat(),
        };
        if let Some(segment) = parts.segment() {
            url.push('/');
            crate::core::urlenc::encode_into(&mut url, segment);
        }
        let mut q = Query::default();
        q.push("session", session.as_str()).push("sessionExternalId", visitor.as_str());
        for (key, value) in record.context.params() {
            q.push(key, value);
        }
        let mut body = None;
        for (key, value) in &parts.params {
            match value {
                // Checked again: it comes back from storage.
                Value::Text(ids) if key == PRODUCT_IDS && ids.split(',').all(is_number) => {
                    body = Some(["{\"productIds\":[", ids, "]}"].concat())
                }
                value => {
                    q.push_value(key, value);
                }
            }
        }
        q.push("_no_cache_", &decimal(nonce));
        let method = if body.is_some() { Method::Post } else { Method::Get };
        WireRequest::new(method, [&url, "?", q.as_str()].concat(), body)
    }
}

/// Reads `sessionId` (or the legacy `RrSessionId`) out of the initialize response.
pub fn parse_session(body: &str) -> Option<RrSession> {
    // Split at the quotes, a JSON member `"name": "value"` is the run: name, `:`, value, and
    // whatever follows the value's closing quote (so a cut-off value is not taken).
    let pieces: Vec<&str> = body.split('"').collect();
    ["sessionId", "RrSessionId"].iter().find_map(|name| {
        let run = pieces.windows(4).find(|run| run[0] == *name && run[1].trim() == ":")?;
        RrSession::parse(run[2])
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn replies_are_read_from_the_host_lines() {
        let never = |_: &str| None;
        let reply = Reply::from_host("200\n0\n\n=max-age=60\n[{\"a\":\"x\ny\"}]", never);
        let expected = Reply {
            status: 200,
            body: "[{\"a\":\"x\ny\"}]".into(),
            cache_control: Some("max-age=60".into()),
            ..Reply::default()
        };
        assert_eq!(reply, expected, "the body keeps its own line breaks");
        assert_eq!(Reply::from_host("503\n0\n= 3 \n\n", never).retry_after_ms, Some(3_000));
        let date = |h: &str| (h == "Wed, 21 Oct 2015 07:28:00 GMT").then_some(42);
        assert_eq!(Reply::from_host("429\n0\n=Wed, 21 Oct 2015 07:28:00 GMT\n\n", date).retry_after_ms, Some(42));
        assert_eq!(Reply::from_host("200\n0\n=\n=\n", never).cache_control.as_deref(), Some(""));
        assert_eq!(Reply::from_host("0\n1", never), Reply { timed_out: true, ..Reply::default() });
        assert_eq!(Reply::from_host("0", never), Reply::default());
        assert_eq!(Reply::from_host("", never), Reply::default(), "nothing at all: no answer");
    }

    use super::*;
    use crate::core::event::{Custom, Event};
    use crate::core::ids::{Category, Email, ItemId, LongText, Price, Quantity, ShortText};
    use crate::core::record::Context;

    const T: Tracking<'static> =
        Tracking { base: "https://tracking.retailrocket.net", partner_id: "608423a9b126ac6ab3f8f0a5" };
    const BASE: &str = "https://tracking.retailrocket.net";
    const PID: &str = "608423a9b126ac6ab3f8f0a5";
    const COMMON: &str = "session=5f1e0c&sessionExternalId=0123456789abcdef0123456789abcdef";

    fn session() -> RrSession {
        RrSession::parse("5f1e0c").unwrap()
    }
    fn visitor() -> SessionExternalId {
        SessionExternalId::parse("0123456789abcdef0123456789abcdef").unwrap()
    }
    fn id(n: u64) -> ItemId {
        ItemId::parse(&n.to_string()).unwrap()
    }
    fn email() -> Email {
        Email::parse("anna@example.com").unwrap()
    }
    fn send(event: Event) -> WireRequest {
        send_on(event, Context::default())
    }
    /// The request for `event`, made as the engine makes it: from the line stored for it.
    fn send_on(event: Event, context: Context) -> WireRequest {
        let stored = Record::decode(&Record::of(&event, 0, context).encode()).unwrap();
        T.event(&stored, &session(), &visitor(), 9)
    }

    #[test]
    fn a_first_visit_offers_no_session_and_sends_cookies() {
        let r = T.initialize(None, 7);
        assert_eq!(r.url, format!("{BASE}/1.0/event/initialize/{PID}?_nocache=7"));
        assert_eq!((r.method, r.credentials), (Method::Get, true));
        let known = T.initialize(Some(&session()), 7);
        assert_eq!(known.url, format!("{BASE}/1.0/event/initialize/{PID}?session=5f1e0c&_nocache=7"));
        assert!(!send(Event::PageView).credentials, "events go without cookies");
    }

    #[test]
    fn view_is_a_get_with_the_id_in_the_path() {
        let e = Event::View { item: id(101), stock: Some(ShortText::parse("msk").unwrap()), recom_item: Some(id(5)) };
        let r = send(e);
        assert_eq!(r.url, format!("{BASE}/1.0/event/view/{PID}/101?{COMMON}&stockId=msk&recomItemId=5&_no_cache_=9"));
        assert_eq!((r.method, r.body), (Method::Get, None));
    }

    #[test]
    fn page_context_and_email_come_after_the_ids() {
        let context = Context {
            pvid: Some("123456789012345".into()),
            page_url: Some("https://shop.example/p?x=1".into()),
            referrer: Some("https://ref.example/".into()),
            email: Some(email()),
        };
        let r = send_on(Event::Search { phrase: LongText::parse("red dress").unwrap() }, context);
        assert_eq!(
            r.url,
            format!(
                "{BASE}/1.0/event/search/{PID}?{COMMON}&pvid=123456789012345&pageUrl=https%3A%2F%2Fshop.example%2Fp%3Fx%3D1\
                 &referrer=https%3A%2F%2Fref.example%2F&email=anna%40example.com&searchPhrase=red%20dress&_no_cache_=9"
            )
        );
        assert_eq!(send(Event::PageView).url, format!("{BASE}/1.0/event/pageView/{PID}?{COMMON}&_no_cache_=9"));
    }

    #[test]
    fn group_view_posts_its_ids_as_json() {
        let r = send(Event::GroupView { items: vec![id(1), id(22)], stock: None, recom_item: None });
        assert_eq!(r.method, Method::Post);
        assert_eq!(r.url, format!("{BASE}/1.0/event/groupView/{PID}?{COMMON}&_no_cache_=9"));
        assert_eq!(r.body.as_deref(), Some("{\"productIds\":[1,22]}"));
    }

    #[test]
    fn category_paths_and_orders_use_query_parameters() {
        let r = send(Event::CategoryView(Category::Path("Women/Skirts, long & Co".into())));
        assert_eq!(
            r.url,
            format!("{BASE}/1.0/event/categoryView/{PID}?{COMMON}&categoryPath=Women%2FSkirts%2C%20long%20%26%20Co&_no_cache_=9")
        );
        let order = Event::OrderLine {
            transaction: LongText::parse("T-1").unwrap(),
            item: id(9),
            quantity: Quantity::parse("0.5").unwrap(),
            price: Price::parse("0").unwrap(),
            stock: None,
        };
        assert_eq!(
            send(order).url,
            format!("{BASE}/1.0/event/order/{PID}/9?{COMMON}&transaction=T-1&qnt=0.5&price=0&_no_cache_=9")
        );
    }

    #[test]
    fn set_email_sends_consent_lists_and_custom_data_as_tracking_js_does() {
        let e = Event::SetEmail {
            email: email(),
            agreed: true,
            contact: None,
            custom: vec![
                Custom::new("name", crate::core::event::Value::Text("Anna K".into())).unwrap(),
                Custom::new("tags", crate::core::event::Value::List(vec!["a b".into(), "c,d".into()])).unwrap(),
            ],
            basket: vec![id(1), id(2)],
            viewed: vec![id(3)],
        };
        assert_eq!(
            send(e).url,
            format!(
                "{BASE}/1.0/event/setEmail/{PID}?{COMMON}&email=anna%40example.com&basket=1%2C2&viewed=3\
                 &isAgreedToReceiveMarketingMail=true&d.name=Anna%20K&d.tags=a%20b,c%2Cd&_no_cache_=9"
            )
        );
    }

    #[test]
    fn recom_track_sends_the_shown_products_twice() {
        let e = Event::RecomTrack { method: ShortText::parse("popular").unwrap(), items: vec![id(101), id(102)] };
        assert_eq!(
            send(e).url,
            format!("{BASE}/1.0/event/recomTrack/{PID}?{COMMON}&suggestMethod=popular&recomms=101%2C102&to=101%2C102&_no_cache_=9")
        );
    }

    #[test]
    fn an_email_click_names_the_mail_in_the_path() {
        let e = Event::EmailClick {
            mail_id: LongText::parse("ab/12").unwrap(),
            source: Some(LongText::parse("retailrocket").unwrap()),
            url_type: Some(LongText::parse("item").unwrap()),
        };
        assert_eq!(
            send(e).url,
            format!(
                "{BASE}/1.0/event/emailclick/{PID}/ab%2F12?{COMMON}&rr_mailid=ab%2F12&utm_source=retailrocket\
                 &rr_urlType=item&_no_cache_=9"
            )
        );
    }

    #[test]
    fn subscriptions_go_to_the_partner_paths() {
        let sub = format!("{BASE}/1.0/partner/{PID}/subscribe");
        assert_eq!(
            send(Event::WelcomeSequence { email: email() }).url,
            format!("{sub}/welcomesequence?{COMMON}&email=anna%40example.com&_no_cache_=9")
        );
        assert_eq!(
            send(Event::BackInStock { email: email(), item: id(8), stock: Some(ShortText::parse("msk").unwrap()) }).url,
            format!("{sub}/backinstock?{COMMON}&email=anna%40example.com&itemId=8&stockId=msk&_no_cache_=9")
        );
        let drop = Event::PriceDrop {
            email: email(),
            items: vec![(id(8), Price::parse("9.99").unwrap()), (id(9), Price::parse("5").unwrap())],
        };
        assert_eq!(
            send(drop).url,
            format!(
                "{sub}/pricedrop?{COMMON}&email=anna%40example.com&items[0].ItemId=8&items[0].Price=9.99\
                 &items[1].ItemId=9&items[1].Price=5&_no_cache_=9"
            )
        );
    }

    #[test]
    fn session_is_read_from_either_field() {
        assert_eq!(parse_session(r#"{"sessionId": "abc123"}"#), RrSession::parse("abc123"));
        assert_eq!(parse_session(r#"{"x":1,"RrSessionId":"Z9"}"#), RrSession::parse("Z9"));
        assert_eq!(parse_session(r#"{"sessionId":"has space"}"#), None);
        assert_eq!(parse_session("garbage"), None);
        assert_eq!(parse_session(r#"{"sessionId":"abc"#), None, "cut off before the closing quote");
        assert_eq!(parse_session(r#"{"sessionId":"#), None);
    }
}
