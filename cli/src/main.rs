//! `capture-station`: run the embedded server, enroll with simulated devices, manage the queue
//! and sync — everything the desktop app does, from a terminal.

mod commands;
mod devices;
mod sbi_service;
mod simulated;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

#[derive(Parser)]
#[command(name = "capture-station", version, about = "Offline-first biometric capture station")]
struct Cli {
    /// Station configuration file (TOML). Default: $XDG_CONFIG_HOME/capture-station/station.toml.
    #[arg(long, global = true, env = "STATION_CONFIG")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the SPID-compatible server (embedded SQLite) until interrupted.
    Serve(commands::ServeArgs),
    /// Check operator credentials against the server and keep them in the secret store.
    Login(commands::LoginArgs),
    /// Capture a person with the simulated scanner and camera into the queue.
    Enroll(commands::EnrollArgs),
    /// Upload queued enrollments until the queue is drained.
    Sync(commands::SyncArgs),
    /// Inspect and act on the local enrollment queue.
    #[command(subcommand)]
    Queue(commands::QueueCommand),
    /// Configuration, secret store, queue counts and server reachability.
    Status,
    /// Print a person as the server returns it.
    Person(commands::PersonArgs),
    /// List, diagnose and test-capture devices (the device doctor).
    #[command(subcommand)]
    Devices(devices::DevicesCommand),
    /// Run the MOSIP SBI device service (127.0.0.1:4501-4600) for MOSIP registration clients.
    Sbi(sbi_service::SbiArgs),
}

fn default_config_path() -> PathBuf {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::var_os("HOME").map(PathBuf::from).unwrap_or_default().join(".config"));
    base.join("capture-station/station.toml")
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(tracing_subscriber::EnvFilter::try_from_env("STATION_LOG").unwrap_or_else(|_| "warn".into()))
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    let config_path = cli.config.unwrap_or_else(default_config_path);
    let config = station::StationConfig::load(Some(&config_path))?;
    match cli.command {
        Command::Serve(args) => commands::serve(&config, args).await,
        Command::Login(args) => commands::login(config, args).await,
        Command::Enroll(args) => commands::enroll(config, args).await,
        Command::Sync(args) => commands::sync(config, args).await,
        Command::Queue(cmd) => commands::queue(config, cmd).await,
        Command::Status => commands::status(config, &config_path).await,
        Command::Person(args) => commands::person(config, args).await,
        Command::Devices(cmd) => tokio::task::spawn_blocking(move || devices::run(cmd)).await?,
        Command::Sbi(args) => sbi_service::run(&config, args).await,
    }
}
