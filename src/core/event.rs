//! Shopper events: the validated [`Event`] a tracking call makes, and its one neutral form,
//! [`Parts`] (a kind, an optional path id, parameters named and ordered as on the wire), which is
//! what the queue stores and what every wire form (direct GET/POST, relay envelope) is written
//! from. Each kind of event is described once, in [`KINDS`]: its name, its path, whether it
//! carries the shopper's e-mail, and how the relay takes it (or why it cannot); its parameters
//! are named once, in [`Event::parts`].
//!
//! A new kind of event is one `Kind` in the table, one variant and its arm in `Event::parts`.

use std::borrow::Cow;

use super::ids::{Category, Email, ItemId, LongText, Price, Quantity, SessionExternalId, ShortText, MAX_LONG_TEXT};
use super::json::Fields;
use super::text::decimal;

/// One piece of custom data (`d.<key>` on the wire): the store's own fields of `setEmail`
/// (name, gender, birthday…), or the `rrsd_*` parameters of an e-mail landing URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Custom {
    /// The key, without `d.`: 1 to 50 characters.
    pub key: String,
    /// The value.
    pub value: Value,
}

/// A parameter value: one text, or a true array, whose elements travel encoded one by one and
/// joined with a raw `,` (as Retail Rocket's tracker sends arrays).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    /// One text (pre-joined id lists such as `basket` included: their commas are encoded).
    Text(String),
    /// An array.
    List(Vec<String>),
}

impl Custom {
    /// Checks a key and its value: a key of 1 to 50 characters, each text at most
    /// [`MAX_LONG_TEXT`] characters, at most 100 elements.
    pub fn new(key: &str, value: Value) -> Option<Custom> {
        let short = |s: &str| s.chars().count() <= MAX_LONG_TEXT;
        let ok = (1..=50).contains(&key.chars().count())
            && match &value {
                Value::Text(t) => short(t),
                Value::List(items) => items.len() <= 100 && items.iter().all(|t| short(t)),
            };
        ok.then(|| Custom { key: key.to_owned(), value })
    }
}

/// One shopper event, ready to queue. Fields: `item` is the product, `stock` the stock
/// (region/warehouse) id, `method` the recommendation algorithm, `suggester` the block kind.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
    /// A page was shown (sent once per page load, as Retail Rocket's tracker does).
    PageView,
    /// A product page was seen. `recom_item` credits a recommendation clicked just before.
    View { item: ItemId, stock: Option<ShortText>, recom_item: Option<ItemId> },
    /// A product group (colour/size variants) was seen.
    GroupView { items: Vec<ItemId>, stock: Option<ShortText>, recom_item: Option<ItemId> },
    /// A product went into the basket.
    AddToBasket { item: ItemId, stock: Option<ShortText> },
    /// A product left the basket.
    RemoveFromBasket { item: ItemId },
    /// A category page was seen.
    CategoryView(Category),
    /// A search was made.
    Search { phrase: LongText },
    /// One line of an order (Retail Rocket takes an order as one event per distinct product).
    OrderLine { transaction: LongText, item: ItemId, quantity: Quantity, price: Price, stock: Option<ShortText> },
    /// The shopper gave an e-mail address. `agreed` is the marketing consent (Retail Rocket's
    /// tracker always sends one, `true` unless told otherwise); `contact` the store's customer
    /// id, if known; `basket` and `viewed` the products in the basket and the last ones seen.
    SetEmail {
        email: Email,
        agreed: bool,
        contact: Option<SessionExternalId>,
        custom: Vec<Custom>,
        basket: Vec<ItemId>,
        viewed: Vec<ItemId>,
    },
    /// A recommended product was clicked.
    RecomMouseDown { item: ItemId, method: Option<ShortText>, suggester: ShortText },
    /// A recommended product was put in the basket from the recommendation block.
    RecomAddToCart { item: ItemId, method: Option<ShortText>, suggester: ShortText },
    /// A recommendation block with these products was shown.
    RecomTrack { method: ShortText, items: Vec<ItemId> },
    /// The shopper arrived from a link in a Retail Rocket e-mail.
    EmailClick { mail_id: LongText, source: Option<LongText>, url_type: Option<LongText> },
    /// The shopper subscribed to the store's welcome e-mails.
    WelcomeSequence { email: Email },
    /// The shopper asked to hear when a product is back in stock.
    BackInStock { email: Email, item: ItemId, stock: Option<ShortText> },
    /// The shopper asked to hear when these products get cheaper than these prices.
    PriceDrop { email: Email, items: Vec<(ItemId, Price)> },
}

/// The id list of a `groupView`, comma-joined as the protocol joins arrays.
pub const PRODUCT_IDS: &str = "productIds";

/// What a list on the wire or in storage names: an id's digits, a path as it is.
pub trait Listed {
    /// The entry's text.
    fn listed(&self) -> Cow<'_, str>;
}

impl Listed for ItemId {
    fn listed(&self) -> Cow<'_, str> {
        self.text().into()
    }
}

impl Listed for u64 {
    fn listed(&self) -> Cow<'_, str> {
        decimal(*self).into()
    }
}

impl Listed for String {
    fn listed(&self) -> Cow<'_, str> {
        self.as_str().into()
    }
}

/// `101,102,103`: ids (or category paths) as the wire and the storage line list them (no
/// `[String]::join`: the module has one `join` already, over `&str`).
pub fn join_ids<T: Listed>(items: &[T]) -> String {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&item.listed());
    }
    out
}

/// The parameters of an event, named as on the wire, in wire order.
pub type Params = Vec<(Cow<'static, str>, Value)>;

/// Which family of Retail Rocket's tracking paths an event goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `/1.0/event/{name}/{partnerId}[/{segment}]`.
    Event,
    /// `/1.0/partner/{partnerId}/subscribe/{name}`.
    Subscribe,
}

/// Writes a kind's relay envelope fields from its parts; gives the server API's event name, or
/// why the relay cannot take it (reported as `not_relayed`).
pub type RelayFields = fn(&Parts, &mut Fields) -> Result<&'static str, &'static str>;

/// One kind of event, as every encoder needs it.
#[derive(Debug)]
pub struct Kind {
    /// The name on the wire, and in stored lines (`recomAddToCart` travels as `recomAddToBasket`).
    pub name: &'static str,
    /// The family of paths it goes to.
    pub route: Route,
    /// The parameter whose value ends the path when there is no id (an e-mail click's mail id).
    pub segment: Option<&'static str>,
    /// Retail Rocket's tracker adds the shopper's e-mail (once known) to this kind.
    pub email: bool,
    /// Its envelope in relay mode (Retail Rocket's server API), or why there is none.
    pub relay: RelayFields,
}

impl PartialEq for Kind {
    fn eq(&self, other: &Kind) -> bool {
        self.name == other.name
    }
}

impl Eq for Kind {}

impl Kind {
    /// The kind stored under `name`.
    pub fn named(name: &str) -> Option<&'static Kind> {
        KINDS.iter().find(|kind| kind.name == name).copied()
    }
}

/// An event in its neutral form: what the queue stores and every wire form is written from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parts {
    /// Its kind.
    pub kind: &'static Kind,
    /// The product (or category) id that ends the URL path, for kinds that have one.
    pub id: Option<String>,
    /// Its parameters.
    pub params: Params,
}

impl Parts {
    /// A text parameter's value.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.params.iter().find(|(k, _)| k == key).and_then(|(_, v)| match v {
            Value::Text(t) => Some(t.as_str()),
            Value::List(_) => None,
        })
    }

    /// The last segment of the URL path, if any: the id, or the kind's segment parameter.
    pub fn segment(&self) -> Option<&str> {
        self.id.as_deref().or_else(|| self.get(self.kind.segment?))
    }

    /// The id, as the relay writes it: `productId`.
    fn product(&self, f: &mut Fields) -> Result<(), &'static str> {
        f.number("productId", self.id.as_deref()).map(|_| ())
    }
}

/// What the server API does not have, shared by the kinds it leaves out.
const NO_SUBSCRIPTIONS: &str = "back-in-stock and price-drop subscriptions have no counterpart in Retail Rocket's \
                                server API; they are not sent in relay mode";

/// The server API takes texts of at most this many characters.
fn fits_server_api(text: Option<&str>) -> bool {
    text.is_some_and(|t| t.chars().count() <= super::ids::MAX_TEXT)
}

/// A recommendation block as the server API names it: the algorithm, else the block kind.
fn recom_block(p: &Parts, f: &mut Fields) -> Result<(), &'static str> {
    f.text("recomBlockId", p.get("suggestMethod").or(p.get("suggester"))).map(|_| ())
}

const fn kind(name: &'static str, email: bool, relay: RelayFields) -> Kind {
    Kind { name, route: Route::Event, segment: None, email, relay }
}

const fn subscription(name: &'static str, relay: RelayFields) -> Kind {
    Kind { name, route: Route::Subscribe, segment: None, email: false, relay }
}

/// Every kind of event, as stored lines name them.
pub static KINDS: [&Kind; 16] = [
    &PAGE_VIEW,
    &VIEW,
    &GROUP_VIEW,
    &ADD_TO_BASKET,
    &REMOVE_FROM_BASKET,
    &CATEGORY_VIEW,
    &SEARCH,
    &ORDER,
    &SET_EMAIL,
    &RECOM_MOUSE_DOWN,
    &RECOM_ADD_TO_CART,
    &RECOM_TRACK,
    &EMAIL_CLICK,
    &WELCOME_SEQUENCE,
    &BACK_IN_STOCK,
    &PRICE_DROP,
];

static PAGE_VIEW: Kind = kind("pageView", false, |_, _| {
    Err("pageView has no counterpart in Retail Rocket's server API; it is not sent in relay mode")
});

static VIEW: Kind = kind("view", false, |p, f| {
    p.product(f)?;
    f.opt_text("stockId", p.get("stockId"));
    Ok("view")
});

static GROUP_VIEW: Kind = kind("groupView", true, |p, f| {
    let ids = p.get(PRODUCT_IDS);
    // The server API wants a group id; a group is named after its first product, as
    // Retail Rocket suggests for products without variants.
    f.number("groupId", ids.and_then(|ids| ids.split(',').next()))?.numbers("productIds", ids)?;
    f.opt_text("stockId", p.get("stockId"));
    Ok("groupView")
});

static ADD_TO_BASKET: Kind = kind("addToBasket", false, |p, f| {
    p.product(f)?;
    f.opt_text("stockId", p.get("stockId"));
    Ok("addToBasket")
});

static REMOVE_FROM_BASKET: Kind = kind("removeFromBasket", false, |_, _| {
    Err("removeFromBasket has no counterpart in Retail Rocket's server API; it is not sent in relay mode")
});

static CATEGORY_VIEW: Kind = kind("categoryView", false, |p, f| match p.id {
    Some(_) => f.number("categoryId", p.id.as_deref()).map(|_| "categoryView"),
    None => f.text("categoryPath", p.get("categoryPath")).map(|_| "categoryViewByCategoryPath"),
});

static SEARCH: Kind = kind("search", true, |p, f| {
    let phrase = p.get("searchPhrase");
    if !fits_server_api(phrase) {
        return Err("Retail Rocket's server API takes a searchPhrase of at most 50 characters; it was not sent");
    }
    f.text("searchPhrase", phrase)?;
    Ok("search")
});

static ORDER: Kind = kind("order", true, |p, f| {
    let transaction = p.get("transaction");
    if !fits_server_api(transaction) {
        return Err("Retail Rocket's server API takes a transaction of at most 50 characters; the order was not sent");
    }
    p.product(f)?;
    f.number("price", p.get("price"))?.number("quantity", p.get("qnt"))?.text("transaction", transaction)?;
    f.opt_text("stockId", p.get("stockId"));
    Ok("order")
});

static SET_EMAIL: Kind = kind("setEmail", false, |p, f| {
    let contact = p
        .get("contactExternalId")
        .ok_or("setEmail needs options.contactExternalId in relay mode (it becomes setContact); it was not sent")?;
    f.text("contactExternalId", Some(contact))?.text("email", p.get("email"))?;
    Ok("setContact")
});

static RECOM_MOUSE_DOWN: Kind = kind("recomMouseDown", false, |p, f| {
    p.product(f)?;
    recom_block(p, f)?;
    Ok("recomTap")
});

static RECOM_ADD_TO_CART: Kind = kind("recomAddToBasket", false, |p, f| {
    p.product(f)?;
    recom_block(p, f)?;
    Ok("recomAddToBasket")
});

static RECOM_TRACK: Kind = kind("recomTrack", false, |p, f| {
    f.text("recomBlockId", p.get("suggestMethod"))?;
    Ok("recomBlockViewed")
});

static EMAIL_CLICK: Kind = Kind {
    segment: Some("rr_mailid"),
    ..kind("emailclick", false, |p, f| {
        f.text("mailTrackingId", p.get("rr_mailid"))?;
        Ok("emailClick")
    })
};

static WELCOME_SEQUENCE: Kind = subscription("welcomesequence", |p, f| {
    f.text("email", p.get("email"))?;
    Ok("welcomeSequence")
});

static BACK_IN_STOCK: Kind = subscription("backinstock", |_, _| Err(NO_SUBSCRIPTIONS));

static PRICE_DROP: Kind = subscription("pricedrop", |_, _| Err(NO_SUBSCRIPTIONS));

fn push(params: &mut Params, key: &'static str, value: impl Into<String>) {
    params.push((Cow::Borrowed(key), Value::Text(value.into())));
}

fn push_opt(params: &mut Params, key: &'static str, value: Option<&str>) {
    if let Some(v) = value {
        push(params, key, v);
    }
}

impl Event {
    /// The event's neutral form: its kind, path id and parameters, named as on the wire, in wire
    /// order (a `groupView`'s ids under [`PRODUCT_IDS`], which the direct protocol moves into the
    /// body). The one place that knows each event's parameters.
    pub fn parts(&self) -> Parts {
        let mut p = Params::new();
        let (kind, id) = match self {
            Event::PageView => (&PAGE_VIEW, None),
            Event::View { item, stock, recom_item } => {
                push_opt(&mut p, "stockId", stock.as_ref().map(ShortText::as_str));
                push_opt(&mut p, "recomItemId", recom_item.map(ItemId::text).as_deref());
                (&VIEW, Some(*item))
            }
            Event::GroupView { items, stock, recom_item } => {
                push(&mut p, PRODUCT_IDS, join_ids(items));
                push_opt(&mut p, "stockId", stock.as_ref().map(ShortText::as_str));
                push_opt(&mut p, "recomItemId", recom_item.map(ItemId::text).as_deref());
                (&GROUP_VIEW, None)
            }
            Event::AddToBasket { item, stock } => {
                push_opt(&mut p, "stockId", stock.as_ref().map(ShortText::as_str));
                (&ADD_TO_BASKET, Some(*item))
            }
            Event::RemoveFromBasket { item } => (&REMOVE_FROM_BASKET, Some(*item)),
            Event::CategoryView(Category::Id(id)) => (&CATEGORY_VIEW, Some(*id)),
            Event::CategoryView(Category::Path(path)) => {
                push(&mut p, "categoryPath", path.as_str());
                (&CATEGORY_VIEW, None)
            }
            Event::Search { phrase } => {
                push(&mut p, "searchPhrase", phrase.as_str());
                (&SEARCH, None)
            }
            Event::OrderLine { transaction, item, quantity, price, stock } => {
                push(&mut p, "transaction", transaction.as_str());
                push(&mut p, "qnt", quantity.as_str());
                push(&mut p, "price", price.as_str());
                push_opt(&mut p, "stockId", stock.as_ref().map(ShortText::as_str));
                (&ORDER, Some(*item))
            }
            Event::SetEmail { email, agreed, contact, custom, basket, viewed } => {
                push(&mut p, "email", email.as_str());
                if !basket.is_empty() {
                    push(&mut p, "basket", join_ids(basket));
                }
                if !viewed.is_empty() {
                    push(&mut p, "viewed", join_ids(viewed));
                }
                push(&mut p, "isAgreedToReceiveMarketingMail", if *agreed { "true" } else { "false" });
                push_opt(&mut p, "contactExternalId", contact.as_ref().map(SessionExternalId::as_str));
                for c in custom {
                    p.push((Cow::Owned(["d.", &c.key].concat()), c.value.clone()));
                }
                (&SET_EMAIL, None)
            }
            Event::RecomMouseDown { item, method, suggester } | Event::RecomAddToCart { item, method, suggester } => {
                push(&mut p, "suggester", suggester.as_str());
                push_opt(&mut p, "suggestMethod", method.as_ref().map(ShortText::as_str));
                let kind =
                    if matches!(self, Event::RecomMouseDown { .. }) { &RECOM_MOUSE_DOWN } else { &RECOM_ADD_TO_CART };
                (kind, Some(*item))
            }
            Event::RecomTrack { method, items } => {
                // Retail Rocket's tracker sends the shown products as both `recomms` and `to`.
                push(&mut p, "suggestMethod", method.as_str());
                push(&mut p, "recomms", join_ids(items));
                push(&mut p, "to", join_ids(items));
                (&RECOM_TRACK, None)
            }
            Event::EmailClick { mail_id, source, url_type } => {
                push(&mut p, "rr_mailid", mail_id.as_str());
                push_opt(&mut p, "utm_source", source.as_ref().map(LongText::as_str));
                push_opt(&mut p, "rr_urlType", url_type.as_ref().map(LongText::as_str));
                (&EMAIL_CLICK, None)
            }
            Event::WelcomeSequence { email } => {
                push(&mut p, "email", email.as_str());
                (&WELCOME_SEQUENCE, None)
            }
            Event::BackInStock { email, item, stock } => {
                push(&mut p, "email", email.as_str());
                push(&mut p, "itemId", item.text());
                push_opt(&mut p, "stockId", stock.as_ref().map(ShortText::as_str));
                (&BACK_IN_STOCK, None)
            }
            Event::PriceDrop { email, items } => {
                push(&mut p, "email", email.as_str());
                for (i, (item, price)) in items.iter().enumerate() {
                    // `items[0].ItemId`: brackets and all, as Retail Rocket's tracker sends them.
                    let at = ["items[", &decimal(i as u64), "]."].concat();
                    p.push((Cow::Owned([&at, "ItemId"].concat()), Value::Text(item.text())));
                    p.push((Cow::Owned([&at, "Price"].concat()), Value::Text(price.as_str().to_owned())));
                }
                (&PRICE_DROP, None)
            }
        };
        Parts { kind, id: id.map(ItemId::text), params: p }
    }

    #[cfg(test)]
    /// The event's kind.
    pub fn kind(&self) -> &'static Kind {
        self.parts().kind
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_server_api_limit_counts_characters_not_bytes() {
        assert!(fits_server_api(Some(&"ж".repeat(50))));
        assert!(!fits_server_api(Some(&"x".repeat(51))));
        assert!(!fits_server_api(None));
    }

    #[test]
    fn every_kind_is_found_by_its_own_name() {
        for (i, kind) in KINDS.iter().enumerate() {
            assert_eq!(Kind::named(kind.name), Some(*kind));
            assert!(KINDS[..i].iter().all(|k| k.name != kind.name), "{} twice", kind.name);
        }
        assert_eq!(Kind::named("nope"), None);
    }
}
