//! Reads the page's config object into a validated [`Config`], refusing secrets and typos.

use js_sys::{Function, Reflect, TypeError};
use wasm_bindgen::{JsCast, JsValue};

use super::args;

use crate::core::config::{Config, ConfigBuilder, RawValue};
use crate::core::error::ConfigError;

fn raw(value: &JsValue) -> RawValue {
    if value.is_undefined() {
        RawValue::Undefined
    } else if value.is_null() {
        RawValue::Null
    } else if let Some(b) = value.as_bool() {
        RawValue::Bool(b)
    } else if let Some(n) = value.as_f64() {
        RawValue::Number(n)
    } else if let Some(s) = value.as_string() {
        RawValue::Text(s)
    } else if value.is_function() {
        RawValue::Function
    } else {
        RawValue::Other
    }
}

/// The config and its `onError` callback.
pub fn read(config: &JsValue) -> Result<(Config, Option<Function>), ConfigError> {
    // Read with the checked helpers: a config whose traps or getters throw is "not an object".
    if !config.is_object() || args::is_array(config) != Some(false) {
        return Err(ConfigError::NotAnObject);
    }
    let object = config;
    let mut builder = ConfigBuilder::default();
    for key in args::keys(object).ok_or(ConfigError::NotAnObject)?.iter() {
        let Some(name) = key.as_string() else {
            continue;
        };
        let value = Reflect::get(object, &key).map_err(|_| ConfigError::NotAnObject)?;
        builder.set(&name, &raw(&value))?;
    }
    let on_error = Reflect::get(object, &JsValue::from_str("onError")).ok().and_then(|f| f.dyn_into::<Function>().ok());
    Ok((builder.build()?, on_error))
}

/// The `TypeError` thrown by `new Tracker(…)`, with a `code` property to branch on.
pub fn to_js_error(error: &ConfigError) -> JsValue {
    let js = TypeError::new(&["retailrocket-tracker: ", &error.message()].concat());
    crate::web::object::set(&js, "code", &JsValue::from_str(error.code()));
    js.into()
}
