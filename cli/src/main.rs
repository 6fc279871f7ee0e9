//! `tvpass`: try an Adobe Pass journey from the command line, against any server or (by
//! default) an in-process emulator.
//!
//! Exit status: 0 on success, 3 when a decision is a Deny, 1 on an error, 2 on bad usage.

mod doctor;
mod human;

use clap::{CommandFactory, Parser, Subcommand};
use serde_json::{json, Value};
use std::process::ExitCode;
use std::sync::Arc;
use tvpass::{
    Decision, DeviceInfo, Environment, FileStorage, LogoutAction, ManagementClient,
    PartnerFrameworkStatus, PassClient, PassError, PlatformIdentity, Profile, ResetTarget,
    SessionAction, Storage, TempPassIdentity, PARTNER_APPLE,
};
use tvpass_emulator::{
    Emulator, EmulatorConfig, DEFAULT_SERVICE_PROVIDER, DEFAULT_SOFTWARE_STATEMENT,
};

/// Try Adobe Pass REST API V2 journeys with the tvpass SDK.
///
/// Without --base-url, commands talk to an in-process emulator whose state (clients, tokens,
/// sessions, profiles, TempPass usage, clock) is kept in the state directory, so that login,
/// profiles, authorize and logout work as separate commands; `tvpass emulator reset` clears it.
#[derive(Parser, Debug)]
#[command(name = "tvpass", version)]
struct Cli {
    /// Base URL of the service; without it, an in-process emulator is started.
    #[arg(long, global = true)]
    base_url: Option<String>,
    /// Service provider (requestor) id.
    #[arg(long, global = true, default_value = DEFAULT_SERVICE_PROVIDER)]
    service_provider: String,
    /// Software statement from the TVE Dashboard.
    #[arg(long, global = true, default_value = DEFAULT_SOFTWARE_STATEMENT)]
    software_statement: String,
    /// Device identifier (default: generated once and kept in the state directory).
    #[arg(long, global = true)]
    device_id: Option<String>,
    /// Directory keeping credentials, token, profiles and device id between runs, and the
    /// in-process emulator's state (under `emulator/`). Default: `tvpass` under the user's data
    /// directory ($XDG_DATA_HOME or ~/.local/share, ~/Library/Application Support on macOS,
    /// %APPDATA% on Windows); without one, this is required.
    #[arg(long, global = true, env = "TVPASS_STATE_DIR")]
    state_dir: Option<std::path::PathBuf>,
    /// Print one JSON object per result.
    #[arg(long, global = true)]
    json: bool,
    /// Platform identity single sign-on (Amazon): the `Adobe-Subject-Token` JWS/JWE.
    #[arg(long, global = true, conflicts_with = "roku_connect_token")]
    subject_token: Option<String>,
    /// Platform identity single sign-on (Roku): the `X-Roku-Reserved-Roku-Connect-Token`.
    #[arg(long, global = true)]
    roku_connect_token: Option<String>,
    /// Service token single sign-on: the `AD-Service-Token` JWS.
    #[arg(long, global = true)]
    service_token: Option<String>,
    /// Experience Cloud visitor id (`AP-Visitor-Identifier`).
    #[arg(long, global = true)]
    visitor_id: Option<String>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug, Clone)]
enum Command {
    /// The service provider's MVPDs.
    Configuration,
    /// Log in with an MVPD: prints the code and URL, then waits for the profile. With
    /// `--partner apple`, logs in through partner single sign-on (against the in-process
    /// emulator its partner answers; against a server give the framework's `--saml-response`).
    Login {
        /// The MVPD id.
        #[arg(long, required_unless_present = "partner")]
        mvpd: Option<String>,
        /// Partner single sign-on through this partner (`apple`).
        #[arg(long)]
        partner: Option<String>,
        /// The partner framework's provider id (default: the MVPD's platform mapping id).
        #[arg(long, requires = "partner")]
        provider_id: Option<String>,
        /// A file with the partner framework's SAML response (needed against a server).
        #[arg(long, requires = "partner")]
        saml_response: Option<std::path::PathBuf>,
        /// When the partner framework's provider login expires, in ms since the Unix epoch (the
        /// framework's authentication expiration date; needed against a server, the emulated
        /// partner supplies one).
        #[arg(long, requires = "partner")]
        partner_expiry: Option<i64>,
    },
    /// The profiles the service has for this device (with single sign-on, those of other apps
    /// of the same identity too).
    Profiles {
        /// The profiles kept on this device instead, without a request.
        #[arg(long)]
        cached: bool,
    },
    /// Preauthorize resources (catalogue filtering).
    Preauthorize {
        /// The MVPD id.
        #[arg(long)]
        mvpd: String,
        /// Resources: ids or media RSS documents (quote an MRSS, or pass "$(cat item.xml)").
        #[arg(required = true)]
        resources: Vec<String>,
    },
    /// Authorize one resource before playback.
    Authorize {
        /// The MVPD id.
        #[arg(long)]
        mvpd: String,
        /// Resource: an id or a media RSS document.
        resource: String,
    },
    /// Authorize with a TempPass MVPD (promotional with --identity).
    Temppass {
        /// The TempPass MVPD id.
        #[arg(long)]
        mvpd: String,
        /// Resource: an id or a media RSS document.
        resource: String,
        /// The user's e-mail for promotional TempPass (hashed before it is sent).
        #[arg(long)]
        identity: Option<String>,
    },
    /// Log out of an MVPD.
    Logout {
        /// The MVPD id.
        #[arg(long)]
        mvpd: String,
    },
    /// Check an integration against a server (registration, configuration, clock skew,
    /// throttling headroom), with the fix for each failure. Needs --base-url.
    Doctor,
    /// Print the shell completion script (bash, zsh, fish, elvish, powershell).
    Completions {
        /// The shell.
        shell: clap_complete::Shell,
    },
    /// The in-process emulator's state.
    Emulator {
        #[command(subcommand)]
        command: EmulatorCommand,
    },
    /// Reset TempPass trials (management API).
    ResetTemppass {
        /// The TempPass MVPD id.
        #[arg(long)]
        mvpd: String,
        /// One device id.
        #[arg(long, group = "target")]
        device: Option<String>,
        /// Every device.
        #[arg(long, group = "target")]
        all_devices: bool,
        /// One user's e-mail (hashed).
        #[arg(long, group = "target")]
        identity: Option<String>,
        /// Every promotional identity.
        #[arg(long, group = "target")]
        all_identities: bool,
    },
}

#[derive(Subcommand, Debug, Clone)]
enum EmulatorCommand {
    /// Forget everything the in-process emulator and the SDK kept for it (logins, clients,
    /// tokens, TempPass usage, clock).
    Reset,
    /// Where the state is kept.
    Path,
}

/// The state directory: `--state-dir` (or `$TVPASS_STATE_DIR`), else `tvpass` under the user's
/// data directory: `$XDG_DATA_HOME/tvpass`, `~/.local/share/tvpass`,
/// `~/Library/Application Support/tvpass` on macOS, `%APPDATA%\\tvpass` on Windows. Never a
/// shared folder such as /tmp: without a per-user directory (the variables unset, empty or not
/// absolute), [`PassError::InvalidConfiguration`] names the flag to give.
fn state_dir(cli: &Cli) -> Result<std::path::PathBuf, PassError> {
    // An empty --state-dir or TVPASS_STATE_DIR is a usage error already (clap's).
    match &cli.state_dir {
        Some(dir) => Ok(dir.clone()),
        None => default_state_dir(|k| std::env::var_os(k)),
    }
}

/// The per-user state directory from the environment `env`, or the error naming the flag.
fn default_state_dir(
    env: impl Fn(&str) -> Option<std::ffi::OsString>,
) -> Result<std::path::PathBuf, PassError> {
    // Set and absolute (the XDG specification ignores a relative path).
    let env = |k: &str| {
        env(k)
            .map(std::path::PathBuf::from)
            .filter(|p| p.is_absolute())
    };
    let base = if cfg!(windows) {
        env("APPDATA")
    } else if cfg!(target_os = "macos") {
        env("HOME").map(|h| h.join("Library/Application Support"))
    } else {
        env("XDG_DATA_HOME").or_else(|| env("HOME").map(|h| h.join(".local/share")))
    };
    let vars = if cfg!(windows) {
        "APPDATA is"
    } else if cfg!(target_os = "macos") {
        "HOME is"
    } else {
        "XDG_DATA_HOME and HOME are"
    };
    base.map(|b| b.join("tvpass")).ok_or_else(|| {
        config_error(
            "state_dir",
            format!(
                "no per-user data directory ({vars} unset or not an absolute path): give \
                 --state-dir DIR or set TVPASS_STATE_DIR"
            ),
        )
    })
}

enum Outcome {
    Failed,
    Ok,
    Deny,
}

fn profile_json(p: &Profile) -> Value {
    let attrs: serde_json::Map<String, Value> = p
        .attributes
        .iter()
        .map(|(k, a)| {
            (
                k.clone(),
                json!({"value": a.value, "encrypted": a.encrypted}),
            )
        })
        .collect();
    let mut v = json!({
        "mvpd": p.mvpd, "notBefore": p.not_before_ms, "notAfter": p.not_after_ms,
        "issuer": p.issuer, "type": format!("{:?}", p.profile_type), "attributes": attrs,
    });
    if let Some(tp) = &p.temp_pass {
        v["tempPass"] = json!({"expiration": tp.expiration_ms, "remainingResources": tp.remaining_resources, "usedAssets": tp.used_assets});
    }
    v
}

fn decision_json(d: &Decision) -> Value {
    match d {
        Decision::Permit {
            resource,
            mvpd,
            source,
            media_token,
            not_after_ms,
        } => json!({
            "resource": resource, "mvpd": mvpd, "decision": "permit", "source": format!("{source:?}"),
            "mediaToken": media_token.as_ref().map(|t| json!({"notBefore": t.not_before_ms, "notAfter": t.not_after_ms, "present": true})),
            "notAfter": not_after_ms,
        }),
        Decision::Deny {
            resource,
            mvpd,
            source,
            reason,
            error,
        } => json!({
            "resource": resource, "mvpd": mvpd, "decision": "deny", "source": format!("{source:?}"),
            "reason": format!("{reason:?}"), "code": error.code, "message": error.message, "details": error.details,
            "action": error.action,
        }),
    }
}

struct Out {
    json: bool,
}

impl Out {
    fn print(&self, v: Value, text: String) {
        if self.json {
            println!("{v}");
        } else {
            println!("{text}");
        }
    }

    fn decisions(&self, ds: &[Decision]) -> Outcome {
        for d in ds {
            let text = match d {
                Decision::Permit {
                    resource,
                    media_token: Some(t),
                    ..
                } => format!(
                    "{}: permit (media token until {})",
                    human::resource(resource),
                    human::until(t.not_after_ms, human::now_ms())
                ),
                Decision::Permit { resource, .. } => {
                    format!("{}: permit", human::resource(resource))
                }
                Decision::Deny {
                    resource,
                    reason,
                    error,
                    ..
                } => format!(
                    "{}: deny {reason:?}: {}",
                    human::resource(resource),
                    error.message
                ),
            };
            self.print(decision_json(d), text);
        }
        if ds.iter().any(|d| !d.is_permit()) {
            Outcome::Deny
        } else {
            Outcome::Ok
        }
    }
}

/// Where the in-process emulator keeps its state and the SDK its values for it.
fn emulator_dir(cli: &Cli) -> Result<std::path::PathBuf, PassError> {
    Ok(state_dir(cli)?.join("emulator"))
}

/// Runs a command; with the in-process emulator, its state is loaded first and saved after,
/// whatever the outcome.
async fn run(cli: Cli, out: &Out) -> Result<Outcome, PassError> {
    match &cli.command {
        Command::Completions { shell } => {
            let mut script = Vec::new();
            clap_complete::generate(*shell, &mut Cli::command(), "tvpass", &mut script);
            // A closed pipe (`| head`) is not an error of ours.
            let _ = std::io::Write::write_all(&mut std::io::stdout(), &script);
            return Ok(Outcome::Ok);
        }
        Command::Emulator { command } => {
            let dir = emulator_dir(&cli)?;
            match command {
                EmulatorCommand::Reset => {
                    match std::fs::remove_dir_all(&dir) {
                        Ok(()) => {}
                        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                        Err(e) => {
                            return Err(PassError::Storage(format!("{}: {e}", dir.display())))
                        }
                    }
                    out.print(
                        json!({"reset": true, "path": dir}),
                        format!("emulator state cleared ({})", dir.display()),
                    );
                }
                EmulatorCommand::Path => out.print(json!({"path": dir}), dir.display().to_string()),
            }
            return Ok(Outcome::Ok);
        }
        Command::Doctor => {
            let Some(base) = &cli.base_url else {
                return Err(config_error(
                    "base_url",
                    "doctor checks a server: give --base-url",
                ));
            };
            let checks = doctor::run(base, &cli.service_provider, &cli.software_statement).await;
            for c in &checks {
                out.print(
                    json!({"check": c.name, "ok": c.ok, "detail": c.detail, "fix": c.fix}),
                    format!(
                        "{:<24} {}  {}{}",
                        c.name,
                        if c.ok { "PASS" } else { "FAIL" },
                        c.detail,
                        if c.ok {
                            String::new()
                        } else {
                            format!("\n{:<24}       fix: {}", "", c.fix)
                        }
                    ),
                );
            }
            return Ok(if checks.iter().all(|c| c.ok) {
                Outcome::Ok
            } else {
                Outcome::Failed
            });
        }
        _ => {}
    }
    let Some(base) = cli.base_url.clone() else {
        let dir = emulator_dir(&cli)?;
        let state = dir.join("state.json");
        let mut config = EmulatorConfig::default();
        // One person at a keyboard: the SDK paces itself, the emulator need not throttle.
        config.throttling.enabled = false;
        let emulator = Emulator::start(config)
            .await
            .map_err(|e| PassError::Network(e.to_string()))?;
        emulator
            .load_state(&state)
            .map_err(|e| PassError::Storage(e.to_string()))?;
        let result = run_with(&cli, out, Some(&emulator), emulator.base_url(), &dir).await;
        emulator
            .save_state(&state)
            .map_err(|e| PassError::Storage(e.to_string()))?;
        return result;
    };
    let dir = state_dir(&cli)?;
    run_with(&cli, out, None, base, &dir).await
}

async fn run_with(
    cli: &Cli,
    out: &Out,
    emulator: Option<&Emulator>,
    base: String,
    storage_dir: &std::path::Path,
) -> Result<Outcome, PassError> {
    let storage: Option<Arc<dyn Storage>> = Some(Arc::new(
        FileStorage::new(storage_dir).map_err(|e| PassError::Storage(e.to_string()))?,
    ));
    let mut b = PassClient::builder()
        .environment(Environment::Custom(base.clone()))
        .service_provider(&cli.service_provider)
        .software_statement(&cli.software_statement)
        .device_info(DeviceInfo {
            primary_hardware_type: Some("Desktop".into()),
            ..Default::default()
        });
    if let Some(s) = &storage {
        b = b.storage(s.clone());
    }
    if emulator.is_some() {
        // The in-process emulator listens on a new port each run: keep one namespace.
        b = b.storage_namespace("emulator");
    }
    if let Some(id) = &cli.device_id {
        b = b.device_id(id);
    }
    if let Some(t) = &cli.subject_token {
        b = b.platform_identity(PlatformIdentity::adobe_subject_token(t));
    }
    if let Some(t) = &cli.roku_connect_token {
        b = b.platform_identity(PlatformIdentity::roku_connect_token(t));
    }
    if let Some(t) = &cli.service_token {
        b = b.service_token(t);
    }
    if let Some(v) = &cli.visitor_id {
        b = b.visitor_id(v);
    }
    let client = b.build()?;
    match cli.command.clone() {
        Command::Configuration => {
            let c = client.configuration().await?;
            for m in &c.mvpds {
                out.print(
                    json!({"id": m.id, "displayName": m.display_name, "logoUrl": m.logo_url, "isTempPass": m.is_temp_pass}),
                    format!("{}\t{}{}", m.id, m.display_name, if m.is_temp_pass { "\t(TempPass)" } else { "" }),
                );
            }
            Ok(Outcome::Ok)
        }
        Command::Login {
            mvpd,
            partner: Some(partner),
            provider_id,
            saml_response,
            partner_expiry,
        } => {
            let partner = if partner.eq_ignore_ascii_case(PARTNER_APPLE) {
                PARTNER_APPLE.to_string()
            } else {
                partner
            };
            let provider = match (provider_id, &mvpd) {
                (Some(p), _) => p,
                (None, Some(m)) => client
                    .configuration()
                    .await?
                    .mvpd(m)
                    .and_then(|m| m.platform_mapping_id.clone())
                    .ok_or_else(|| config_error("mvpd", "the MVPD has no platform mapping id"))?,
                (None, None) => return Err(config_error("provider_id", "required")),
            };
            // What the platform framework reports for a user logged in with the provider, with the
            // login's expiration date, which the header requires.
            let expiry = match (partner_expiry, &emulator) {
                (Some(ms), _) => ms,
                (None, Some(emu)) => emu.partner_login_expiration_ms(),
                (None, None) => {
                    return Err(config_error(
                        "partner_expiry",
                        "the partner framework's login expiration date is required",
                    ))
                }
            };
            let status = PartnerFrameworkStatus::granted(provider, expiry);
            let s = client.partner_session(&partner, &status).await?;
            let Some(request) = s.authentication_request.clone() else {
                // A fallback to the basic flow, or a profile that already applies.
                if s.action != SessionAction::Authorize {
                    out.print(
                        json!({"partnerFallback": format!("{:?}", s.reason)}),
                        format!("{partner} single sign-on is not available ({:?}); logging in with the MVPD", s.reason),
                    );
                }
                return basic_login(&client, emulator, s, mvpd.as_deref(), out).await;
            };
            let saml = match (saml_response, &emulator) {
                (Some(path), _) => std::fs::read_to_string(&path).map_err(|e| {
                    config_error("saml_response", format!("{}: {e}", path.display()))
                })?,
                (None, Some(emu)) => emu
                    .partner_login(&partner, &request.request, Default::default())
                    .map_err(PassError::Protocol)?,
                (None, None) => {
                    out.print(
                        json!({"authenticationRequest": {"type": request.protocol, "request": request.request, "attributesNames": request.attribute_names}}),
                        format!(
                            "give this request to the {partner} framework, then run again with --saml-response FILE:\n{}",
                            request.request
                        ),
                    );
                    return Err(config_error(
                        "saml_response",
                        "the partner framework's response is needed",
                    ));
                }
            };
            match client.partner_profile(&partner, &status, &saml).await? {
                Some(p) => out.print(
                    profile_json(&p),
                    format!(
                        "logged in with {} through {partner} until {}",
                        p.mvpd,
                        human::until(p.not_after_ms, human::now_ms())
                    ),
                ),
                None => out.print(
                    json!({"profile": null}),
                    "no profile: partner single sign-on is off for this MVPD".into(),
                ),
            }
            Ok(Outcome::Ok)
        }
        Command::Login { mvpd, .. } => {
            let mvpd = mvpd.unwrap_or_default();
            let s = client.create_session(&mvpd).await?;
            basic_login(&client, emulator, s, None, out).await
        }
        Command::Profiles { cached } => {
            let profiles = if cached {
                client.cached_profiles()
            } else {
                client.refresh_profiles().await?
            };
            for p in profiles {
                out.print(
                    profile_json(&p),
                    format!(
                        "{}\t{:?}\tuntil {}",
                        p.mvpd,
                        p.profile_type,
                        human::until(p.not_after_ms, human::now_ms())
                    ),
                );
            }
            Ok(Outcome::Ok)
        }
        Command::Preauthorize { mvpd, resources } => {
            let refs: Vec<&str> = resources.iter().map(String::as_str).collect();
            Ok(out.decisions(&client.preauthorize(&mvpd, &refs).await?))
        }
        Command::Authorize { mvpd, resource } => {
            Ok(out.decisions(&[client.authorize(&mvpd, &resource).await?]))
        }
        Command::Temppass {
            mvpd,
            resource,
            identity,
        } => {
            let id = identity
                .as_deref()
                .map(TempPassIdentity::email)
                .transpose()?;
            Ok(out.decisions(&[client
                .authorize_temp_pass(&mvpd, &resource, id.as_ref())
                .await?]))
        }
        Command::Logout { mvpd } => {
            let a = client.logout(&mvpd).await?;
            let text = match &a {
                LogoutAction::OpenUrl { url } => format!("open {url} to finish"),
                other => format!("{other:?}"),
            };
            let url = match &a {
                LogoutAction::OpenUrl { url } => Some(url.clone()),
                _ => None,
            };
            out.print(json!({"mvpd": mvpd, "action": format!("{a:?}").split([' ', '{']).next().unwrap_or(""), "url": url}), text);
            Ok(Outcome::Ok)
        }
        // Handled in `run` before any client is built.
        Command::Doctor | Command::Completions { .. } | Command::Emulator { .. } => {
            Err(config_error("command", "not a client command"))
        }
        Command::ResetTemppass {
            mvpd,
            device,
            all_devices,
            identity,
            all_identities,
        } => {
            let target = match (device, all_devices, identity, all_identities) {
                (Some(d), ..) => ResetTarget::Device(d),
                (_, true, ..) => ResetTarget::AllDevices,
                (_, _, Some(i), _) => {
                    ResetTarget::Identity(TempPassIdentity::email(&i)?.hash().to_string())
                }
                (.., true) => ResetTarget::AllIdentities,
                _ => ResetTarget::Device(client.device_id().expose().to_string()),
            };
            let m =
                ManagementClient::new(Environment::Custom(base), &cli.software_statement, storage)?;
            m.reset(&cli.service_provider, &mvpd, target).await?;
            out.print(json!({"mvpd": mvpd, "reset": true}), "reset".into());
            Ok(Outcome::Ok)
        }
    }
}

fn config_error(setting: &'static str, reason: impl Into<String>) -> PassError {
    PassError::InvalidConfiguration {
        setting,
        reason: reason.into(),
    }
}

/// The basic flow after a session: resume it when parameters are missing, show the code,
/// complete it on the in-process emulator, and wait for the profile.
async fn basic_login(
    client: &PassClient,
    emulator: Option<&Emulator>,
    mut s: tvpass::Session,
    mvpd: Option<&str>,
    out: &Out,
) -> Result<Outcome, PassError> {
    if let (SessionAction::Resume, Some(code), Some(m)) = (&s.action, s.code.clone(), mvpd) {
        s = client.resume_session(&code, m).await?;
        s.code.get_or_insert(code);
    }
    let Some(code) = s.code.clone() else {
        out.print(json!({"mvpd": s.mvpd, "action": format!("{:?}", s.action), "reason": format!("{:?}", s.reason)}), format!("no login needed: {:?}", s.reason));
        return Ok(Outcome::Ok);
    };
    out.print(
        json!({"code": code, "url": client.authentication_url(&code)}),
        format!("Open {} (code {code})", client.authentication_url(&code)),
    );
    if let Some(emu) = emulator {
        emu.complete_authentication(&code, Default::default())
            .map_err(PassError::Protocol)?;
    }
    let countdown = human::Countdown::start(!out.json, &code, s.not_after_ms);
    let p = client.await_profile_with(&s, Some(&countdown)).await;
    countdown.finish().await;
    let p = p?;
    out.print(
        profile_json(&p),
        format!(
            "logged in with {} until {}",
            p.mvpd,
            human::until(p.not_after_ms, human::now_ms())
        ),
    );
    Ok(Outcome::Ok)
}

#[tokio::main]
async fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = Out { json: cli.json };
    match run(cli, &out).await {
        Ok(Outcome::Ok) => ExitCode::SUCCESS,
        Ok(Outcome::Deny) => ExitCode::from(3),
        Ok(Outcome::Failed) => ExitCode::from(1),
        Err(e) => {
            if out.json {
                println!(
                    "{}",
                    json!({"error": e.to_string(), "code": e.enhanced().map(|x| x.code.clone())})
                );
            } else {
                eprintln!("error: {e}");
            }
            ExitCode::from(1)
        }
    }
}
