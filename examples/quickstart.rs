//! The whole journey of a TV app against the in-process emulator: registration, configuration,
//! a second-screen login, profile, preauthorization, authorization, TempPass and logout.
//!
//! `cargo run --example quickstart` (no account needed). Set `TVPASS_BASE_URL` to run against
//! another server; the login step then waits for a real user.

use std::sync::Arc;
use tvpass::{
    Decision, DeviceInfo, Environment, LogoutAction, MemoryStorage, PassClient, SessionAction,
    TempPassIdentity,
};
use tvpass_emulator::{
    Emulator, EmulatorConfig, DEFAULT_SERVICE_PROVIDER, DEFAULT_SOFTWARE_STATEMENT,
};

/// The command-line tool's output for people: local dates with the time left.
#[allow(dead_code)]
#[path = "../cli/src/human.rs"]
mod human;

/// A decision as the command-line tool prints it.
fn show(d: &Decision) -> String {
    match d {
        Decision::Permit {
            resource,
            media_token: Some(t),
            ..
        } => format!(
            "{resource}: permit (media token until {})",
            human::until(t.not_after_ms, human::now_ms())
        ),
        Decision::Permit { resource, .. } => format!("{resource}: permit"),
        Decision::Deny {
            resource,
            reason,
            error,
            ..
        } => format!("{resource}: deny {reason:?}: {}", error.message),
    }
}

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let external = std::env::var("TVPASS_BASE_URL").ok();
    let emulator = match &external {
        Some(_) => None,
        None => Some(Emulator::start(EmulatorConfig::default()).await?),
    };
    let base_url =
        external.unwrap_or_else(|| emulator.as_ref().map(|e| e.base_url()).unwrap_or_default());
    println!("1. Service at {base_url}");

    let storage = Arc::new(MemoryStorage::new());
    let client = PassClient::builder()
        .environment(Environment::Custom(base_url))
        .service_provider(DEFAULT_SERVICE_PROVIDER)
        .software_statement(DEFAULT_SOFTWARE_STATEMENT)
        .device_info(DeviceInfo {
            primary_hardware_type: Some("SetTopBox".into()),
            model: Some("AppleTV".into()),
            os_name: Some("tvOS".into()),
            vendor: Some("Apple".into()),
            ..Default::default()
        })
        .storage(storage)
        .build()?;

    let config = client.configuration().await?;
    let picker: Vec<_> = config
        .picker_mvpds()
        .iter()
        .map(|m| m.display_name.as_str())
        .collect();
    println!(
        "2. Configuration of {}: providers to pick from: {}",
        config.name,
        picker.join(", ")
    );
    let cable = config
        .mvpd("Cablevision")
        .ok_or("Cablevision is not configured")?
        .clone();
    client.select_mvpd(&cable);

    let session = client.create_session(&cable.id).await?;
    let code = session.code.clone().ok_or("no code")?;
    assert_eq!(session.action, SessionAction::Authenticate);
    println!(
        "3. Second screen: open {} (code {code})",
        client.authentication_url(&code)
    );
    if let Some(emu) = &emulator {
        let mut attributes = serde_json::Map::new();
        attributes.insert("zip".into(), "10001".into());
        emu.complete_authentication(&code, attributes)?;
        println!("   (the emulator completes the login for the user)");
    }
    let profile = client.await_profile(&session).await?;
    let attributes: Vec<&str> = profile.attributes.keys().map(String::as_str).collect();
    println!(
        "4. Logged in with {} until {}; attributes: {}",
        profile.mvpd,
        human::until(profile.not_after_ms, human::now_ms()),
        attributes.join(", ")
    );

    let catalogue = [
        "news",
        "sports",
        "movies",
        "kids",
        "late-night",
        "cooking",
        "REF30",
    ];
    let decisions = client.preauthorize(&cable.id, &catalogue).await?;
    println!("5. Preauthorized {} resources:", decisions.len());
    for d in &decisions {
        println!("   {}", show(d));
    }

    println!(
        "6. Authorize before playback: {}",
        show(&client.authorize(&cable.id, "news").await?)
    );
    println!(
        "   Authorize a late-night title: {}",
        show(&client.authorize(&cable.id, "late-night").await?)
    );

    let basic = client
        .authorize_temp_pass("TempPass_10min", "movies", None)
        .await?;
    println!("7. Basic TempPass: {}", show(&basic));
    let identity = TempPassIdentity::email("Viewer@Example.com")?;
    let promo = client
        .authorize_temp_pass("TempPass_Promo", "movies", Some(&identity))
        .await?;
    println!("   Promotional TempPass: {}", show(&promo));
    if let Some(info) = client
        .temp_pass_info("TempPass_Promo", Some(&identity))
        .await?
    {
        let remaining = info
            .remaining_resources
            .map_or("unlimited".to_string(), |n| n.to_string());
        let expires = info.expiration_ms.map_or("no expiry yet".to_string(), |t| {
            format!("until {}", human::until(t, human::now_ms()))
        });
        println!(
            "   {remaining} resources left; used: {}; {expires}",
            info.used_assets.join(", ")
        );
    }

    match client.logout(&cable.id).await? {
        LogoutAction::OpenUrl { url } => {
            println!("8. Logged out; open {url} to finish at the MVPD")
        }
        LogoutAction::Complete => println!("8. Logged out"),
        other => println!("8. Logged out; next: {other:?}"),
    }
    let after = client.authorize(&cable.id, "news").await?;
    println!("   After logout: {}", show(&after));
    if let Some(emu) = &emulator {
        println!("Requests sent to the service: {}", emu.requests().len());
    }
    Ok(())
}
