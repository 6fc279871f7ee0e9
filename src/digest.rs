//! Digests as text: what the SDK keeps or sends in place of a value it must not show (storage
//! namespaces, identity keys, hashed identifiers, a fleet's Redis keys).

use sha2::{Digest, Sha256};

/// Lower-case hexadecimal of `bytes`.
pub(crate) fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(out, "{b:02x}");
    }
    out
}

/// The SHA-256 of `text`.
pub(crate) fn sha256(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// The SHA-256 of `text` in hexadecimal.
pub(crate) fn sha256_hex(text: &str) -> String {
    hex(&sha256(text))
}

#[cfg(test)]
mod tests {
    #[test]
    fn hex_of_a_digest() {
        assert_eq!(super::hex(&[0, 15, 255]), "000fff");
        assert_eq!(
            super::sha256_hex("abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
    }
}
