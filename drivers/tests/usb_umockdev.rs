//! The libusb tier: the real `RusbTransport` and the real enumeration/open path, driven by
//! umockdev, which emulates the recorded device (sysfs + usbdevfs) inside this process.
//!
//! Each test re-runs this binary under `umockdev-run -d device -i NODE=capture.ioctl` with
//! `--exact <its own name>` (a script is consumed once per process, so every scenario gets its own
//! process); in the child, `UMOCKDEV_DIR` is set and the test does the real work. Without
//! umockdev installed the tests say so and pass, unless `USB_REQUIRE_UMOCKDEV=1` (set by
//! `scripts/ci/usb.sh`), where a missing umockdev is a failure.
//!
//! The U.are.U recordings are usbmon pcapng files, replayed with `umockdev-run -p`. Their host
//! (libfprint) kept the interrupt URB posted for the whole session and posted the image bulk
//! read before writing the capture mode; umockdev's pcap replay hands out URBs strictly in that
//! recorded submission order, so these tests also prove that `RusbTransport` keeps an interrupt
//! read posted (`listen_interrupt`) and posts the image read ahead (`read_bulk_posted_before`).
//! A second form replays a re-recorded session: the parent replays the pcapng in process through
//! the same driver with a [`RecordingTransport`] around the [`ReplayTransport`], writes the
//! exchange with [`Recording::to_pcapng`] into a temporary folder, and the child replays that.
//! (The `.ioctl` form cannot carry the U.are.U: umockdev's ioctl replay does not return the data
//! stage of control reads to libusb.)

#[path = "usb/common.rs"]
mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use drivers::usb::{
    list_devices, uru4000, DeviceDescription, Recording, RecordingTransport, ReplayTransport,
    UsbEvent, UsbWatcher, WatchMode,
};
use drivers::{DeviceInfo, DeviceKind, FingerprintScanner};

/// The seed libfprint's fixed-seed generator produced in both U.are.U recordings; the scramble
/// handshake must send it again for the replay to match.
const URU_RECORDED_SEED: u32 = 0x51EA_2124;

fn umockdev_run() -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| std::path::Path::new(d).join("umockdev-run"))
        .find(|p| p.is_file())
}

/// Which recording the child replays.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Script {
    /// The file in the shared data folder, unchanged.
    Original,
    /// A session re-recorded from the original by the in-process replay (U.are.U only).
    Rerecorded,
}

/// Parent side: re-run `test_name` under umockdev with the recording of `device`.
fn run_under_umockdev(device: &str, test_name: &str) {
    run_script_under_umockdev(device, test_name, Script::Original)
}

fn run_script_under_umockdev(device: &str, test_name: &str, which: Script) {
    let Some(tool) = umockdev_run() else {
        assert!(
            std::env::var_os("USB_REQUIRE_UMOCKDEV").is_none(),
            "umockdev-run not found but USB_REQUIRE_UMOCKDEV is set"
        );
        eprintln!("umockdev-run not installed: skipping the libusb replay of {device}");
        return;
    };
    let scratch =
        std::env::temp_dir().join(format!("usb-umockdev-{}-{test_name}", std::process::id()));
    let script = if which == Script::Rerecorded {
        std::fs::create_dir_all(&scratch).unwrap();
        sequential_pcapng_script(device, &scratch)
    } else if device.starts_with("uru4000") {
        let device_file = common::file(device, "device");
        [
            "-p".to_string(),
            format!(
                "{}={}",
                sysfs_path(&device_file),
                common::file(device, "capture.pcapng").display()
            ),
        ]
    } else {
        let ioctl = common::file(device, "capture.ioctl");
        let rec = Recording::parse_ioctl(&std::fs::read_to_string(&ioctl).unwrap()).unwrap();
        let node = rec.device_node.expect("recording names its device node");
        ["-i".to_string(), format!("{node}={}", ioctl.display())]
    };
    let out = Command::new(tool)
        .arg("-d")
        .arg(common::file(device, "device"))
        .args(&script)
        .arg("--")
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", test_name, "--nocapture", "--test-threads=1"])
        .env("USB_UMOCKDEV_DEVICE", device)
        .output()
        .expect("run umockdev-run");
    let _ = std::fs::remove_dir_all(&scratch);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success(),
        "{device} under umockdev failed:\n{text}"
    );
    assert!(
        text.contains("1 passed"),
        "child did not run the test:\n{text}"
    );
    assert!(
        text.contains(&format!("umockdev-child-ok {device}")),
        "child did not reach the capture:\n{text}"
    );
}

/// Child side: enumerate through libusb, open by id, capture, compare with capture.png.
fn capture_through_libusb(device: &str, vid: u16, pid: u16) {
    let entries = list_devices().expect("libusb enumeration under umockdev");
    let entry = entries
        .iter()
        .find(|e| e.vendor_id == vid && e.product_id == pid)
        .unwrap_or_else(|| panic!("{vid:04x}:{pid:04x} not enumerated: {entries:?}"));
    let known = entry.known.expect("marked as a supported scanner");
    assert_eq!(known.driver, device);
    let info = entry.scanner_info().unwrap();
    assert!(
        info.id.starts_with(&format!("usb:{vid:04x}:{pid:04x}@")),
        "{}",
        info.id
    );

    let mut scanner = drivers::usb::open(&info.id).expect("open by id");
    assert_eq!(scanner.info().driver, device);
    let image = scanner
        .capture(Duration::from_secs(10), &mut |_| {})
        .expect("capture over libusb");
    common::assert_image_eq(&image, &common::file(device, "capture.png"));
    scanner.close().unwrap();
    println!("umockdev-child-ok {device}");
}

/// The sysfs path of the emulated device (the first `P:` line of a umockdev description), which
/// `umockdev-run -p` takes to attach a pcap recording.
fn sysfs_path(device_file: &Path) -> String {
    let text = std::fs::read_to_string(device_file).unwrap();
    let p = text
        .lines()
        .find_map(|l| l.strip_prefix("P: "))
        .expect("device description starts with P:");
    format!("/sys{p}")
}

fn uru_profile(device: &str) -> uru4000::Profile {
    match device {
        "uru4000-4500" => uru4000::URU4500,
        "uru4000-msv2" => uru4000::MS_V2,
        other => panic!("not a U.are.U recording: {other}"),
    }
}

/// Replays the recorded pcapng through the U.are.U driver in process, recording the exchange,
/// and writes it to `dir` as a pcapng with one URB in flight at a time (completion order).
/// Returns the `umockdev-run` arguments that attach it.
fn sequential_pcapng_script(device: &str, dir: &Path) -> [String; 2] {
    let device_file = common::file(device, "device");
    let desc =
        DeviceDescription::parse_umockdev(&std::fs::read_to_string(&device_file).unwrap()).unwrap();
    let original = Recording::parse_pcapng(
        &std::fs::read(common::file(device, "capture.pcapng")).unwrap(),
        Some((desc.bus, desc.address)),
    )
    .unwrap();
    let recorder = Arc::new(Mutex::new(RecordingTransport::new(
        ReplayTransport::new(format!("replay:{device}"), original),
        None,
    )));
    let info = DeviceInfo {
        id: format!("replay:{device}"),
        name: device.into(),
        kind: DeviceKind::FingerprintScanner,
        driver: "uru4000".into(),
    };
    uru_capture_matches_recording(Box::new(recorder.clone()), info, device);
    let exchanged = recorder.lock().unwrap().recording().clone();
    let path: PathBuf = dir.join("sequential.pcapng");
    std::fs::write(&path, exchanged.to_pcapng(desc.bus, desc.address)).unwrap();
    // The written capture reads back as the same exchange.
    let back = Recording::parse_pcapng(&std::fs::read(&path).unwrap(), None).unwrap();
    assert_eq!(back.transfers, exchanged.transfers);
    [
        "-p".to_string(),
        format!("{}={}", sysfs_path(&device_file), path.display()),
    ]
}

/// Runs the U.are.U driver over `transport` with the recorded scramble seed (the only setting
/// that differs from [`drivers::usb::open`], which draws a fresh seed) and checks the captured
/// image against the recording's expected pixels.
fn uru_capture_matches_recording(transport: Box<dyn drivers::usb::UsbTransport>, info: DeviceInfo, device: &str) {
    let mut scanner =
        uru4000::Uru4000::open(transport, info, uru_profile(device), uru4000::Seed::Fixed(URU_RECORDED_SEED)).expect("power-up");
    let image = scanner.capture(Duration::from_secs(10), &mut |_| {}).expect("capture");
    common::assert_image_eq(&image, &common::file(device, "capture.png"));
    scanner.close().unwrap();
}

/// Child side for the U.are.U models: enumerate and open the libusb transport by id, then run
/// the driver as recorded.
fn uru_capture_through_libusb(device: &str, vid: u16, pid: u16) {
    let entries = list_devices().expect("libusb enumeration under umockdev");
    let entry = entries
        .iter()
        .find(|e| e.vendor_id == vid && e.product_id == pid)
        .unwrap_or_else(|| panic!("{vid:04x}:{pid:04x} not enumerated: {entries:?}"));
    assert_eq!(entry.known.expect("supported scanner").driver, "uru4000");
    let info = entry.scanner_info().unwrap();
    let (known, transport) = drivers::usb::open_transport(&info.id).expect("open by id");
    assert_eq!(known.driver, "uru4000");
    uru_capture_matches_recording(Box::new(transport), info, device);
    println!("umockdev-child-ok {device}");
}

fn scenario(device: &str, test_name: &str, vid: u16, pid: u16) {
    scenario_with(device, test_name, vid, pid, Script::Original)
}

fn scenario_with(device: &str, test_name: &str, vid: u16, pid: u16, which: Script) {
    match std::env::var("USB_UMOCKDEV_DEVICE") {
        Ok(d) if std::env::var_os("UMOCKDEV_DIR").is_some() => {
            assert_eq!(d, device);
            if device.starts_with("uru4000") {
                uru_capture_through_libusb(device, vid, pid);
            } else {
                capture_through_libusb(device, vid, pid);
            }
        }
        _ => run_script_under_umockdev(device, test_name, which),
    }
}

#[test]
fn umockdev_nb1010_capture() {
    scenario("nb1010", "umockdev_nb1010_capture", 0x298d, 0x1010);
}

#[test]
fn umockdev_aes3500_capture() {
    scenario("aes3500", "umockdev_aes3500_capture", 0x08ff, 0x5731);
}

#[test]
fn umockdev_uru4000_4500_capture() {
    scenario(
        "uru4000-4500",
        "umockdev_uru4000_4500_capture",
        0x05ba,
        0x000a,
    );
}

#[test]
fn umockdev_uru4000_msv2_capture() {
    scenario(
        "uru4000-msv2",
        "umockdev_uru4000_msv2_capture",
        0x045e,
        0x00ca,
    );
}

/// A session recorded by `RecordingTransport` and written as pcapng replays through libusb.
#[test]
fn umockdev_uru4000_4500_rerecorded_session() {
    scenario_with(
        "uru4000-4500",
        "umockdev_uru4000_4500_rerecorded_session",
        0x05ba,
        0x000a,
        Script::Rerecorded,
    );
}

#[test]
fn umockdev_uru4000_msv2_rerecorded_session() {
    scenario_with(
        "uru4000-msv2",
        "umockdev_uru4000_msv2_rerecorded_session",
        0x045e,
        0x00ca,
        Script::Rerecorded,
    );
}

/// The polling watcher reports the emulated scanner as arrived, marked with its driver.
#[test]
fn umockdev_watcher_reports_arrival() {
    if std::env::var_os("UMOCKDEV_DIR").is_none() {
        return run_under_umockdev("nb1010", "umockdev_watcher_reports_arrival");
    }
    let watcher = UsbWatcher::start_polling(Duration::from_millis(100)).unwrap();
    assert_eq!(
        watcher.mode(),
        WatchMode::Polling(Duration::from_millis(100))
    );
    let mut arrived = None;
    while let Some(ev) = watcher.next_event(Duration::from_secs(2)) {
        if let UsbEvent::Arrived(e) = ev {
            if e.vendor_id == 0x298d {
                arrived = Some(e);
                break;
            }
        }
    }
    let e = arrived.expect("arrival of the emulated NB-1010");
    assert_eq!(e.known.map(|k| k.driver), Some("nb1010"));
    drop(watcher); // stops and joins the thread

    // The default watcher uses libusb hot-plug callbacks on Linux; with `enumerate` they report
    // the devices already present, which umockdev's emulated udev provides.
    let watcher = UsbWatcher::start().unwrap();
    let mut arrived = false;
    while let Some(ev) = watcher.next_event(Duration::from_secs(2)) {
        if matches!(&ev, UsbEvent::Arrived(e) if e.vendor_id == 0x298d && e.known.is_some()) {
            arrived = true;
            break;
        }
    }
    assert!(arrived, "no arrival from the {:?} watcher", watcher.mode());
    drop(watcher);
    println!("umockdev-child-ok nb1010");
}
