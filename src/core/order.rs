//! Orders: Retail Rocket takes one event per distinct product, with quantities summed.

use super::event::Event;
use super::ids::{ItemId, Price, Quantity, ShortText};

/// One line of an order as the page gave it, already validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderItem {
    /// The product.
    pub id: ItemId,
    /// How many.
    pub quantity: Quantity,
    /// Unit price after discounts.
    pub price: Price,
}

/// Groups `items` by product (first appearance keeps its place and its unit price; quantities are
/// summed) and returns one `order` event per product.
pub fn order_lines(transaction: &ShortText, items: &[OrderItem], stock: Option<&ShortText>) -> Vec<Event> {
    let mut grouped: Vec<OrderItem> = Vec::with_capacity(items.len());
    for item in items {
        match grouped.iter_mut().find(|g| g.id == item.id) {
            Some(g) => g.quantity = g.quantity.saturating_add(item.quantity),
            None => grouped.push(item.clone()),
        }
    }
    grouped
        .into_iter()
        .map(|g| Event::OrderLine {
            transaction: transaction.clone(),
            item: g.id,
            quantity: g.quantity,
            price: g.price,
            stock: stock.cloned(),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_event_per_distinct_product_with_summed_quantities() {
        let item = |id: &str, q: f64, p: &str| OrderItem {
            id: ItemId::parse(id).unwrap(),
            quantity: Quantity::from_f64(q).unwrap(),
            price: Price::parse(p).unwrap(),
        };
        let t = ShortText::parse("T-9").unwrap();
        let lines = order_lines(&t, &[item("1", 1.0, "10"), item("2", 2.0, "5"), item("1", 3.0, "10")], None);
        let summary: Vec<(u64, u32)> = lines
            .iter()
            .map(|e| match e {
                Event::OrderLine { item, quantity, .. } => (item.get(), quantity.get()),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(summary, [(1, 4), (2, 2)]);
    }
}
