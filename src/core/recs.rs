//! Recommendations and product details over Retail Rocket's partnerId-only API 2.0: request
//! building, and the rules for reusing answers (`Cache-Control`, last good answer as fallback,
//! backing off after 429).

use super::ids::{Category, Invalid, ItemId, ShortText};
use super::urlenc::Query;

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

/// Every algorithm name, for error messages.
pub const ALGORITHMS: &str =
    "one of popular, latest, saleByPopular, saleByLatest, alternative, related, accessories, search, personal, visitorinterest";

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

fn join<T: ToString>(values: &[T]) -> String {
    values.iter().map(ToString::to_string).collect::<Vec<_>>().join(",")
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
                    q.push("categoryIds", &join(ids));
                }
                if !paths.is_empty() {
                    q.push("categoryPaths", &paths.join(","));
                }
                algorithm
            }
            Recommendation::Products { algorithm, items } => {
                q.push("itemIds", &join(items));
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
        format!("{}/api/2.0/recommendation/{algorithm}/{}/?{}", self.base, self.partner_id, q.as_str())
    }

    /// `GET {api}/api/1.0/partner/{partnerId}/items/?itemsIds=…`: details of known products.
    pub fn items(&self, items: &[ItemId], stock: Option<&ShortText>) -> String {
        let mut q = Query::default();
        q.push("itemsIds", &join(items));
        if let Some(stock) = stock {
            q.push("stock", stock.as_str());
        }
        format!("{}/api/1.0/partner/{}/items/?{}", self.base, self.partner_id, q.as_str())
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

/// `ItemId` → `itemId`: Retail Rocket's PascalCase field names in JavaScript's camelCase.
pub fn camel_case(name: &str) -> String {
    let mut chars = name.chars();
    match chars.next() {
        Some(first) => first.to_ascii_lowercase().to_string() + chars.as_str(),
        None => String::new(),
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

    #[test]
    fn field_names_become_camel_case() {
        assert_eq!(camel_case("ItemId"), "itemId");
        assert_eq!(camel_case("CategoryPathsToRoot"), "categoryPathsToRoot");
        assert_eq!(camel_case("isAvailable"), "isAvailable");
        assert_eq!(camel_case(""), "");
    }
}
