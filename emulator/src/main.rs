//! `tvpass-emulator`: runs the emulator standalone.

use clap::Parser;
use std::net::{IpAddr, SocketAddr};
use tvpass_emulator::{Emulator, EmulatorConfig};

/// A local Adobe Pass Authentication REST API V2 server for development and tests.
#[derive(Parser, Debug)]
#[command(name = "tvpass-emulator", version)]
struct Args {
    /// Port to listen on; 0 picks a free one.
    #[arg(long, default_value_t = 8080)]
    port: u16,
    /// Address to bind.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// Configuration file (TOML if it ends in .toml, JSON otherwise); the built-in default otherwise.
    #[arg(long)]
    config: Option<std::path::PathBuf>,
    /// Turn throttling off.
    #[arg(long)]
    no_throttling: bool,
    /// Answer CORS for pages served from loopback origins (browser tests of the web package).
    #[arg(long)]
    cors_loopback: bool,
    /// Keep the protocol state (clients, tokens, sessions, profiles, TempPass usage, clock) in
    /// this file: loaded at start, saved every 5 seconds and at exit.
    #[arg(long)]
    state: Option<std::path::PathBuf>,
    /// Print the built-in configuration as TOML and exit.
    #[arg(long)]
    print_default_config: bool,
}

#[tokio::main]
async fn main() {
    let args = Args::parse();
    if args.print_default_config {
        match toml::to_string_pretty(&EmulatorConfig::default()) {
            Ok(t) => print!("{t}"),
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(1);
            }
        }
        return;
    }
    let mut config = match &args.config {
        Some(path) => match EmulatorConfig::from_file(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("error: {e}");
                std::process::exit(2);
            }
        },
        None => EmulatorConfig::default(),
    };
    if args.no_throttling {
        config.throttling.enabled = false;
    }
    if args.cors_loopback {
        config.cors_loopback = true;
    }
    let emulator = match Emulator::start_on(config, SocketAddr::new(args.bind, args.port)).await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: cannot listen on {}:{}: {e}", args.bind, args.port);
            std::process::exit(1);
        }
    };
    if let Some(path) = &args.state {
        if let Err(e) = emulator.load_state(path) {
            eprintln!("error: {e}");
            std::process::exit(2);
        }
    }
    println!("tvpass-emulator listening on {}", emulator.base_url());
    match &args.state {
        None => {
            let _ = tokio::signal::ctrl_c().await;
        }
        Some(path) => {
            let mut every = tokio::time::interval(std::time::Duration::from_secs(5));
            loop {
                tokio::select! {
                    _ = every.tick() => {}
                    _ = tokio::signal::ctrl_c() => break,
                }
                if let Err(e) = emulator.save_state(path) {
                    eprintln!("warning: {e}");
                }
            }
            if let Err(e) = emulator.save_state(path) {
                eprintln!("error: {e}");
            }
        }
    }
    emulator.shutdown().await;
}
