//! Shopper events, already validated, and their neutral form: a Retail Rocket event name, an
//! optional path id and named parameters. That form is what the queue stores and what the wire
//! builders read.

use super::ids::{Category, Email, ItemId, Price, Quantity, SessionExternalId, ShortText};

/// One shopper event, ready to queue. Fields: `item` is the product, `stock` the stock
/// (region/warehouse) id, `method` the recommendation algorithm, `suggester` the block kind.
#[allow(missing_docs)]
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event {
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
    Search { phrase: ShortText },
    /// One line of an order (Retail Rocket takes an order as one event per distinct product).
    OrderLine { transaction: ShortText, item: ItemId, quantity: Quantity, price: Price, stock: Option<ShortText> },
    /// The shopper gave an e-mail address; `contact` is the store's customer id, if known.
    SetEmail { email: Email, agreed: Option<bool>, contact: Option<SessionExternalId> },
    /// A recommended product was clicked.
    RecomMouseDown { item: ItemId, method: Option<ShortText>, suggester: ShortText },
    /// A recommended product was put in the basket from the recommendation block.
    RecomAddToCart { item: ItemId, method: Option<ShortText>, suggester: ShortText },
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

fn push_opt(params: &mut Vec<(&'static str, String)>, key: &'static str, value: Option<&ShortText>) {
    if let Some(v) = value {
        params.push((key, v.as_str().to_owned()));
    }
}

impl Event {
    /// The event's name on the wire (`recomAddToCart` travels as `recomAddToBasket`).
    pub fn name(&self) -> &'static str {
        match self {
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
        }
    }

    /// The id that goes in the URL path, for events that have one.
    pub fn path_id(&self) -> Option<ItemId> {
        match self {
            Event::View { item, .. }
            | Event::AddToBasket { item, .. }
            | Event::RemoveFromBasket { item }
            | Event::OrderLine { item, .. }
            | Event::RecomMouseDown { item, .. }
            | Event::RecomAddToCart { item, .. } => Some(*item),
            Event::CategoryView(Category::Id(id)) => Some(*id),
            Event::CategoryView(Category::Path(_))
            | Event::GroupView { .. }
            | Event::Search { .. }
            | Event::SetEmail { .. } => None,
        }
    }

    /// The event's own parameters, named as on the wire (a `groupView`'s ids under
    /// [`PRODUCT_IDS`], which the direct protocol moves into the body).
    pub fn params(&self) -> Vec<(&'static str, String)> {
        let mut p = Vec::new();
        match self {
            Event::View { stock, recom_item, .. } => {
                push_opt(&mut p, "stockId", stock.as_ref());
                if let Some(id) = recom_item {
                    p.push(("recomItemId", id.to_string()));
                }
            }
            Event::GroupView { items, stock, recom_item } => {
                p.push((PRODUCT_IDS, join_ids(items)));
                push_opt(&mut p, "stockId", stock.as_ref());
                if let Some(id) = recom_item {
                    p.push(("recomItemId", id.to_string()));
                }
            }
            Event::AddToBasket { stock, .. } => push_opt(&mut p, "stockId", stock.as_ref()),
            Event::RemoveFromBasket { .. } | Event::CategoryView(Category::Id(_)) => {}
            Event::CategoryView(Category::Path(path)) => p.push(("categoryPath", path.clone())),
            Event::Search { phrase } => p.push(("searchPhrase", phrase.as_str().to_owned())),
            Event::OrderLine { transaction, quantity, price, stock, .. } => {
                p.push(("transaction", transaction.as_str().to_owned()));
                p.push(("qnt", quantity.get().to_string()));
                p.push(("price", price.as_str().to_owned()));
                push_opt(&mut p, "stockId", stock.as_ref());
            }
            Event::SetEmail { email, agreed, contact } => {
                p.push(("email", email.as_str().to_owned()));
                if let Some(agreed) = agreed {
                    p.push(("isAgreedToReceiveMarketingMail", if *agreed { "true" } else { "false" }.to_owned()));
                }
                if let Some(contact) = contact {
                    p.push(("contactExternalId", contact.as_str().to_owned()));
                }
            }
            Event::RecomMouseDown { method, suggester, .. } | Event::RecomAddToCart { method, suggester, .. } => {
                p.push(("suggester", suggester.as_str().to_owned()));
                push_opt(&mut p, "suggestMethod", method.as_ref());
            }
        }
        p
    }

    /// Rebuilds an event from its neutral form, re-validating every value. `None` if anything
    /// is missing or malformed (a stored record from an older version, or tampered storage).
    pub fn from_parts(name: &str, id: Option<ItemId>, params: &[(String, String)]) -> Option<Event> {
        let get = |key: &str| params.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        let text = |key: &str| get(key).map(ShortText::parse).transpose().ok();
        let recom_item = get("recomItemId").map(ItemId::parse).transpose().ok()?;
        Some(match name {
            "view" => Event::View { item: id?, stock: text("stockId")?, recom_item },
            "groupView" => {
                let mut items = Vec::new();
                for id in get(PRODUCT_IDS)?.split(',') {
                    items.push(ItemId::parse(id).ok()?);
                }
                if items.is_empty() {
                    return None;
                }
                Event::GroupView { items, stock: text("stockId")?, recom_item }
            }
            "addToBasket" => Event::AddToBasket { item: id?, stock: text("stockId")? },
            "removeFromBasket" => Event::RemoveFromBasket { item: id? },
            "categoryView" => match id {
                Some(id) => Event::CategoryView(Category::Id(id)),
                None => Event::CategoryView(Category::parse(get("categoryPath")?).ok()?),
            },
            "search" => Event::Search { phrase: text("searchPhrase")?? },
            "order" => Event::OrderLine {
                transaction: text("transaction")??,
                item: id?,
                quantity: Quantity::from_f64(get("qnt")?.parse::<u32>().ok()?.into()).ok()?,
                price: Price::parse(get("price")?).ok()?,
                stock: text("stockId")?,
            },
            "setEmail" => Event::SetEmail {
                email: Email::parse(get("email")?).ok()?,
                agreed: match get("isAgreedToReceiveMarketingMail") {
                    None => None,
                    Some("true") => Some(true),
                    Some("false") => Some(false),
                    Some(_) => return None,
                },
                contact: get("contactExternalId").map(SessionExternalId::parse).transpose().ok()?,
            },
            "recomMouseDown" => {
                Event::RecomMouseDown { item: id?, method: text("suggestMethod")?, suggester: text("suggester")?? }
            }
            "recomAddToBasket" => {
                Event::RecomAddToCart { item: id?, method: text("suggestMethod")?, suggester: text("suggester")?? }
            }
            _ => return None,
        })
    }
}
