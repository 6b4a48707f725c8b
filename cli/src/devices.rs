//! `capture-station devices`: list, diagnose and test-capture devices — the "device doctor"
//! a field technician runs when a scanner does not show up or captures badly.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context;
use clap::Subcommand;
use drivers::manager::DeviceManager;
use drivers::{DeviceKind, ScanEvent};

#[derive(Subcommand)]
pub enum DevicesCommand {
    /// Every device the backends see (simulated, USB, serial, cameras), plus unknown USB devices.
    List {
        #[arg(long)]
        json: bool,
    },
    /// Check permissions, udev rules, driver matches, and make a test capture with quality.
    Doctor,
    /// Capture one fingerprint from the scanner ID and write it as PNG, with its quality.
    Capture {
        id: String,
        #[arg(short, long)]
        output: PathBuf,
        /// Seconds to wait for a finger.
        #[arg(long, default_value_t = 15)]
        timeout: u64,
    },
}

pub fn run(cmd: DevicesCommand) -> anyhow::Result<()> {
    let manager = DeviceManager::with_builtin_backends();
    match cmd {
        DevicesCommand::List { json } => list(&manager, json),
        DevicesCommand::Doctor => doctor(&manager),
        DevicesCommand::Capture { id, output, timeout } => {
            let quality = capture(&manager, &id, &output, Duration::from_secs(timeout))?;
            println!("{}", serde_json::to_string_pretty(&quality)?);
            Ok(())
        }
    }
}

fn list(manager: &DeviceManager, json: bool) -> anyhow::Result<()> {
    let listing = manager.list();
    let unknown_usb: Vec<String> = drivers::usb::list_devices()
        .map(|all| all.iter().filter(|d| d.scanner_info().is_none()).map(|d| format!("{d:?}")).collect())
        .unwrap_or_default();
    if json {
        let failures: Vec<serde_json::Value> =
            listing.failures.iter().map(|(b, e)| serde_json::json!({"backend": b, "error": e.to_string()})).collect();
        println!("{}", serde_json::to_string_pretty(&serde_json::json!({"devices": listing.devices, "failures": failures}))?);
        return Ok(());
    }
    println!("{:<34} {:<20} {:<12} name", "id", "kind", "driver");
    for d in &listing.devices {
        let kind = match d.kind {
            DeviceKind::FingerprintScanner => "fingerprint scanner",
            DeviceKind::Camera => "camera",
        };
        println!("{:<34} {:<20} {:<12} {}", d.id, kind, d.driver, d.name);
    }
    for (backend, error) in &listing.failures {
        println!("backend {backend} could not list devices: {error}");
    }
    println!("{} other USB devices (no driver)", unknown_usb.len());
    Ok(())
}

fn capture(manager: &DeviceManager, id: &str, output: &Path, timeout: Duration) -> anyhow::Result<fingerprint::quality::Quality> {
    let mut scanner = manager.open_scanner(id).with_context(|| format!("opening {id}"))?;
    println!("place a finger on {} …", scanner.info().name);
    let image = scanner.capture(timeout, &mut |e| {
        if let ScanEvent::FingerRemoved = e {
            println!("finger lifted");
        }
    })?;
    let png = station::capture::png_from_gray(&image).map_err(anyhow::Error::msg)?;
    std::fs::write(output, png).with_context(|| output.display().to_string())?;
    let engine_image = fingerprint::GrayImage::new(image.width, image.height, image.pixels)?;
    Ok(fingerprint::quality::assess(&engine_image)?)
}

fn doctor(manager: &DeviceManager) -> anyhow::Result<()> {
    let mut problems = 0;
    let rules = Path::new("/etc/udev/rules.d/70-capture-station.rules");
    if rules.exists() {
        println!("ok    udev rules installed ({})", rules.display());
    } else {
        problems += 1;
        println!("WARN  udev rules not installed: copy drivers/udev/70-capture-station.rules to {} and run `udevadm control --reload`", rules.display());
    }
    match std::fs::read_dir("/dev/bus/usb") {
        Ok(_) => println!("ok    /dev/bus/usb is readable"),
        Err(e) => {
            problems += 1;
            println!("WARN  /dev/bus/usb: {e} (USB scanners cannot be opened)");
        }
    }
    match drivers::usb::list_devices() {
        Ok(all) => {
            let known = all.iter().filter(|d| d.scanner_info().is_some()).count();
            println!("ok    libusb sees {} USB devices, {known} supported scanners", all.len());
        }
        Err(e) => {
            problems += 1;
            println!("WARN  libusb: {e}");
        }
    }
    let listing = manager.list();
    for (backend, error) in &listing.failures {
        problems += 1;
        println!("WARN  backend {backend}: {error}");
    }
    let dir = std::env::temp_dir();
    for d in listing.devices.iter().filter(|d| d.kind == DeviceKind::FingerprintScanner && !d.id.starts_with("sim:folder")) {
        let out = dir.join(format!("doctor-{}.png", d.id.replace([':', '/'], "_")));
        match capture(manager, &d.id, &out, Duration::from_secs(10)) {
            Ok(q) => {
                let reasons: Vec<String> = q.reasons.iter().map(|r| format!("{r:?}")).collect();
                println!("ok    {}: test capture quality {} {:?} → {}", d.id, q.score, reasons, out.display());
            }
            Err(e) => {
                problems += 1;
                println!("FAIL  {}: {e:#}", d.id);
            }
        }
    }
    let cameras = listing.devices.iter().filter(|d| d.kind == DeviceKind::Camera).count();
    println!("ok    {cameras} cameras (simulated ones included)");
    println!("{problems} problems found");
    Ok(())
}
