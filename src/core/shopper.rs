//! What Retail Rocket's tracker remembers about the shopper between events, kept the same way
//! here: the page-view id (`pvid`), the e-mail once given, the products put in the basket and
//! the last ones viewed (both sent with the next `setEmail`).

use super::event::Event;
use super::ids::{Email, ItemId};
use super::keys;
use super::store::Store;

/// How many viewed products `setEmail` reports.
pub const VIEWED_LIMIT: usize = 10;
/// Retail Rocket's tracker keeps the basket and viewed lists for an hour after their last
/// change; so does this one.
pub const LIST_LIFETIME_MS: u64 = 60 * 60 * 1000;

/// The stored page-view id, or a new one made of `random` and stored.
pub fn pvid(store: &dyn Store, random: [u8; 16]) -> String {
    if let Some(pvid) = store.get(keys::PVID).filter(|p| p.len() == 15 && p.bytes().all(|b| b.is_ascii_digit())) {
        return pvid;
    }
    let mut n = 0u64;
    for b in &random[..8] {
        n = n << 8 | u64::from(*b);
    }
    // 15 digits, the first not 0.
    let pvid = super::text::decimal(100_000_000_000_000 + n % 900_000_000_000_000);
    let _ = store.set(keys::PVID, &pvid);
    pvid
}

/// The e-mail to add to events that carry one.
pub fn email(store: &dyn Store) -> Option<Email> {
    Email::parse(&store.get(keys::EMAIL)?).ok()
}

fn read_list(store: &dyn Store, key: &str, now_ms: u64) -> Vec<ItemId> {
    let Some(line) = store.get(key) else { return Vec::new() };
    let Some((at, ids)) = line.split_once(':') else { return Vec::new() };
    if at.parse::<u64>().map_or(true, |at| at + LIST_LIFETIME_MS <= now_ms) {
        return Vec::new();
    }
    ids.split(',').filter_map(|id| ItemId::parse(id).ok()).collect()
}

fn write_list(store: &dyn Store, key: &str, items: &[ItemId], now_ms: u64) {
    if items.is_empty() {
        store.remove(key);
    } else {
        let _ = store.set(key, &[&super::text::decimal(now_ms), ":", &super::event::join_ids(items)].concat());
    }
}

/// Follows an accepted event: views and the basket are remembered; an order empties both lists,
/// and a `setEmail` takes them along (then they start afresh) and keeps the address for later
/// events, as Retail Rocket's tracker does.
pub fn follow(store: &dyn Store, event: &mut Event, now_ms: u64) {
    match event {
        Event::View { item, .. } => {
            let mut viewed = read_list(store, keys::VIEWED, now_ms);
            viewed.retain(|v| v != item);
            viewed.push(*item);
            let skip = viewed.len().saturating_sub(VIEWED_LIMIT);
            write_list(store, keys::VIEWED, &viewed[skip..], now_ms);
        }
        Event::AddToBasket { item, .. } => {
            let mut basket = read_list(store, keys::BASKET, now_ms);
            if !basket.contains(item) {
                basket.push(*item);
            }
            write_list(store, keys::BASKET, &basket, now_ms);
        }
        Event::RemoveFromBasket { item } => {
            let mut basket = read_list(store, keys::BASKET, now_ms);
            basket.retain(|b| b != item);
            write_list(store, keys::BASKET, &basket, now_ms);
        }
        Event::OrderLine { .. } => {
            store.remove(keys::BASKET);
            store.remove(keys::VIEWED);
        }
        Event::SetEmail { email, basket, viewed, .. } => {
            *basket = read_list(store, keys::BASKET, now_ms);
            *viewed = read_list(store, keys::VIEWED, now_ms);
            store.remove(keys::BASKET);
            store.remove(keys::VIEWED);
            let _ = store.set(keys::EMAIL, email.as_str());
        }
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::store::MemoryStore;

    fn id(n: u64) -> ItemId {
        ItemId::parse(&n.to_string()).unwrap()
    }
    fn view(n: u64) -> Event {
        Event::View { item: id(n), stock: None, recom_item: None }
    }
    fn set_email() -> Event {
        Event::SetEmail {
            email: Email::parse("a@b.co").unwrap(),
            agreed: true,
            contact: None,
            custom: Vec::new(),
            basket: Vec::new(),
            viewed: Vec::new(),
        }
    }
    fn lists(event: &Event) -> (Vec<u64>, Vec<u64>) {
        match event {
            Event::SetEmail { basket, viewed, .. } => {
                (basket.iter().map(|i| i.get()).collect(), viewed.iter().map(|i| i.get()).collect())
            }
            _ => panic!("not a setEmail"),
        }
    }

    #[test]
    fn pvid_is_fifteen_digits_and_kept() {
        let store = MemoryStore::default();
        let first = pvid(&store, [0xFF; 16]);
        assert_eq!(first.len(), 15);
        assert!(first.bytes().all(|b| b.is_ascii_digit()) && !first.starts_with('0'));
        assert_eq!(pvid(&store, [1; 16]), first);
        assert_eq!(pvid(&store, [0; 16]).len(), 15);
    }

    #[test]
    fn set_email_takes_the_basket_and_the_last_ten_views() {
        let store = MemoryStore::default();
        for n in 1..=12 {
            follow(&store, &mut view(n), 1_000);
        }
        follow(&store, &mut view(5), 1_000);
        follow(&store, &mut Event::AddToBasket { item: id(7), stock: None }, 1_000);
        follow(&store, &mut Event::AddToBasket { item: id(8), stock: None }, 1_000);
        follow(&store, &mut Event::AddToBasket { item: id(7), stock: None }, 1_000);
        follow(&store, &mut Event::RemoveFromBasket { item: id(8) }, 1_000);
        let mut e = set_email();
        follow(&store, &mut e, 2_000);
        assert_eq!(lists(&e), (vec![7], vec![3, 4, 6, 7, 8, 9, 10, 11, 12, 5]));
        assert_eq!(email(&store).unwrap().as_str(), "a@b.co");
        let mut again = set_email();
        follow(&store, &mut again, 3_000);
        assert_eq!(lists(&again), (vec![], vec![]), "each setEmail starts the lists afresh");
    }

    #[test]
    fn an_order_empties_the_lists_and_they_expire_after_an_hour() {
        let store = MemoryStore::default();
        follow(&store, &mut Event::AddToBasket { item: id(7), stock: None }, 0);
        follow(&store, &mut view(3), 0);
        let order = Event::OrderLine {
            transaction: crate::core::ids::LongText::parse("T").unwrap(),
            item: id(7),
            quantity: crate::core::ids::Quantity::one(),
            price: crate::core::ids::Price::parse("0").unwrap(),
            stock: None,
        };
        follow(&store, &mut order.clone(), 10);
        follow(&store, &mut view(5), 10);
        let mut e = set_email();
        follow(&store, &mut e, 10);
        assert_eq!(lists(&e), (vec![], vec![5]), "only what came after the order");
        follow(&store, &mut view(4), 0);
        let mut late = set_email();
        follow(&store, &mut late, LIST_LIFETIME_MS);
        assert_eq!(lists(&late), (vec![], vec![]));
    }
}
