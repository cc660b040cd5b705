//! The storage form of a queued event: one short query-string line per event, e.g.
//! `e=view&t=1732430000000&id=101&stockId=msk`. Human-readable in devtools, cheap to write, and
//! re-validated when read back.

use super::event::Event;
use super::ids::ItemId;
use super::urlenc::{parse_pairs, Query};

/// An event with the time it happened (ms since the epoch).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Record {
    /// The event.
    pub event: Event,
    /// When the page reported it.
    pub at_ms: u64,
}

impl Record {
    /// The line stored for this record.
    pub fn encode(&self) -> String {
        let mut q = Query::default();
        q.push("e", self.event.name()).push("t", &self.at_ms.to_string());
        if let Some(id) = self.event.path_id() {
            q.push("id", &id.to_string());
        }
        for (k, v) in self.event.params() {
            q.push(k, &v);
        }
        q.into_string()
    }

    /// Reads a stored line back; `None` if it is not a valid record.
    pub fn decode(line: &str) -> Option<Record> {
        let pairs = parse_pairs(line)?;
        let get = |key: &str| pairs.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str());
        let name = get("e")?;
        let at_ms = get("t")?.parse().ok()?;
        let id = get("id").map(ItemId::parse).transpose().ok()?;
        let event = Event::from_parts(name, id, &pairs)?;
        Some(Record { event, at_ms })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::core::ids::{Category, Email, Price, Quantity, ShortText};

    fn id(n: u64) -> ItemId {
        ItemId::parse(&n.to_string()).unwrap()
    }
    fn text(s: &str) -> ShortText {
        ShortText::parse(s).unwrap()
    }

    fn every_event() -> Vec<Event> {
        vec![
            Event::View { item: id(101), stock: Some(text("msk")), recom_item: Some(id(105)) },
            Event::View { item: id(101), stock: None, recom_item: None },
            Event::GroupView { items: vec![id(1), id(2)], stock: None, recom_item: None },
            Event::AddToBasket { item: id(7), stock: Some(text("spb & co")) },
            Event::RemoveFromBasket { item: id(7) },
            Event::CategoryView(Category::Id(id(3))),
            Event::CategoryView(Category::Path("Дом/Кухня/Вилки".into())),
            Event::Search { phrase: text("red=dress&size=M") },
            Event::OrderLine {
                transaction: text("T-1"),
                item: id(9),
                quantity: Quantity::from_f64(2.0).unwrap(),
                price: Price::parse("19.90").unwrap(),
                stock: None,
            },
            Event::SetEmail { email: Email::parse("a@b.co").unwrap(), agreed: Some(false), contact: None },
            Event::SetEmail {
                email: Email::parse("a@b.co").unwrap(),
                agreed: None,
                contact: Some(crate::core::ids::SessionExternalId::parse("Cust42").unwrap()),
            },
            Event::RecomMouseDown { item: id(5), method: Some(text("popular")), suggester: text("widget") },
            Event::RecomAddToCart { item: id(5), method: None, suggester: text("widget") },
        ]
    }

    #[test]
    fn every_event_round_trips_through_storage() {
        for event in every_event() {
            let record = Record { event, at_ms: 1_732_430_000_123 };
            assert_eq!(Record::decode(&record.encode()), Some(record.clone()), "{}", record.encode());
        }
    }

    #[test]
    fn storage_lines_are_readable() {
        let r = Record { event: Event::View { item: id(101), stock: Some(text("msk")), recom_item: None }, at_ms: 5 };
        assert_eq!(r.encode(), "e=view&t=5&id=101&stockId=msk");
    }

    #[test]
    fn tampered_lines_are_refused() {
        for bad in [
            "",
            "e=view&t=5",
            "e=view&t=x&id=1",
            "e=nope&t=5&id=1",
            "e=order&t=5&id=1&transaction=T&qnt=0&price=1",
            "%%",
        ] {
            assert_eq!(Record::decode(bad), None, "{bad}");
        }
    }
}
