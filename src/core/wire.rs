//! Retail Rocket's partnerId-only browser protocol (the one its own `tracking.js` speaks):
//! `GET {trackingUrl}/1.0/event/{event}/{partnerId}[/{id}]?session=…`, except `groupView`,
//! which POSTs its ids as JSON. No apiKey exists anywhere in this module.

use super::event::{Event, PRODUCT_IDS};
use super::ids::{RrSession, SessionExternalId};
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
    /// `GET …/1.0/event/initialize/{partnerId}?session={candidate}`: asks Retail Rocket for the
    /// visitor's session, offering the one we already have (or our own id on first use).
    pub fn initialize(&self, candidate: &str, nonce: u64) -> WireRequest {
        let mut q = Query::default();
        q.push("session", candidate).push("_nocache", &nonce.to_string());
        WireRequest {
            method: Method::Get,
            url: format!("{}/1.0/event/initialize/{}?{}", self.base, self.partner_id, q.as_str()),
            body: None,
        }
    }

    /// The request that reports `event` for this visitor.
    pub fn event(&self, event: &Event, session: &RrSession, visitor: &SessionExternalId, nonce: u64) -> WireRequest {
        let mut path = format!("{}/1.0/event/{}/{}", self.base, event.name(), self.partner_id);
        if let Some(id) = event.path_id() {
            path.push('/');
            path.push_str(&id.to_string());
        }
        let mut q = Query::default();
        q.push("session", session.as_str()).push("sessionExternalId", visitor.as_str());
        let mut body = None;
        for (key, value) in event.params() {
            if key == PRODUCT_IDS {
                body = Some(format!("{{\"productIds\":[{value}]}}"));
            } else {
                q.push(key, &value);
            }
        }
        q.push("_no_cache_", &nonce.to_string());
        WireRequest {
            method: if body.is_some() { Method::Post } else { Method::Get },
            url: format!("{path}?{}", q.as_str()),
            body,
        }
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
    use super::*;
    use crate::core::ids::{Category, ItemId, Price, Quantity, ShortText};

    const T: Tracking<'static> =
        Tracking { base: "https://tracking.retailrocket.net", partner_id: "608423a9b126ac6ab3f8f0a5" };

    fn session() -> RrSession {
        RrSession::parse("5f1e0c").unwrap()
    }
    fn visitor() -> SessionExternalId {
        SessionExternalId::parse("0123456789abcdef0123456789abcdef").unwrap()
    }
    fn id(n: u64) -> ItemId {
        ItemId::parse(&n.to_string()).unwrap()
    }

    #[test]
    fn initialize_offers_a_candidate() {
        let r = T.initialize("abc", 7);
        assert_eq!(
            r.url,
            "https://tracking.retailrocket.net/1.0/event/initialize/608423a9b126ac6ab3f8f0a5?session=abc&_nocache=7"
        );
        assert_eq!(r.method, Method::Get);
    }

    #[test]
    fn view_is_a_get_with_the_id_in_the_path() {
        let e = Event::View { item: id(101), stock: Some(ShortText::parse("msk").unwrap()), recom_item: Some(id(5)) };
        let r = T.event(&e, &session(), &visitor(), 9);
        assert_eq!(
            r.url,
            "https://tracking.retailrocket.net/1.0/event/view/608423a9b126ac6ab3f8f0a5/101?session=5f1e0c\
             &sessionExternalId=0123456789abcdef0123456789abcdef&stockId=msk&recomItemId=5&_no_cache_=9"
        );
        assert_eq!((r.method, r.body), (Method::Get, None));
    }

    #[test]
    fn group_view_posts_its_ids_as_json() {
        let e = Event::GroupView { items: vec![id(1), id(22)], stock: None, recom_item: None };
        let r = T.event(&e, &session(), &visitor(), 1);
        assert_eq!(r.method, Method::Post);
        assert!(r
            .url
            .starts_with("https://tracking.retailrocket.net/1.0/event/groupView/608423a9b126ac6ab3f8f0a5?session="));
        assert!(!r.url.contains("productIds"));
        assert_eq!(r.body.as_deref(), Some("{\"productIds\":[1,22]}"));
    }

    #[test]
    fn category_paths_and_orders_use_query_parameters() {
        let e = Event::CategoryView(Category::Path("Women/Skirts & Co".into()));
        let r = T.event(&e, &session(), &visitor(), 1);
        assert!(r.url.contains("/categoryView/608423a9b126ac6ab3f8f0a5?"), "{}", r.url);
        assert!(r.url.contains("categoryPath=Women%2FSkirts%20%26%20Co"), "{}", r.url);
        let order = Event::OrderLine {
            transaction: ShortText::parse("T-1").unwrap(),
            item: id(9),
            quantity: Quantity::from_f64(3.0).unwrap(),
            price: Price::parse("9.5").unwrap(),
            stock: None,
        };
        let r = T.event(&order, &session(), &visitor(), 1);
        assert!(
            r.url.contains("/order/608423a9b126ac6ab3f8f0a5/9?") && r.url.contains("&transaction=T-1&qnt=3&price=9.5&"),
            "{}",
            r.url
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
