//! The libusb tier: the real `RusbTransport` and the real enumeration/open path, driven by
//! umockdev, which emulates the recorded device (sysfs + usbdevfs) inside this process.
//!
//! Each test re-runs this binary under `umockdev-run -d device -i NODE=capture.ioctl` with
//! `--exact <its own name>` (a script is consumed once per process, so every scenario gets its own
//! process); in the child, `UMOCKDEV_DIR` is set and the test does the real work. Without
//! umockdev installed the tests say so and pass, unless `USB_REQUIRE_UMOCKDEV=1` (set by
//! `scripts/ci/usb.sh`), where a missing umockdev is a failure.
//!
//! The U.are.U pcapng recordings are not replayed here: umockdev's pcap replay follows the
//! recorded submission order, and the reference host kept an interrupt URB posted throughout and
//! submitted the image read before starting the capture, which a synchronous driver does not do.
//! They are covered by the in-process replay tests.

#[path = "usb/common.rs"]
mod common;

use std::process::Command;
use std::time::Duration;

use drivers::usb::{list_devices, Recording, UsbEvent, UsbWatcher, WatchMode};

fn umockdev_run() -> Option<std::path::PathBuf> {
    std::env::var_os("PATH")?
        .to_str()?
        .split(':')
        .map(|d| std::path::Path::new(d).join("umockdev-run"))
        .find(|p| p.is_file())
}

/// Parent side: re-run `test_name` under umockdev with the recording of `device`.
fn run_under_umockdev(device: &str, test_name: &str) {
    let Some(tool) = umockdev_run() else {
        assert!(
            std::env::var_os("USB_REQUIRE_UMOCKDEV").is_none(),
            "umockdev-run not found but USB_REQUIRE_UMOCKDEV is set"
        );
        eprintln!("umockdev-run not installed: skipping the libusb replay of {device}");
        return;
    };
    let ioctl = common::file(device, "capture.ioctl");
    let rec = Recording::parse_ioctl(&std::fs::read_to_string(&ioctl).unwrap()).unwrap();
    let node = rec.device_node.expect("recording names its device node");
    let out = Command::new(tool)
        .arg("-d")
        .arg(common::file(device, "device"))
        .arg("-i")
        .arg(format!("{node}={}", ioctl.display()))
        .arg("--")
        .arg(std::env::current_exe().unwrap())
        .args(["--exact", test_name, "--nocapture", "--test-threads=1"])
        .env("USB_UMOCKDEV_DEVICE", device)
        .output()
        .expect("run umockdev-run");
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

fn scenario(device: &str, test_name: &str, vid: u16, pid: u16) {
    match std::env::var("USB_UMOCKDEV_DEVICE") {
        Ok(d) if std::env::var_os("UMOCKDEV_DIR").is_some() => {
            assert_eq!(d, device);
            capture_through_libusb(device, vid, pid);
        }
        _ => run_under_umockdev(device, test_name),
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
