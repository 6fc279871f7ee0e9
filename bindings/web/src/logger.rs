//! The SDK's log lines to a JavaScript function: `setLogger((level, target, message) => ...,
//! "info")`. No line carries a secret.

use send_wrapper::SendWrapper;
use tracing::field::{Field, Visit};
use tracing::{Event, Level, Subscriber};
use tracing_subscriber::layer::{Context, Layer, SubscriberExt};
use wasm_bindgen::prelude::*;

struct JsLayer {
    callback: SendWrapper<js_sys::Function>,
    level: Level,
}

#[derive(Default)]
struct Message(String);

impl Visit for Message {
    fn record_debug(&mut self, field: &Field, value: &dyn std::fmt::Debug) {
        if !self.0.is_empty() {
            self.0.push(' ');
        }
        if field.name() == "message" {
            self.0.push_str(&format!("{value:?}"));
        } else {
            self.0.push_str(&format!("{}={value:?}", field.name()));
        }
    }
}

impl<S: Subscriber> Layer<S> for JsLayer {
    fn on_event(&self, event: &Event<'_>, _: Context<'_, S>) {
        let meta = event.metadata();
        if *meta.level() > self.level {
            return;
        }
        let mut message = Message::default();
        event.record(&mut message);
        let _ = self.callback.call3(
            &JsValue::NULL,
            &JsValue::from_str(&meta.level().as_str().to_lowercase()),
            &JsValue::from_str(meta.target()),
            &JsValue::from_str(&message.0),
        );
    }
}

/// Sends the SDK's lines at `level` (`error`, `warn`, `info`, `debug`, `trace`) and above to
/// `callback(level, target, message)`. Call once, early.
#[wasm_bindgen(js_name = setLogger)]
pub fn set_logger(callback: js_sys::Function, level: Option<String>) -> Result<(), JsValue> {
    let level = match level.as_deref().unwrap_or("info") {
        "error" => Level::ERROR,
        "warn" => Level::WARN,
        "info" => Level::INFO,
        "debug" => Level::DEBUG,
        "trace" => Level::TRACE,
        other => return Err(JsValue::from_str(&format!("unknown log level {other}"))),
    };
    let subscriber = tracing_subscriber::registry().with(JsLayer {
        callback: SendWrapper::new(callback),
        level,
    });
    tracing::subscriber::set_global_default(subscriber)
        .map_err(|_| JsValue::from_str("a logger is set already"))
}
