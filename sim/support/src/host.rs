//! Host side of the rings, as a driver would do it: descriptor and
//! completion rings in host memory, doorbells, phase-bit polling.
use toe_contract::desc::{phase_for, Completion, RxDesc, TxDesc, CPL_BYTES, RECORD_BYTES};
use toe_contract::regs as r;
use toe_sim::harness::Harness;

pub struct Ring {
    pub desc: u64,
    pub cpl: u64,
    pub log2: u32,
    pub prod: u16,
    pub cons: u16,
}

impl Ring {
    fn size(&self) -> u16 {
        1 << self.log2
    }
}

pub struct Host {
    pub tx: Vec<Ring>,
    pub rx: Vec<Ring>,
    /// RX buffer address per RX descriptor slot.
    pub rx_bufs: Vec<Vec<u64>>,
    pub buf_len: u32,
}

impl Host {
    /// Allocates and enables all four queue pairs with rings of 2^log2 entries.
    pub fn new(h: &mut Harness, log2: u32, buf_len: u32) -> Self {
        let mut host = Host {
            tx: vec![],
            rx: vec![],
            rx_bufs: vec![],
            buf_len,
        };
        for q in 0..4u32 {
            for is_rx in [false, true] {
                let n = 1usize << log2;
                let desc = h.mem.alloc(n * RECORD_BYTES, 4096);
                let cpl = h.mem.alloc(n * CPL_BYTES, 4096);
                let reg = |x| if is_rx { r::rxq(q, x) } else { r::txq(q, x) };
                h.reg_write(reg(r::Q_DESC_LO), desc as u32);
                h.reg_write(reg(r::Q_DESC_HI), (desc >> 32) as u32);
                h.reg_write(reg(r::Q_CPL_LO), cpl as u32);
                h.reg_write(reg(r::Q_CPL_HI), (cpl >> 32) as u32);
                h.reg_write(reg(r::Q_CTRL), r::Q_CTRL_ENABLE | log2);
                let ring = Ring {
                    desc,
                    cpl,
                    log2,
                    prod: 0,
                    cons: 0,
                };
                if is_rx {
                    let bufs = (0..n).map(|_| h.mem.alloc(buf_len as usize, 64)).collect();
                    host.rx_bufs.push(bufs);
                    host.rx.push(ring);
                } else {
                    host.tx.push(ring);
                }
            }
        }
        host
    }

    /// Posts `n` RX buffers on queue `q` and rings the doorbell.
    pub fn post_rx(&mut self, h: &mut Harness, q: usize, n: usize) {
        let ring = &mut self.rx[q];
        for _ in 0..n {
            let slot = (ring.prod & (ring.size() - 1)) as usize;
            let d = RxDesc {
                addr: self.rx_bufs[q][slot],
                len: self.buf_len,
            };
            h.mem
                .write(ring.desc + (slot * RECORD_BYTES) as u64, &d.encode());
            ring.prod = ring.prod.wrapping_add(1);
        }
        h.reg_write(r::rxq(q as u32, r::Q_PROD), ring.prod as u32);
    }

    /// Copies a frame into a fresh buffer and posts it on TX queue `q`.
    pub fn send(&mut self, h: &mut Harness, q: usize, frame: &[u8], flags: u16) -> TxDesc {
        // The NIC reads whole 64-byte lines: post the buffer to its last line's end.
        let buf = h.mem.alloc(frame.len().max(1).next_multiple_of(64), 64);
        h.mem.write(buf, frame);
        let d = TxDesc {
            addr: buf,
            len: frame.len() as u16,
            flags,
        };
        self.post_tx_desc(h, q, d);
        d
    }

    pub fn post_tx_desc(&mut self, h: &mut Harness, q: usize, d: TxDesc) {
        let ring = &mut self.tx[q];
        let slot = (ring.prod & (ring.size() - 1)) as usize;
        h.mem
            .write(ring.desc + (slot * RECORD_BYTES) as u64, &d.encode());
        ring.prod = ring.prod.wrapping_add(1);
        h.reg_write(r::txq(q as u32, r::Q_PROD), ring.prod as u32);
    }

    /// Next completion of a ring if its phase says it is new.
    fn poll(h: &Harness, ring: &mut Ring) -> Option<Completion> {
        let slot = (ring.cons & (ring.size() - 1)) as u64;
        let b: [u8; CPL_BYTES] = h
            .mem
            .read(ring.cpl + slot * CPL_BYTES as u64, CPL_BYTES)
            .try_into()
            .unwrap();
        let c = Completion::decode(&b);
        if c.phase != phase_for(ring.cons, ring.log2) {
            return None;
        }
        ring.cons = ring.cons.wrapping_add(1);
        Some(c)
    }

    /// Next RX completion of queue `q` with the received bytes.
    pub fn poll_rx(&mut self, h: &Harness, q: usize) -> Option<(Completion, Vec<u8>)> {
        let ring = &mut self.rx[q];
        let c = Self::poll(h, ring)?;
        let slot = (c.index & (ring.size() - 1)) as usize;
        let data = h.mem.read(self.rx_bufs[q][slot], c.len as usize);
        Some((c, data))
    }

    pub fn poll_tx(&mut self, h: &Harness, q: usize) -> Option<Completion> {
        Self::poll(h, &mut self.tx[q])
    }
}
