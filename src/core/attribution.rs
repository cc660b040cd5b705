//! Crediting recommendations: after a click on a recommended product, any product view in the
//! next 60 seconds carries `recomItemId` (the clicked product), as Retail Rocket's own tracker
//! does: the click may open a variant or a group page. The click is saved, because it usually
//! navigates to another page.

use super::ids::ItemId;
use super::keys;
use super::store::Store;

/// How long a click credits a view.
pub const WINDOW_MS: u64 = 60_000;

/// Remembers a click on a recommended `item` at `now_ms`.
pub fn remember_click(store: &dyn Store, item: ItemId, now_ms: u64) {
    let _ = store.set(keys::RECOM, &[&item.text(), ":", &super::text::decimal(now_ms + WINDOW_MS)].concat());
}

/// The recommended item to credit for a view at `now_ms`, if one was clicked within the window.
pub fn credit(store: &dyn Store, now_ms: u64) -> Option<ItemId> {
    let line = store.get(keys::RECOM)?;
    let (item, expires) = line.split_once(':')?;
    let item = ItemId::parse(item).ok()?;
    (expires.parse::<u64>().ok()? > now_ms).then_some(item)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::store::MemoryStore;

    #[test]
    fn a_click_credits_any_view_for_sixty_seconds() {
        let store = MemoryStore::default();
        assert_eq!(credit(&store, 0), None);
        let clicked = ItemId::parse("105").unwrap();
        remember_click(&store, clicked, 1_000);
        assert_eq!(credit(&store, 1_000 + 59_999), Some(clicked));
        assert_eq!(credit(&store, 1_000 + 60_000), None);
        remember_click(&store, ItemId::parse("7").unwrap(), 5_000);
        assert_eq!(credit(&store, 6_000).map(ItemId::get), Some(7), "the latest click counts");
    }
}
