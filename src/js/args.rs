//! Turns the JS arguments of tracking calls into validated core values. Each function names
//! the method and argument, so a refusal says exactly what was wrong.
//!
//! Page values are only ever read through the checked helpers here (`is_array`, `keys`, `field`,
//! `elements`): a Proxy trap, a revoked Proxy or a getter that throws becomes a refused argument,
//! never an exception unwinding through the wasm (which would leave its borrows held and its
//! stack pointer moved, breaking every later call).

use js_sys::{Array, Number, Reflect, JSON};
use wasm_bindgen::prelude::*;

use crate::core::error::InputError;
use crate::core::event::{Custom, Value};
use crate::core::ids::{Category, Email, Invalid, ItemId, LongText, Price, Quantity, SessionExternalId, ShortText};
use crate::core::order::OrderItem;
use crate::core::text::decimal;

/// The method being called, to label errors.
#[derive(Debug, Clone, Copy)]
pub struct Call(pub &'static str);

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(catch, js_namespace = Array, js_name = isArray)]
    fn checked_is_array(value: &JsValue) -> Result<bool, JsValue>;
    #[wasm_bindgen(catch, js_namespace = Object, js_name = keys)]
    fn checked_keys(value: &JsValue) -> Result<Array, JsValue>;
}

/// `Array.isArray(value)`; `None` when asking throws (a revoked Proxy).
pub fn is_array(value: &JsValue) -> Option<bool> {
    checked_is_array(value).ok()
}

/// `Object.keys(value)`; `None` when listing throws (an `ownKeys` trap).
pub fn keys(value: &JsValue) -> Option<Array> {
    checked_keys(value).ok()
}

/// A short rendering of a received value for error messages.
fn describe(value: &JsValue) -> String {
    if value.is_undefined() {
        return "undefined".into();
    }
    if value.is_symbol() {
        return "a value that could not be read".into();
    }
    if is_array(value) == Some(true) {
        return "an array".into();
    }
    if value.is_function() {
        return "a function".into();
    }
    if value.is_object() {
        return "an object".into();
    }
    let text: String =
        JSON::stringify(value).ok().and_then(|s| s.as_string()).unwrap_or_else(|| "a value of another type".into());
    if text.chars().count() > 60 {
        let mut cut: String = text.chars().take(60).collect();
        cut.push('…');
        cut
    } else {
        text
    }
}

/// The elements of an array of at most `max` entries, read with `Reflect` so that a hostile
/// array (a Proxy, a throwing getter) cannot throw through the tracker. `None` if `value` is not
/// such an array.
pub fn elements(value: &JsValue, min: u32, max: u32) -> Option<Vec<JsValue>> {
    if is_array(value) != Some(true) {
        return None;
    }
    let len = Reflect::get(value, &JsValue::from_str("length")).ok()?.as_f64()?;
    if len < f64::from(min) || len > f64::from(max) {
        return None;
    }
    // Plain loops rather than `collect::<Option<_>>()` in this module: each such adapter is
    // its own copy of generic code in the wasm.
    let mut out = Vec::with_capacity(len as usize);
    for i in 0..len as u32 {
        out.push(Reflect::get_u32(value, i).ok()?);
    }
    Some(out)
}

/// The value of `key` in an options object (`undefined` if absent or not an object). A read
/// that throws gives a symbol, which every check below refuses as "could not be read".
pub fn field(object: &JsValue, key: &str) -> JsValue {
    if object.is_object() {
        Reflect::get(object, &JsValue::from_str(key)).unwrap_or_else(|_| JsValue::symbol(None))
    } else {
        JsValue::UNDEFINED
    }
}

/// A number or decimal string as plain decimal text (`0.5`, `12`), for prices and quantities;
/// `None` for anything else (exponent forms are then refused by the parsers).
fn decimal_text(value: &JsValue) -> Option<String> {
    match (value.as_f64(), value.as_string()) {
        (Some(n), _) if n.is_finite() => Number::from(n).to_string_with_radix(10).ok().and_then(|s| s.as_string()),
        (_, Some(s)) => Some(s.trim().to_owned()),
        _ => None,
    }
}

/// Text, a finite number or a boolean as the text Retail Rocket's tracker sends for it.
fn scalar_text(value: &JsValue) -> Option<String> {
    if let Some(s) = value.as_string() {
        return Some(s);
    }
    if let Some(b) = value.as_bool() {
        return Some(if b { "true" } else { "false" }.to_owned());
    }
    value.as_f64().filter(|n| n.is_finite()).and_then(|_| decimal_text(value))
}

/// `{list}[{i}]{field}`, the name of an argument inside a list (one copy of the formatting for
/// every such name).
#[inline(never)]
pub fn nth(list: &str, i: usize, field: &str) -> String {
    [list, "[", &decimal(i as u64), "]", field].concat()
}

fn absent(value: &JsValue) -> bool {
    value.is_undefined() || value.is_null()
}

impl Call {
    fn error(self, argument: impl Into<String>, problem: Invalid, value: &JsValue) -> InputError {
        InputError { method: self.0, argument: argument.into(), problem, got: Some(describe(value)) }
    }

    /// A product id: a safe integer number or a string of digits.
    pub fn item(self, argument: &str, value: &JsValue) -> Result<ItemId, InputError> {
        let parsed = match (value.as_f64(), value.as_string()) {
            (Some(n), _) => ItemId::from_f64(n),
            (_, Some(s)) => ItemId::parse(s.trim()),
            _ => Err(Invalid::Id),
        };
        parsed.map_err(|p| self.error(argument, p, value))
    }

    /// A non-empty array of at most 100 product ids.
    pub fn items(self, argument: &str, value: &JsValue) -> Result<Vec<ItemId>, InputError> {
        let array = elements(value, 1, 100).ok_or_else(|| self.error(argument, Invalid::IdList, value))?;
        let mut items = Vec::with_capacity(array.len());
        for (i, v) in array.iter().enumerate() {
            items.push(self.item(&nth(argument, i, ""), v)?);
        }
        Ok(items)
    }

    /// A category id or a full category path.
    pub fn category(self, argument: &str, value: &JsValue) -> Result<Category, InputError> {
        let parsed = match (value.as_f64(), value.as_string()) {
            (Some(n), _) => ItemId::from_f64(n).map(Category::Id).map_err(|_| Invalid::Category),
            (_, Some(s)) => Category::parse(&s),
            _ => Err(Invalid::Category),
        };
        parsed.map_err(|p| self.error(argument, p, value))
    }

    /// Required short text.
    pub fn text(self, argument: &str, value: &JsValue) -> Result<ShortText, InputError> {
        value
            .as_string()
            .ok_or(Invalid::Text)
            .and_then(|s| ShortText::parse(&s))
            .map_err(|p| self.error(argument, p, value))
    }

    /// Required text of up to 500 characters.
    pub fn long_text(self, argument: &str, value: &JsValue) -> Result<LongText, InputError> {
        value
            .as_string()
            .ok_or(Invalid::LongText)
            .and_then(|s| LongText::parse(&s))
            .map_err(|p| self.error(argument, p, value))
    }

    /// Optional short text (`undefined`/`null` are absent).
    pub fn opt_text(self, argument: &str, value: &JsValue) -> Result<Option<ShortText>, InputError> {
        if absent(value) {
            Ok(None)
        } else {
            self.text(argument, value).map(Some)
        }
    }

    /// The stock id from the options (an object with `stockId`, or the id itself, as `rrApi`
    /// allows), else the config's default.
    pub fn stock(self, options: &JsValue, default: Option<&ShortText>) -> Result<Option<ShortText>, InputError> {
        let (argument, value) = if options.is_string() {
            ("stockId", options.clone())
        } else {
            ("options.stockId", field(options, "stockId"))
        };
        if !absent(options) && !options.is_object() && !options.is_string() {
            return Err(self.error("options", Invalid::Text, options));
        }
        Ok(self.opt_text(argument, &value)?.or_else(|| default.cloned()))
    }

    /// A unit price of at least 0: a finite number or a decimal string.
    pub fn price(self, argument: &str, value: &JsValue) -> Result<Price, InputError> {
        decimal_text(value)
            .ok_or(Invalid::Price)
            .and_then(|t| Price::parse(&t))
            .map_err(|p| self.error(argument, p, value))
    }

    /// A quantity above 0 (fractional for goods sold by weight), 1 when absent.
    pub fn quantity(self, argument: &str, value: &JsValue) -> Result<Quantity, InputError> {
        if absent(value) {
            return Ok(Quantity::one());
        }
        decimal_text(value)
            .ok_or(Invalid::Quantity)
            .and_then(|t| Quantity::parse(&t))
            .map_err(|p| self.error(argument, p, value))
    }

    /// The store's own fields of an options object (every own key but `skip`), as custom data:
    /// text, numbers and booleans, or arrays of them. `undefined` and `null` values are left out.
    pub fn custom_data(self, options: &JsValue, skip: &[&str]) -> Result<Vec<Custom>, InputError> {
        let mut out = Vec::new();
        if !options.is_object() {
            return Ok(out);
        }
        let names = keys(options).ok_or_else(|| self.error("options", Invalid::Options, options))?;
        for key in names.iter() {
            let Some(name) = key.as_string() else { continue };
            if skip.contains(&name.as_str()) {
                continue;
            }
            let value = field(options, &name);
            if absent(&value) {
                continue;
            }
            let argument = || ["options.", &name].concat();
            let parsed = match elements(&value, 0, 100) {
                Some(items) => {
                    let mut texts = Vec::with_capacity(items.len());
                    for item in &items {
                        texts.push(scalar_text(item).ok_or_else(|| self.error(argument(), Invalid::Custom, item))?);
                    }
                    Some(Value::List(texts))
                }
                None => scalar_text(&value).map(Value::Text),
            };
            let custom = parsed.and_then(|v| Custom::new(&name, v));
            out.push(custom.ok_or_else(|| self.error(argument(), Invalid::Custom, &value))?);
            if out.len() > 50 {
                return Err(self.error("options", Invalid::Custom, options));
            }
        }
        Ok(out)
    }

    /// The products of a price-drop subscription: `{ id, price }` or an array of up to 100.
    pub fn price_drop_items(self, argument: &str, value: &JsValue) -> Result<Vec<(ItemId, Price)>, InputError> {
        let lines = match elements(value, 1, 100) {
            Some(lines) => lines,
            None if value.is_object() && !value.is_function() => vec![value.clone()],
            None => return Err(self.error(argument, Invalid::IdList, value)),
        };
        let mut out = Vec::with_capacity(lines.len());
        for (i, line) in lines.iter().enumerate() {
            let at = if is_array(value) == Some(true) { nth(argument, i, "") } else { argument.to_owned() };
            if !line.is_object() {
                return Err(self.error(at, Invalid::Options, line));
            }
            let id = self.item(&[&at, ".id"].concat(), &field(line, "id"))?;
            out.push((id, self.price(&[&at, ".price"].concat(), &field(line, "price"))?));
        }
        Ok(out)
    }

    /// An e-mail address.
    pub fn email(self, argument: &str, value: &JsValue) -> Result<Email, InputError> {
        value
            .as_string()
            .ok_or(Invalid::Email)
            .and_then(|s| Email::parse(&s))
            .map_err(|p| self.error(argument, p, value))
    }

    /// The lines of an order (`items` array of `{ id, qnt, price }`).
    pub fn order_items(self, value: &JsValue) -> Result<Vec<OrderItem>, InputError> {
        let array = elements(value, 1, 100).ok_or_else(|| InputError {
            got: Some(describe(value)),
            ..InputError::new(self.0, "order.items", Invalid::IdList)
        })?;
        let mut items = Vec::with_capacity(array.len());
        for (i, line) in array.iter().enumerate() {
            if !line.is_object() {
                return Err(self.error(nth("order.items", i, ""), Invalid::Id, line));
            }
            items.push(OrderItem {
                id: self.item(&nth("order.items", i, ".id"), &field(line, "id"))?,
                quantity: self.quantity(&nth("order.items", i, ".qnt"), &field(line, "qnt"))?,
                price: self.price(&nth("order.items", i, ".price"), &field(line, "price"))?,
            });
        }
        Ok(items)
    }

    /// An optional customer id: letters and digits, at most 50.
    pub fn opt_external_id(self, argument: &str, value: &JsValue) -> Result<Option<SessionExternalId>, InputError> {
        if absent(value) {
            return Ok(None);
        }
        value
            .as_string()
            .ok_or(Invalid::ExternalId)
            .and_then(|s| SessionExternalId::parse(&s))
            .map(Some)
            .map_err(|p| self.error(argument, p, value))
    }

    /// An optional boolean option.
    pub fn opt_bool(self, argument: &str, value: &JsValue) -> Result<Option<bool>, InputError> {
        if absent(value) {
            return Ok(None);
        }
        value.as_bool().map(Some).ok_or_else(|| InputError {
            got: Some(describe(value)),
            ..InputError::new(self.0, argument, Invalid::Flag)
        })
    }

    /// Checks that `value` is an object (or absent), for option bags.
    pub fn options(self, argument: &str, value: &JsValue) -> Result<(), InputError> {
        if absent(value) {
            Ok(())
        } else {
            self.object(argument, value)
        }
    }

    /// Requires an object that is not an array: from any realm (an iframe's), with or without
    /// a prototype (`Object.create(null)`). Only read, never written.
    pub fn object(self, argument: &str, value: &JsValue) -> Result<(), InputError> {
        if value.is_object() && is_array(value) == Some(false) {
            Ok(())
        } else {
            Err(self.error(argument, Invalid::Options, value))
        }
    }
}
