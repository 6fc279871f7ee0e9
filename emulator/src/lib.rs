//! # tvpass-emulator
//!
//! A faithful local server for the Adobe Pass Authentication REST API V2, Dynamic Client
//! Registration and the TempPass reset API, for tests, examples, benchmarks and app developers.
//! State lives in memory; the clock can be advanced so that tokens, sessions, profiles and
//! TempPass expire without sleeping; faults can be injected on request; every request is logged.
//!
//! ```no_run
//! # async fn demo() {
//! use tvpass_emulator::{Emulator, EmulatorConfig};
//! let emulator = Emulator::start(EmulatorConfig::default()).await.unwrap();
//! println!("serving on {}", emulator.base_url());
//! emulator.advance(std::time::Duration::from_secs(3600)); // an hour passes
//! # }
//! ```

#![warn(missing_docs)]
// Handlers return early with a ready HTTP answer as the error; boxing it would only add noise.
#![allow(clippy::result_large_err)]

pub mod admin;
pub mod api;
pub mod clock;
pub mod config;
pub mod errors;
pub mod exchanges;
pub mod faults;
pub mod headers;
pub mod middleware;
pub mod persist;
pub mod sso;
pub mod state;
pub mod temppass;

pub use config::{
    Degradation, EmulatorConfig, MvpdConfig, ServiceProviderConfig, SoftwareStatementConfig,
    TempPassConfig, ThrottlingConfig, DEFAULT_SERVICE_PROVIDER, DEFAULT_SOFTWARE_STATEMENT,
};

/// How long the emulated partner framework's provider login lasts, in days.
pub const PARTNER_LOGIN_DAYS: i64 = 30;
pub use faults::{Fault, FaultRule};
pub use persist::{StateError, STATE_FORMAT};
pub use state::LoggedRequest;

use axum::routing::{delete, get, post, put};
use axum::Router;
use serde_json::{Map, Value};
use state::Shared;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::oneshot;

/// The router serving every emulated endpoint and the admin API.
pub fn router(shared: Arc<Shared>) -> Router {
    use api::*;
    Router::new()
        .route("/o/client/register", post(dcr::register))
        .route("/o/client/token", post(dcr::token))
        .route(
            "/api/v2/{sp}/configuration",
            get(configuration::configuration),
        )
        .route("/api/v2/{sp}/sessions", post(sessions::create))
        .route(
            "/api/v2/{sp}/sessions/{code}",
            post(sessions::resume).get(sessions::retrieve),
        )
        .route("/api/v2/sessions/{sp}/{code}", get(sessions::retrieve))
        .route(
            "/api/v2/authenticate/{sp}/{code}",
            get(sessions::authenticate),
        )
        .route(
            "/api/v2/{sp}/sessions/sso/{partner}",
            post(partner::session),
        )
        .route(
            "/api/v2/{sp}/profiles/sso/{partner}",
            post(partner::profile),
        )
        .route("/api/v2/{sp}/profiles", get(profiles::all))
        .route("/api/v2/{sp}/profiles/{mvpd}", get(profiles::by_mvpd))
        .route("/api/v2/{sp}/profiles/code/{code}", get(profiles::by_code))
        .route(
            "/api/v2/{sp}/decisions/authorize/{mvpd}",
            post(decisions::authorize),
        )
        .route(
            "/api/v2/{sp}/decisions/preauthorize/{mvpd}",
            post(decisions::preauthorize),
        )
        .route("/api/v2/{sp}/logout/{mvpd}", get(logout::logout))
        .route("/reset-tempass/v3/reset", delete(reset::by_device))
        .route("/reset-tempass/v3/reset/generic", delete(reset::by_key))
        .route("/__emulator/clock", get(admin::clock))
        .route("/__emulator/clock/advance", post(admin::advance))
        .route("/__emulator/clock/skew", put(admin::skew))
        .route(
            "/__emulator/sessions/{code}/complete",
            post(admin::complete_session),
        )
        .route("/__emulator/clients/{id}/revoke", post(admin::revoke))
        .route(
            "/__emulator/partners/{partner}/login",
            post(admin::partner_login),
        )
        .route("/__emulator/reset", post(admin::reset))
        .route(
            "/__emulator/faults",
            post(admin::add_fault).delete(admin::clear_faults),
        )
        .route(
            "/__emulator/requests",
            get(admin::requests).delete(admin::clear_requests),
        )
        .route(
            "/__emulator/throttling",
            get(admin::throttling).put(admin::set_throttling),
        )
        .route(
            "/__emulator/mvpd/{sp}/{code}/login",
            get(admin::login_page).post(admin::login_submit),
        )
        .fallback(not_found)
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            middleware::pipeline,
        ))
        .layer(axum::middleware::from_fn_with_state(
            shared.clone(),
            middleware::cors,
        ))
        .with_state(shared)
}

async fn not_found() -> axum::response::Response {
    errors::json_response(
        axum::http::StatusCode::NOT_FOUND,
        &serde_json::json!({"status": 404, "code": "not_found", "message": "No such endpoint."}),
    )
}

pub(crate) fn revoke_client(shared: &Shared, client_id: &str) -> bool {
    match shared.state().clients.get_mut(client_id) {
        Some(c) => {
            c.revoked = true;
            true
        }
        None => false,
    }
}

/// A running emulator. Dropping it stops the server.
pub struct Emulator {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<oneshot::Sender<()>>,
}

impl std::fmt::Debug for Emulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Emulator")
            .field("addr", &self.addr)
            .finish()
    }
}

impl Emulator {
    /// Starts on a free port of 127.0.0.1.
    pub async fn start(config: EmulatorConfig) -> std::io::Result<Self> {
        Self::start_on(config, SocketAddr::from(([127, 0, 0, 1], 0))).await
    }

    /// Starts on the given address (port 0 picks a free one).
    pub async fn start_on(config: EmulatorConfig, addr: SocketAddr) -> std::io::Result<Self> {
        config
            .validate()
            .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e.0))?;
        let shared = Arc::new(Shared::new(config));
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let app = router(shared.clone()).into_make_service_with_connect_info::<SocketAddr>();
        let (stop, stopped) = oneshot::channel::<()>();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = stopped.await;
                })
                .await;
        });
        Ok(Self {
            shared,
            addr,
            stop: Some(stop),
        })
    }

    /// The bound address.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://127.0.0.1:<port>`.
    pub fn base_url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// The configuration it runs with.
    pub fn config(&self) -> &EmulatorConfig {
        &self.shared.config
    }

    /// Emulator time, in milliseconds since the Unix epoch.
    pub fn now_ms(&self) -> i64 {
        self.shared.clock.now_ms()
    }

    /// Moves the clock forward.
    pub fn advance(&self, by: Duration) {
        self.shared.clock.advance_ms(by.as_millis() as i64);
    }

    /// Sets the clock `ms` from real time, behind (negative) or ahead: the service as a device
    /// whose clock is off by `-ms` sees it. Every answer's `Date` and every time in the bodies
    /// follow it.
    pub fn set_clock_skew(&self, ms: i64) {
        self.shared.clock.set_skew_ms(ms);
    }

    /// Completes the authentication of the session with this code, as if the user logged in at
    /// the MVPD, giving the profile these attributes. Returns the `profiles` answer.
    pub fn complete_authentication(
        &self,
        code: &str,
        attributes: Map<String, Value>,
    ) -> Result<Value, String> {
        api::sessions::complete(&self.shared, code, &attributes)
    }

    /// The emulated partner framework (e.g. Apple's): the user logs in with the MVPD of this
    /// partner authentication request (`authenticationRequest.request`). Returns the SAML
    /// response text the framework hands to the app.
    pub fn partner_login(
        &self,
        partner: &str,
        request: &str,
        attributes: Map<String, Value>,
    ) -> Result<String, String> {
        api::partner::partner_login(&self.shared, partner, request, &attributes)
    }

    /// When the emulated partner framework says its provider login expires, ms on the
    /// emulator's clock: [`PARTNER_LOGIN_DAYS`] from now (the framework's authentication
    /// expiration date, which the `AP-Partner-Framework-Status` header carries).
    pub fn partner_login_expiration_ms(&self) -> i64 {
        self.now_ms() + PARTNER_LOGIN_DAYS * 86_400_000
    }

    /// Saves the protocol state (clients, tokens, sessions, profiles, TempPass usage, single
    /// sign-on state, clock) to a file, atomically.
    pub fn save_state(&self, path: &std::path::Path) -> Result<(), StateError> {
        persist::save(&self.shared, path)
    }

    /// Replaces the protocol state with a saved one; a missing file changes nothing, and a
    /// corrupt or newer-format file is refused (and left as it is).
    pub fn load_state(&self, path: &std::path::Path) -> Result<(), StateError> {
        persist::load(&self.shared, path)
    }

    /// Revokes a client's registration; its tokens then answer 401 `application-registration`.
    pub fn revoke_client(&self, client_id: &str) -> bool {
        revoke_client(&self.shared, client_id)
    }

    /// Client ids registered so far.
    pub fn client_ids(&self) -> Vec<String> {
        self.shared.state().clients.keys().cloned().collect()
    }

    /// Forgets all state, faults and log entries, and puts the clock back.
    pub fn reset(&self) {
        self.shared.reset();
    }

    /// Arms a fault for the next `count` requests whose path starts with `path_prefix`.
    pub fn inject_fault(&self, path_prefix: &str, fault: Fault, count: u32) {
        self.shared.faults().push(FaultRule {
            path: path_prefix.to_string(),
            method: None,
            fault,
            remaining: count,
        });
    }

    /// How many requests the armed faults still wait for. A fault is spent as its request
    /// arrives, before any delay it adds: a test waits for this to fall to know that a request
    /// reached the emulator.
    pub fn armed_faults(&self) -> u64 {
        self.shared
            .faults()
            .iter()
            .map(|r| u64::from(r.remaining))
            .sum()
    }

    /// Disarms every fault.
    pub fn clear_faults(&self) {
        self.shared.faults().clear();
    }

    /// Every request logged so far (admin calls excluded).
    pub fn requests(&self) -> Vec<LoggedRequest> {
        self.shared.log().iter().cloned().collect()
    }

    /// How many logged requests have a path starting with this prefix.
    pub fn count(&self, path_prefix: &str) -> usize {
        self.shared
            .log()
            .iter()
            .filter(|r| r.path.starts_with(path_prefix))
            .count()
    }

    /// Empties the request log.
    pub fn clear_requests(&self) {
        self.shared.log().clear();
    }

    /// Changes throttling (buckets start full again).
    pub fn set_throttling(&self, config: ThrottlingConfig) {
        let mut t = self.shared.throttle();
        t.config = config;
        t.buckets.clear();
    }

    /// Stops the server and waits until it no longer accepts connections.
    pub async fn shutdown(mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        tokio::task::yield_now().await;
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
    }
}
