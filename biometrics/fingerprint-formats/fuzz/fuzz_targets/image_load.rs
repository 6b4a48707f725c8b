//! Fuzzes header probing and full image loading for every supported format.
#![no_main]

use fingerprint_formats::raster;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let probed = raster::probe(data);
    if let Ok(img) = raster::load(data, 500) {
        let info = probed.expect("a loadable image must probe");
        assert_eq!((img.width(), img.height()), (info.width, info.height));
    }
});
