//! Seeded randomised fuzzing of the R30x packet decoder and of the driver's reply handling.
//! Bounded for CI (`scripts/ci/serial.sh` runs it; `R30X_FUZZ_ITERATIONS` raises the count).
//!
//! Properties: decoding never panics on arbitrary bytes; whatever decodes re-encodes to the same
//! bytes; every valid packet survives a round trip; any single-byte corruption of a valid packet
//! is either rejected or yields a different, self-consistent packet; and the driver, fed random
//! replies through a replay, always ends in a result or a typed error.

use std::time::Duration;

use drivers::serial::protocol::{Packet, PacketError, Pid, MAX_CONTENT_LEN, PREFIX_LEN};
use drivers::serial::recorder::{Event, EventKind};
use drivers::serial::{LinkSettings, R30x, ReplayLink, SerialRecording};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};

fn iterations() -> usize {
    std::env::var("R30X_FUZZ_ITERATIONS").ok().and_then(|v| v.parse().ok()).unwrap_or(100_000)
}

fn random_packet(rng: &mut StdRng) -> Packet {
    let pid = [Pid::Command, Pid::Data, Pid::Ack, Pid::EndData][rng.gen_range(0..4)];
    let len = rng.gen_range(0..=MAX_CONTENT_LEN);
    Packet { address: rng.gen(), pid, content: (0..len).map(|_| rng.gen()).collect() }
}

#[test]
fn decoder_fuzz() {
    let mut rng = StdRng::seed_from_u64(0x5230_3078);
    let (mut decoded, mut rejected, mut corrupted_rejected) = (0usize, 0usize, 0usize);
    for i in 0..iterations() {
        let packet = random_packet(&mut rng);
        let bytes = packet.encode();
        assert_eq!(Packet::decode(&bytes), Ok((packet.clone(), bytes.len())));
        // Random garbage, half the time behind a valid header so the deeper checks are reached.
        let n = rng.gen_range(0..300);
        let mut junk: Vec<u8> = (0..n).map(|_| rng.gen()).collect();
        if i % 2 == 0 && junk.len() >= 2 {
            junk[0] = 0xEF;
            junk[1] = 0x01;
        }
        match Packet::decode(&junk) {
            Ok((p, used)) => {
                decoded += 1;
                assert_eq!(&p.encode()[..], &junk[..used]);
            }
            Err(PacketError::Incomplete { needed }) => assert!(needed > junk.len() && needed <= PREFIX_LEN + MAX_CONTENT_LEN + 2),
            Err(_) => rejected += 1,
        }
        // One flipped byte after the header: rejected, or a different packet that re-encodes
        // to exactly the corrupted bytes (an address byte, or PID 02<->08 style changes cannot
        // be caught by a sum — the checksum does not cover the address).
        let mut bad = bytes.clone();
        let at = rng.gen_range(2..bad.len());
        bad[at] ^= rng.gen_range(1..=255u8);
        match Packet::decode(&bad) {
            Ok((p, used)) => {
                assert_ne!(p, packet);
                assert_eq!(p.encode(), bad[..used].to_vec());
            }
            Err(_) => corrupted_rejected += 1,
        }
    }
    assert!(rejected > 0 && corrupted_rejected > iterations() / 2, "{decoded} {rejected} {corrupted_rejected}");
}

#[test]
fn driver_reply_fuzz() {
    // Random reply streams (some valid acks, some noise, some truncated) into real commands.
    let mut rng = StdRng::seed_from_u64(7);
    let n = (iterations() / 50).max(100);
    let mut outcomes = [0usize; 2];
    for _ in 0..n {
        let mut reply = Vec::new();
        for _ in 0..rng.gen_range(0..4) {
            match rng.gen_range(0..4) {
                0 => reply.extend((0..rng.gen_range(0..40)).map(|_| rng.gen::<u8>())),
                1 => reply.extend(Packet { address: 0xFFFF_FFFF, pid: Pid::Ack, content: (0..rng.gen_range(0..20)).map(|_| rng.gen()).collect() }.encode()),
                2 => {
                    let p = random_packet(&mut rng).encode();
                    let cut = rng.gen_range(0..p.len());
                    reply.extend_from_slice(&p[..cut]);
                }
                _ => reply.extend(Packet { address: 0xFFFF_FFFF, pid: Pid::Ack, content: vec![0, 0, 3] }.encode()),
            }
        }
        let write = Packet::command(0xFFFF_FFFF, drivers::serial::Instruction::TemplateNum, &[]).encode();
        let mut events = vec![Event { at: Duration::ZERO, kind: EventKind::Write(write) }];
        for chunk in reply.chunks(rng.gen_range(1..64)) {
            events.push(Event { at: Duration::ZERO, kind: EventKind::Read(chunk.to_vec()) });
        }
        events.push(Event { at: Duration::ZERO, kind: EventKind::Timeout(1) });
        let link = ReplayLink::new(SerialRecording { port: "fuzz".into(), events });
        let mut client = R30x::new(link, LinkSettings { timeout: Duration::from_millis(1), ..Default::default() });
        match client.template_count() {
            Ok(_) => outcomes[0] += 1,
            Err(e) => {
                let _ = drivers::DeviceError::from(e);
                outcomes[1] += 1;
            }
        }
    }
    assert!(outcomes[0] > 0 && outcomes[1] > 0, "{outcomes:?}");
}
