//! Orders: Retail Rocket takes one event per distinct product, with quantities summed.

use super::event::Event;
use super::ids::{ItemId, LongText, Price, Quantity, ShortText};

/// One line of an order as the page gave it, already validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderItem {
    /// The product.
    pub id: ItemId,
    /// How many (fractional for goods sold by weight).
    pub quantity: Quantity,
    /// Unit price after discounts (0 for a gift).
    pub price: Price,
}

/// Groups `items` by product, as Retail Rocket's tracker does: the first appearance keeps its
/// place, quantities are summed exactly, the last unit price given wins. Returns one `order`
/// event per product; `Err(index)` names the first line whose summed quantity goes out of bounds.
pub fn order_lines(
    transaction: &LongText,
    items: &[OrderItem],
    stock: Option<&ShortText>,
) -> Result<Vec<Event>, usize> {
    let mut grouped: Vec<OrderItem> = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        match grouped.iter_mut().find(|g| g.id == item.id) {
            Some(g) => {
                g.quantity = g.quantity.checked_add(&item.quantity).map_err(|_| i)?;
                g.price = item.price.clone();
            }
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

    fn item(id: &str, q: &str, p: &str) -> OrderItem {
        OrderItem {
            id: ItemId::parse(id).unwrap(),
            quantity: Quantity::parse(q).unwrap(),
            price: Price::parse(p).unwrap(),
        }
    }

    #[test]
    fn one_event_per_distinct_product_with_summed_quantities_and_the_last_price() {
        let t = LongText::parse("T-9").unwrap();
        let lines = order_lines(
            &t,
            &[item("1", "1", "10"), item("2", "0.5", "0"), item("1", "3", "9.5"), item("2", "0.25", "0")],
            None,
        )
        .unwrap();
        let summary: Vec<(u64, &str, &str)> = lines
            .iter()
            .filter_map(|e| match e {
                Event::OrderLine { item, quantity, price, .. } => Some((item.get(), quantity.as_str(), price.as_str())),
                _ => None,
            })
            .collect();
        assert_eq!(summary, [(1, "4", "9.5"), (2, "0.75", "0")]);
    }

    #[test]
    fn a_sum_past_the_quantity_bound_is_refused() {
        let t = LongText::parse("T").unwrap();
        assert_eq!(
            order_lines(&t, &[item("1", "600000000000000", "1"), item("1", "600000000000000", "1")], None),
            Err(1)
        );
    }
}
