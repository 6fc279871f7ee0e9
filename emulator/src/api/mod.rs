//! The emulated endpoints, one file per area.

pub mod configuration;
pub mod dcr;
pub mod decisions;
pub mod logout;
pub mod partner;
pub mod profiles;
pub mod reset;
pub mod sessions;

use crate::state::Shared;
use std::collections::HashMap;
use std::sync::Arc;

/// Handler state.
pub type Ctx = axum::extract::State<Arc<Shared>>;

/// Parses an `application/x-www-form-urlencoded` body; `None` when a parameter repeats.
pub fn parse_form(body: &[u8]) -> Option<HashMap<String, String>> {
    let mut map = HashMap::new();
    for (k, v) in url::form_urlencoded::parse(body) {
        if map.insert(k.into_owned(), v.into_owned()).is_some() {
            return None;
        }
    }
    Some(map)
}
