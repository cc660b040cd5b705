//! Shopper events, already validated, and their neutral form: a Retail Rocket event name, an
//! optional path id and named parameters. That form is what the queue stores and what the wire
//! builders read.

use std::borrow::Cow;

use super::ids::{Category, Email, ItemId, LongText, Price, Quantity, SessionExternalId, ShortText, MAX_LONG_TEXT};

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

/// Which family of Retail Rocket's tracking paths an event goes to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    /// `/1.0/event/{name}/{partnerId}[/{id}]`.
    Event,
    /// `/1.0/partner/{partnerId}/subscribe/{name}`.
    Subscribe,
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

/// `101,102,103`: product ids as the wire and the storage line list them.
pub fn join_ids(items: &[ItemId]) -> String {
    let mut out = String::new();
    for (i, item) in items.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str(&item.to_string());
    }
    out
}

/// Reads `101,102` back (empty text is an empty list); `None` if any id is malformed.
fn split_ids(text: &str) -> Option<Vec<ItemId>> {
    let mut out = Vec::new();
    if !text.is_empty() {
        for id in text.split(',') {
            out.push(ItemId::parse(id).ok()?);
        }
    }
    Some(out)
}

/// The parameters of an event, named as on the wire, in wire order.
pub type Params = Vec<(Cow<'static, str>, Value)>;

fn push(params: &mut Params, key: &'static str, value: impl Into<String>) {
    params.push((Cow::Borrowed(key), Value::Text(value.into())));
}

fn push_opt(params: &mut Params, key: &'static str, value: Option<&str>) {
    if let Some(v) = value {
        push(params, key, v);
    }
}

/// `items[0].ItemId`: the price-drop list's keys, brackets and all.
fn price_drop_key(i: usize, field: &str) -> String {
    format!("items[{i}].{field}")
}

impl Event {
    /// The event's name on the wire (`recomAddToCart` travels as `recomAddToBasket`).
    pub fn name(&self) -> &'static str {
        match self {
            Event::PageView => "pageView",
            Event::View { .. } => "view",
            Event::GroupView { .. } => "groupView",
            Event::AddToBasket { .. } => "addToBasket",
            Event::RemoveFromBasket { .. } => "removeFromBasket",
            Event::CategoryView(_) => "categoryView",
            Event::Search { .. } => "search",
            Event::OrderLine { .. } => "order",
            Event::SetEmail { .. } => "setEmail",
            Event::RecomMouseDown { .. } => "recomMouseDown",
            Event::RecomAddToCart { .. } => "recomAddToBasket",
            Event::RecomTrack { .. } => "recomTrack",
            Event::EmailClick { .. } => "emailclick",
            Event::WelcomeSequence { .. } => "welcomesequence",
            Event::BackInStock { .. } => "backinstock",
            Event::PriceDrop { .. } => "pricedrop",
        }
    }

    /// The family of paths the event goes to.
    pub fn route(&self) -> Route {
        match self {
            Event::WelcomeSequence { .. } | Event::BackInStock { .. } | Event::PriceDrop { .. } => Route::Subscribe,
            _ => Route::Event,
        }
    }

    /// Whether Retail Rocket's tracker adds the shopper's e-mail (once known) to this event.
    pub fn carries_email(&self) -> bool {
        matches!(self, Event::Search { .. } | Event::GroupView { .. } | Event::OrderLine { .. })
    }

    /// The product id that goes in the URL path, for events that have one.
    pub fn path_id(&self) -> Option<ItemId> {
        match self {
            Event::View { item, .. }
            | Event::AddToBasket { item, .. }
            | Event::RemoveFromBasket { item }
            | Event::OrderLine { item, .. }
            | Event::RecomMouseDown { item, .. }
            | Event::RecomAddToCart { item, .. } => Some(*item),
            Event::CategoryView(Category::Id(id)) => Some(*id),
            _ => None,
        }
    }

    /// The last segment of the URL path, if the event has one: the product id, or an e-mail
    /// click's tracking id.
    pub fn path_segment(&self) -> Option<String> {
        match self {
            Event::EmailClick { mail_id, .. } => Some(mail_id.as_str().to_owned()),
            _ => self.path_id().map(|id| id.to_string()),
        }
    }

    /// The event's own parameters, named as on the wire (a `groupView`'s ids under
    /// [`PRODUCT_IDS`], which the direct protocol moves into the body).
    pub fn params(&self) -> Params {
        let mut p = Params::new();
        match self {
            Event::PageView | Event::RemoveFromBasket { .. } | Event::CategoryView(Category::Id(_)) => {}
            Event::View { stock, recom_item, .. } => {
                push_opt(&mut p, "stockId", stock.as_ref().map(ShortText::as_str));
                push_opt(&mut p, "recomItemId", recom_item.map(|id| id.to_string()).as_deref());
            }
            Event::GroupView { items, stock, recom_item } => {
                push(&mut p, PRODUCT_IDS, join_ids(items));
                push_opt(&mut p, "stockId", stock.as_ref().map(ShortText::as_str));
                push_opt(&mut p, "recomItemId", recom_item.map(|id| id.to_string()).as_deref());
            }
            Event::AddToBasket { stock, .. } => push_opt(&mut p, "stockId", stock.as_ref().map(ShortText::as_str)),
            Event::CategoryView(Category::Path(path)) => push(&mut p, "categoryPath", path.as_str()),
            Event::Search { phrase } => push(&mut p, "searchPhrase", phrase.as_str()),
            Event::OrderLine { transaction, quantity, price, stock, .. } => {
                push(&mut p, "transaction", transaction.as_str());
                push(&mut p, "qnt", quantity.as_str());
                push(&mut p, "price", price.as_str());
                push_opt(&mut p, "stockId", stock.as_ref().map(ShortText::as_str));
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
                    p.push((Cow::Owned(format!("d.{}", c.key)), c.value.clone()));
                }
            }
            Event::RecomMouseDown { method, suggester, .. } | Event::RecomAddToCart { method, suggester, .. } => {
                push(&mut p, "suggester", suggester.as_str());
                push_opt(&mut p, "suggestMethod", method.as_ref().map(ShortText::as_str));
            }
            Event::RecomTrack { method, items } => {
                // Retail Rocket's tracker sends the shown products as both `recomms` and `to`.
                push(&mut p, "suggestMethod", method.as_str());
                push(&mut p, "recomms", join_ids(items));
                push(&mut p, "to", join_ids(items));
            }
            Event::EmailClick { mail_id, source, url_type } => {
                push(&mut p, "rr_mailid", mail_id.as_str());
                push_opt(&mut p, "utm_source", source.as_ref().map(LongText::as_str));
                push_opt(&mut p, "rr_urlType", url_type.as_ref().map(LongText::as_str));
            }
            Event::WelcomeSequence { email } => push(&mut p, "email", email.as_str()),
            Event::BackInStock { email, item, stock } => {
                push(&mut p, "email", email.as_str());
                push(&mut p, "itemId", item.to_string());
                push_opt(&mut p, "stockId", stock.as_ref().map(ShortText::as_str));
            }
            Event::PriceDrop { email, items } => {
                push(&mut p, "email", email.as_str());
                for (i, (item, price)) in items.iter().enumerate() {
                    p.push((Cow::Owned(price_drop_key(i, "ItemId")), Value::Text(item.to_string())));
                    p.push((Cow::Owned(price_drop_key(i, "Price")), Value::Text(price.as_str().to_owned())));
                }
            }
        }
        p
    }

    /// Rebuilds an event from its neutral form, re-validating every value. `None` if anything
    /// is missing or malformed (a stored record from an older version, or tampered storage).
    pub fn from_parts(name: &str, id: Option<ItemId>, params: &[(String, Value)]) -> Option<Event> {
        let get = |key: &str| {
            params.iter().find(|(k, _)| k == key).and_then(|(_, v)| match v {
                Value::Text(t) => Some(t.as_str()),
                Value::List(_) => None,
            })
        };
        let text = |key: &str| get(key).map(ShortText::parse).transpose().ok();
        let long = |key: &str| get(key).map(LongText::parse).transpose().ok();
        let email = || Email::parse(get("email")?).ok();
        let recom_item = get("recomItemId").map(ItemId::parse).transpose().ok()?;
        Some(match name {
            "pageView" => Event::PageView,
            "view" => Event::View { item: id?, stock: text("stockId")?, recom_item },
            "groupView" => {
                let items = split_ids(get(PRODUCT_IDS)?)?;
                if items.is_empty() {
                    return None;
                }
                Event::GroupView { items, stock: text("stockId")?, recom_item }
            }
            "addToBasket" => Event::AddToBasket { item: id?, stock: text("stockId")? },
            "removeFromBasket" => Event::RemoveFromBasket { item: id? },
            "categoryView" => match id {
                Some(id) => Event::CategoryView(Category::Id(id)),
                None => Event::CategoryView(Category::path(get("categoryPath")?).ok()?),
            },
            "search" => Event::Search { phrase: long("searchPhrase")?? },
            "order" => Event::OrderLine {
                transaction: long("transaction")??,
                item: id?,
                quantity: Quantity::parse(get("qnt")?).ok()?,
                price: Price::parse(get("price")?).ok()?,
                stock: text("stockId")?,
            },
            "setEmail" => {
                let mut custom = Vec::new();
                for (key, value) in params {
                    if let Some(key) = key.strip_prefix("d.") {
                        custom.push(Custom::new(key, value.clone())?);
                    }
                }
                Event::SetEmail {
                    email: email()?,
                    // Lines stored before the flag was always sent have none: the default.
                    agreed: match get("isAgreedToReceiveMarketingMail") {
                        None | Some("true") => true,
                        Some("false") => false,
                        Some(_) => return None,
                    },
                    contact: get("contactExternalId").map(SessionExternalId::parse).transpose().ok()?,
                    custom,
                    basket: split_ids(get("basket").unwrap_or(""))?,
                    viewed: split_ids(get("viewed").unwrap_or(""))?,
                }
            }
            "recomMouseDown" => {
                Event::RecomMouseDown { item: id?, method: text("suggestMethod")?, suggester: text("suggester")?? }
            }
            "recomAddToBasket" => {
                Event::RecomAddToCart { item: id?, method: text("suggestMethod")?, suggester: text("suggester")?? }
            }
            "recomTrack" => {
                let items = split_ids(get("recomms")?)?;
                if items.is_empty() {
                    return None;
                }
                Event::RecomTrack { method: text("suggestMethod")??, items }
            }
            "emailclick" => Event::EmailClick {
                mail_id: long("rr_mailid")??,
                source: long("utm_source")?,
                url_type: long("rr_urlType")?,
            },
            "welcomesequence" => Event::WelcomeSequence { email: email()? },
            "backinstock" => Event::BackInStock {
                email: email()?,
                item: ItemId::parse(get("itemId")?).ok()?,
                stock: text("stockId")?,
            },
            "pricedrop" => {
                let mut items = Vec::new();
                while let Some(item) = get(&price_drop_key(items.len(), "ItemId")) {
                    let price = Price::parse(get(&price_drop_key(items.len(), "Price"))?).ok()?;
                    items.push((ItemId::parse(item).ok()?, price));
                }
                if items.is_empty() {
                    return None;
                }
                Event::PriceDrop { email: email()?, items }
            }
            _ => return None,
        })
    }
}
