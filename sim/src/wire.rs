//! The simulated wire: what the simulated NIC's MAC ports connect to.
//!
//! * [`channel`]: an in-process peer (a smoltcp interface, a test, a
//!   traffic generator) on the other end of a pair of channels; needs no
//!   privileges, the embedded default;
//! * [`TapWire`]: a Linux TAP device, so that Linux hosts (for example in
//!   a network namespace) exchange frames with the simulated NIC.  Needs
//!   CAP_NET_ADMIN.
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::sync::mpsc;
use std::time::Duration;

/// One end of the wire, seen from the NIC's MAC.
pub trait Wire: Send {
    /// Next frame arriving for the NIC (MAC RX), without waiting.
    fn recv(&mut self) -> io::Result<Option<Vec<u8>>>;
    /// A frame the NIC sent (MAC TX).
    fn send(&mut self, frame: &[u8]) -> io::Result<()>;
    /// What the wire is, for messages ("tap toe0", "in-process peer").
    fn describe(&self) -> String;
}

/// A wire with nothing on the other end: frames sent are dropped.
pub struct NullWire;

impl Wire for NullWire {
    fn recv(&mut self) -> io::Result<Option<Vec<u8>>> {
        Ok(None)
    }
    fn send(&mut self, _frame: &[u8]) -> io::Result<()> {
        Ok(())
    }
    fn describe(&self) -> String {
        "no peer".into()
    }
}

/// A wire that brings every frame the NIC sends back to its MAC RX (a
/// loopback plug), for benchmarks that need traffic in both directions.
#[derive(Default)]
pub struct LoopWire {
    frames: std::collections::VecDeque<Vec<u8>>,
}

impl Wire for LoopWire {
    fn recv(&mut self) -> io::Result<Option<Vec<u8>>> {
        Ok(self.frames.pop_front())
    }
    fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        self.frames.push_back(frame.to_vec());
        Ok(())
    }
    fn describe(&self) -> String {
        "loopback".into()
    }
}

/// The NIC's end of an in-process wire.
pub struct ChannelWire {
    to_peer: mpsc::Sender<Vec<u8>>,
    from_peer: mpsc::Receiver<Vec<u8>>,
}

/// The peer's end of an in-process wire.
pub struct PeerPort {
    to_nic: mpsc::Sender<Vec<u8>>,
    from_nic: mpsc::Receiver<Vec<u8>>,
}

/// A new in-process wire: give the first half to the simulator, the second
/// to the peer.  Channels are unbounded: the peer is expected to drain what
/// the NIC sends (a real wire does not push back either).
pub fn channel() -> (ChannelWire, PeerPort) {
    let (a_tx, a_rx) = mpsc::channel();
    let (b_tx, b_rx) = mpsc::channel();
    (
        ChannelWire {
            to_peer: a_tx,
            from_peer: b_rx,
        },
        PeerPort {
            to_nic: b_tx,
            from_nic: a_rx,
        },
    )
}

impl Wire for ChannelWire {
    fn recv(&mut self) -> io::Result<Option<Vec<u8>>> {
        match self.from_peer.try_recv() {
            Ok(f) => Ok(Some(f)),
            // A peer that has gone away simply stops sending.
            Err(_) => Ok(None),
        }
    }
    fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        // A peer that has gone away is a wire with nobody listening.
        let _ = self.to_peer.send(frame.to_vec());
        Ok(())
    }
    fn describe(&self) -> String {
        "in-process peer".into()
    }
}

impl PeerPort {
    /// Sends a frame to the NIC.  Returns false when the simulator is gone.
    pub fn send(&self, frame: Vec<u8>) -> bool {
        self.to_nic.send(frame).is_ok()
    }
    /// A frame the NIC sent, without waiting.
    pub fn try_recv(&self) -> Option<Vec<u8>> {
        self.from_nic.try_recv().ok()
    }
    /// A frame the NIC sent, waiting at most `timeout`.
    pub fn recv_timeout(&self, timeout: Duration) -> Option<Vec<u8>> {
        self.from_nic.recv_timeout(timeout).ok()
    }
}

/// A Linux TAP device (Ethernet frames, no packet information header).
pub struct TapWire {
    fd: OwnedFd,
    name: String,
    buf: Vec<u8>,
}

const TUNSETIFF: libc::c_ulong = 0x4004_54ca;
const IFF_TAP: libc::c_short = 0x0002;
const IFF_NO_PI: libc::c_short = 0x1000;

#[repr(C)]
struct IfReq {
    name: [u8; libc::IFNAMSIZ],
    flags: libc::c_short,
    _pad: [u8; 22],
}

impl TapWire {
    /// Creates (or attaches to) TAP device `name`.  The device is left
    /// down and unaddressed: configure it with `ip` (or move it into a
    /// network namespace) afterwards.
    pub fn open(name: &str) -> io::Result<TapWire> {
        if name.is_empty() || name.len() >= libc::IFNAMSIZ {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!(
                    "TAP name {name:?} must have 1 to {} bytes",
                    libc::IFNAMSIZ - 1
                ),
            ));
        }
        // SAFETY: plain open(2) of a NUL-terminated path.
        let raw = unsafe {
            libc::open(
                c"/dev/net/tun".as_ptr(),
                libc::O_RDWR | libc::O_NONBLOCK | libc::O_CLOEXEC,
            )
        };
        if raw < 0 {
            let e = io::Error::last_os_error();
            return Err(io::Error::new(
                e.kind(),
                format!(
                    "cannot open /dev/net/tun: {e} (TAP needs the tun module and CAP_NET_ADMIN)"
                ),
            ));
        }
        // SAFETY: raw is a fresh, owned descriptor.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        let mut req = IfReq {
            name: [0; libc::IFNAMSIZ],
            flags: IFF_TAP | IFF_NO_PI,
            _pad: [0; 22],
        };
        req.name[..name.len()].copy_from_slice(name.as_bytes());
        // SAFETY: TUNSETIFF reads and writes an ifreq, which `req` is.
        if unsafe { libc::ioctl(fd.as_raw_fd(), TUNSETIFF as _, &mut req) } < 0 {
            let e = io::Error::last_os_error();
            let hint = if e.raw_os_error() == Some(libc::EPERM) {
                " (creating a TAP device needs CAP_NET_ADMIN: run as root)"
            } else {
                ""
            };
            return Err(io::Error::new(
                e.kind(),
                format!("cannot create TAP device {name}: {e}{hint}"),
            ));
        }
        Ok(TapWire {
            fd,
            name: name.to_string(),
            buf: vec![0; 65536],
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }
}

impl Wire for TapWire {
    fn recv(&mut self) -> io::Result<Option<Vec<u8>>> {
        // SAFETY: reading into our own buffer of the given length.
        let n = unsafe {
            libc::read(
                self.fd.as_raw_fd(),
                self.buf.as_mut_ptr().cast(),
                self.buf.len(),
            )
        };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.raw_os_error() {
                Some(libc::EAGAIN) | Some(libc::EINTR) => Ok(None),
                _ => Err(io::Error::new(
                    e.kind(),
                    format!("read from TAP {}: {e}", self.name),
                )),
            };
        }
        Ok(Some(self.buf[..n as usize].to_vec()))
    }

    fn send(&mut self, frame: &[u8]) -> io::Result<()> {
        // SAFETY: writing from a valid slice.
        let n = unsafe { libc::write(self.fd.as_raw_fd(), frame.as_ptr().cast(), frame.len()) };
        if n < 0 {
            let e = io::Error::last_os_error();
            return match e.raw_os_error() {
                // The interface is down or its queue is full: the frame is
                // lost, as on a real wire.
                Some(libc::EAGAIN) | Some(libc::EIO) => Ok(()),
                _ => Err(io::Error::new(
                    e.kind(),
                    format!("write to TAP {}: {e}", self.name),
                )),
            };
        }
        Ok(())
    }

    fn describe(&self) -> String {
        format!("tap {}", self.name)
    }
}
