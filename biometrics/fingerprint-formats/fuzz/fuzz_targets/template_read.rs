//! Fuzzes the template parsers (format detection, ISO 2005/2011, ANSI
//! 2004/2007/2009) and the writer on whatever parses.
#![no_main]

use fingerprint_formats::template;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(t) = template::read_template(data) {
        // Whatever parses must serialise or fail with a typed error, and the
        // output must be parseable input again (it may legitimately be read
        // as another "030" format: ISO 2011 and ANSI 2009 share the version).
        if let Ok(bytes) = template::write_template(&t) {
            let _ = template::read_template(&bytes);
        }
    }
});
