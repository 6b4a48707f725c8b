//! `capture-station sbi`: the MOSIP SBI device service, so MOSIP registration clients can capture
//! with the station's devices. Simulated scanner and camera by default; `--all-devices` adds
//! whatever the drivers find. Runs until Ctrl-C.

use std::path::PathBuf;
use std::sync::Arc;

use anyhow::Context;
use drivers::manager::{DeviceManager, SimulatedBackend};

/// Options of `capture-station sbi`.
#[derive(clap::Args)]
pub struct SbiArgs {
    /// Also serve every device the drivers find (USB and serial scanners, webcams).
    #[arg(long)]
    all_devices: bool,
    /// Serve only these device ids (repeatable), e.g. `--device sim:finger --device camera:/dev/video0`.
    #[arg(long = "device", value_name = "ID")]
    devices: Vec<String>,
    /// First port tried (SBI: 4501).
    #[arg(long, default_value_t = 4501)]
    port_min: u16,
    /// Last port tried (SBI: 4600).
    #[arg(long, default_value_t = 4600)]
    port_max: u16,
    /// `env` reported in device info: Developer, Staging, Pre-Production or Production.
    #[arg(long, default_value = "Developer")]
    env: String,
    /// Folder of the device key and certificate (default: <data_dir>/sbi).
    #[arg(long)]
    key_dir: Option<PathBuf>,
}

/// Starts the service, prints the port it bound and serves until interrupted.
pub async fn run(config: &station::StationConfig, args: SbiArgs) -> anyhow::Result<()> {
    let manager = if args.all_devices {
        DeviceManager::with_builtin_backends()
    } else {
        let mut m = DeviceManager::empty();
        m.register(Arc::new(SimulatedBackend));
        m
    };
    let only = match (args.devices.is_empty(), args.all_devices) {
        (false, _) => Some(args.devices),
        (true, true) => None,
        (true, false) => Some(vec!["sim:finger".into(), "sim:camera".into()]),
    };
    let mut sbi_config =
        ::sbi::SbiConfig::new(args.key_dir.unwrap_or_else(|| config.data_dir.join("sbi")));
    sbi_config.port_range = args.port_min..=args.port_max;
    sbi_config.env = args.env;
    let key_dir = sbi_config.key_dir.clone();
    let running = ::sbi::start(sbi_config, ::sbi::Registry::new(manager, only))
        .await
        .context("starting the SBI service")?;
    println!("SBI device service on http://127.0.0.1:{}/", running.port);
    println!("port {}", running.port);
    println!(
        "device certificate: {}",
        key_dir.join(::sbi::keys::CERT_FILE).display()
    );
    tokio::select! {
        r = tokio::signal::ctrl_c() => r.context("waiting for Ctrl-C")?,
        r = running.wait() => return r.context("SBI service stopped"),
    }
    Ok(())
}
