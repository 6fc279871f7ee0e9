//! tvpass for the web TV platforms (Samsung Tizen, LG webOS) and other JavaScript hosts: the Rust
//! SDK compiled to WebAssembly, sending through `fetch`, keeping its state in `localStorage` or
//! the app's own store, and answering with plain JavaScript objects. Every method returns a
//! Promise and takes an optional `{ signal }` (an `AbortSignal`) that ends the call at once.
//!
//! Results: `Decision` is `{ kind: "permit" | "deny", resource, mvpd, ... }`; errors are `Error`s
//! named `PassError` with a `code` (`network`, `timeout`, `throttled`, `server`, ...).

mod logger;
mod storage;
mod transport;

use js_sys::{Array, Object, Promise, Reflect};
use std::sync::Arc;
use tvpass::{
    Configuration, Decision, DeviceInfo, Environment, LogoutAction, PassError, PlatformIdentity,
    Profile, RateLimit, Session, TempPassIdentity,
};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::{future_to_promise, JsFuture};

pub use logger::set_logger;

fn get(obj: &JsValue, key: &str) -> JsValue {
    Reflect::get(obj, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
}

fn opt_string(obj: &JsValue, key: &str) -> Option<String> {
    get(obj, key).as_string()
}

fn set(obj: &Object, key: &str, value: impl Into<JsValue>) {
    let _ = Reflect::set(obj, &JsValue::from_str(key), &value.into());
}

fn set_opt(obj: &Object, key: &str, value: Option<impl Into<JsValue>>) {
    if let Some(v) = value {
        set(obj, key, v);
    }
}

/// A JavaScript `Error` named `PassError` with `code` and the details of the SDK's error; no
/// secret is in it.
fn js_error(e: &PassError) -> JsValue {
    let err = js_sys::Error::new(&e.to_string());
    err.set_name("PassError");
    let obj: &Object = err.as_ref();
    let code = match e {
        PassError::InvalidConfiguration { setting, .. } => {
            set(obj, "setting", *setting);
            "invalidConfiguration"
        }
        PassError::Network(_) => "network",
        PassError::Timeout(_) => "timeout",
        PassError::Throttled => "throttled",
        PassError::Server { status, .. } => {
            set(obj, "status", *status);
            "server"
        }
        PassError::Protocol(_) => "protocol",
        PassError::RegistrationRejected(_) => "registrationRejected",
        PassError::AuthenticationExpired => "authenticationExpired",
        PassError::SessionReplaced => "sessionReplaced",
        PassError::Cancelled => "cancelled",
        PassError::Storage(_) => "storage",
        PassError::Unavailable { retry_after } => {
            set(obj, "retryAfterMs", retry_after.as_millis() as f64);
            "unavailable"
        }
        _ => "other",
    };
    set(obj, "code", code);
    if let Some(ee) = e.enhanced() {
        set(obj, "errorCode", ee.code.as_str());
        set(obj, "action", ee.action.as_str());
    }
    err.into()
}

fn config_error(setting: &'static str, reason: impl Into<String>) -> JsValue {
    js_error(&PassError::InvalidConfiguration {
        setting,
        reason: reason.into(),
    })
}

/// The name of an enum variant as `lowerCamel` (`ParentalControls` → `parentalControls`).
fn variant_name(debug: String) -> String {
    let word: String = debug.chars().take_while(|c| c.is_alphanumeric()).collect();
    let mut chars = word.chars();
    match chars.next() {
        Some(first) => first.to_lowercase().chain(chars).collect(),
        None => word,
    }
}

fn decision_js(d: &Decision) -> JsValue {
    let o = Object::new();
    let (Decision::Permit {
        resource,
        mvpd,
        source,
        ..
    }
    | Decision::Deny {
        resource,
        mvpd,
        source,
        ..
    }) = d;
    set(&o, "resource", resource.as_str());
    set(&o, "mvpd", mvpd.as_str());
    set(&o, "source", variant_name(format!("{source:?}")));
    match d {
        Decision::Permit { media_token, .. } => {
            set(&o, "kind", "permit");
            if let Some(t) = media_token {
                let token = Object::new();
                set(&token, "serialized", t.serialized.expose());
                set(&token, "notBefore", t.not_before_ms as f64);
                set(&token, "notAfter", t.not_after_ms as f64);
                set(&o, "mediaToken", token);
            }
        }
        Decision::Deny { reason, error, .. } => {
            set(&o, "kind", "deny");
            set(&o, "reason", variant_name(format!("{reason:?}")));
            let e = Object::new();
            set(&e, "code", error.code.as_str());
            set(&e, "message", error.message.as_str());
            set(&e, "status", error.status);
            set(&e, "action", error.action.as_str());
            set_opt(&e, "details", error.details.as_deref());
            set_opt(&e, "helpUrl", error.help_url.as_deref());
            set(&o, "error", e);
        }
    }
    o.into()
}

fn profile_js(p: &Profile) -> JsValue {
    let o = Object::new();
    set(&o, "mvpd", p.mvpd.as_str());
    set(&o, "type", variant_name(format!("{:?}", p.profile_type)));
    set(&o, "issuer", p.issuer.as_str());
    set(&o, "notBefore", p.not_before_ms as f64);
    set(&o, "notAfter", p.not_after_ms as f64);
    let attributes = Object::new();
    for (k, a) in &p.attributes {
        set(&attributes, k, a.value.as_str());
    }
    set(&o, "attributes", attributes);
    if let Some(t) = &p.temp_pass {
        let info = Object::new();
        set_opt(&info, "remainingResources", t.remaining_resources);
        set_opt(&info, "expiration", t.expiration_ms.map(|v| v as f64));
        set(
            &info,
            "usedAssets",
            t.used_assets
                .iter()
                .map(|s| JsValue::from_str(s))
                .collect::<Array>(),
        );
        set(&o, "tempPass", info);
    }
    o.into()
}

fn configuration_js(c: &Configuration) -> JsValue {
    let o = Object::new();
    set(&o, "serviceProvider", c.service_provider.as_str());
    set(&o, "name", c.name.as_str());
    let mvpds = Array::new();
    for m in &c.mvpds {
        let j = Object::new();
        set(&j, "id", m.id.as_str());
        set(&j, "displayName", m.display_name.as_str());
        set_opt(&j, "logoUrl", m.logo_url.as_deref());
        set(&j, "isTempPass", m.is_temp_pass);
        mvpds.push(&j);
    }
    set(&o, "mvpds", mvpds);
    set(
        &o,
        "pickerMvpds",
        c.picker_mvpds()
            .iter()
            .map(|m| JsValue::from_str(&m.id))
            .collect::<Array>(),
    );
    o.into()
}

/// A session for JavaScript; `session.code` is what the user types on the second screen.
#[wasm_bindgen]
pub struct AuthSession {
    inner: Session,
}

#[wasm_bindgen]
impl AuthSession {
    /// What comes next: `authenticate`, `resume`, `authorize`, `partnerProfile`.
    #[wasm_bindgen(getter)]
    pub fn action(&self) -> String {
        variant_name(format!("{:?}", self.inner.action))
    }

    /// The code to show, if any.
    #[wasm_bindgen(getter)]
    pub fn code(&self) -> Option<String> {
        self.inner.code.clone()
    }

    /// The MVPD, if known.
    #[wasm_bindgen(getter)]
    pub fn mvpd(&self) -> Option<String> {
        self.inner.mvpd.clone()
    }

    /// The page that logs the user in, if any.
    #[wasm_bindgen(getter)]
    pub fn url(&self) -> Option<String> {
        self.inner.url.clone()
    }
}

fn logout_js(l: &LogoutAction) -> JsValue {
    let o = Object::new();
    match l {
        LogoutAction::OpenUrl { url } => {
            set(&o, "kind", "openUrl");
            set(&o, "url", url.as_str());
        }
        other => set(&o, "kind", variant_name(format!("{other:?}"))),
    }
    o.into()
}

/// Ends when `signal` aborts (or never, without one), with the signal's reason: an `Error` named
/// `AbortError` on engines whose signals carry none (Chromium before 98). The signal is read by
/// shape (`aborted`, `addEventListener`), so a polyfilled one works on engines without
/// `AbortSignal` (Chromium before 66).
fn aborted(options: &JsValue) -> Option<JsFuture> {
    let signal = get(options, "signal");
    if !signal.is_object() || !get(&signal, "addEventListener").is_function() {
        return None;
    }
    let signal: web_sys::AbortSignal = signal.unchecked_into();
    let promise = Promise::new(&mut |_resolve, reject| {
        if get(&signal, "aborted").is_truthy() {
            let _ = reject.call1(&JsValue::UNDEFINED, &reason(&signal));
            return;
        }
        let s = signal.clone();
        let on_abort = Closure::once_into_js(move || {
            let _ = reject.call1(&JsValue::UNDEFINED, &reason(&s));
        });
        let _ = signal.add_event_listener_with_callback("abort", on_abort.unchecked_ref());
    });
    Some(JsFuture::from(promise))
}

/// Why a signal aborted: its `reason`, or an `Error` named `AbortError` where it has none.
fn reason(signal: &web_sys::AbortSignal) -> JsValue {
    let reason = get(signal, "reason");
    if !reason.is_undefined() {
        return reason;
    }
    let error = js_sys::Error::new("The operation was aborted.");
    error.set_name("AbortError");
    error.into()
}

/// Runs `call` as a Promise that the options' `signal` can end at once: the call's future is
/// dropped, its request aborted.
fn promise<F>(options: &JsValue, call: F) -> Promise
where
    F: std::future::Future<Output = Result<JsValue, JsValue>> + 'static,
{
    let abort = aborted(options);
    future_to_promise(async move {
        match abort {
            None => call.await,
            Some(abort) => {
                use futures_util::future::{select, Either};
                let call = std::pin::pin!(call);
                match select(call, abort).await {
                    Either::Left((result, _)) => result,
                    Either::Right((reason, _)) => Err(reason.err().unwrap_or(JsValue::UNDEFINED)),
                }
            }
        }
    })
}

/// The SDK's client for JavaScript.
#[wasm_bindgen]
pub struct PassClient {
    inner: tvpass::PassClient,
}

#[wasm_bindgen]
impl PassClient {
    /// `new PassClient({ baseUrl, serviceProvider, softwareStatement, deviceInfo, deviceId?,
    /// storage?, paceRequests?, requestTimeoutMs? })`: every setting is checked here. `storage` is an object with
    /// `get`, `set` and `remove` (default: `localStorage`).
    #[wasm_bindgen(constructor)]
    pub fn new(options: JsValue) -> Result<PassClient, JsValue> {
        let base =
            opt_string(&options, "baseUrl").ok_or_else(|| config_error("baseUrl", "required"))?;
        let environment = match base.trim_end_matches('/') {
            "https://api.auth.adobe.com" => Environment::Production,
            "https://api.auth-staging.adobe.com" => Environment::Staging,
            other => Environment::Custom(other.to_string()),
        };
        let info = get(&options, "deviceInfo");
        let device_info = DeviceInfo {
            primary_hardware_type: opt_string(&info, "primaryHardwareType"),
            model: opt_string(&info, "model"),
            version: opt_string(&info, "version"),
            manufacturer: opt_string(&info, "manufacturer"),
            vendor: opt_string(&info, "vendor"),
            os_name: opt_string(&info, "osName"),
            os_family: opt_string(&info, "osFamily"),
            os_vendor: opt_string(&info, "osVendor"),
            os_version: opt_string(&info, "osVersion"),
            browser_name: opt_string(&info, "browserName"),
            browser_vendor: opt_string(&info, "browserVendor"),
            browser_version: opt_string(&info, "browserVersion"),
            user_agent: opt_string(&info, "userAgent"),
            ..Default::default()
        };
        let storage = match get(&options, "storage") {
            v if v.is_undefined() || v.is_null() => storage::JsStorage::local_storage(),
            v => storage::JsStorage::object(v),
        }
        .map_err(|reason| config_error("storage", reason))?;
        let mut b = tvpass::PassClient::builder()
            .environment(environment)
            .service_provider(opt_string(&options, "serviceProvider").unwrap_or_default())
            .software_statement(opt_string(&options, "softwareStatement").unwrap_or_default())
            .device_info(device_info)
            .storage(Arc::new(storage))
            .http_transport(Arc::new(transport::FetchTransport));
        if let Some(id) = opt_string(&options, "deviceId") {
            b = b.device_id(id);
        }
        if let Some(ms) = get(&options, "requestTimeoutMs").as_f64() {
            if !ms.is_finite() || ms < 0.0 {
                return Err(config_error(
                    "request_timeout",
                    "must be a number of milliseconds",
                ));
            }
            b = b.request_timeout(std::time::Duration::from_millis(ms as u64));
        }
        if get(&options, "paceRequests").as_bool() == Some(false) {
            b = b.rate_limit(RateLimit {
                enabled: false,
                ..RateLimit::default()
            });
        }
        let inner = b.build().map_err(|e| js_error(&e))?;
        Ok(PassClient { inner })
    }

    /// The configuration: `{ serviceProvider, name, mvpds, pickerMvpds }`.
    pub fn configuration(&self, options: JsValue) -> Promise {
        let c = self.inner.clone();
        promise(&options, async move {
            c.configuration()
                .await
                .map(|c| configuration_js(&c))
                .map_err(|e| js_error(&e))
        })
    }

    /// Starts an authentication session with an MVPD.
    #[wasm_bindgen(js_name = createSession)]
    pub fn create_session(&self, mvpd: String, options: JsValue) -> Promise {
        let c = self.inner.clone();
        promise(&options, async move {
            c.create_session(&mvpd)
                .await
                .map(|s| AuthSession { inner: s }.into())
                .map_err(|e| js_error(&e))
        })
    }

    /// The page the user opens (on this or a second screen) for a session code.
    #[wasm_bindgen(js_name = authenticationUrl)]
    pub fn authentication_url(&self, code: String) -> String {
        self.inner.authentication_url(&code)
    }

    /// Polls until the user finished logging in; abort the signal to stop.
    #[wasm_bindgen(js_name = awaitProfile)]
    pub fn await_profile(&self, session: &AuthSession, options: JsValue) -> Promise {
        let c = self.inner.clone();
        let s = session.inner.clone();
        promise(&options, async move {
            c.await_profile(&s)
                .await
                .map(|p| profile_js(&p))
                .map_err(|e| js_error(&e))
        })
    }

    /// The device's profiles.
    pub fn profiles(&self, options: JsValue) -> Promise {
        let c = self.inner.clone();
        promise(&options, async move {
            c.profiles()
                .await
                .map(|ps| ps.iter().map(profile_js).collect::<Array>().into())
                .map_err(|e| js_error(&e))
        })
    }

    /// Preauthorization of resources (catalogue filtering only), in batches.
    pub fn preauthorize(&self, mvpd: String, resources: Vec<String>, options: JsValue) -> Promise {
        let c = self.inner.clone();
        promise(&options, async move {
            let refs: Vec<&str> = resources.iter().map(String::as_str).collect();
            c.preauthorize(&mvpd, &refs)
                .await
                .map(|ds| ds.iter().map(decision_js).collect::<Array>().into())
                .map_err(|e| js_error(&e))
        })
    }

    /// Authorization before playback: a `Decision`.
    pub fn authorize(&self, mvpd: String, resource: String, options: JsValue) -> Promise {
        let c = self.inner.clone();
        promise(&options, async move {
            c.authorize(&mvpd, &resource)
                .await
                .map(|d| decision_js(&d))
                .map_err(|e| js_error(&e))
        })
    }

    /// TempPass: basic, or promotional with `{ email }` (hashed on the device, never sent raw).
    #[wasm_bindgen(js_name = authorizeTempPass)]
    pub fn authorize_temp_pass(&self, mvpd: String, resource: String, options: JsValue) -> Promise {
        let c = self.inner.clone();
        let email = opt_string(&options, "email");
        promise(&options, async move {
            let identity = email
                .map(|e| TempPassIdentity::email(&e))
                .transpose()
                .map_err(|e| js_error(&e))?;
            c.authorize_temp_pass(&mvpd, &resource, identity.as_ref())
                .await
                .map(|d| decision_js(&d))
                .map_err(|e| js_error(&e))
        })
    }

    /// Logout: `{ kind: "openUrl", url }` or `{ kind: "complete" | ... }`.
    pub fn logout(&self, mvpd: String, options: JsValue) -> Promise {
        let c = self.inner.clone();
        promise(&options, async move {
            c.logout(&mvpd)
                .await
                .map(|l| logout_js(&l))
                .map_err(|e| js_error(&e))
        })
    }

    /// A platform identity's subject token (`null` clears).
    #[wasm_bindgen(js_name = setSubjectToken)]
    pub fn set_subject_token(&self, token: Option<String>) -> Result<(), JsValue> {
        self.inner
            .set_platform_identity(token.map(PlatformIdentity::adobe_subject_token))
            .map_err(|e| js_error(&e))
    }

    /// A service token (`null` clears).
    #[wasm_bindgen(js_name = setServiceToken)]
    pub fn set_service_token(&self, token: Option<String>) -> Result<(), JsValue> {
        self.inner
            .set_service_token(token.as_deref())
            .map_err(|e| js_error(&e))
    }

    /// The Experience Cloud visitor id (`null` clears).
    #[wasm_bindgen(js_name = setVisitorId)]
    pub fn set_visitor_id(&self, ecid: Option<String>) -> Result<(), JsValue> {
        self.inner
            .set_visitor_id(ecid.as_deref())
            .map_err(|e| js_error(&e))
    }
}
