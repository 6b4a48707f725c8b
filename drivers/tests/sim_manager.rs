//! The device manager: built-in backends, opening by id, registration of outside backends and
//! hot-plug events from polling.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use drivers::manager::{Backend, DeviceManager, HotplugEvent};
use drivers::simulated::SimulatedScanner;
use drivers::{
    DeviceError, DeviceInfo, DeviceKind, FingerprintScanner, FrameEncoding, FrameFormat,
};

#[test]
fn simulated_devices_are_always_listed_and_open_by_id() {
    let manager = DeviceManager::with_builtin_backends();
    let listing = manager.list();
    // No webcams on a build machine is not a failure.
    assert!(listing.failures.is_empty(), "{:?}", listing.failures);
    let ids: Vec<&str> = listing.devices.iter().map(|d| d.id.as_str()).collect();
    assert!(
        ids.contains(&"sim:finger")
            && ids.contains(&"sim:camera")
            && ids.contains(&"sim:camera:static"),
        "{ids:?}"
    );

    let scanner = manager.open_scanner("sim:finger:42").unwrap();
    assert_eq!(scanner.info().id, "sim:finger:42");
    assert_eq!(scanner.info().kind, DeviceKind::FingerprintScanner);
    let mut camera = manager.open_camera("sim:camera:static").unwrap();
    assert_eq!(camera.info().id, "sim:camera:static");
    camera
        .start(FrameFormat {
            width: 640,
            height: 480,
            fps: 30,
            encoding: FrameEncoding::Rgb,
        })
        .unwrap();
    assert_eq!(
        camera.next_frame(Duration::from_secs(1)).unwrap().width,
        640
    );

    assert!(matches!(
        manager.open_scanner("usb:dead:beef"),
        Err(DeviceError::NotFound(_))
    ));
    assert!(matches!(
        manager.open_camera("sim:finger"),
        Err(DeviceError::NotFound(_))
    ));
    assert!(matches!(
        manager.open_scanner("sim:finger:notanumber"),
        Err(DeviceError::NotFound(_))
    ));
    // A file camera whose file is missing: the file backend owns the id and says so.
    assert!(matches!(
        manager.open_camera("file:camera:/nonexistent/x.y4m"),
        Err(DeviceError::NotFound(_))
    ));
}

/// A backend whose device list the test controls, standing in for USB or serial.
struct Scripted {
    devices: Mutex<Vec<DeviceInfo>>,
    fail: AtomicUsize,
}

fn usb_device(n: u8) -> DeviceInfo {
    DeviceInfo {
        id: format!("usb:05ba:000a@1-{n}"),
        name: "U.are.U 4000".into(),
        kind: DeviceKind::FingerprintScanner,
        driver: "uru4000".into(),
    }
}

impl Backend for Scripted {
    fn name(&self) -> &str {
        "scripted"
    }
    fn list(&self) -> drivers::Result<Vec<DeviceInfo>> {
        if self.fail.load(Ordering::SeqCst) > 0 {
            self.fail.fetch_sub(1, Ordering::SeqCst);
            return Err(DeviceError::PermissionDenied {
                device: "usb".into(),
                hint: "udev rule".into(),
            });
        }
        Ok(self.devices.lock().unwrap().clone())
    }
    fn open_scanner(&self, id: &str) -> drivers::Result<Box<dyn FingerprintScanner>> {
        if self.devices.lock().unwrap().iter().any(|d| d.id == id) {
            return Ok(Box::new(SimulatedScanner::synthetic(1, vec![])));
        }
        Err(DeviceError::NotFound(id.to_owned()))
    }
}

#[test]
fn registered_backends_are_listed_and_opened_and_their_failures_reported() {
    let scripted = Arc::new(Scripted {
        devices: Mutex::new(vec![usb_device(3)]),
        fail: AtomicUsize::new(1),
    });
    let mut manager = DeviceManager::with_builtin_backends();
    manager.register(scripted.clone());
    assert_eq!(
        manager.backend_names().last().map(String::as_str),
        Some("scripted")
    );
    let listing = manager.list();
    assert_eq!(listing.failures.len(), 1);
    assert!(
        matches!(listing.failures[0], (ref name, DeviceError::PermissionDenied { .. }) if name == "scripted")
    );
    assert!(
        listing.devices.iter().any(|d| d.id == "sim:finger"),
        "the other backends still list"
    );
    assert!(manager.list().devices.contains(&usb_device(3)));
    assert!(manager.open_scanner("usb:05ba:000a@1-3").is_ok());
}

#[test]
fn hotplug_changes_arrive_as_events() {
    let scripted = Arc::new(Scripted {
        devices: Mutex::new(vec![usb_device(1)]),
        fail: AtomicUsize::new(0),
    });
    let mut manager = DeviceManager::empty();
    manager.register(scripted.clone());
    let watcher = manager.watch(Duration::from_millis(20)).unwrap();
    let next = || watcher.events.recv_timeout(Duration::from_secs(2)).unwrap();
    assert_eq!(next(), HotplugEvent::Arrived(usb_device(1)));

    scripted.devices.lock().unwrap().push(usb_device(2));
    assert_eq!(next(), HotplugEvent::Arrived(usb_device(2)));

    // A failing poll is not an unplug.
    scripted.fail.store(3, Ordering::SeqCst);
    std::thread::sleep(Duration::from_millis(100));
    scripted
        .devices
        .lock()
        .unwrap()
        .retain(|d| d.id != usb_device(1).id);
    assert_eq!(next(), HotplugEvent::Left(usb_device(1)));
    assert!(
        watcher
            .events
            .recv_timeout(Duration::from_millis(100))
            .is_err(),
        "nothing else changed"
    );
    drop(watcher);
}
