//! The supported-device table, ids, the udev rules and the watcher's change detection.

use drivers::usb::devices::{device_id, diff_devices};
use drivers::usb::{lookup, DeviceDescription, UsbDeviceEntry, UsbEvent, KNOWN_DEVICES};

#[test]
fn every_known_device_has_a_udev_rule_with_uaccess_and_plugdev() {
    let rules = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/udev/70-capture-station.rules"
    ))
    .unwrap();
    for d in KNOWN_DEVICES {
        let needle = format!(
            "ATTR{{idVendor}}==\"{:04x}\", ATTR{{idProduct}}==\"{:04x}\"",
            d.vendor_id, d.product_id
        );
        let line = rules
            .lines()
            .find(|l| l.starts_with(&needle))
            .unwrap_or_else(|| panic!("no rule for {}", d.name));
        assert!(
            line.contains("TAG+=\"uaccess\"") && line.contains("GROUP=\"plugdev\""),
            "{line}"
        );
    }
    let rule_lines = rules
        .lines()
        .filter(|l| l.starts_with("ATTR{idVendor}"))
        .count();
    assert_eq!(
        rule_lines,
        KNOWN_DEVICES.len(),
        "rules for devices no driver supports"
    );
}

#[test]
fn table_has_no_duplicates_and_names_real_drivers() {
    for (i, a) in KNOWN_DEVICES.iter().enumerate() {
        assert!(["nb1010", "aes3500", "uru4000"].contains(&a.driver));
        assert!(KNOWN_DEVICES[i + 1..]
            .iter()
            .all(|b| (a.vendor_id, a.product_id) != (b.vendor_id, b.product_id)));
        assert_eq!(lookup(a.vendor_id, a.product_id), Some(a));
    }
}

#[test]
fn ids_use_the_port_path_when_known() {
    assert_eq!(device_id(0x05ba, 0x000a, 1, 7, &[3]), "usb:05ba:000a@1-3");
    assert_eq!(
        device_id(0x05ba, 0x000a, 1, 7, &[3, 2]),
        "usb:05ba:000a@1-3.2"
    );
    assert_eq!(device_id(0x298d, 0x1010, 2, 9, &[]), "usb:298d:1010@2.9");
}

fn entry(id: &str, bus: u8, address: u8, vid: u16, pid: u16) -> UsbDeviceEntry {
    UsbDeviceEntry {
        id: id.into(),
        vendor_id: vid,
        product_id: pid,
        bus,
        address,
        known: lookup(vid, pid),
    }
}

#[test]
fn diff_reports_arrivals_departures_and_replugs() {
    let a = entry("usb:298d:1010@1-7", 1, 3, 0x298d, 0x1010);
    let b = entry("usb:1234:5678@1-2", 1, 4, 0x1234, 0x5678);
    assert_eq!(
        diff_devices(&[], std::slice::from_ref(&a)),
        vec![UsbEvent::Arrived(a.clone())]
    );
    assert_eq!(
        diff_devices(&[a.clone(), b.clone()], std::slice::from_ref(&b)),
        vec![UsbEvent::Left(a.clone())]
    );
    assert!(diff_devices(&[a.clone(), b.clone()], &[b.clone(), a.clone()]).is_empty());
    // Re-plugged into the same port: same id, new address.
    let a2 = entry("usb:298d:1010@1-7", 1, 5, 0x298d, 0x1010);
    assert_eq!(
        diff_devices(std::slice::from_ref(&a), std::slice::from_ref(&a2)),
        vec![UsbEvent::Left(a.clone()), UsbEvent::Arrived(a2.clone())]
    );
    assert_eq!(a2.scanner_info().unwrap().driver, "nb1010");
    assert!(b.scanner_info().is_none());
}

#[test]
fn umockdev_device_descriptions_parse() {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../shared/data/fingerprint/libfprint-umockdev"
    );
    for (dev, vid, pid, bus, addr) in [
        ("nb1010", 0x298d, 0x1010, 1, 3),
        ("aes3500", 0x08ff, 0x5731, 3, 4),
        ("uru4000-msv2", 0x045e, 0x00ca, 1, 47),
    ] {
        let d = DeviceDescription::parse_umockdev(
            &std::fs::read_to_string(format!("{dir}/{dev}/device")).unwrap(),
        )
        .unwrap();
        assert_eq!(
            (d.vendor_id, d.product_id, d.bus, d.address),
            (vid, pid, bus, addr),
            "{dev}"
        );
    }
    assert!(DeviceDescription::parse_umockdev("P: /devices/x\nA: idVendor=zz\n").is_err());
}
