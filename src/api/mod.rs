//! One file per API area: each builds its requests and decodes its answers.

pub mod configuration;
pub mod decisions;
pub mod logout;
pub mod partner;
pub mod profiles;
pub mod sessions;
pub mod temppass;
