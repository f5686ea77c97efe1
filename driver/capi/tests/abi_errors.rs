//! The error paths of the C ABI, called as C calls them: NULL handles and
//! buffers, bad socket ids, wrong kinds of socket, arguments out of range,
//! devices that cannot be opened.  Every failure must be a code (or NULL
//! with a message naming the cause), never a crash.
use std::ffi::{c_void, CStr, CString};
use std::ptr::{null, null_mut};
use toe::*;
use toe_sim::wire::NullWire;
use toe_sim_support::simdev::SimThread;

fn last_error() -> String {
    unsafe { CStr::from_ptr(toe_last_error_message()) }
        .to_str()
        .expect("message is UTF-8")
        .to_string()
}

fn strerror(code: i32) -> String {
    unsafe { CStr::from_ptr(toe_strerror(code)) }
        .to_str()
        .unwrap()
        .to_string()
}

const MAC: [u8; 6] = [2, 0, 0, 0, 9, 2];
const US: [u8; 4] = [10, 9, 0, 2];
const PEER: [u8; 4] = [10, 9, 0, 1];

#[test]
fn null_handles_and_buffers_give_einval_not_a_crash() {
    unsafe {
        let mut buf = [0u8; 16];
        let mut ev = [ToeEvent::default(); 4];
        let ep: *mut ToeEndpoint = null_mut();
        assert_eq!(toe_listen(ep, 7, 1), EINVAL);
        assert_eq!(toe_nic_setup_offload(null_mut(), 80, buf.as_ptr()), EINVAL);
        assert_eq!(toe_accept(ep, 0), EINVAL);
        assert_eq!(toe_connect(ep, PEER.as_ptr(), 7, 0), EINVAL);
        assert_eq!(
            toe_connect_with(ep, PEER.as_ptr(), 7, 0, CONNECT_NIC),
            EINVAL
        );
        assert_eq!(toe_nic_connect_offload(null_mut(), 1000, 6), EINVAL);
        assert_eq!(toe_read(ep, 0, buf.as_mut_ptr(), buf.len()), EINVAL as i64);
        assert_eq!(toe_write(ep, 0, buf.as_ptr(), buf.len()), EINVAL as i64);
        assert_eq!(toe_shutdown(ep, 0, SHUT_RDWR), EINVAL);
        assert_eq!(toe_close(ep, 0), EINVAL);
        assert_eq!(toe_abort(ep, 0), EINVAL);
        assert_eq!(toe_set_interest(ep, 0, READY_READABLE), EINVAL);
        assert_eq!(toe_socket_error(ep, 0), EINVAL);
        assert_eq!(toe_set_teardown_offload(ep, 0, 1), EINVAL);
        assert_eq!(toe_teardown_offload(ep, 0), EINVAL);
        assert_eq!(toe_endpoint_connections(ep), EINVAL as i64);
        assert_eq!(
            toe_poll(ep, null_mut(), 0, ev.as_mut_ptr(), ev.len()),
            EINVAL
        );
        assert_eq!(toe_nic_queue_pairs(null()), 0);
        toe_nic_close(null_mut());
        toe_endpoint_free(null_mut());

        assert!(toe_endpoint_new(null(), 0, MAC.as_ptr(), US.as_ptr(), 24).is_null());
        let m = last_error();
        assert!(m.contains("nic is NULL"), "message: {m}");

        assert!(toe_nic_open(null(), 1).is_null());
        let m = last_error();
        assert!(m.contains("device string is NULL"), "message: {m}");
    }
}

#[test]
fn strerror_and_clock() {
    assert_eq!(strerror(0), "success");
    assert!(strerror(EAGAIN).contains("would block"));
    assert!(strerror(ECONNRESET).contains("reset"));
    assert!(strerror(EIO).contains("toe_last_error_message"));
    assert_eq!(strerror(-1234), "unknown TOE error code");
    assert_eq!(strerror(7), "unknown TOE error code");
    let a = toe_now_ns();
    std::thread::sleep(std::time::Duration::from_millis(2));
    let b = toe_now_ns();
    assert!(a > 0 && b >= a + 2_000_000, "{a} then {b}");
}

#[test]
fn bad_device_strings_give_null_and_name_the_cause() {
    let open = |s: &str, q: u32| {
        let c = CString::new(s).unwrap();
        let nic = unsafe { toe_nic_open(c.as_ptr(), q) };
        assert!(nic.is_null(), "{s:?} opened");
        last_error()
    };
    let m = open("", 1);
    assert!(m.contains("device string is empty"), "message: {m}");
    let m = open("sim:/dev/shm/toe-capi-test-nothing-here", 0);
    assert!(m.contains("0 queue pairs"), "message: {m}");
    // Waits the 5 s the backend gives a simulator to appear.
    let m = open("sim:/nonexistent-dir/toe-sim", 1);
    assert!(
        m.contains("\"sim:/nonexistent-dir/toe-sim\"")
            && m.contains("no simulator serves this file"),
        "message: {m}"
    );
    // No VFIO here, or no such PCI device, or a malformed address: which
    // one depends on the machine, but the device and a cause are named.
    let m = open("pci:zz:zz", 1);
    let prefix = "toe_nic_open: cannot open device \"pci:zz:zz\": ";
    assert!(
        m.starts_with(prefix) && m.len() > prefix.len() + 10,
        "message: {m}"
    );
    // Messages are per thread.
    let other = std::thread::spawn(last_error).join().unwrap();
    assert_eq!(other, "");
    assert_eq!(last_error(), m);
}

/// The simulated NIC, opened through the ABI in this process (nothing else
/// attaches to it).
fn open_sim(sim: &SimThread, queues: u32) -> *mut ToeNic {
    let spec = CString::new(format!("sim:{}", sim.path.display())).unwrap();
    let nic = unsafe { toe_nic_open(spec.as_ptr(), queues) };
    assert!(!nic.is_null(), "toe_nic_open: {}", last_error());
    nic
}

#[test]
fn socket_calls_on_a_real_endpoint_return_the_documented_codes() {
    let sim = SimThread::start("capierr", NullWire, |_| {});
    unsafe {
        // More queue pairs than the device has: named, and the device is
        // free again for the next open.
        let spec = CString::new(format!("sim:{}", sim.path.display())).unwrap();
        assert!(toe_nic_open(spec.as_ptr(), 99).is_null());
        let m = last_error();
        assert!(
            m.contains("99 queue pairs asked for, device has 4"),
            "message: {m}"
        );

        let nic = open_sim(&sim, 4);
        assert_eq!(toe_nic_queue_pairs(nic), 4);

        // Endpoint arguments.
        assert!(toe_endpoint_new(nic, 0, null(), US.as_ptr(), 24).is_null());
        assert!(last_error().contains("mac is NULL"), "{}", last_error());
        assert!(toe_endpoint_new(nic, 0, MAC.as_ptr(), null(), 24).is_null());
        assert!(last_error().contains("ip is NULL"), "{}", last_error());
        assert!(toe_endpoint_new(nic, 0, MAC.as_ptr(), US.as_ptr(), 33).is_null());
        assert!(
            last_error().contains("prefix length 33"),
            "{}",
            last_error()
        );
        assert!(toe_endpoint_new(nic, 4, MAC.as_ptr(), US.as_ptr(), 24).is_null());
        assert!(
            last_error().contains("queue 4, the NIC has 4 queue pairs"),
            "{}",
            last_error()
        );
        let ep = toe_endpoint_new(nic, 1, MAC.as_ptr(), US.as_ptr(), 24);
        assert!(!ep.is_null(), "{}", last_error());
        assert!(toe_endpoint_new(nic, 1, MAC.as_ptr(), US.as_ptr(), 24).is_null());
        assert!(
            last_error().contains("queue 1 already has an endpoint"),
            "{}",
            last_error()
        );

        let mut buf = [0u8; 64];
        let mut ev = [ToeEvent::default(); 8];

        // Listeners.
        let l = toe_listen(ep, 7, 8);
        assert!(l >= 0, "listen: {l}");
        // The teardown offload: the simulated device has no teardown block
        // yet, so asking for it fails and the message names the cause.
        assert_eq!(toe_teardown_offload(ep, l), 0, "off by default");
        assert_eq!(toe_set_teardown_offload(ep, l, 1), EOPNOTSUPP);
        let m = last_error();
        assert!(
            m.starts_with("toe_set_teardown_offload: ")
                && m.contains("does not implement the teardown offload")
                && m.contains("0x544f0006"),
            "message: {m}"
        );
        assert!(strerror(EOPNOTSUPP).contains("offload"));
        assert_eq!(toe_teardown_offload(ep, l), 0, "unchanged");
        assert_eq!(toe_set_teardown_offload(ep, l, 0), 0, "off is accepted");
        assert_eq!(toe_set_teardown_offload(ep, l, 2), EINVAL);
        assert_eq!(toe_set_teardown_offload(ep, 999, 0), EBADF);
        assert_eq!(toe_set_teardown_offload(ep, -1, 0), EBADF);
        assert_eq!(toe_teardown_offload(ep, 999), EBADF);
        assert_eq!(toe_listen(ep, 7, 8), EADDRINUSE);
        assert_eq!(toe_listen(ep, 0, 8), EINVAL);
        assert_eq!(toe_accept(ep, l), EAGAIN);
        assert_eq!(toe_accept(ep, 999), EBADF);
        assert_eq!(toe_accept(ep, -1), EBADF);
        assert_eq!(toe_read(ep, l, buf.as_mut_ptr(), buf.len()), EINVAL as i64);
        assert_eq!(toe_write(ep, l, buf.as_ptr(), buf.len()), EINVAL as i64);
        assert_eq!(toe_shutdown(ep, l, SHUT_WR), EINVAL);
        assert_eq!(toe_abort(ep, l), EINVAL);
        assert_eq!(toe_socket_error(ep, l), 0);

        // A connection (to a peer that never answers: it stays in SYN_SENT).
        assert_eq!(toe_connect(ep, null(), 80, toe_now_ns()), EINVAL);
        assert_eq!(toe_connect(ep, PEER.as_ptr(), 0, toe_now_ns()), EINVAL);
        let c = toe_connect(ep, PEER.as_ptr(), 80, toe_now_ns());
        assert!(c >= 0 && c != l, "connect: {c}");
        assert_eq!(toe_accept(ep, c), EINVAL, "accept on a connection");
        assert_eq!(toe_read(ep, c, null_mut(), 10), EINVAL as i64);
        assert_eq!(toe_write(ep, c, null(), 10), EINVAL as i64);
        assert_eq!(toe_read(ep, c, null_mut(), 0), 0, "empty read");
        // The zero-copy calls: no callback, a listener, nothing to read;
        // the callback is not called on an error.
        unsafe extern "C" fn never_in(_: *mut c_void, _: *const u8, _: usize) -> usize {
            panic!("called on an error")
        }
        unsafe extern "C" fn never_out(_: *mut c_void, _: *mut u8, _: usize) -> usize {
            panic!("called on an error")
        }
        assert_eq!(toe_read_in_place(ep, c, None, null_mut()), EINVAL as i64);
        assert_eq!(
            toe_write_in_place(ep, c, 10, None, null_mut()),
            EINVAL as i64
        );
        assert_eq!(
            toe_read_in_place(ep, l, Some(never_in), null_mut()),
            EINVAL as i64
        );
        assert_eq!(
            toe_write_in_place(ep, l, 10, Some(never_out), null_mut()),
            EINVAL as i64
        );
        assert_eq!(
            toe_read_in_place(ep, c, Some(never_in), null_mut()),
            EAGAIN as i64
        );
        assert_eq!(toe_write_in_place(ep, c, 0, Some(never_out), null_mut()), 0);
        assert_eq!(toe_read(ep, c, buf.as_mut_ptr(), buf.len()), EAGAIN as i64);
        assert_eq!(toe_shutdown(ep, c, 3), EINVAL);
        assert_eq!(toe_shutdown(ep, c, -1), EINVAL);
        assert_eq!(toe_set_interest(ep, c, READY_ALL + 1), EINVAL);
        assert_eq!(toe_set_interest(ep, c, READY_READABLE), 0);
        assert_eq!(toe_socket_error(ep, c), 0);

        // Bad socket ids everywhere.
        for s in [-1, -1000, 12345, i32::MAX] {
            assert_eq!(toe_read(ep, s, buf.as_mut_ptr(), buf.len()), EBADF as i64);
            assert_eq!(toe_write(ep, s, buf.as_ptr(), buf.len()), EBADF as i64);
            assert_eq!(
                toe_read_in_place(ep, s, Some(never_in), null_mut()),
                EBADF as i64
            );
            assert_eq!(
                toe_write_in_place(ep, s, 1, Some(never_out), null_mut()),
                EBADF as i64
            );
            assert_eq!(toe_close(ep, s), EBADF);
            assert_eq!(toe_abort(ep, s), EBADF);
            assert_eq!(toe_shutdown(ep, s, SHUT_RD), EBADF);
            assert_eq!(toe_set_interest(ep, s, READY_READABLE), EBADF);
            assert_eq!(toe_socket_error(ep, s), EBADF);
        }

        // Poll arguments.
        assert_eq!(toe_poll(ep, nic, toe_now_ns(), null_mut(), 4), EINVAL);
        assert_eq!(
            toe_poll(null_mut(), nic, toe_now_ns(), ev.as_mut_ptr(), 8),
            EINVAL
        );
        assert_eq!(toe_poll(ep, nic, toe_now_ns(), null_mut(), 0), 0);
        assert!(toe_poll(ep, nic, toe_now_ns(), ev.as_mut_ptr(), ev.len()) >= 0);
        assert_eq!(
            toe_endpoint_connections(ep),
            1,
            "the connection in SYN_SENT"
        );

        // Abort, then the socket is gone.
        assert_eq!(toe_abort(ep, c), 0);
        assert_eq!(toe_close(ep, c), EBADF);
        assert_eq!(toe_socket_error(ep, c), EBADF);
        assert_eq!(toe_close(ep, l), 0);
        assert_eq!(toe_close(ep, l), EBADF);

        // Freeing the endpoint frees its queue pair.
        toe_endpoint_free(ep);
        let ep = toe_endpoint_new(nic, 1, MAC.as_ptr(), US.as_ptr(), 24);
        assert!(!ep.is_null(), "queue 1 after free: {}", last_error());

        // An endpoint polled with another NIC.
        let sim2 = SimThread::start("capierr2", NullWire, |_| {});
        let nic2 = open_sim(&sim2, 2);
        assert_eq!(
            toe_poll(ep, nic2, toe_now_ns(), ev.as_mut_ptr(), ev.len()),
            EINVAL
        );
        let m = last_error();
        assert!(m.contains("created on another nic"), "message: {m}");
        assert!(toe_poll(ep, nic, toe_now_ns(), ev.as_mut_ptr(), ev.len()) >= 0);
        toe_nic_close(nic2);
        assert_eq!(sim2.stop().violations, 0);

        toe_endpoint_free(ep);
        toe_nic_close(nic);
    }
    assert_eq!(sim.stop().violations, 0);
}

#[test]
fn nic_connect_arguments_are_checked() {
    let sim = SimThread::start("capiconn", NullWire, |_| {});
    unsafe {
        let nic = open_sim(&sim, 1);
        assert_eq!(toe_nic_connect_offload(nic, 0, 6), EINVAL, "RTO 0");
        assert_eq!(toe_nic_connect_offload(nic, 1000, 11), EINVAL, "11 retries");
        assert_eq!(toe_nic_connect_offload(nic, 1000, 6), 0, "{}", last_error());
        let ep = toe_endpoint_new(nic, 0, MAC.as_ptr(), US.as_ptr(), 24);
        assert!(!ep.is_null(), "{}", last_error());
        let now = toe_now_ns();
        assert_eq!(toe_connect_with(ep, null(), 80, now, CONNECT_NIC), EINVAL);
        assert_eq!(
            toe_connect_with(ep, PEER.as_ptr(), 0, now, CONNECT_NIC),
            EINVAL
        );
        assert_eq!(
            toe_connect_with(ep, PEER.as_ptr(), 80, now, 2),
            EINVAL,
            "unknown flag"
        );
        // A peer that never answers ARP: the connect waits, then runs the
        // software handshake; either way a socket in SYN_SENT.
        let c = toe_connect_with(ep, PEER.as_ptr(), 80, now, CONNECT_NIC);
        assert!(c >= 0, "connect: {c}");
        let mut ev = [ToeEvent::default(); 4];
        for _ in 0..3 {
            assert!(toe_poll(ep, nic, toe_now_ns(), ev.as_mut_ptr(), ev.len()) >= 0);
        }
        assert_eq!(toe_socket_error(ep, c), 0);
        assert_eq!(toe_endpoint_connections(ep), 1);
        assert_eq!(toe_abort(ep, c), 0);
        assert!(toe_poll(ep, nic, toe_now_ns(), ev.as_mut_ptr(), ev.len()) >= 0);
        toe_endpoint_free(ep);
        toe_nic_close(nic);
    }
    assert_eq!(sim.stop().violations, 0);
}
