//! E-mail attribution on landing: a shopper who arrives from a Retail Rocket e-mail carries its
//! tracking id in the page URL, and Retail Rocket's tracker reports the click (and, with
//! `rr_setemail`, the address) as soon as the page loads. These are the events such a URL
//! asks for.

use super::event::{Custom, Event, Value};
use super::ids::{Email, LongText};
use super::urlenc::decode;

/// The URL parameters that carry an e-mail's tracking id, in the order they are looked for.
pub const MAIL_ID_PARAMS: [&str; 3] = ["MailTrackingId", "mailtrackingid", "rr_mailid"];

/// The events a landing URL's query (`location.search`, with or without its `?`) asks for:
/// an `emailclick` when it names a mail tracking id, a `setEmail` when it has `rr_setemail`
/// (with its `rrsd_*` parameters as custom data). Malformed parameters are ignored: a link
/// must never break the page.
pub fn events(search: &str) -> Vec<Event> {
    let query = search.strip_prefix('?').unwrap_or(search);
    let mut pairs = Vec::new();
    for pair in query.split('&') {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        // Links built by hand may encode spaces as `+`.
        let plus = |s: &str| s.replace('+', " ");
        if let (Some(k), Some(v)) = (decode(&plus(k)), decode(&plus(v))) {
            pairs.push((k, v));
        }
    }
    let get = |key: &str| pairs.iter().find(|(k, v)| k == key && !v.trim().is_empty()).map(|(_, v)| v.as_str());
    let mut out = Vec::new();
    if let Some(mail_id) = MAIL_ID_PARAMS.iter().find_map(|k| get(k)).and_then(|v| LongText::parse(v).ok()) {
        out.push(Event::EmailClick {
            mail_id,
            source: get("utm_source").and_then(|v| LongText::parse(v).ok()),
            url_type: get("rr_urlType").and_then(|v| LongText::parse(v).ok()),
        });
    }
    if let Some(email) = get("rr_setemail").and_then(|v| Email::parse(v).ok()) {
        let custom = pairs
            .iter()
            .filter_map(|(k, v)| Custom::new(k.strip_prefix("rrsd_")?, Value::Text(v.clone())))
            .take(50)
            .collect();
        out.push(Event::SetEmail {
            email,
            agreed: true,
            contact: None,
            custom,
            basket: Vec::new(),
            viewed: Vec::new(),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_mail_tracking_id_is_an_email_click() {
        let got = events("?utm_source=mail&MailTrackingId=ab12-cd&rr_urlType=product&x=1");
        assert_eq!(
            got,
            vec![Event::EmailClick {
                mail_id: LongText::parse("ab12-cd").unwrap(),
                source: Some(LongText::parse("mail").unwrap()),
                url_type: Some(LongText::parse("product").unwrap()),
            }]
        );
        for spelling in MAIL_ID_PARAMS {
            let got = events(&format!("{spelling}=77"));
            assert!(
                matches!(&got[..], [Event::EmailClick { mail_id, source: None, url_type: None }] if mail_id.as_str() == "77")
            );
        }
    }

    #[test]
    fn rr_setemail_is_a_set_email_with_rrsd_custom_data() {
        let got = events("rr_setemail=anna%40example.com&rrsd_name=Anna+K&rrsd_city=%D0%9C&other=1");
        let [Event::SetEmail { email, agreed: true, custom, .. }] = &got[..] else { panic!("{got:?}") };
        assert_eq!(email.as_str(), "anna@example.com");
        let pairs: Vec<(&str, &Value)> = custom.iter().map(|c| (c.key.as_str(), &c.value)).collect();
        assert_eq!(pairs, [("name", &Value::Text("Anna K".into())), ("city", &Value::Text("М".into()))]);
    }

    #[test]
    fn ordinary_and_broken_urls_ask_for_nothing() {
        for search in
            ["", "?", "?q=dress", "?MailTrackingId=", "?rr_setemail=not-an-address", "?%zz=1&MailTrackingId=%"]
        {
            assert_eq!(events(search), vec![], "{search}");
        }
    }
}
