//! The SDK's requests through the platform's `fetch`, in browsers, Tizen and webOS web apps, and
//! Node. Where the engine has `AbortController` (Chromium 66 and later), each request has its
//! own: when the SDK drops a request (its deadline passed, or the app's `AbortSignal` fired) the
//! request is aborted at once. Older engines (Tizen 4.0 and 5.0) have none: the SDK still ends
//! the call at once, and the engine finishes the abandoned request in the background. Redirects
//! are not followed. Pacing, retries, deadlines and error decoding stay in the core.

use js_sys::{Promise, Uint8Array};
use send_wrapper::SendWrapper;
use tvpass::http::{HeaderMap, HeaderName, HeaderValue, HttpRequest, HttpResponse};
use tvpass::http::{HttpTransport, SendFuture, TransportError};
use wasm_bindgen::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use web_sys::{AbortController, Headers, Request, RequestInit, RequestRedirect, Response};

#[wasm_bindgen]
extern "C" {
    /// The global `fetch` (a browser's window or worker, or Node 20).
    #[wasm_bindgen(js_name = fetch)]
    fn global_fetch(request: &Request) -> Promise;
}

/// `fetch` as the SDK's transport.
#[derive(Debug, Default)]
pub struct FetchTransport;

impl HttpTransport for FetchTransport {
    fn send(&self, request: HttpRequest) -> SendFuture<'_> {
        // wasm32 runs on one thread: the JS future never moves to another.
        Box::pin(SendWrapper::new(exchange(request)))
    }
}

/// Aborts the request when dropped before it finished.
struct AbortOnDrop(Option<AbortController>);

impl Drop for AbortOnDrop {
    fn drop(&mut self) {
        if let Some(c) = self.0.take() {
            c.abort();
        }
    }
}

fn other(what: &str, e: JsValue) -> TransportError {
    let text = e
        .dyn_ref::<js_sys::Error>()
        .map(|e| String::from(e.name()))
        .unwrap_or_else(|| "error".into());
    TransportError::Other(format!("{what}: {text}"))
}

async fn exchange(req: HttpRequest) -> Result<HttpResponse, TransportError> {
    // `new AbortController()` fails where the engine has none; the request then goes unaborted.
    let controller = AbortController::new().ok();
    let mut guard = AbortOnDrop(controller.clone());
    let init = RequestInit::new();
    init.set_method(req.method.as_str());
    init.set_redirect(RequestRedirect::Manual);
    if let Some(c) = &controller {
        init.set_signal(Some(&c.signal()));
    }
    let headers = Headers::new().map_err(|e| other("Headers", e))?;
    for (name, value) in &req.headers {
        let value = value
            .to_str()
            .map_err(|_| TransportError::Other("a header value is not text".into()))?;
        headers
            .append(name.as_str(), value)
            .map_err(|e| other("header", e))?;
    }
    init.set_headers(&headers);
    if let Some(body) = &req.body {
        init.set_body(&Uint8Array::from(&body[..]));
    }
    let request =
        Request::new_with_str_and_init(req.url.as_str(), &init).map_err(|e| other("Request", e))?;
    // The URL is not in the message: its query may carry identifiers.
    let response = JsFuture::from(global_fetch(&request))
        .await
        .map_err(|_| TransportError::Connect("fetch failed".into()))?;
    // Read by shape, not by class: a polyfilled fetch (older TVs) answers with its own Response.
    if !response.is_object() {
        return Err(TransportError::Other(
            "fetch answered with no Response".into(),
        ));
    }
    let response: Response = response.unchecked_into();
    let declared = response
        .headers()
        .get("content-length")
        .ok()
        .flatten()
        .and_then(|v| v.trim().parse::<usize>().ok());
    if declared.is_some_and(|n| n > req.max_response_bytes) {
        return Err(TransportError::TooLarge);
    }
    let mut out = HeaderMap::new();
    if let Ok(Some(entries)) = js_sys::try_iter(&response.headers()) {
        for entry in entries.flatten() {
            let pair = js_sys::Array::from(&entry);
            let (Some(name), Some(value)) = (pair.get(0).as_string(), pair.get(1).as_string())
            else {
                continue;
            };
            if let (Ok(n), Ok(v)) = (
                HeaderName::from_bytes(name.as_bytes()),
                HeaderValue::from_str(&value),
            ) {
                out.append(n, v);
            }
        }
    }
    let buffer = response.array_buffer().map_err(|e| other("body", e))?;
    let body = JsFuture::from(buffer)
        .await
        .map_err(|_| TransportError::Connect("the answer broke off".into()))?;
    let body = Uint8Array::new(&body);
    if body.length() as usize > req.max_response_bytes {
        return Err(TransportError::TooLarge);
    }
    guard.0 = None; // finished: nothing to abort
    Ok(HttpResponse {
        status: response.status(),
        headers: out,
        body: body.to_vec(),
    })
}
