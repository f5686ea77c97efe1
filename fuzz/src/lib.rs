//! Shared pieces of the fuzz targets (see docs/fuzzing.md): a cursor over
//! the fuzzer's bytes, the byte stream pattern that lets a target check
//! "every accepted byte delivered once and in order", and fake devices
//! (a register file with heap DMA memory for the driver; a shared-memory
//! simulator stand-in for the C ABI).
pub mod fakedev;

/// Reads the fuzzer's input front to back; past the end every read is 0,
/// so a target never needs to check lengths.
pub struct Input<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Input<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Input { data, pos: 0 }
    }
    pub fn is_empty(&self) -> bool {
        self.pos >= self.data.len()
    }
    pub fn remaining(&self) -> usize {
        self.data.len().saturating_sub(self.pos)
    }
    pub fn u8(&mut self) -> u8 {
        let b = self.data.get(self.pos).copied().unwrap_or(0);
        self.pos += 1;
        b
    }
    pub fn bool(&mut self) -> bool {
        self.u8() & 1 != 0
    }
    pub fn u16(&mut self) -> u16 {
        u16::from_be_bytes([self.u8(), self.u8()])
    }
    pub fn u32(&mut self) -> u32 {
        u32::from_be_bytes([self.u8(), self.u8(), self.u8(), self.u8()])
    }
    /// Up to `n` bytes (fewer at the end of the input).
    pub fn bytes(&mut self, n: usize) -> &'a [u8] {
        let start = self.pos.min(self.data.len());
        let end = (start + n).min(self.data.len());
        self.pos = start + n;
        &self.data[start..end]
    }
    /// A frame: a 16-bit length (capped at `max`) and that many bytes.
    pub fn frame(&mut self, max: usize) -> &'a [u8] {
        let n = self.u16() as usize % (max + 1);
        self.bytes(n)
    }
}

/// Byte `k` of a sender's stream: a hash of the offset, so that a byte
/// delivered at the wrong offset (duplicated, skipped, reordered) shows.
pub fn pattern(stream: u32, k: u64) -> u8 {
    let mut x =
        k.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (stream as u64).wrapping_mul(0xD6E8_FEB8_6659_FD93);
    x ^= x >> 29;
    x = x.wrapping_mul(0xBF58_476D_1CE4_E5B9);
    (x ^ (x >> 32)) as u8
}

/// `n` bytes of stream `stream` from offset `from`.
pub fn pattern_bytes(stream: u32, from: u64, n: usize) -> Vec<u8> {
    (0..n as u64).map(|i| pattern(stream, from + i)).collect()
}

/// RFC 1071 Internet checksum of `data` with an initial sum (written here
/// independently of the model's and smoltcp's: smoltcp's `verify_checksum`
/// always succeeds when built for fuzzing).
pub fn inet_sum(data: &[u8], mut acc: u64) -> u16 {
    let mut ch = data.chunks_exact(2);
    for c in &mut ch {
        acc += u16::from_be_bytes([c[0], c[1]]) as u64;
    }
    if let [b] = ch.remainder() {
        acc += (*b as u64) << 8;
    }
    while acc >> 16 != 0 {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    !(acc as u16)
}

/// Whether an IPv4 header's checksum verifies.
pub fn ipv4_ok(hdr: &[u8]) -> bool {
    inet_sum(hdr, 0) == 0
}

/// Whether a TCP segment's checksum verifies over the pseudo header.
pub fn tcp_ok(src: [u8; 4], dst: [u8; 4], seg: &[u8]) -> bool {
    let pseudo = u16::from_be_bytes([src[0], src[1]]) as u64
        + u16::from_be_bytes([src[2], src[3]]) as u64
        + u16::from_be_bytes([dst[0], dst[1]]) as u64
        + u16::from_be_bytes([dst[2], dst[3]]) as u64
        + 6
        + seg.len() as u64;
    inet_sum(seg, pseudo) == 0
}
