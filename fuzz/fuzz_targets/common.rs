//! Properties shared by targets.

/// No attribute value (user identifiers among them) shows in a profile's `Debug` output.
pub fn assert_no_attribute_in_debug(p: &tvpass::Profile) {
    let debug = format!("{p:?}");
    for (name, attribute) in &p.attributes {
        let value = &attribute.value;
        if value.len() < 8 {
            continue;
        }
        // The same profile with this value replaced by one of the same length: a value that
        // still shows there comes through another field (a date also in notAfter, say).
        let mut masked = p.clone();
        if let Some(a) = masked.attributes.get_mut(name) {
            a.value = "\u{1}".repeat(value.len());
        }
        if !format!("{masked:?}").contains(value.as_str()) {
            assert!(
                !debug.contains(value.as_str()),
                "the value of {name} in Debug output"
            );
        }
    }
}
