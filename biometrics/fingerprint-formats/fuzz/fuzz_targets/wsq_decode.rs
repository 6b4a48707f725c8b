//! Fuzzes the WSQ decoder: any input must decode or return a typed error.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(d) = fingerprint_formats::wsq::decode(data) {
        assert_eq!(
            d.image.pixels().len(),
            d.image.width() as usize * d.image.height() as usize
        );
    }
});
