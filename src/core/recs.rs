//! Recommendations and product details over Retail Rocket's partnerId-only API 2.0: request
//! building, and the rules for answering a call ([`Answers`]): reuse (`Cache-Control`, the last
//! good answer as fallback), one request for identical calls under way, backing off after 429,
//! and what counts as a failure.

use super::event::join_ids;
use super::ids::{Category, Invalid, ItemId, ShortText};
use super::problem::Problem;
use super::text::decimal;
use super::urlenc::Query;
use super::wire::Reply;

/// A recommendation algorithm and the input it needs (`algorithm` is the wire name).
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Recommendation {
    /// `popular`, `latest`, `saleByPopular`, `saleByLatest`: by category ids (0 = whole shop)
    /// or category paths.
    Category { algorithm: &'static str, ids: Vec<u64>, paths: Vec<String> },
    /// `alternative`, `related`, `accessories`: for products.
    Products { algorithm: &'static str, items: Vec<ItemId> },
    /// `search`: for a search phrase.
    Search { phrase: ShortText },
    /// `personal`, `visitorinterest`: for the visitor (by session).
    Visitor { algorithm: &'static str },
}

/// What an algorithm name needs, for validation messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Needs {
    /// `categoryIds` or `categoryPaths`.
    Categories(&'static str),
    /// `itemIds`.
    Products(&'static str),
    /// `phrase`.
    Phrase,
    /// Nothing but the session.
    Visitor(&'static str),
}

/// The algorithms this module knows, by the name the page passes.
pub fn algorithm(name: &str) -> Option<Needs> {
    Some(match name {
        "popular" => Needs::Categories("popular"),
        "latest" => Needs::Categories("latest"),
        "saleByPopular" => Needs::Categories("saleByPopular"),
        "saleByLatest" => Needs::Categories("saleByLatest"),
        "alternative" => Needs::Products("alternative"),
        "related" => Needs::Products("related"),
        "accessories" => Needs::Products("accessories"),
        "search" => Needs::Phrase,
        "personal" => Needs::Visitor("personal"),
        "visitorinterest" => Needs::Visitor("visitorinterest"),
        _ => return None,
    })
}

/// A category id for recommendations: like an item id, but 0 means the whole shop.
pub fn category_id(value: f64) -> Result<u64, Invalid> {
    if value == 0.0 {
        Ok(0)
    } else {
        ItemId::from_f64(value).map(ItemId::get).map_err(|_| Invalid::Category)
    }
}

/// A category path for recommendations (no commas: the API joins several paths with them).
pub fn category_path(text: &str) -> Result<String, Invalid> {
    match Category::parse(text) {
        Ok(Category::Path(path)) if !path.contains(',') => Ok(path),
        _ => Err(Invalid::Category),
    }
}

/// The API endpoint of one shop.
#[derive(Debug, Clone, Copy)]
pub struct Api<'a> {
    /// Base URL without a trailing slash.
    pub base: &'a str,
    /// The shop's partnerId.
    pub partner_id: &'a str,
}

impl Api<'_> {
    /// `GET {api}/api/2.0/recommendation/{algorithm}/{partnerId}/?…&format=json`.
    /// `session` is left out for a visitor who has not consented (personal algorithms then
    /// have nothing to go on, and the caller answers them with nothing).
    pub fn recommendation(&self, rec: &Recommendation, stock: Option<&ShortText>, session: Option<&str>) -> String {
        let mut q = Query::default();
        let algorithm = match rec {
            Recommendation::Category { algorithm, ids, paths } => {
                if !ids.is_empty() {
                    q.push("categoryIds", &join_ids(ids));
                }
                if !paths.is_empty() {
                    q.push("categoryPaths", &join_ids(paths));
                }
                algorithm
            }
            Recommendation::Products { algorithm, items } => {
                q.push("itemIds", &join_ids(items));
                algorithm
            }
            Recommendation::Search { phrase } => {
                q.push("phrase", phrase.as_str());
                // Capitalised as Retail Rocket's own tracker sends it.
                "Search"
            }
            Recommendation::Visitor { algorithm } => algorithm,
        };
        if let Some(stock) = stock {
            q.push("stockId", stock.as_str());
        }
        if let Some(session) = session {
            q.push("session", session);
        }
        q.push("format", "json");
        [self.base, "/api/2.0/recommendation/", algorithm, "/", self.partner_id, "/?", q.as_str()].concat()
    }

    /// `GET {api}/api/1.0/partner/{partnerId}/items/?itemsIds=…`: details of known products.
    pub fn items(&self, items: &[ItemId], stock: Option<&ShortText>) -> String {
        let mut q = Query::default();
        q.push("itemsIds", &join_ids(items));
        if let Some(stock) = stock {
            q.push("stock", stock.as_str());
        }
        [self.base, "/api/1.0/partner/", self.partner_id, "/items/?", q.as_str()].concat()
    }
}

/// How a response may be reused, from its `Cache-Control`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Reuse {
    /// May be kept at all (false for `no-store`), also as the fallback for failures.
    pub store: bool,
    /// Served without asking again for this long (0 for `no-cache` or no `max-age`).
    pub fresh_ms: u64,
}

/// Reads `Cache-Control`. Absent or unknown directives: keep as fallback, never fresh.
pub fn reuse(cache_control: Option<&str>) -> Reuse {
    let mut reuse = Reuse { store: true, fresh_ms: 0 };
    let mut no_cache = false;
    for directive in cache_control.unwrap_or("").split(',') {
        let directive = directive.trim().to_ascii_lowercase();
        if directive == "no-store" {
            reuse.store = false;
        } else if directive == "no-cache" {
            no_cache = true;
        } else if let Some(seconds) = directive.strip_prefix("max-age=") {
            reuse.fresh_ms = seconds.trim_matches('"').parse::<u64>().map(|s| s.saturating_mul(1000)).unwrap_or(0);
        }
    }
    if no_cache || !reuse.store {
        reuse.fresh_ms = 0;
    }
    reuse
}

#[derive(Debug)]
struct Cached<V> {
    value: V,
    fresh_until_ms: u64,
}

/// Answers kept per request URL: served while fresh, and as the fallback when a later request
/// fails. Also remembers a 429's "come back later".
#[derive(Debug)]
pub struct AnswerCache<V> {
    /// A short list (at most 64): a scan is cheaper than a hash map, in time and in bytes.
    answers: Vec<(String, Cached<V>)>,
    blocked_until_ms: u64,
}

impl<V> Default for AnswerCache<V> {
    fn default() -> Self {
        AnswerCache { answers: Vec::new(), blocked_until_ms: 0 }
    }
}

/// How long to leave the API alone after a 429 without `Retry-After`.
pub const DEFAULT_429_PAUSE_MS: u64 = 30_000;
/// Longest pause a `Retry-After` can impose.
pub const MAX_429_PAUSE_MS: u64 = 600_000;
/// Most distinct answers kept.
const MAX_ANSWERS: usize = 64;

impl<V> AnswerCache<V> {
    fn find(&self, url: &str) -> Option<&Cached<V>> {
        self.answers.iter().find(|(u, _)| u == url).map(|(_, c)| c)
    }

    /// The answer for `url` if it is still fresh.
    pub fn fresh(&self, url: &str, now_ms: u64) -> Option<&V> {
        self.find(url).filter(|c| c.fresh_until_ms > now_ms).map(|c| &c.value)
    }

    /// The last good answer for `url`, fresh or not.
    pub fn fallback(&self, url: &str) -> Option<&V> {
        self.find(url).map(|c| &c.value)
    }

    /// Keeps a good answer as its `Cache-Control` allows (a `no-store` answer also replaces
    /// nothing: an older stored one stays the fallback).
    pub fn put(&mut self, url: &str, value: V, reuse: Reuse, now_ms: u64) {
        self.answers.retain(|(u, _)| u != url);
        if !reuse.store {
            return;
        }
        if self.answers.len() >= MAX_ANSWERS {
            // Full: forget the answer that went stale first.
            if let Some(oldest) = (0..self.answers.len()).min_by_key(|&i| self.answers[i].1.fresh_until_ms) {
                self.answers.swap_remove(oldest);
            }
        }
        self.answers.push((url.to_owned(), Cached { value, fresh_until_ms: now_ms.saturating_add(reuse.fresh_ms) }));
    }

    /// Records a 429: no request until `Retry-After` (or a default pause) has passed.
    pub fn too_many_requests(&mut self, retry_after_ms: Option<u64>, now_ms: u64) {
        let pause = retry_after_ms.unwrap_or(DEFAULT_429_PAUSE_MS).min(MAX_429_PAUSE_MS);
        self.blocked_until_ms = now_ms.saturating_add(pause);
    }

    /// True while a 429 asks us to wait.
    pub fn blocked(&self, now_ms: u64) -> bool {
        now_ms < self.blocked_until_ms
    }
}

/// Why a request gave no usable answer (the `reason` its report quotes).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Nothing came back in time, or the network failed (a timeout of this many ms).
    NoAnswer(u32),
    /// 429: the server asked us to wait.
    TooManyRequests,
    /// A success status whose body is not a JSON list of products.
    NotAList,
    /// Any other status.
    Status(u16),
}

impl Failure {
    /// What went wrong, for the message.
    pub fn reason(&self) -> String {
        match self {
            Failure::NoAnswer(ms) => ["no answer within ", &decimal((*ms).into()), " ms"].concat(),
            Failure::TooManyRequests => "HTTP 429: paused as the server asked".into(),
            Failure::NotAList => "the answer was not a list of products".into(),
            Failure::Status(status) => ["HTTP ", &decimal((*status).into())].concat(),
        }
    }
}

/// What to do with a call, as [`Answers::ask`] decides.
#[derive(Debug, PartialEq, Eq)]
pub enum Asked<V, W> {
    /// Answer the waiter now: with a fresh answer, or during a 429 pause with the fallback
    /// (`None`: an empty list).
    Serve(W, Option<V>),
    /// Request this URL, giving up after `timeout_ms`; its reply goes to [`Answers::replied`].
    Fetch {
        /// The request URL (also the key of the answer).
        url: String,
        /// How long the request may take.
        timeout_ms: u32,
    },
    /// The same request is under way: the waiter gets its answer.
    Joined,
}

/// The end of a request: who waited for it, what they get, and what to report.
#[derive(Debug, PartialEq, Eq)]
pub struct Settled<V, W> {
    /// Every call that waited for this request, in the order they came.
    pub waiters: Vec<W>,
    /// What each of them gets (`None`: an empty list).
    pub items: Option<V>,
    /// The failure to report, if the request failed.
    pub problem: Option<Problem>,
}

/// The rules for answering recommendation and items calls, without I/O: the browser layer
/// asks ([`ask`](Self::ask)), performs the request it is told to, and hands the reply back
/// ([`replied`](Self::replied)). `V` is a list of products, `W` whoever waits for one; time is
/// the caller's clock in milliseconds.
#[derive(Debug)]
pub struct Answers<V, W> {
    cache: AnswerCache<V>,
    /// Requests under way, by URL, with who waits for each.
    under_way: Vec<(String, Vec<W>)>,
    timeout_ms: u32,
}

impl<V: Clone, W> Answers<V, W> {
    /// No answers yet; every request may take `timeout_ms`.
    pub fn new(timeout_ms: u32) -> Self {
        Answers { cache: AnswerCache::default(), under_way: Vec::new(), timeout_ms }
    }

    /// A call for `url`: a fresh answer, else the fallback while a 429 pause lasts, else the
    /// request already under way for the same URL, else a new request.
    pub fn ask(&mut self, url: String, waiter: W, now_ms: u64) -> Asked<V, W> {
        if let Some(items) = self.cache.fresh(&url, now_ms) {
            return Asked::Serve(waiter, Some(items.clone()));
        }
        if self.cache.blocked(now_ms) {
            return Asked::Serve(waiter, self.cache.fallback(&url).cloned());
        }
        if let Some((_, waiters)) = self.under_way.iter_mut().find(|(u, _)| *u == url) {
            waiters.push(waiter);
            return Asked::Joined;
        }
        self.under_way.push((url.clone(), vec![waiter]));
        Asked::Fetch { url, timeout_ms: self.timeout_ms }
    }

    /// The reply to the request for `url`. Status 0: no answer within `timeout_ms` (the browser
    /// layer's timer gave up, and aborted the request), or a network error.
    /// `parse` reads a success's body into products (`None`: not a list of products). A good
    /// answer is kept as its `Cache-Control` allows; a failure is answered with the fallback.
    pub fn replied(
        &mut self,
        url: &str,
        reply: &Reply,
        parse: impl FnOnce(&str) -> Option<V>,
        now_ms: u64,
    ) -> Settled<V, W> {
        let waiters = match self.under_way.iter().position(|(u, _)| u == url) {
            Some(i) => self.under_way.swap_remove(i).1,
            None => Vec::new(),
        };
        let success = (200..300).contains(&reply.status);
        let failure = match success.then(|| parse(&reply.body)).flatten() {
            Some(items) => {
                self.cache.put(url, items.clone(), reuse(reply.cache_control.as_deref()), now_ms);
                return Settled { waiters, items: Some(items), problem: None };
            }
            None if success => Failure::NotAList,
            None if reply.status == 0 => Failure::NoAnswer(self.timeout_ms),
            None if reply.status == 429 => {
                self.cache.too_many_requests(reply.retry_after_ms, now_ms);
                Failure::TooManyRequests
            }
            None => Failure::Status(reply.status),
        };
        let items = self.cache.fallback(url).cloned();
        let problem = Problem::RecommendationsUnavailable { reason: failure.reason(), fallback: items.is_some() };
        Settled { waiters, items, problem: Some(problem) }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const API: Api<'static> = Api { base: "https://api.retailrocket.net", partner_id: "608423a9b126ac6ab3f8f0a5" };

    fn id(n: u64) -> ItemId {
        ItemId::parse(&n.to_string()).unwrap()
    }

    #[test]
    fn every_algorithm_builds_its_url() {
        let session = Some("s1");
        let stock = ShortText::parse("msk").unwrap();
        let cat = Recommendation::Category { algorithm: "popular", ids: vec![0], paths: vec![] };
        assert_eq!(
            API.recommendation(&cat, Some(&stock), session),
            "https://api.retailrocket.net/api/2.0/recommendation/popular/608423a9b126ac6ab3f8f0a5/?categoryIds=0&stockId=msk&session=s1&format=json"
        );
        let paths = Recommendation::Category {
            algorithm: "saleByLatest",
            ids: vec![],
            paths: vec!["Women/Skirts".into(), "Men".into()],
        };
        assert!(API
            .recommendation(&paths, None, session)
            .contains("/saleByLatest/608423a9b126ac6ab3f8f0a5/?categoryPaths=Women%2FSkirts%2CMen&session"));
        let products = Recommendation::Products { algorithm: "alternative", items: vec![id(101), id(102)] };
        assert!(API
            .recommendation(&products, None, session)
            .contains("/alternative/608423a9b126ac6ab3f8f0a5/?itemIds=101%2C102&"));
        let search = Recommendation::Search { phrase: ShortText::parse("red dress").unwrap() };
        assert!(API
            .recommendation(&search, None, session)
            .contains("/Search/608423a9b126ac6ab3f8f0a5/?phrase=red%20dress&"));
        let personal = Recommendation::Visitor { algorithm: "personal" };
        assert!(API
            .recommendation(&personal, None, session)
            .ends_with("/personal/608423a9b126ac6ab3f8f0a5/?session=s1&format=json"));
        assert_eq!(
            API.items(&[id(101), id(102)], Some(&stock)),
            "https://api.retailrocket.net/api/1.0/partner/608423a9b126ac6ab3f8f0a5/items/?itemsIds=101%2C102&stock=msk"
        );
    }

    #[test]
    fn algorithm_names_are_exact() {
        assert_eq!(algorithm("popular"), Some(Needs::Categories("popular")));
        assert_eq!(algorithm("Popular"), None);
        assert_eq!(algorithm("personalComposite"), None, "an API 3.0 (apiKey) name");
        // The error message names exactly the algorithms there are.
        let listed = Invalid::Algorithm.expected().strip_prefix("one of ").unwrap().split(", ");
        let listed: Vec<&str> = listed.collect();
        assert_eq!(listed.len(), 10);
        assert!(listed.iter().all(|name| algorithm(name).is_some()), "{listed:?}");
        assert_eq!(category_id(0.0), Ok(0));
        assert!(category_id(-1.0).is_err());
        assert_eq!(category_path("A/B"), Ok("A/B".into()));
        assert!(category_path("12").is_err());
        assert!(category_path("Shoes, boots").is_err());
    }

    #[test]
    fn cache_control_decides_reuse() {
        assert_eq!(reuse(Some("max-age=60")), Reuse { store: true, fresh_ms: 60_000 });
        assert_eq!(reuse(Some("public, MAX-AGE=5")), Reuse { store: true, fresh_ms: 5_000 });
        assert_eq!(reuse(Some("no-store")), Reuse { store: false, fresh_ms: 0 });
        assert_eq!(reuse(Some("no-cache, max-age=60")), Reuse { store: true, fresh_ms: 0 });
        assert_eq!(reuse(None), Reuse { store: true, fresh_ms: 0 });
        assert_eq!(reuse(Some("max-age=abc")), Reuse { store: true, fresh_ms: 0 });
    }

    #[test]
    fn answers_are_fresh_for_max_age_then_kept_as_fallback() {
        let mut c = AnswerCache::default();
        c.put("u", 1, reuse(Some("max-age=10")), 1_000);
        assert_eq!(c.fresh("u", 10_999), Some(&1));
        assert_eq!(c.fresh("u", 11_000), None);
        assert_eq!(c.fallback("u"), Some(&1));
        c.put("u", 2, reuse(Some("no-store")), 12_000);
        assert_eq!(c.fallback("u"), None, "no-store is never kept");
        assert_eq!(c.fresh("other", 0), None);
    }

    #[test]
    fn a_429_pauses_requests() {
        let mut c = AnswerCache::<()>::default();
        assert!(!c.blocked(0));
        c.too_many_requests(Some(2_000), 1_000);
        assert!(c.blocked(2_999));
        assert!(!c.blocked(3_000));
        c.too_many_requests(None, 0);
        assert!(c.blocked(DEFAULT_429_PAUSE_MS - 1));
    }

    #[test]
    fn the_cache_is_bounded() {
        let mut c = AnswerCache::default();
        for i in 0..100u64 {
            c.put(&i.to_string(), i, reuse(Some("max-age=1")), i);
        }
        assert_eq!(c.answers.len(), MAX_ANSWERS);
        assert_eq!(c.fallback("99"), Some(&99));
    }

    /// A product list in these tests: the body, comma-separated numbers.
    fn parse(body: &str) -> Option<Vec<u32>> {
        body.split(',').map(|n| n.parse().ok()).collect()
    }

    fn ok(body: &str, cache_control: &str) -> Reply {
        Reply { status: 200, body: body.into(), cache_control: Some(cache_control.into()), ..Reply::default() }
    }

    fn status(status: u16) -> Reply {
        Reply { status, ..Reply::default() }
    }

    fn fetch(url: &str) -> Asked<Vec<u32>, u32> {
        Asked::Fetch { url: url.into(), timeout_ms: 500 }
    }

    /// What the browser layer hands back when its timer gave up on a request.
    fn timeout() -> Reply {
        Reply { timed_out: true, ..Reply::default() }
    }

    fn unavailable(reason: &str, fallback: bool) -> Option<Problem> {
        Some(Problem::RecommendationsUnavailable { reason: reason.into(), fallback })
    }

    #[test]
    fn an_answer_is_served_from_memory_while_its_max_age_holds() {
        let mut a = Answers::new(500);
        assert_eq!(a.ask("u".into(), 1, 0), fetch("u"));
        let settled = a.replied("u", &ok("7,8", "max-age=60"), parse, 100);
        assert_eq!(settled, Settled { waiters: vec![1], items: Some(vec![7, 8]), problem: None });
        assert_eq!(a.ask("u".into(), 2, 100), Asked::Serve(2, Some(vec![7, 8])));
        assert_eq!(a.ask("u".into(), 3, 60_099), Asked::Serve(3, Some(vec![7, 8])));
        assert_eq!(a.ask("other".into(), 4, 60_099), fetch("other"), "per URL");
        assert_eq!(a.ask("u".into(), 5, 60_100), fetch("u"), "asked again once max-age has passed");
        // no-cache (or no max-age): kept for failures, never served without asking.
        a.replied("u", &ok("9", "no-cache"), parse, 60_200);
        assert_eq!(a.ask("u".into(), 6, 60_201), fetch("u"));
    }

    #[test]
    fn identical_calls_under_way_share_one_request() {
        let mut a = Answers::new(500);
        assert_eq!(a.ask("u".into(), 1, 0), fetch("u"));
        assert_eq!(a.ask("u".into(), 2, 10), Asked::Joined);
        assert_eq!(a.ask("v".into(), 3, 10), fetch("v"), "different requests are not merged");
        assert_eq!(a.ask("u".into(), 4, 20), Asked::Joined);
        let settled = a.replied("u", &ok("5", "no-store"), parse, 30);
        assert_eq!(settled, Settled { waiters: vec![1, 2, 4], items: Some(vec![5]), problem: None });
        assert_eq!(a.ask("u".into(), 5, 40), fetch("u"), "answered, it is no longer under way");
        assert_eq!(a.replied("v", &status(503), parse, 50).waiters, vec![3]);
        assert_eq!(a.ask("v".into(), 6, 60), fetch("v"), "nor after a failure");
    }

    #[test]
    fn a_429_pauses_requests_for_its_retry_after_and_serves_the_fallback() {
        let mut a = Answers::new(500);
        a.ask("u".into(), 1, 0);
        a.replied("u", &ok("7", "no-cache"), parse, 0);
        assert_eq!(a.ask("u".into(), 2, 1_000), fetch("u"));
        let too_many = Reply { status: 429, retry_after_ms: Some(2_000), ..Reply::default() };
        let settled = a.replied("u", &too_many, parse, 1_000);
        let problem = unavailable("HTTP 429: paused as the server asked", true);
        assert_eq!(settled, Settled { waiters: vec![2], items: Some(vec![7]), problem });
        assert_eq!(a.ask("u".into(), 3, 1_001), Asked::Serve(3, Some(vec![7])), "the fallback, no request");
        assert_eq!(a.ask("v".into(), 4, 2_999), Asked::Serve(4, None), "every URL waits; nothing kept: empty");
        assert_eq!(a.ask("u".into(), 5, 3_000), fetch("u"), "asked again after Retry-After");
        // Without Retry-After the pause is 30 s; a longer Retry-After is capped at 10 minutes.
        a.replied("u", &status(429), parse, 10_000);
        assert_eq!(a.ask("u".into(), 6, 10_000 + DEFAULT_429_PAUSE_MS - 1), Asked::Serve(6, Some(vec![7])));
        assert_eq!(a.ask("u".into(), 7, 10_000 + DEFAULT_429_PAUSE_MS), fetch("u"));
        let forever = Reply { status: 429, retry_after_ms: Some(u64::MAX), ..Reply::default() };
        a.replied("u", &forever, parse, 0);
        assert_eq!(a.ask("u".into(), 8, MAX_429_PAUSE_MS), fetch("u"));
    }

    #[test]
    fn a_timeout_serves_the_last_good_answer_else_nothing() {
        let mut a = Answers::new(500);
        assert_eq!(a.ask("u".into(), 1, 0), fetch("u"));
        assert_eq!(a.ask("u".into(), 2, 100), Asked::Joined);
        let problem = unavailable("no answer within 500 ms", false);
        assert_eq!(a.replied("u", &timeout(), parse, 500), Settled { waiters: vec![1, 2], items: None, problem });
        assert_eq!(a.ask("u".into(), 3, 501), fetch("u"), "a timeout does not pause anything");
        a.replied("u", &ok("7", "no-cache"), parse, 600);
        a.ask("u".into(), 4, 700);
        let problem = unavailable("no answer within 500 ms", true);
        assert_eq!(
            a.replied("u", &timeout(), parse, 1_200),
            Settled { waiters: vec![4], items: Some(vec![7]), problem }
        );
        // A network error is reported the same way.
        a.ask("u".into(), 5, 1_300);
        assert_eq!(a.replied("u", &status(0), parse, 1_301).items, Some(vec![7]));
    }

    #[test]
    fn replies_are_classified() {
        let mut a = Answers::new(500);
        let mut reason = |reply: Reply| {
            a.ask("u".into(), 0, 0);
            match a.replied("u", &reply, parse, 0).problem {
                Some(Problem::RecommendationsUnavailable { reason, fallback: false }) => reason,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(reason(status(503)), "HTTP 503");
        assert_eq!(reason(status(404)), "HTTP 404");
        assert_eq!(reason(ok("{not json", "max-age=60")), "the answer was not a list of products");
        assert_eq!(reason(Reply { status: 204, ..Reply::default() }), "the answer was not a list of products");
        // Only a success's body is read: an error page that happens to parse is still an error.
        assert_eq!(reason(Reply { status: 500, body: "1,2".into(), ..Reply::default() }), "HTTP 500");
        // A failure keeps nothing and replaces nothing; no-store is never a fallback.
        a.ask("u".into(), 1, 0);
        a.replied("u", &ok("7", "no-store"), parse, 0);
        a.ask("u".into(), 2, 0);
        assert_eq!(a.replied("u", &status(503), parse, 0).items, None);
    }
}
