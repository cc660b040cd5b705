//! Crediting recommendations: after a click on a recommended product, a view of that product in
//! the next 60 seconds carries `recomItemId`, as Retail Rocket's own tracker does. The click is
//! saved, because it usually navigates to the product page.

use super::ids::ItemId;
use super::store::Store;

/// Where the last recommendation click is kept, as `{itemId}:{expiresAtMs}`.
pub const RECOM_KEY: &str = "rrt:recom";
/// How long a click credits a view.
pub const WINDOW_MS: u64 = 60_000;

/// Remembers a click on a recommended `item` at `now_ms`.
pub fn remember_click(store: &dyn Store, item: ItemId, now_ms: u64) {
    let _ = store.set(RECOM_KEY, &format!("{}:{}", item, now_ms + WINDOW_MS));
}

/// The recommended item to credit for a view of `viewed` at `now_ms`, if it was clicked within
/// the window.
pub fn credit(store: &dyn Store, viewed: &[ItemId], now_ms: u64) -> Option<ItemId> {
    let line = store.get(RECOM_KEY)?;
    let (item, expires) = line.split_once(':')?;
    let item = ItemId::parse(item).ok()?;
    let fresh = expires.parse::<u64>().ok()? > now_ms;
    (fresh && viewed.contains(&item)).then_some(item)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::store::MemoryStore;

    #[test]
    fn a_click_credits_views_of_the_same_item_for_sixty_seconds() {
        let store = MemoryStore::default();
        let clicked = ItemId::parse("105").unwrap();
        let other = ItemId::parse("106").unwrap();
        remember_click(&store, clicked, 1_000);
        assert_eq!(credit(&store, &[clicked], 1_000 + 59_999), Some(clicked));
        assert_eq!(credit(&store, &[other, clicked], 2_000), Some(clicked), "group views too");
        assert_eq!(credit(&store, &[other], 2_000), None);
        assert_eq!(credit(&store, &[clicked], 1_000 + 60_000), None);
    }
}
