//! Capture of MAC frames to a classic pcap file (link type Ethernet,
//! nanosecond timestamps = cycle * 4 ns).
use crate::dut::CLOCK_PERIOD_PS;
use pcap_file::pcap::{PcapHeader, PcapPacket, PcapWriter};
use pcap_file::{DataLink, Endianness, TsResolution};
use std::cell::RefCell;
use std::fs::File;
use std::io::{BufWriter, Write};
use std::path::Path;
use std::rc::Rc;
use std::time::Duration;

/// The file behind the pcap writer, shared so that it can be flushed
/// (pcap-file's writer gives no access to its inner writer).
#[derive(Clone)]
struct Shared(Rc<RefCell<BufWriter<File>>>);

impl Write for Shared {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.borrow_mut().write(buf)
    }
    fn flush(&mut self) -> std::io::Result<()> {
        self.0.borrow_mut().flush()
    }
}

/// Which MAC direction a capture records.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Frames fed to the DUT (MAC RX).
    Rx,
    /// Frames the DUT sent (MAC TX).
    Tx,
    Both,
}

impl Direction {
    pub fn has_rx(self) -> bool {
        self != Direction::Tx
    }
    pub fn has_tx(self) -> bool {
        self != Direction::Rx
    }
}

/// A pcap file being written.  Frames are written as they complete, stamped
/// with the cycle of their last beat (so timestamps never go backwards).
/// Classic pcap has no direction field: capture one direction per file if
/// the mix is confusing.
pub struct PcapCapture {
    writer: PcapWriter<Shared>,
    file: Shared,
    pub dirs: Direction,
    pub frames: u64,
}

impl PcapCapture {
    pub fn create(path: impl AsRef<Path>, dirs: Direction) -> std::io::Result<Self> {
        let file = Shared(Rc::new(RefCell::new(BufWriter::new(File::create(
            path.as_ref(),
        )?))));
        let header = PcapHeader {
            datalink: DataLink::ETHERNET,
            ts_resolution: TsResolution::NanoSecond,
            snaplen: 65535,
            endianness: Endianness::native(),
            ..Default::default()
        };
        let writer =
            PcapWriter::with_header(file.clone(), header).map_err(std::io::Error::other)?;
        Ok(PcapCapture {
            writer,
            file,
            dirs,
            frames: 0,
        })
    }

    /// Writes one frame seen at `cycle`.
    pub fn write(&mut self, cycle: u64, data: &[u8]) {
        let ts = Duration::from_nanos(cycle * CLOCK_PERIOD_PS / 1000);
        let n = data.len().min(65535);
        let p = PcapPacket::new(ts, data.len() as u32, &data[..n]);
        self.writer.write_packet(&p).expect("pcap write");
        self.frames += 1;
    }

    /// Flushes buffered frames to the file (also done on drop).
    pub fn flush(&mut self) {
        self.file.flush().expect("pcap flush");
    }
}
