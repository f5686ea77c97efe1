//! Writes the seed corpora of the fuzz targets (fuzz/corpus/<target>/):
//! `cargo +nightly run --release --manifest-path fuzz/Cargo.toml --example seeds`.
//! Frames come from the model's generators (every option layout and every
//! malformed class); the TCP seeds pre-place each state and then run a
//! few operations.  Deterministic (seed 21).
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::path::Path;
use toe_model::gen::{self, Malformed, TcpOpt, TcpSpec};

const US: [u8; 4] = [10, 0, 0, 1];
const MAC: [u8; 6] = [2, 0, 0, 0, 0, 1];
const PEER: [u8; 4] = [10, 0, 0, 2];
const PEER_MAC: [u8; 6] = [2, 0, 0, 0, 0, 2];

fn put(dir: &Path, name: &str, bytes: &[u8]) {
    std::fs::create_dir_all(dir).unwrap();
    std::fs::write(dir.join(name), bytes).unwrap();
}

fn framed(f: &[u8]) -> Vec<u8> {
    let mut v = (f.len() as u16).to_be_bytes().to_vec();
    v.extend_from_slice(f);
    v
}

/// A TCP frame from the peer to us.
fn to_us(flags: u8, dport: u16, seq: u32, ack: u32, opts: &[TcpOpt], payload: usize) -> Vec<u8> {
    let mut s = TcpSpec::default();
    s.ip.dst_mac = MAC;
    s.ip.src_mac = PEER_MAC;
    s.ip.src = PEER;
    s.ip.dst = US;
    s.ip.options.clear();
    s.src_port = 40000;
    s.dst_port = dport;
    s.seq = seq;
    s.ack = ack;
    s.flags = flags;
    s.window = 64240;
    s.options = gen::options_bytes(opts);
    s.payload = vec![0x61; payload];
    gen::tcp_frame(&s)
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("corpus");
    let mut rng = StdRng::seed_from_u64(21);
    let full = [
        TcpOpt::Mss(1460),
        TcpOpt::SackPermitted,
        TcpOpt::Timestamps { tsval: 1, tsecr: 0 },
        TcpOpt::Nop,
        TcpOpt::WindowScale(7),
    ];

    // model_parse: [mac_error bit][frame].
    let d = root.join("model_parse");
    for i in 0..24 {
        let (_, f) = gen::random_frame(&mut rng, 9018);
        let mut v = vec![if f.mac_error { 0x80 } else { 0 }];
        v.extend_from_slice(&f.bytes);
        put(&d, &format!("random{i}"), &v);
    }
    for c in Malformed::ALL {
        let f = gen::malformed(&mut rng, c, 9018);
        let mut v = vec![if f.mac_error { 0x80 } else { 0 }];
        v.extend_from_slice(&f.bytes);
        put(&d, &format!("{c:?}"), &v);
    }

    // net_frames: [flags] then per frame [ctl][len16][frame].
    let d = root.join("net_frames");
    let syn = to_us(0x02, 80, 1000, 0, &full, 0);
    let ack = to_us(0x10, 80, 1001, 0, &[], 0);
    let data = to_us(0x18, 80, 1001, 0, &[], 100);
    let rst = to_us(0x04, 80, 1001, 0, &[], 0);
    let arp = gen::arp_frame(PEER_MAC, PEER, US, 0);
    let mut icmp_ip = gen::random_ipv4(&mut rng);
    icmp_ip.dst_mac = MAC;
    icmp_ip.src_mac = PEER_MAC;
    icmp_ip.src = PEER;
    icmp_ip.dst = US;
    icmp_ip.more_frags = false;
    icmp_ip.frag_offset = 0;
    icmp_ip.options.clear();
    let icmp = gen::icmp_frame(&icmp_ip, 1, 1, b"ping");
    for (name, frames) in [
        ("syn", vec![syn.clone()]),
        (
            "handshake",
            vec![arp.clone(), syn.clone(), ack.clone(), data.clone()],
        ),
        ("syn_rst", vec![syn.clone(), rst.clone()]),
        ("arp_icmp", vec![arp.clone(), icmp.clone()]),
        ("flood", vec![syn.clone(); 6]),
        ("to443", vec![to_us(0x02, 443, 5, 0, &full[..1], 0)]),
    ] {
        let mut v = vec![0u8];
        for f in &frames {
            v.push(0x03);
            v.extend_from_slice(&framed(f));
        }
        put(&d, name, &v);
    }

    // tcp_states: [state 0..10][peer ISN u32][ops]: each state alone, then
    // with data, an ACK, a FIN, time, a read and a write.
    let d = root.join("tcp_states");
    for st in 0u8..11 {
        let isn: u32 = rng.gen();
        let mut v = vec![st];
        v.extend_from_slice(&isn.to_be_bytes());
        put(&d, &format!("state{st}"), &v);
        // op 6: well-behaved data (len 200); op 10: read; op 9: write 300;
        // op 12: time; op 7: FIN.
        v.extend_from_slice(&[0, 6, 0, 200, 0, 10, 0, 9, 1, 44, 0, 12, 1, 1, 244, 0, 7]);
        put(&d, &format!("state{st}_ops"), &v);
    }

    // driver_completions: [log2][queues] then ops [q][op]...
    let d = root.join("driver_completions");
    for (i, f) in [syn, arp, icmp, data].iter().enumerate() {
        // op 0: a well-formed completion in the next slot with this frame
        // (index = next, len = frame length, kind RX, good phase), then
        // op 6: the endpoint polls, op 4: rx_burst, op 5: free.
        let mut v = vec![2, 0, 0, 0, 1];
        v.extend_from_slice(&framed(f));
        v.extend_from_slice(&[1, 2, 1]);
        v.extend_from_slice(&[0; 22]);
        v.extend_from_slice(&[0, 6, 0, 10, 0, 4, 8, 0, 5, 0]);
        put(&d, &format!("frame{i}"), &v);
    }

    // capi_args: a few call sequences.
    let d = root.join("capi_args");
    put(
        &d,
        "endpoint_listen_poll",
        &[
            1, 0, 0, 2, 0, 0, 24, 1, 1, 1, 0, 80, 0, 0, 0, 8, 1, 1, 11, 0, 0, 0, 1, 0,
        ],
    );
    put(&d, "nulls", &[0, 0, 4, 5, 0, 0, 5, 6, 0, 0, 7, 0, 0, 15, 0]);
    println!("seeds written under {}", root.display());
}
