//! The C ABI's entry points with hostile arguments: NULL and valid
//! pointers, negative, stale, foreign and huge socket ids, listeners where
//! connections are expected and the reverse, bad `how` and `flags`, port
//! 0, prefix lengths above 32, queues beyond the NIC's, zero and huge
//! lengths with NULL buffers, double close, calls after close, endpoints
//! on a taken queue; device strings that name nothing.  The NIC is opened
//! once per process on a fake simulated device (`ShmFake`: registers only,
//! no frames move; a second stack cannot be reached through it, so
//! connections stay in SYN-SENT or wait for ARP, which is what the
//! argument checks need).
//!
//! Invariants: no panic escapes (a caught one shows as TOE_EIO, which
//! only the offload calls may return, the device lacking them); every
//! return value is one the header documents for that call; counts and
//! lengths are within what was asked; every endpoint and socket is
//! released (the NIC's queues can be taken again).
#![no_main]
use libfuzzer_sys::fuzz_target;
use std::ffi::{c_int, CStr, CString};
use std::ptr::{null, null_mut};
use std::sync::OnceLock;
use toe::*;
use toe_fuzz::fakedev::ShmFake;
use toe_fuzz::Input;

struct Nic(*mut ToeNic);
unsafe impl Send for Nic {}
unsafe impl Sync for Nic {}

fn nic() -> *mut ToeNic {
    static NIC: OnceLock<Nic> = OnceLock::new();
    NIC.get_or_init(|| {
        let path = format!("/dev/shm/toe-fuzz-capi-{}", std::process::id());
        let fake = ShmFake::start(&path, 32 << 20);
        let spec = CString::new(format!("sim:{}", fake.path.display())).unwrap();
        let n = unsafe { toe_nic_open(spec.as_ptr(), 2) };
        assert!(!n.is_null(), "open the fake NIC: {}", last());
        // Both sides have it mapped: the name can go (nothing is left in
        // /dev/shm when the process ends).
        let _ = std::fs::remove_file(&fake.path);
        Nic(n)
    })
    .0
}

fn last() -> String {
    unsafe { CStr::from_ptr(toe_last_error_message()) }
        .to_string_lossy()
        .into_owned()
}

/// `rc` is one of `allowed` (or, when `ok_nonneg`, any value >= 0).
fn check(call: &str, rc: i64, ok_nonneg: bool, allowed: &[i32]) {
    if rc == EIO as i64 {
        panic!("{call}: TOE_EIO (a panic inside the library?): {}", last());
    }
    assert!(
        (ok_nonneg && rc >= 0) || allowed.contains(&(rc as i32)),
        "{call} returned {rc}, not a documented value"
    );
}

fuzz_target!(|data: &[u8]| {
    let n = nic();
    let mut inp = Input::new(data);
    let mut eps: Vec<*mut ToeEndpoint> = Vec::new();
    let mut socks: Vec<c_int> = vec![-1, 0, 1, 4096, c_int::MAX, c_int::MIN];
    let mut buf = vec![0u8; 4096];
    let mut events = vec![
        ToeEvent {
            socket: 0,
            ready: 0
        };
        8
    ];
    let mut now: u64 = 1_000_000_000;
    let mut ops = 0;
    while !inp.is_empty() && ops < 64 {
        ops += 1;
        let ep = match inp.u8() % 8 {
            0 => null_mut(),
            _ if eps.is_empty() => null_mut(),
            k => eps[k as usize % eps.len()],
        };
        let s = socks[inp.u8() as usize % socks.len()];
        match inp.u8() % 20 {
            0 => {
                if eps.len() < 3 {
                    let mac = [2u8, 0, 0, 0, 0, inp.u8()];
                    let ip = [10u8, 0, 0, 1 + inp.u8() % 200];
                    let f = inp.u8();
                    let q = if f & 1 != 0 {
                        inp.u32()
                    } else {
                        (f as u32 >> 1) % 2
                    };
                    let nn = if f & 0x80 != 0 {
                        null()
                    } else {
                        n as *const ToeNic
                    };
                    let e = unsafe {
                        toe_endpoint_new(
                            nn,
                            q,
                            if f & 2 != 0 { null() } else { mac.as_ptr() },
                            if f & 4 != 0 { null() } else { ip.as_ptr() },
                            if f & 8 != 0 { inp.u8() } else { 24 },
                        )
                    };
                    if !e.is_null() {
                        assert!(q < 2 && !nn.is_null(), "endpoint made from bad arguments");
                        eps.push(e);
                    } else {
                        assert!(!last().is_empty(), "NULL without a reason");
                    }
                }
            }
            1 => {
                let rc = unsafe { toe_listen(ep, inp.u16() % 4, inp.u32()) } as i64;
                check("toe_listen", rc, true, &[EINVAL, EADDRINUSE, ENOMEM]);
                if rc >= 0 {
                    socks.push(rc as c_int);
                }
            }
            2 => {
                let rc = unsafe { toe_accept(ep, s) } as i64;
                check("toe_accept", rc, true, &[EAGAIN, EBADF, EINVAL, ENOMEM]);
                if rc >= 0 {
                    socks.push(rc as c_int);
                }
            }
            3 => {
                let ip = [10u8, 0, 0, inp.u8()];
                let f = inp.u8();
                let ipp = if f & 1 != 0 { null() } else { ip.as_ptr() };
                let port = inp.u16() % 3;
                let rc = if f & 2 != 0 {
                    unsafe { toe_connect_with(ep, ipp, port, now, inp.u32() % 4) as i64 }
                } else {
                    unsafe { toe_connect(ep, ipp, port, now) as i64 }
                };
                check("toe_connect", rc, true, &[EINVAL, ENOMEM]);
                if rc >= 0 {
                    socks.push(rc as c_int);
                }
            }
            4 => {
                let f = inp.u8();
                let len = match f % 4 {
                    0 => 0,
                    1 => inp.u16() as usize % buf.len(),
                    2 => usize::MAX,
                    _ => isize::MAX as usize + 1,
                };
                let p = if f & 4 != 0 || len > buf.len() {
                    null_mut()
                } else {
                    buf.as_mut_ptr()
                };
                let rc = unsafe { toe_read(ep, s, p, len) };
                check(
                    "toe_read",
                    rc,
                    true,
                    &[EAGAIN, EBADF, EINVAL, ECONNREFUSED, ECONNRESET, ETIMEDOUT],
                );
                assert!(rc <= len as i64 || rc < 0);
                if p.is_null() && len > 0 {
                    // (A bad socket may be reported first.)
                    assert!(
                        rc == EINVAL as i64 || rc == EBADF as i64,
                        "read into NULL: {rc}"
                    );
                }
            }
            5 => {
                let f = inp.u8();
                let len = match f % 4 {
                    0 => 0,
                    1 => inp.u16() as usize % buf.len(),
                    2 => usize::MAX,
                    _ => buf.len(),
                };
                let p = if f & 4 != 0 || len > buf.len() {
                    null()
                } else {
                    buf.as_ptr()
                };
                let rc = unsafe { toe_write(ep, s, p, len) };
                check(
                    "toe_write",
                    rc,
                    true,
                    &[
                        EAGAIN,
                        EBADF,
                        EINVAL,
                        ECONNREFUSED,
                        ECONNRESET,
                        ETIMEDOUT,
                        EPIPE,
                    ],
                );
                assert!(rc <= len as i64 || rc < 0);
                if len == 0 && rc >= 0 {
                    assert_eq!(rc, 0, "a write of nothing took something");
                }
            }
            6 => {
                let how = match inp.u8() % 4 {
                    0 => inp.u32() as c_int,
                    k => (k - 1) as c_int,
                };
                let rc = unsafe { toe_shutdown(ep, s, how) } as i64;
                check("toe_shutdown", rc, false, &[0, EBADF, EINVAL]);
            }
            7 => {
                let rc = unsafe { toe_close(ep, s) } as i64;
                check("toe_close", rc, false, &[0, EBADF, EINVAL]);
            }
            8 => {
                let rc = unsafe { toe_abort(ep, s) } as i64;
                check("toe_abort", rc, false, &[0, EBADF, EINVAL]);
            }
            9 => {
                let rc = unsafe { toe_set_interest(ep, s, inp.u32()) } as i64;
                check("toe_set_interest", rc, false, &[0, EBADF, EINVAL]);
            }
            10 => {
                let rc = unsafe { toe_socket_error(ep, s) } as i64;
                check(
                    "toe_socket_error",
                    rc,
                    false,
                    &[0, EBADF, EINVAL, ECONNREFUSED, ECONNRESET, ETIMEDOUT, EPIPE],
                );
            }
            11 | 12 => {
                now += inp.u32() as u64 * 1000;
                let f = inp.u8();
                let max = if f & 1 != 0 { inp.u8() as usize % 9 } else { 8 };
                let evp = if f & 2 != 0 {
                    null_mut()
                } else {
                    events.as_mut_ptr()
                };
                let nicp = if f & 4 != 0 { null_mut() } else { n };
                let rc = unsafe { toe_poll(ep, nicp, now, evp, max) } as i64;
                check("toe_poll", rc, true, &[EINVAL]);
                assert!(rc <= max as i64, "{rc} events for {max} slots");
                if rc > 0 {
                    for e in &events[..rc as usize] {
                        assert!(e.socket >= 0 && e.ready != 0 && e.ready & !READY_ALL == 0);
                    }
                }
            }
            13 => {
                let rc = unsafe { toe_endpoint_connections(ep) };
                check("toe_endpoint_connections", rc, true, &[EINVAL]);
            }
            14 => {
                let rc = toe_strerror(inp.u32() as c_int);
                assert!(!rc.is_null());
                let _ = unsafe { CStr::from_ptr(rc) };
            }
            15 => {
                // Device strings that open nothing (never a real path: a
                // "sim:" path waits for a simulator to appear).
                let pick = inp.u8() % 5;
                let s: Option<CString> = match pick {
                    0 => None,
                    1 => Some(CString::new("").unwrap()),
                    2 => Some(
                        CString::new(
                            inp.bytes(12)
                                .iter()
                                .map(|b| b % 127 + 1)
                                .collect::<Vec<u8>>(),
                        )
                        .unwrap(),
                    ),
                    3 => Some(CString::new(vec![0xff, 0xfe, b'x']).unwrap()),
                    _ => Some(CString::new("pci:0000:ff:1f.7").unwrap()),
                };
                if let Some(ref c) = s {
                    if c.to_bytes().starts_with(b"sim") {
                        continue;
                    }
                }
                let q = inp.u32() % 3;
                let p = unsafe { toe_nic_open(s.as_ref().map_or(null(), |c| c.as_ptr()), q) };
                assert!(p.is_null(), "a NIC opened from {s:?}");
                assert!(!last().is_empty());
            }
            16 => {
                let r = unsafe { toe_nic_queue_pairs(if inp.bool() { n } else { null() }) };
                assert!(r == 0 || r == 2);
            }
            17 => {
                let key = [7u8; 16];
                let kp = if inp.bool() { null() } else { key.as_ptr() };
                let rc = unsafe {
                    toe_nic_setup_offload(if inp.bool() { n } else { null() }, inp.u16() % 3, kp)
                };
                // EIO is documented here: the fake device has no setup block.
                assert!(
                    rc == 0 || rc == EINVAL || rc == EIO,
                    "toe_nic_setup_offload returned {rc}"
                );
            }
            18 => {
                if let Some(i) = (!eps.is_empty()).then(|| inp.u8() as usize % eps.len()) {
                    let e = eps.swap_remove(i);
                    unsafe { toe_endpoint_free(e) };
                    socks.truncate(6);
                } else {
                    unsafe { toe_endpoint_free(null_mut()) };
                }
            }
            _ => {
                socks.push(inp.u32() as c_int);
            }
        }
    }
    for e in eps {
        unsafe { toe_endpoint_free(e) };
    }
    // Every queue is free again: an endpoint can be made on each.
    for q in 0..2 {
        let e = unsafe {
            toe_endpoint_new(
                n,
                q,
                [2, 0, 0, 0, 0, 9].as_ptr(),
                [10, 0, 0, 9].as_ptr(),
                24,
            )
        };
        assert!(
            !e.is_null(),
            "queue {q} still taken after its endpoints were freed: {}",
            last()
        );
        unsafe { toe_endpoint_free(e) };
    }
});
