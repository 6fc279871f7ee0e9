//! The gateway as a process: settings from the environment (see `Settings`), checked before it
//! serves (a refusal is one line on stderr and exit status 2); devices on `GATEWAY_ADDR`,
//! `/metrics` and `/healthz` on `GATEWAY_ADMIN_ADDR`; a graceful shutdown on SIGTERM or Ctrl-C
//! that finishes the device calls in flight.

use std::sync::Arc;
use tvpass_gateway::{serve, serve_admin, Codes, Gateway, GatewayTokens, Settings};

fn main() {
    tracing_subscriber::fmt()
        .with_max_level(tracing::Level::INFO)
        .with_writer(std::io::stderr)
        .init();
    let settings = match Settings::from_env() {
        Ok(s) => s,
        Err(e) => refuse(&e),
    };
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => refuse(&format!("no runtime: {e}")),
    };
    if let Err(e) = runtime.block_on(run(settings)) {
        refuse(&e);
    }
}

fn refuse(why: &str) -> ! {
    eprintln!("tvpass-gateway: {why}");
    std::process::exit(2)
}

async fn run(settings: Settings) -> Result<(), String> {
    // GATEWAY_EMULATOR=1: the in-process emulator stands in for Adobe Pass (development only;
    // every health answer says so).
    let (emulator, base_url) = match &settings.base_url {
        Some(url) => (None, url.clone()),
        None => {
            let e = tvpass_emulator::Emulator::start(Default::default())
                .await
                .map_err(|e| format!("the emulator did not start: {e}"))?;
            let url = e.base_url();
            tracing::warn!("GATEWAY_EMULATOR=1: serving from the in-process emulator at {url}, which permits everyone");
            (Some(e), url)
        }
    };
    let device_key = settings.device_key.clone().unwrap_or_default();
    let tokens = GatewayTokens::new(&device_key, &settings.device_previous_keys)?;
    let codes = match &settings.redis_url {
        Some(url) => Codes::with_redis(device_key.as_bytes(), url)?,
        None => Codes::new(device_key.as_bytes(), None),
    };
    // The recorder goes in before the service's first call (the SDK keeps each series' handle).
    let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
        .install_recorder()
        .map_err(|e| format!("metrics: {e}"))?;
    let service = settings
        .service(base_url)
        .map_err(|e| format!("the service's settings: {e}"))?;
    // Register and fetch the token before the first device calls (a fleet's instances share
    // them: one registers, the others read what it keeps).
    service
        .warm_up()
        .await
        .map_err(|e| format!("Adobe Pass could not be reached to register: {e}"))?;
    let mut gateway = Gateway::new(service, Arc::new(tokens));
    gateway.trusted_proxies = settings.trusted_proxies.clone();
    gateway.codes = Arc::new(codes);
    gateway.metrics = Some(metrics);
    gateway.limits = settings.limits;
    gateway.warnings = settings.warnings();
    let bind = |addr: String, what: &'static str| async move {
        tokio::net::TcpListener::bind(&addr)
            .await
            .map_err(|e| format!("{what} {addr}: {e}"))
    };
    let listener = bind(settings.addr.clone(), "GATEWAY_ADDR").await?;
    let admin = bind(settings.admin_addr.clone(), "GATEWAY_ADMIN_ADDR").await?;
    let local = |l: &tokio::net::TcpListener| l.local_addr().map_err(|e| e.to_string());
    println!("Admin (metrics, health) at http://{}", local(&admin)?);
    println!("Gateway for devices at http://{}", local(&listener)?);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let wait = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let admin_task = tokio::spawn(serve_admin(admin, gateway.clone(), wait(stopped.clone())));
    let devices = tokio::spawn(serve(listener, gateway, wait(stopped)));
    shutdown().await;
    let _ = stop.send(true);
    let served = devices.await.map_err(|e| e.to_string())?;
    served.map_err(|e| e.to_string())?;
    let _ = admin_task.await;
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
