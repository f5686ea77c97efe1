//! Descriptor and completion records (16 bytes each, little-endian).
//!
//! The RTL sees a record as a 128-bit word whose bit `8*i + j` is bit `j` of
//! byte `i`; the `*_BIT` constants give field positions in that word.
//!
//! Host-to-NIC commands travel as TX descriptors with a non-zero opcode, and
//! NIC-to-host events travel as completion records with a non-zero kind, so
//! both are ordered with the data of their queue.

/// Size of a TX or RX descriptor.
pub const RECORD_BYTES: usize = 16;

// ----------------------------------------------------------------- TX descriptor
// bytes 0..8   buffer address (BUF_ALIGN aligned)
// bytes 8..10  frame length (MIN_TX_LEN..=MAX_FRAME)
// bytes 10..12 flags: bit 0 insert IPv4 header checksum, bit 1 insert TCP
//              checksum, bits 15:12 opcode (0 = send frame)
// bytes 12..16 reserved (0)
pub const TXD_ADDR_BIT: usize = 0;
pub const TXD_LEN_BIT: usize = 64;
pub const TXD_FLAGS_BIT: usize = 80;
pub const TXF_CSUM_IP: u16 = 1 << 0;
pub const TXF_CSUM_TCP: u16 = 1 << 1;
pub const TXF_OPCODE_SHIFT: u16 = 12;
pub const TX_OP_SEND: u16 = 0;
/// Shortest frame a TX descriptor may carry (an Ethernet header).
pub const MIN_TX_LEN: usize = 14;

// ----------------------------------------------------------------- RX descriptor
// bytes 0..8   buffer address (BUF_ALIGN aligned)
// bytes 8..12  buffer length in bytes
// bytes 12..16 reserved (0)
pub const RXD_ADDR_BIT: usize = 0;
pub const RXD_LEN_BIT: usize = 64;

// ----------------------------------------------------------------- completion
// 32 bytes:
// bytes 0..2   descriptor index (free-running) this record completes
// bytes 2..4   frame length
// bytes 4..8   RSS hash (RX), 0 (TX)
// bytes 8..10  flags (CPL_*)
// byte  10     offset of the IPv4 header in the frame (RX; 0 if none)
// byte  11     offset of the TCP header in the frame (RX; 0 if none)
// byte  12     kind (KIND_*)
// byte  13     TCP flags byte (RX TCP)
// bytes 14..16 MSS option value (RX TCP; 0 if absent)
// byte  16     window scale option: bit 7 present, bits 3:0 shift
// byte  17     bit 0 SACK-permitted, bit 1 timestamps present, bits 6:4 SACK blocks
// bytes 18..20 TCP window field (RX TCP)
// bytes 20..24 TSval (RX TCP with timestamps)
// bytes 24..28 TSecr (RX TCP with timestamps)
// bytes 28..31 reserved (0)
// byte  31     bit 7: phase
/// Size of a completion record.
pub const CPL_BYTES: usize = 32;
pub const CPL_INDEX_BIT: usize = 0;
pub const CPL_LEN_BIT: usize = 16;
pub const CPL_HASH_BIT: usize = 32;
pub const CPL_FLAGS_BIT: usize = 64;
pub const CPL_L3OFF_BIT: usize = 80;
pub const CPL_L4OFF_BIT: usize = 88;
pub const CPL_KIND_BIT: usize = 96;
pub const CPL_TCPFLAGS_BIT: usize = 104;
pub const CPL_MSS_BIT: usize = 112;
pub const CPL_WSCALE_BIT: usize = 128;
pub const CPL_OPTS_BIT: usize = 136;
pub const CPL_WINDOW_BIT: usize = 144;
pub const CPL_TSVAL_BIT: usize = 160;
pub const CPL_TSECR_BIT: usize = 192;
pub const CPL_PHASE_BIT: usize = 255;
pub const WSCALE_PRESENT: u8 = 0x80;
pub const OPT_SACK_PERM: u8 = 1 << 0;
pub const OPT_TS: u8 = 1 << 1;
pub const OPT_SACK_BLOCKS_SHIFT: u8 = 4;

/// The frame is IPv4 (RX).
pub const CPL_IPV4: u16 = 1 << 0;
/// The frame carries a TCP segment (RX; not for non-first fragments).
pub const CPL_TCP: u16 = 1 << 1;
/// IPv4 header checksum verified good / bad (RX).
pub const CPL_IP_CSUM_OK: u16 = 1 << 2;
pub const CPL_IP_CSUM_BAD: u16 = 1 << 3;
/// TCP checksum verified good / bad (RX).
pub const CPL_TCP_CSUM_OK: u16 = 1 << 4;
pub const CPL_TCP_CSUM_BAD: u16 = 1 << 5;
/// IPv4 fragment (RX): no L4 processing was done.
pub const CPL_FRAGMENT: u16 = 1 << 6;
/// The TCP options could not be walked to their end (RX; the segment is still
/// delivered, as a host stack would accept it, but options were not parsed).
pub const CPL_OPT_BAD: u16 = 1 << 7;
/// The descriptor was rejected (TX): nothing was sent.
pub const CPL_ERROR: u16 = 1 << 15;

/// Completion kinds.
pub const KIND_RX: u8 = 0;
pub const KIND_TX: u8 = 1;

/// Phase the NIC writes into a completion for descriptor index `index` in a
/// ring of `1 << log2` entries: 1 on even passes, 0 on odd ones.  A freshly
/// zeroed ring therefore holds no valid entry.
pub const fn phase_for(index: u16, log2: u32) -> bool {
    (index >> log2) & 1 == 0
}

/// A TX descriptor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TxDesc {
    pub addr: u64,
    pub len: u16,
    pub flags: u16,
}

impl TxDesc {
    pub fn encode(&self) -> [u8; RECORD_BYTES] {
        let mut b = [0u8; RECORD_BYTES];
        b[0..8].copy_from_slice(&self.addr.to_le_bytes());
        b[8..10].copy_from_slice(&self.len.to_le_bytes());
        b[10..12].copy_from_slice(&self.flags.to_le_bytes());
        b
    }
    pub fn decode(b: &[u8; RECORD_BYTES]) -> Self {
        TxDesc {
            addr: u64::from_le_bytes(b[0..8].try_into().unwrap()),
            len: u16::from_le_bytes([b[8], b[9]]),
            flags: u16::from_le_bytes([b[10], b[11]]),
        }
    }
}

/// An RX descriptor.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct RxDesc {
    pub addr: u64,
    pub len: u32,
}

impl RxDesc {
    pub fn encode(&self) -> [u8; RECORD_BYTES] {
        let mut b = [0u8; RECORD_BYTES];
        b[0..8].copy_from_slice(&self.addr.to_le_bytes());
        b[8..12].copy_from_slice(&self.len.to_le_bytes());
        b
    }
    pub fn decode(b: &[u8; RECORD_BYTES]) -> Self {
        RxDesc {
            addr: u64::from_le_bytes(b[0..8].try_into().unwrap()),
            len: u32::from_le_bytes(b[8..12].try_into().unwrap()),
        }
    }
}

/// A completion record.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Completion {
    pub index: u16,
    pub len: u16,
    pub hash: u32,
    pub flags: u16,
    pub l3_off: u8,
    pub l4_off: u8,
    pub kind: u8,
    pub tcp_flags: u8,
    pub mss: u16,
    pub wscale: u8,
    pub opts: u8,
    pub window: u16,
    pub tsval: u32,
    pub tsecr: u32,
    pub phase: bool,
}

impl Completion {
    pub fn encode(&self) -> [u8; CPL_BYTES] {
        let mut b = [0u8; CPL_BYTES];
        b[0..2].copy_from_slice(&self.index.to_le_bytes());
        b[2..4].copy_from_slice(&self.len.to_le_bytes());
        b[4..8].copy_from_slice(&self.hash.to_le_bytes());
        b[8..10].copy_from_slice(&self.flags.to_le_bytes());
        b[10] = self.l3_off;
        b[11] = self.l4_off;
        b[12] = self.kind;
        b[13] = self.tcp_flags;
        b[14..16].copy_from_slice(&self.mss.to_le_bytes());
        b[16] = self.wscale;
        b[17] = self.opts;
        b[18..20].copy_from_slice(&self.window.to_le_bytes());
        b[20..24].copy_from_slice(&self.tsval.to_le_bytes());
        b[24..28].copy_from_slice(&self.tsecr.to_le_bytes());
        b[31] = (self.phase as u8) << 7;
        b
    }
    pub fn decode(b: &[u8; CPL_BYTES]) -> Self {
        Completion {
            index: u16::from_le_bytes([b[0], b[1]]),
            len: u16::from_le_bytes([b[2], b[3]]),
            hash: u32::from_le_bytes(b[4..8].try_into().unwrap()),
            flags: u16::from_le_bytes([b[8], b[9]]),
            l3_off: b[10],
            l4_off: b[11],
            kind: b[12],
            tcp_flags: b[13],
            mss: u16::from_le_bytes([b[14], b[15]]),
            wscale: b[16],
            opts: b[17],
            window: u16::from_le_bytes([b[18], b[19]]),
            tsval: u32::from_le_bytes(b[20..24].try_into().unwrap()),
            tsecr: u32::from_le_bytes(b[24..28].try_into().unwrap()),
            phase: b[31] >> 7 != 0,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let t = TxDesc {
            addr: 0x1234_5678_9abc_def0,
            len: 1514,
            flags: TXF_CSUM_IP | TXF_CSUM_TCP,
        };
        assert_eq!(TxDesc::decode(&t.encode()), t);
        let r = RxDesc {
            addr: 0x40,
            len: 2048,
        };
        assert_eq!(RxDesc::decode(&r.encode()), r);
        let c = Completion {
            index: 7,
            len: 60,
            hash: 0xdead_beef,
            flags: CPL_IPV4 | CPL_TCP,
            l3_off: 14,
            l4_off: 34,
            kind: KIND_RX,
            tcp_flags: 0x12,
            mss: 1460,
            wscale: WSCALE_PRESENT | 7,
            opts: OPT_SACK_PERM | OPT_TS,
            window: 65535,
            tsval: 1,
            tsecr: 2,
            phase: true,
        };
        let b = c.encode();
        assert_eq!(b[31] & 0x80, 0x80);
        assert_eq!(Completion::decode(&b), c);
    }

    #[test]
    fn bit_positions_match_bytes() {
        let bit = |b: &[u8; CPL_BYTES], pos: usize| (b[pos / 8] >> (pos % 8)) & 1;
        let c = Completion {
            phase: true,
            ..Default::default()
        };
        assert_eq!(bit(&c.encode(), CPL_PHASE_BIT), 1);
        let c = Completion {
            kind: 0x01,
            tsecr: 1,
            mss: 1,
            ..Default::default()
        };
        let b = c.encode();
        assert_eq!(bit(&b, CPL_KIND_BIT), 1);
        assert_eq!(bit(&b, CPL_TSECR_BIT), 1);
        assert_eq!(bit(&b, CPL_MSS_BIT), 1);
        let t = TxDesc {
            addr: 0,
            len: 0x1234,
            flags: 0x0003,
        };
        let w = u128::from_le_bytes(t.encode());
        assert_eq!((w >> TXD_LEN_BIT) & 0xffff, 0x1234);
        assert_eq!((w >> TXD_FLAGS_BIT) & 0xffff, 0x0003);
    }

    #[test]
    fn phase_alternates_per_pass() {
        assert!(phase_for(0, 4));
        assert!(phase_for(15, 4));
        assert!(!phase_for(16, 4));
        assert!(phase_for(32, 4));
        assert!(!phase_for(0xFFFF, 4));
    }
}
