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
/// summed) and returns one `order` event per product. `Err(index)` names the first line whose
/// summed quantity goes out of bounds.
pub fn order_lines(
    transaction: &ShortText,
    items: &[OrderItem],
    stock: Option<&ShortText>,
) -> Result<Vec<Event>, usize> {
    let mut grouped: Vec<OrderItem> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match grouped.iter_mut().find(|g| g.id == item.id) {
            Some(g) => g.quantity = g.quantity.checked_add(item.quantity).map_err(|_| i)?,
            None => grouped.push(item.clone()),
        }
    }
    Ok(grouped
        .into_iter()
        .map(|g| Event::OrderLine {
            transaction: transaction.clone(),
            item: g.id,
            quantity: g.quantity,
            price: g.price,
            stock: stock.cloned(),
        })
        .collect())
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
        let lines = order_lines(&t, &[item("1", 1.0, "10"), item("2", 2.0, "5"), item("1", 3.0, "10")], None).unwrap();
        let summary: Vec<(u64, u32)> = lines
            .iter()
            .map(|e| match e {
                Event::OrderLine { item, quantity, .. } => (item.get(), quantity.get()),
                _ => unreachable!(),
            })
            .collect();
        assert_eq!(summary, [(1, 4), (2, 2)]);
    }

    #[test]
    fn a_sum_past_the_quantity_bound_is_refused() {
        let item = |q: f64| OrderItem {
            id: ItemId::parse("1").unwrap(),
            quantity: Quantity::from_f64(q).unwrap(),
            price: Price::parse("1").unwrap(),
        };
        let t = ShortText::parse("T").unwrap();
        assert_eq!(order_lines(&t, &[item(600_000.0), item(600_000.0)], None), Err(1));
    }
}
