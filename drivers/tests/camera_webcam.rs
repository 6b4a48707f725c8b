//! The nokhwa webcam driver on a machine that may have no camera at all (CI, build servers):
//! listing must succeed with whatever is there, and opening a camera that does not exist must
//! be a typed error, not a panic.

use drivers::camera::{list_webcams, Webcam};
use drivers::DeviceError;

#[test]
fn listing_works_without_cameras() {
    let cameras = list_webcams().expect("listing cameras never fails for lack of cameras");
    for c in &cameras {
        assert!(c.id.starts_with("camera:"), "{c:?}");
    }
    eprintln!("{} webcam(s) present", cameras.len());
}

#[test]
fn opening_an_absent_camera_is_a_typed_error() {
    match Webcam::open("camera:/dev/video97") {
        Err(
            DeviceError::NotFound(_)
            | DeviceError::Device(_)
            | DeviceError::PermissionDenied { .. },
        ) => {}
        Err(other) => panic!("unexpected error kind: {other:?}"),
        Ok(_) => assert!(
            std::path::Path::new("/dev/video97").exists(),
            "opened a camera that does not exist"
        ),
    }
    assert!(matches!(
        Webcam::open("sim:camera"),
        Err(DeviceError::NotFound(_))
    ));
}
