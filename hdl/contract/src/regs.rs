//! BAR0 register map.
//!
//! Register space is a linked list of blocks (as in Corundum).  Every block
//! starts with three words: `TYPE`, `VERSION`, `NEXT` (byte offset of the next
//! block, 0 ends the list).  A driver walks the list from offset 0 and finds
//! the blocks it knows by type.  Unknown addresses read as 0 and ignore writes.

/// Offsets of the three header words of every block.
pub const BLK_TYPE: u32 = 0x00;
pub const BLK_VERSION: u32 = 0x04;
pub const BLK_NEXT: u32 = 0x08;

/// Block types.
pub const TYPE_ID: u32 = 0x544F_0001;
pub const TYPE_RSS: u32 = 0x544F_0002;
pub const TYPE_QUEUES: u32 = 0x544F_0003;
pub const TYPE_COUNTERS: u32 = 0x544F_0004;
pub const TYPE_SETUP: u32 = 0x544F_0005;

/// Block versions (major << 16 | minor).
pub const VERSION_ID: u32 = 0x0001_0000;
pub const VERSION_RSS: u32 = 0x0001_0000;
pub const VERSION_QUEUES: u32 = 0x0001_0000;
pub const VERSION_COUNTERS: u32 = 0x0001_0000;
pub const VERSION_SETUP: u32 = 0x0001_0000;

// ---------------------------------------------------------------- ID block
pub const ID_BASE: u32 = 0x0000;
/// Device identifier, ASCII "TOE1".
pub const ID_DEVICE: u32 = 0x0C;
pub const DEVICE_ID: u32 = 0x544F_4531;
/// Hardware/contract version (major << 16 | minor).
pub const ID_HW_VERSION: u32 = 0x10;
pub const HW_VERSION: u32 = 0x0000_0001; // 0.1: the plain-NIC milestone
/// Queue pairs (bits 7:0) and data path width in bits (bits 31:16).
pub const ID_CAPS: u32 = 0x14;
/// Control: bit 0 drop frames with a bad checksum instead of flagging them.
pub const ID_CTRL: u32 = 0x18;
pub const CTRL_DROP_BAD_CSUM: u32 = 1 << 0;
/// Largest accepted RX frame length in bytes (default MAX_FRAME).
pub const ID_MAX_FRAME: u32 = 0x1C;
/// Scratch register for bus tests (read/write, reset 0).
pub const ID_SCRATCH: u32 = 0x20;

// ---------------------------------------------------------------- RSS block
pub const RSS_BASE: u32 = 0x0100;
/// Control: bit 0 enables RSS (when clear, every RX frame goes to queue 0).
pub const RSS_CTRL: u32 = 0x0C;
pub const RSS_CTRL_ENABLE: u32 = 1 << 0;
/// Toeplitz key, 10 words; word i holds key bytes 4i..4i+3 with byte 4i in
/// bits 31:24 (the key is a big-endian bit string).
pub const RSS_KEY: u32 = 0x10;
pub const RSS_KEY_WORDS: u32 = 10;
/// Indirection table: 64 words, entry i (bits 1:0) is the RX queue for
/// frames whose hash has `hash & 63 == i`.
pub const RSS_TABLE: u32 = 0x40;

// ---------------------------------------------------------------- queue block
pub const QUEUES_BASE: u32 = 0x0300;
/// Number of queue pairs (read only).
pub const QUEUES_COUNT: u32 = 0x0C;
/// Per-queue register windows: TX queue q at TXQ_BASE + q*QUEUE_STRIDE, RX
/// queue q at RXQ_BASE + q*QUEUE_STRIDE.
pub const TXQ_BASE: u32 = 0x1000;
pub const RXQ_BASE: u32 = 0x2000;
pub const QUEUE_STRIDE: u32 = 0x40;
/// Descriptor ring base address, low and high words (64-byte aligned).
pub const Q_DESC_LO: u32 = 0x00;
pub const Q_DESC_HI: u32 = 0x04;
/// Completion ring base address, low and high words (64-byte aligned).
pub const Q_CPL_LO: u32 = 0x08;
pub const Q_CPL_HI: u32 = 0x0C;
/// Control: bits 3:0 log2 of the ring size (descriptor and completion rings
/// have the same size), bit 31 enable.  Writing it with enable set resets
/// the queue's indices to 0.
pub const Q_CTRL: u32 = 0x10;
pub const Q_CTRL_ENABLE: u32 = 1 << 31;
/// Producer index (doorbell): the host writes the free-running index of the
/// next descriptor it will post.
pub const Q_PROD: u32 = 0x14;
/// Consumer index (read only): descriptors the NIC has completed.
pub const Q_CONS: u32 = 0x18;
/// Packets and bytes through this queue (64-bit, read LO first: reading LO
/// latches HI).
pub const Q_PKTS_LO: u32 = 0x20;
pub const Q_PKTS_HI: u32 = 0x24;
pub const Q_BYTES_LO: u32 = 0x28;
pub const Q_BYTES_HI: u32 = 0x2C;

/// Address of register `reg` of TX queue `q`.
pub const fn txq(q: u32, reg: u32) -> u32 {
    TXQ_BASE + q * QUEUE_STRIDE + reg
}
/// Address of register `reg` of RX queue `q`.
pub const fn rxq(q: u32, reg: u32) -> u32 {
    RXQ_BASE + q * QUEUE_STRIDE + reg
}

// ---------------------------------------------------------------- counters
pub const COUNTERS_BASE: u32 = 0x0400;
/// Number of counters in the block (read only).
pub const CNT_COUNT: u32 = 0x0C;
/// Counter i is a 64-bit value at CNT_FIRST + 8*i (LO) and +4 (HI).  Reading
/// LO latches HI.
pub const CNT_FIRST: u32 = 0x10;

/// Global counters, in block order.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(u32)]
pub enum Counter {
    /// Frames received from the MAC (every frame, before any drop).
    RxFrames = 0,
    /// Frames the MAC marked bad (tuser).
    RxDropMacError,
    /// Frames shorter than MIN_FRAME.
    RxDropRunt,
    /// Frames longer than ID_MAX_FRAME.
    RxDropOversize,
    /// IPv4 frames with a malformed network header: version not 4, IHL < 5,
    /// total length < IHL*4, or total length beyond the frame.
    RxDropMalformedL3,
    /// TCP segments with a malformed header: data offset < 5, or the header
    /// beyond the IP payload.
    RxDropMalformedL4,
    /// Frames with a bad IPv4 header checksum (dropped only with
    /// CTRL_DROP_BAD_CSUM, otherwise flagged in the completion).
    RxBadIpCsum,
    /// TCP segments with a bad checksum (dropped only with CTRL_DROP_BAD_CSUM).
    RxBadTcpCsum,
    /// Frames dropped because the chosen queue had no posted buffer.
    RxDropNoBuffer,
    /// Frames dropped because the posted buffer was too small.
    RxDropBufferTooSmall,
    /// Frames dropped because the chosen queue is disabled.
    RxDropQueueDisabled,
    /// TX descriptors rejected (length out of range, misaligned buffer,
    /// unknown opcode).
    TxBadDescriptor,
    /// DMA responses with an error (SLVERR/DECERR).
    DmaError,
    /// Frames sent to the MAC from host TX descriptors.
    TxFrames,
    /// SYNs to offloaded listeners answered by the NIC: the SYN-ACK was
    /// queued for the MAC and the SYN consumed (setup offload).
    SetupSynAck,
    /// Final ACKs whose cookie checked: delivered as `KIND_ESTABLISHED`.
    SetupEstablished,
    /// ACKs to an offloaded listener whose acknowledgment number is not a
    /// valid cookie (no key, too old, or a bad MAC).  They are delivered as
    /// ordinary segments: most belong to connections the host already owns,
    /// the host answers the rest with RST.
    SetupAckNotCookie,
    /// SYNs to offloaded listeners dropped because the SYN-ACK queue was
    /// full (the client retransmits its SYN).
    SetupSynDropped,
    /// SYNs of NIC active opens sent to the MAC, retransmissions included.
    ConnectSyn,
    /// Active opens completed by the NIC: the SYN-ACK was answered with the
    /// ACK and delivered as `KIND_CONNECTED`.
    ConnectEstablished,
    /// Active opens refused: an acceptable RST delivered as
    /// `KIND_CONNECT_REFUSED`.
    ConnectRefused,
    /// Active opens given up after the last SYN retransmission went
    /// unanswered (`SETUP_CONN_TIMEDOUT`).
    ConnectTimeout,
    /// SYNs to an offloaded listener dropped as not for this host: the
    /// Ethernet destination is not `SETUP_LOCAL_MAC` (broadcast,
    /// multicast, another station), the destination address is martian
    /// (0/8, 127/8, multicast, 240/4, broadcast), or the source is (the
    /// same classes, one of `SETUP_LOCAL_IP`, or the destination itself:
    /// LAND).  RFC 1122 4.2.3.10, RFC 1812 5.3.7.
    SetupSynMartian,
    /// SYNs to an offloaded listener that the NIC leaves to the host
    /// (delivered as ordinary segments): the 4-tuple is in the
    /// established-tuple filter (`SETUP_EST_FILTER`), the client's MSS is
    /// below every MSS-table entry, or no key is valid.
    SetupSynToHost,
}
pub const NUM_COUNTERS: u32 = 24;

impl Counter {
    /// Every global counter, in block order.
    pub const ALL: [Counter; NUM_COUNTERS as usize] = [
        Counter::RxFrames,
        Counter::RxDropMacError,
        Counter::RxDropRunt,
        Counter::RxDropOversize,
        Counter::RxDropMalformedL3,
        Counter::RxDropMalformedL4,
        Counter::RxBadIpCsum,
        Counter::RxBadTcpCsum,
        Counter::RxDropNoBuffer,
        Counter::RxDropBufferTooSmall,
        Counter::RxDropQueueDisabled,
        Counter::TxBadDescriptor,
        Counter::DmaError,
        Counter::TxFrames,
        Counter::SetupSynAck,
        Counter::SetupEstablished,
        Counter::SetupAckNotCookie,
        Counter::SetupSynDropped,
        Counter::ConnectSyn,
        Counter::ConnectEstablished,
        Counter::ConnectRefused,
        Counter::ConnectTimeout,
        Counter::SetupSynMartian,
        Counter::SetupSynToHost,
    ];

    /// Short name for tools ("rx_frames", "rx_drop_no_buffer", ...).
    pub const fn name(self) -> &'static str {
        match self {
            Counter::RxFrames => "rx_frames",
            Counter::RxDropMacError => "rx_drop_mac_error",
            Counter::RxDropRunt => "rx_drop_runt",
            Counter::RxDropOversize => "rx_drop_oversize",
            Counter::RxDropMalformedL3 => "rx_drop_malformed_l3",
            Counter::RxDropMalformedL4 => "rx_drop_malformed_l4",
            Counter::RxBadIpCsum => "rx_bad_ip_csum",
            Counter::RxBadTcpCsum => "rx_bad_tcp_csum",
            Counter::RxDropNoBuffer => "rx_drop_no_buffer",
            Counter::RxDropBufferTooSmall => "rx_drop_buffer_too_small",
            Counter::RxDropQueueDisabled => "rx_drop_queue_disabled",
            Counter::TxBadDescriptor => "tx_bad_descriptor",
            Counter::DmaError => "dma_error",
            Counter::TxFrames => "tx_frames",
            Counter::SetupSynAck => "setup_synack",
            Counter::SetupEstablished => "setup_established",
            Counter::SetupAckNotCookie => "setup_ack_not_cookie",
            Counter::SetupSynDropped => "setup_syn_dropped",
            Counter::ConnectSyn => "connect_syn",
            Counter::ConnectEstablished => "connect_established",
            Counter::ConnectRefused => "connect_refused",
            Counter::ConnectTimeout => "connect_timeout",
            Counter::SetupSynMartian => "setup_syn_martian",
            Counter::SetupSynToHost => "setup_syn_to_host",
        }
    }
}

const _: () = {
    let mut i = 0;
    while i < Counter::ALL.len() {
        assert!(Counter::ALL[i] as usize == i);
        i += 1;
    }
};

/// `SETUP_KEY0`/`SETUP_KEY1` words of a 16-byte key (word i = bytes
/// 4i..4i+3, little-endian).
pub fn setup_key_words(key: &[u8; 16]) -> [u32; 4] {
    core::array::from_fn(|i| {
        u32::from_le_bytes([key[4 * i], key[4 * i + 1], key[4 * i + 2], key[4 * i + 3]])
    })
}

/// `SETUP_LOCAL_MAC_HI` and `SETUP_LOCAL_MAC_LO` of a MAC address (bytes 0
/// and 1 in HI bits 15:8 and 7:0, bytes 2..5 in LO from bit 31 down).
pub fn setup_local_mac_words(mac: [u8; 6]) -> [u32; 2] {
    [
        u16::from_be_bytes([mac[0], mac[1]]) as u32,
        u32::from_be_bytes([mac[2], mac[3], mac[4], mac[5]]),
    ]
}

/// The MAC address `SETUP_LOCAL_MAC_HI` and `SETUP_LOCAL_MAC_LO` hold.
pub fn setup_local_mac(hi: u32, lo: u32) -> [u8; 6] {
    let [_, _, h0, h1] = hi.to_be_bytes();
    let [l0, l1, l2, l3] = lo.to_be_bytes();
    [h0, h1, l0, l1, l2, l3]
}

/// A `SETUP_LOCAL_IP` word (first byte in bits 31:24; 0 is empty).
pub fn setup_local_ip_word(ip: [u8; 4]) -> u32 {
    u32::from_be_bytes(ip)
}

/// The two `SETUP_MSS_TABLE` words.
pub fn setup_mss_table_words(t: &[u16; 4]) -> [u32; 2] {
    [
        t[0] as u32 | (t[1] as u32) << 16,
        t[2] as u32 | (t[3] as u32) << 16,
    ]
}

/// `SETUP_OURS`: our MSS and window scale.
pub fn setup_ours(mss: u16, wscale: u8) -> u32 {
    mss as u32 | (wscale as u32 & 0xF) << 16
}

/// `SETUP_CTRL` from its fields.
pub fn setup_ctrl(enable: bool, slot: u8, key_valid: [bool; 2]) -> u32 {
    let mut c = 0;
    if enable {
        c |= SETUP_CTRL_ENABLE;
    }
    if slot & 1 == 1 {
        c |= SETUP_CTRL_SLOT;
    }
    if key_valid[0] {
        c |= SETUP_CTRL_KEY0_VALID;
    }
    if key_valid[1] {
        c |= SETUP_CTRL_KEY1_VALID;
    }
    c
}

/// The `SETUP_CTRL` valid bit of key slot `slot`.
pub const fn setup_key_valid_bit(slot: u8) -> u32 {
    if slot & 1 == 0 {
        SETUP_CTRL_KEY0_VALID
    } else {
        SETUP_CTRL_KEY1_VALID
    }
}

/// A listener entry: `None` for the address is any IP.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ListenEntry {
    pub ip: Option<[u8; 4]>,
    pub port: u16,
    /// The NIC completes the handshakes (otherwise SYNs go to the host).
    pub offload: bool,
}

impl ListenEntry {
    /// The `SETUP_LISTEN_IP` and `SETUP_LISTEN_PORT` words of an entry
    /// (`None`: an empty one).
    pub fn words(e: Option<ListenEntry>) -> (u32, u32) {
        let Some(e) = e else { return (0, 0) };
        let mut w = e.port as u32 | LISTEN_VALID;
        if e.ip.is_none() {
            w |= LISTEN_ANY_IP;
        }
        if e.offload {
            w |= LISTEN_OFFLOAD;
        }
        (e.ip.map_or(0, u32::from_be_bytes), w)
    }

    /// The entry the two words describe (`None`: not valid).
    pub fn from_words(ip: u32, port: u32) -> Option<ListenEntry> {
        (port & LISTEN_VALID != 0).then(|| ListenEntry {
            ip: (port & LISTEN_ANY_IP == 0).then(|| ip.to_be_bytes()),
            port: port as u16,
            offload: port & LISTEN_OFFLOAD != 0,
        })
    }
}

/// Global counter slots in the counter block (the rest read 0).
pub const COUNTER_SLOTS: u32 = 24;

// ---------------------------------------------------------------- offload blocks
/// A register block an offload declares: its header words (`BLK_TYPE`,
/// `BLK_VERSION`) and its address range `base..base + size`.
///
/// [`OFFLOAD_BLOCKS`] lists them; the block list's `BLK_NEXT` words follow
/// it (the counter block's points at the first entry, each entry's at the
/// next, the last's is 0).  The RTL register file serves the three header
/// words of every entry itself and decodes its range from this table
/// (`toe_hdl::regs`): writes in the range are passed on to the offload's
/// module(s) with the offset in the block, reads of the rest of the range
/// return what the module answers for the offset.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegBlock {
    pub type_id: u32,
    pub version: u32,
    pub base: u32,
    /// Bytes; the block's own registers are at offsets `BLK_FIRST..size`.
    pub size: u32,
}

/// First offset after the three header words.
pub const BLK_FIRST: u32 = 0x0C;
/// Where offload blocks may live: after the counter block, before the
/// queue windows.
pub const OFFLOAD_SPACE: core::ops::Range<u32> = 0x0600..0x1000;

/// Connection-setup offload (see `crate::setup` for the cookie design).
pub const SETUP_BASE: u32 = 0x0600;
pub const SETUP_SIZE: u32 = 0x0100;
pub const SETUP_BLOCK: RegBlock = RegBlock {
    type_id: TYPE_SETUP,
    version: VERSION_SETUP,
    base: SETUP_BASE,
    size: SETUP_SIZE,
};

/// The offload register blocks, in list order (ascending addresses).  A
/// new offload adds its `RegBlock` here (and its `TYPE_`/`VERSION_`
/// constants above); the checks below keep the table well formed.
pub const OFFLOAD_BLOCKS: [RegBlock; 1] = [SETUP_BLOCK];

/// The `BLK_NEXT` word of offload block `i`.
pub const fn offload_next(i: usize) -> u32 {
    if i + 1 < OFFLOAD_BLOCKS.len() {
        OFFLOAD_BLOCKS[i + 1].base
    } else {
        0
    }
}

/// The counter block's `BLK_NEXT`: the first offload block (0 when none).
pub const COUNTERS_NEXT: u32 = match OFFLOAD_BLOCKS.first() {
    Some(b) => b.base,
    None => 0,
};

const fn offload_blocks_ok() -> bool {
    let mut i = 0;
    let mut end = OFFLOAD_SPACE.start;
    while i < OFFLOAD_BLOCKS.len() {
        let b = OFFLOAD_BLOCKS[i];
        if b.base < end
            || !b.base.is_multiple_of(4)
            || b.size <= BLK_FIRST
            || !b.size.is_multiple_of(4)
        {
            return false;
        }
        end = b.base + b.size;
        i += 1;
    }
    end <= OFFLOAD_SPACE.end
}
const _: () = assert!(
    offload_blocks_ok(),
    "OFFLOAD_BLOCKS overlap or leave OFFLOAD_SPACE"
);
/// Control: bit 0 enable (SYNs and ACKs to offloaded listeners are handled
/// by the NIC), bit 1 the key slot new SYN-ACKs use, bits 3:2 key slot 0/1
/// valid (a cookie naming an invalid slot is rejected).
pub const SETUP_CTRL: u32 = 0x0C;
pub const SETUP_CTRL_ENABLE: u32 = 1 << 0;
pub const SETUP_CTRL_SLOT: u32 = 1 << 1;
pub const SETUP_CTRL_KEY0_VALID: u32 = 1 << 2;
pub const SETUP_CTRL_KEY1_VALID: u32 = 1 << 3;
/// Oldest cookie accepted, in cookie-clock ticks (bits 2:0, reset
/// `DEFAULT_COOKIE_MAX_AGE`).
pub const SETUP_MAX_AGE: u32 = 0x10;
/// The cookie clock `t` (read; a write sets it).
pub const SETUP_COOKIE_T: u32 = 0x14;
/// Timestamp-clock ticks per cookie-clock tick (0: the clock only moves
/// when written; reset `DEFAULT_COOKIE_PERIOD`, 64 s at 1 ms ticks, as
/// Linux's cookie clock).  The cookie clock runs from reset: a cookie is
/// accepted for `max_age` to `max_age + 1` periods (64 to 128 s with the
/// reset values), never forever.
pub const SETUP_COOKIE_PERIOD: u32 = 0x18;
/// The timestamp clock the SYN-ACK's TSval comes from (read; a write sets it).
pub const SETUP_TS_NOW: u32 = 0x1C;
/// Core clock cycles per timestamp tick (0: stopped; reset
/// `DEFAULT_TS_PERIOD`, 1 ms at 250 MHz).
pub const SETUP_TS_PERIOD: u32 = 0x20;
/// What the SYN-ACK offers: bits 15:0 our MSS (reset 1460), bits 19:16 our
/// window scale (reset 7, at most 14).
pub const SETUP_OURS: u32 = 0x24;
/// The SYN-ACK's window field (bits 15:0, reset 65535).
pub const SETUP_WINDOW: u32 = 0x28;
/// MSS table: word 0 holds entries 0 (bits 15:0) and 1 (31:16), word 1
/// entries 2 and 3 (reset `setup::DEFAULT_MSS_TABLE`).
pub const SETUP_MSS_TABLE: u32 = 0x2C;
/// Key slots 0 and 1, 4 words each (write only, read 0): word i holds key
/// bytes 4i..4i+3, byte 4i in bits 7:0 (little-endian, as SipHash takes it).
pub const SETUP_KEY0: u32 = 0x40;
pub const SETUP_KEY1: u32 = 0x50;
/// Listener table: write the entry index (bits 5:0), then the address,
/// then `SETUP_LISTEN_PORT`, which writes the whole entry.  Reading
/// `SETUP_LISTEN_IP` and `SETUP_LISTEN_PORT` returns the entry at the index.
pub const SETUP_LISTEN_INDEX: u32 = 0x60;
/// IPv4 address, first byte in bits 31:24.
pub const SETUP_LISTEN_IP: u32 = 0x64;
/// Bits 15:0 port, bit 16 valid, bit 17 any IP (the address is ignored),
/// bit 18 setup offload (otherwise SYNs and ACKs go to the host).
pub const SETUP_LISTEN_PORT: u32 = 0x68;
pub const LISTEN_VALID: u32 = 1 << 16;
pub const LISTEN_ANY_IP: u32 = 1 << 17;
pub const LISTEN_OFFLOAD: u32 = 1 << 18;
/// Number of listener entries (read only).
pub const SETUP_LISTEN_COUNT: u32 = 0x6C;
pub const LISTEN_ENTRIES: u32 = 64;
/// Active open (docs/setup.md): the SYN's control-frame record, 12 words
/// (`toe_contract::setup::CtlRecord::words`), staged before `SETUP_CONN_CMD`.
pub const SETUP_CONN_REC: u32 = 0x80;
pub const SETUP_CONN_REC_WORDS: u32 = 12;
/// Window of the NIC's handshake ACK when the peer's SYN-ACK has a window
/// scale option (already scaled); without one the SYN's window is used.
/// Staged with the record.
pub const SETUP_CONN_ACK_WIN: u32 = 0xB0;
/// First SYN retransmission timeout, in ticks of the timestamp clock
/// (`SETUP_TS_NOW`); reset 1000 (1 s at 1 ms ticks, RFC 6298).
pub const SETUP_CONN_RTO: u32 = 0xB4;
/// SYN retransmissions before the NIC gives up (reset 6, as Linux's
/// `tcp_syn_retries`; at most `CONN_MAX_RETRIES`).
pub const SETUP_CONN_RETRIES: u32 = 0xB8;
/// Write: bits 3:0 the slot, `CONN_CMD_START` (copy the staged request into
/// the slot and send its SYN) or `CONN_CMD_ABORT` (forget the slot).
pub const SETUP_CONN_CMD: u32 = 0xBC;
pub const CONN_CMD_START: u32 = 1 << 8;
pub const CONN_CMD_ABORT: u32 = 2 << 8;
/// Read only: bit i set while slot i's open is in progress.
pub const SETUP_CONN_PENDING: u32 = 0xC0;
/// Read only: bit i set when slot i's open timed out (cleared by the next
/// start or abort of the slot).
pub const SETUP_CONN_TIMEDOUT: u32 = 0xC4;
/// Read only: number of active-open slots.
pub const SETUP_CONN_SLOTS: u32 = 0xC8;
pub const CONN_MAX_RETRIES: u32 = 10;
/// This host's MAC address, bytes 0 and 1 in bits 15:8 and 7:0 (reset 0).
/// A SYN to an offloaded listener is answered only when its Ethernet
/// destination is this address.
pub const SETUP_LOCAL_MAC_HI: u32 = 0xCC;
/// This host's MAC address, bytes 2..5 (byte 2 in bits 31:24; reset 0).
pub const SETUP_LOCAL_MAC_LO: u32 = 0xD0;
/// This host's unicast IPv4 addresses, `LOCAL_IPS` words (first byte in
/// bits 31:24; 0 = empty; reset 0).  An any-IP listener entry matches only
/// these destinations; an exact entry names its own.
pub const SETUP_LOCAL_IP: u32 = 0xD4;
pub const LOCAL_IPS: u32 = 4;
/// Established-tuple filter (`EST_FILTER_BITS` bits; docs/setup.md).
/// Write: bits 15:0 the bit index (`est_filter_index`), bit 16 its new
/// value; or `EST_FILTER_CLEAR_ALL` to clear every bit, one per cycle.
/// Read: `EST_FILTER_CLEARING` while a clear-all runs (writes of single
/// bits are ignored then).  A SYN to an offloaded listener whose bit is set
/// goes to the host, which holds a connection for its tuple (RFC 5961 4:
/// the host answers with a challenge ACK) or, on a false positive, runs the
/// software handshake.
pub const SETUP_EST_FILTER: u32 = 0xE4;
pub const EST_FILTER_SET: u32 = 1 << 16;
pub const EST_FILTER_CLEAR_ALL: u32 = 1 << 31;
pub const EST_FILTER_CLEARING: u32 = 1 << 31;
pub const EST_FILTER_BITS: u32 = 1 << 16;
/// Reset values of the clocks and the cookie lifetime.
pub const DEFAULT_TS_PERIOD: u32 = 250_000;
pub const DEFAULT_COOKIE_PERIOD: u32 = 64_000;
pub const DEFAULT_COOKIE_MAX_AGE: u32 = 1;

/// The established-tuple filter's bit for a connection: the top 16 bits of
/// the RSS Toeplitz hash (under the RSS key, `RSS_KEY`) of the tuple as the
/// client's segments carry it (client address and port first), the hash the
/// NIC computes for every received TCP segment.  The key is secret and
/// random, so a peer cannot aim its tuples at one bit.
pub fn est_filter_index(
    rss_key: &[u8; crate::RSS_KEY_BYTES],
    client: ([u8; 4], u16),
    server: ([u8; 4], u16),
) -> u16 {
    let t = crate::rss::tuple4(client.0, server.0, client.1, server.1);
    (crate::rss::toeplitz(rss_key, &t) >> 16) as u16
}

/// Whether an IPv4 address can never be a TCP peer's or our own unicast
/// address (RFC 1122 3.2.1.3, RFC 1812 5.3.7): 0.0.0.0/8, 127.0.0.0/8,
/// multicast 224.0.0.0/4, 240.0.0.0/4 (with 255.255.255.255).
pub fn ip_is_martian(ip: [u8; 4]) -> bool {
    ip[0] == 0 || ip[0] == 127 || ip[0] >= 224
}

/// Address of the low word of a global counter.
pub const fn counter(c: Counter) -> u32 {
    COUNTERS_BASE + CNT_FIRST + 8 * (c as u32)
}

// Blocks must not overlap: each ends before the next begins.
const _: () = assert!(RSS_BASE + RSS_TABLE + 4 * crate::RSS_TABLE_ENTRIES as u32 <= QUEUES_BASE);
const _: () = assert!(QUEUES_BASE + QUEUES_COUNT + 4 <= COUNTERS_BASE);
const _: () = assert!(NUM_COUNTERS <= COUNTER_SLOTS);
const _: () = assert!(COUNTERS_BASE + CNT_FIRST + 8 * COUNTER_SLOTS <= OFFLOAD_SPACE.start);
const _: () = assert!(SETUP_EST_FILTER + 4 <= SETUP_SIZE && OFFLOAD_SPACE.end <= TXQ_BASE);
const _: () = assert!(SETUP_LOCAL_IP + 4 * LOCAL_IPS <= SETUP_EST_FILTER);
const _: () = assert!(SETUP_EST_FILTER < 0x100);
const _: () = assert!(SETUP_CONN_REC + 4 * SETUP_CONN_REC_WORDS <= SETUP_CONN_ACK_WIN);
const _: () = assert!(TXQ_BASE + 4 * QUEUE_STRIDE <= RXQ_BASE);

#[cfg(test)]
mod setup_encoding_tests {
    use super::*;

    #[test]
    fn listen_entries_round_trip() {
        for ip in [None, Some([10, 0, 0, 1])] {
            for offload in [false, true] {
                let e = ListenEntry {
                    ip,
                    port: 8080,
                    offload,
                };
                let (a, p) = ListenEntry::words(Some(e));
                assert_eq!(ListenEntry::from_words(a, p), Some(e));
            }
        }
        assert_eq!(ListenEntry::words(None), (0, 0));
        assert_eq!(ListenEntry::from_words(0x0A00_0001, 80), None);
    }

    #[test]
    fn setup_words() {
        let k: [u8; 16] = core::array::from_fn(|i| i as u8);
        assert_eq!(setup_key_words(&k)[1], 0x0706_0504);
        assert_eq!(
            setup_mss_table_words(&[536, 1300, 1440, 1460]),
            [536 | 1300 << 16, 1440 | 1460 << 16]
        );
        assert_eq!(setup_ours(1460, 7), 1460 | 7 << 16);
        assert_eq!(
            setup_ctrl(true, 1, [false, true]),
            SETUP_CTRL_ENABLE | SETUP_CTRL_SLOT | SETUP_CTRL_KEY1_VALID
        );
        assert_eq!(setup_key_valid_bit(0), SETUP_CTRL_KEY0_VALID);
    }

    #[test]
    fn local_address_words() {
        let mac = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];
        let [hi, lo] = setup_local_mac_words(mac);
        assert_eq!((hi, lo), (0x0211, 0x2233_4455));
        assert_eq!(setup_local_mac(hi, lo), mac);
        // Bits above 15 of HI are not part of the address.
        assert_eq!(setup_local_mac(hi | 0xFFFF_0000, lo), mac);
        assert_eq!(setup_local_ip_word([10, 0, 0, 9]), 0x0A00_0009);
    }
}
