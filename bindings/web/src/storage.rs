//! Where the SDK keeps what survives a restart: any JavaScript object with `get(key)`,
//! `set(key, value)` and `remove(key)` (Tizen and webOS apps keep their own stores), or the
//! page's `localStorage` when the app gives none.

use js_sys::{Function, Reflect};
use send_wrapper::SendWrapper;
use tvpass::{Storage, StorageError};
use wasm_bindgen::{JsCast, JsValue};

/// A JavaScript store behind the SDK's `Storage`.
pub struct JsStorage {
    target: SendWrapper<JsValue>,
    get: SendWrapper<Function>,
    set: SendWrapper<Function>,
    remove: SendWrapper<Function>,
}

fn method(target: &JsValue, name: &str) -> Option<Function> {
    Reflect::get(target, &JsValue::from_str(name))
        .ok()?
        .dyn_into::<Function>()
        .ok()
}

impl JsStorage {
    /// The app's object with `get`, `set` and `remove`.
    pub fn object(target: JsValue) -> Result<Self, String> {
        Self::with(target, ["get", "set", "remove"])
    }

    /// The page's `localStorage`, where there is one.
    pub fn local_storage() -> Result<Self, String> {
        let global = js_sys::global();
        let store = Reflect::get(&global, &JsValue::from_str("localStorage"))
            .ok()
            .filter(|v| !v.is_undefined() && !v.is_null())
            .ok_or("no localStorage here: give a storage object with get, set and remove")?;
        Self::with(store, ["getItem", "setItem", "removeItem"])
    }

    fn with(target: JsValue, names: [&str; 3]) -> Result<Self, String> {
        let find = |n: &str| method(&target, n).ok_or(format!("the storage has no {n} method"));
        Ok(Self {
            get: SendWrapper::new(find(names[0])?),
            set: SendWrapper::new(find(names[1])?),
            remove: SendWrapper::new(find(names[2])?),
            target: SendWrapper::new(target),
        })
    }
}

fn failed(e: JsValue) -> StorageError {
    StorageError(
        e.dyn_ref::<js_sys::Error>()
            .map(|e| String::from(e.message()))
            .unwrap_or_else(|| "the storage failed".into()),
    )
}

impl Storage for JsStorage {
    fn get(&self, key: &str) -> Result<Option<String>, StorageError> {
        let v = self
            .get
            .call1(&self.target, &JsValue::from_str(key))
            .map_err(failed)?;
        Ok(v.as_string())
    }

    fn set(&self, key: &str, value: &str) -> Result<(), StorageError> {
        self.set
            .call2(
                &self.target,
                &JsValue::from_str(key),
                &JsValue::from_str(value),
            )
            .map(|_| ())
            .map_err(failed)
    }

    fn remove(&self, key: &str) -> Result<(), StorageError> {
        self.remove
            .call1(&self.target, &JsValue::from_str(key))
            .map(|_| ())
            .map_err(failed)
    }
}
