//! The decisions answer (authorize and preauthorize): typed decisions or a typed error, never a
//! panic; a media token never shows in Debug output.
#![no_main]
use libfuzzer_sys::fuzz_target;
use tvpass::Decision;

fuzz_target!(|data: &[u8]| {
    if let Ok(decisions) = tvpass::decoders::decisions(data) {
        for d in &decisions {
            if let Decision::Permit {
                media_token: Some(token),
                ..
            } = d
            {
                let secret = token.serialized.expose();
                if secret.len() >= 8 {
                    assert!(
                        !format!("{d:?}").contains(secret),
                        "a media token in Debug output"
                    );
                }
            }
        }
    }
});
