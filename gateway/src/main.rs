//! The gateway as a process: settings from the environment (see `Settings`), metrics in
//! Prometheus text at `/metrics`, and a graceful shutdown on SIGTERM or Ctrl-C that finishes
//! the device calls in flight.

use std::time::Duration;
use tvpass_gateway::{serve, Gateway, Settings};

#[tokio::main]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(std::io::stderr)
        .init();
    let settings = Settings::from_env()?;
    // Without a base URL, the in-process emulator stands in for Adobe Pass.
    let (emulator, base_url) = match &settings.base_url {
        Some(url) => (None, url.clone()),
        None => {
            let e = tvpass_emulator::Emulator::start(Default::default()).await?;
            let url = e.base_url();
            println!("Adobe Pass stand-in: the emulator at {url}");
            (Some(e), url)
        }
    };
    // The recorder goes in before the service's first call (the SDK keeps each series' handle).
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new().install_recorder()?;
    let service = settings.service(base_url)?;
    // Register and fetch the token before the first device calls (a fleet's instances share
    // them: one registers, the others read what it keeps).
    service.warm_up().await?;
    let mut gateway = Gateway::new(service);
    gateway.behind_proxy = settings.behind_proxy;
    gateway.metrics = Some(metrics);
    if let Some(t) = settings.request_timeout {
        gateway.request_timeout = t.max(Duration::from_millis(100));
    }
    let addr = settings.addr.as_deref().unwrap_or("127.0.0.1:8088");
    let listener = tokio::net::TcpListener::bind(addr).await?;
    println!("Gateway for devices at http://{}", listener.local_addr()?);
    serve(listener, gateway, shutdown()).await?;
    tracing::info!("stopped: every call in flight was answered");
    drop(emulator);
    Ok(())
}

/// SIGTERM (a container's stop) or Ctrl-C.
async fn shutdown() {
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = async {
                match term.as_mut() {
                    Some(t) => { t.recv().await; }
                    None => std::future::pending::<()>().await,
                }
            } => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
    tracing::info!("shutting down: finishing the calls in flight");
}
