//! `cargo run -p uniffi-bindgen -- generate --library <libtvpass> --language kotlin --out-dir <dir>`

fn main() {
    uniffi::uniffi_bindgen_main()
}
