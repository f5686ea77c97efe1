//! Raw Ethernet frames on a link: an `AF_PACKET` socket bound to one
//! interface, for tests that play a hostile or forgetful peer (spoofed
//! SYN floods, hand-made final ACKs, replays) from inside a network
//! namespace, where no TCP stack of Linux's stands in the way.  Open it on
//! a thread that has entered the namespace (the socket belongs to the
//! namespace of the thread that creates it).  Needs CAP_NET_RAW.
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
use std::time::{Duration, Instant};

/// A packet socket bound to one interface: sends whole Ethernet frames,
/// receives every frame on the link (both directions).
pub struct RawLink {
    fd: OwnedFd,
    ifindex: i32,
}

const ETH_P_ALL: u16 = 0x0003;

impl RawLink {
    /// Opens a packet socket on interface `ifname` of the calling thread's
    /// network namespace.
    pub fn open(ifname: &str) -> Result<RawLink, String> {
        let name = std::ffi::CString::new(ifname).map_err(|e| format!("interface name: {e}"))?;
        // SAFETY: a plain libc call with a NUL-terminated name.
        let ifindex = unsafe { libc::if_nametoindex(name.as_ptr()) } as i32;
        if ifindex == 0 {
            return Err(format!(
                "interface {ifname}: {}",
                io::Error::last_os_error()
            ));
        }
        // SAFETY: socket(2); the descriptor is owned below.
        let fd = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC,
                (ETH_P_ALL).to_be() as i32,
            )
        };
        if fd < 0 {
            return Err(format!(
                "socket(AF_PACKET): {} (needs CAP_NET_RAW)",
                io::Error::last_os_error()
            ));
        }
        // SAFETY: fd is a fresh descriptor we own.
        let fd = unsafe { OwnedFd::from_raw_fd(fd) };
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_protocol = ETH_P_ALL.to_be();
        sll.sll_ifindex = ifindex;
        // SAFETY: bind(2) with a sockaddr_ll of the right size.
        let rc = unsafe {
            libc::bind(
                fd.as_raw_fd(),
                &sll as *const libc::sockaddr_ll as *const libc::sockaddr,
                std::mem::size_of::<libc::sockaddr_ll>() as u32,
            )
        };
        if rc != 0 {
            return Err(format!(
                "bind(AF_PACKET, {ifname}): {}",
                io::Error::last_os_error()
            ));
        }
        Ok(RawLink { fd, ifindex })
    }

    /// Sends one Ethernet frame (destination MAC first, no FCS).
    pub fn send(&self, frame: &[u8]) -> Result<(), String> {
        let mut sll: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        sll.sll_family = libc::AF_PACKET as u16;
        sll.sll_ifindex = self.ifindex;
        sll.sll_halen = 6;
        sll.sll_addr[..6].copy_from_slice(&frame[..6]);
        loop {
            // SAFETY: sendto(2) from a live slice.
            let n = unsafe {
                libc::sendto(
                    self.fd.as_raw_fd(),
                    frame.as_ptr() as *const libc::c_void,
                    frame.len(),
                    0,
                    &sll as *const libc::sockaddr_ll as *const libc::sockaddr,
                    std::mem::size_of::<libc::sockaddr_ll>() as u32,
                )
            };
            if n == frame.len() as isize {
                return Ok(());
            }
            let e = io::Error::last_os_error();
            // The TAP's queue is full: the reader (the simulator) catches
            // up, try again.
            if e.raw_os_error() == Some(libc::ENOBUFS) || e.raw_os_error() == Some(libc::EAGAIN) {
                std::thread::sleep(Duration::from_micros(200));
                continue;
            }
            return Err(format!("sendto(AF_PACKET): {e}"));
        }
    }

    /// The next frame on the link that `want` accepts, within `timeout`.
    pub fn recv_matching(
        &self,
        timeout: Duration,
        mut want: impl FnMut(&[u8]) -> bool,
    ) -> Option<Vec<u8>> {
        let end = Instant::now() + timeout;
        let mut buf = vec![0u8; 65536];
        loop {
            let left = end.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return None;
            }
            let mut pfd = libc::pollfd {
                fd: self.fd.as_raw_fd(),
                events: libc::POLLIN,
                revents: 0,
            };
            // SAFETY: poll(2) on one descriptor we own.
            let r = unsafe { libc::poll(&mut pfd, 1, left.as_millis().clamp(1, 1000) as i32) };
            if r <= 0 {
                continue;
            }
            // SAFETY: recv(2) into a live buffer.
            let n = unsafe {
                libc::recv(
                    self.fd.as_raw_fd(),
                    buf.as_mut_ptr() as *mut libc::c_void,
                    buf.len(),
                    libc::MSG_DONTWAIT,
                )
            };
            if n > 0 && want(&buf[..n as usize]) {
                return Some(buf[..n as usize].to_vec());
            }
        }
    }
}
