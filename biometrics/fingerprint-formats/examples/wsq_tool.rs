//! Small command-line front end to the WSQ codec, used by the NBIS
//! cross-check (tools/nbis_crosscheck.py) and handy for manual checks:
//!
//! ```text
//! wsq_tool encode <image> <out.wsq> [bitrate]   # any loadable image → WSQ
//! wsq_tool decode <in.wsq> <out.pgm>            # WSQ → binary PGM
//! ```

use fingerprint_formats::{raster, wsq};
use std::process::ExitCode;

fn run(args: &[String]) -> Result<(), String> {
    match args {
        [cmd, input, output, rest @ ..] if cmd == "encode" => {
            let bytes = std::fs::read(input).map_err(|e| format!("{input}: {e}"))?;
            let img =
                raster::load(&bytes, raster::DEFAULT_DPI).map_err(|e| format!("{input}: {e}"))?;
            let bitrate = match rest {
                [b] => b.parse().map_err(|_| format!("bad bitrate {b}"))?,
                _ => wsq::DEFAULT_BITRATE,
            };
            let opts = wsq::EncodeOptions {
                bitrate,
                comment: None,
            };
            let out = wsq::encode(&img, &opts).map_err(|e| format!("{input}: {e}"))?;
            std::fs::write(output, out).map_err(|e| format!("{output}: {e}"))
        }
        [cmd, input, output] if cmd == "decode" => {
            let bytes = std::fs::read(input).map_err(|e| format!("{input}: {e}"))?;
            let img = wsq::decode(&bytes)
                .map_err(|e| format!("{input}: {e}"))?
                .image;
            std::fs::write(output, raster::encode_pgm(&img)).map_err(|e| format!("{output}: {e}"))
        }
        _ => Err(
            "usage: wsq_tool encode <image> <out.wsq> [bitrate] | decode <in.wsq> <out.pgm>".into(),
        ),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("wsq_tool: {e}");
            ExitCode::FAILURE
        }
    }
}
