//! Linux network namespaces for tests that put real Linux hosts on the
//! simulated NIC's wire (through a TAP device, see `toe_sim::wire::TapWire`).
//!
//! ```text
//!   test process (root namespace)            namespace toe-<pid>-<n>
//!   SimThread --TapWire fd-- TAP device ====> moved here, 10.77.<n>.1/24,
//!                                             ping, iperf, nc ... run here
//! ```
//! [`Netns`] creates a uniquely named namespace, takes the TAP device in,
//! runs commands inside it, and deletes it when dropped (also when a test
//! fails), so nothing is left behind.  Everything goes through the `ip`
//! command (iproute2), which is what a person debugging would type too.
//!
//! Such tests need CAP_NET_ADMIN.  [`tap_tests_enabled`] decides: without
//! the capability the test is skipped with a message; with it, missing
//! tools are an error (CI runs as root and must really run these tests).
use std::ffi::OsStr;
use std::fs;
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::thread::JoinHandle;

/// CAP_NET_ADMIN, bit 12 of the capability sets (linux/capability.h).
const CAP_NET_ADMIN: u32 = 12;

static NEXT: AtomicU32 = AtomicU32::new(0);

fn next_index() -> u32 {
    NEXT.fetch_add(1, Ordering::Relaxed)
}

/// A TAP device name unique to this process and call, within the 15
/// bytes Linux allows: `toe<pid mod 10000>t<n>`.
pub fn unique_tap_name() -> String {
    format!("toe{}t{}", std::process::id() % 10_000, next_index() % 1000)
}

/// Checks that this process may create TAP devices and namespaces: the
/// effective capability set (CapEff in /proc/self/status) holds
/// CAP_NET_ADMIN.  The error is the reason to skip, ready to print.
pub fn can_admin_net() -> Result<(), String> {
    let status = fs::read_to_string("/proc/self/status").map_err(|e| {
        format!("skipped: cannot read /proc/self/status to check CAP_NET_ADMIN: {e}")
    })?;
    let hex = status
        .lines()
        .find_map(|l| l.strip_prefix("CapEff:"))
        .map(str::trim)
        .ok_or("skipped: /proc/self/status has no CapEff line (not Linux?)")?;
    let caps = u64::from_str_radix(hex, 16)
        .map_err(|e| format!("skipped: CapEff {hex:?} in /proc/self/status does not parse: {e}"))?;
    if (caps >> CAP_NET_ADMIN) & 1 == 0 {
        return Err("skipped: TAP tests need CAP_NET_ADMIN (run as root)".into());
    }
    Ok(())
}

/// Checks the programs and devices the TAP tests use: /dev/net/tun, `ip`
/// (iproute2) and `ping` (iputils-ping).  The error names what is missing
/// and how to install it.
pub fn net_tools_present() -> Result<(), String> {
    if !Path::new("/dev/net/tun").exists() {
        return Err(
            "/dev/net/tun does not exist: load the tun module (`modprobe tun`) \
                    or give the container the device"
                .into(),
        );
    }
    // (program, arguments that make it print its version, Debian package)
    let tools = [("ip", "-V", "iproute2"), ("ping", "-V", "iputils-ping")];
    let missing: Vec<&str> = tools
        .iter()
        .filter(|(prog, arg, _)| {
            !Command::new(prog)
                .arg(arg)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .is_ok_and(|s| s.success())
        })
        .map(|(_, _, pkg)| *pkg)
        .collect();
    if !missing.is_empty() {
        return Err(format!(
            "TAP tests need `ip` and `ping`; missing package(s) {}: install with \
             `apt-get install -y {}` (`cargo xtask test` does it when run as root)",
            missing.join(", "),
            missing.join(" ")
        ));
    }
    Ok(())
}

/// Whether a TAP test should run: false (with the reason printed) without
/// CAP_NET_ADMIN.  With the capability the test must run, so missing tools
/// fail it with a message naming the package.
pub fn tap_tests_enabled() -> bool {
    if let Err(why) = can_admin_net() {
        eprintln!("{why}");
        return false;
    }
    if let Err(why) = net_tools_present() {
        panic!("TAP test cannot run although we have CAP_NET_ADMIN: {why}");
    }
    true
}

/// Runs `cmd`, failing unless it exits successfully; the error shows the
/// command line and what it printed on stderr.
fn checked(cmd: &mut Command) -> Result<Output, String> {
    let line = command_line(cmd);
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .map_err(|e| format!("cannot start `{line}`: {e}"))?;
    if !out.status.success() {
        return Err(format!(
            "`{line}` failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        ));
    }
    Ok(out)
}

fn command_line(cmd: &Command) -> String {
    let mut parts = vec![cmd.get_program().to_string_lossy().into_owned()];
    parts.extend(cmd.get_args().map(|a| a.to_string_lossy().into_owned()));
    parts.join(" ")
}

/// A network namespace that lives as long as this value.
pub struct Netns {
    name: String,
    index: u32,
}

impl Netns {
    /// Creates namespace `toe-<pid>-<n>` with its loopback up.
    pub fn create() -> Result<Netns, String> {
        let index = next_index();
        let name = format!("toe-{}-{index}", std::process::id());
        checked(Command::new("ip").args(["netns", "add", &name]))?;
        // From here on, Drop deletes the namespace whatever fails next.
        let ns = Netns { name, index };
        ns.run(["ip", "link", "set", "lo", "up"])?;
        Ok(ns)
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// A small number unique among the namespaces of this process, for
    /// picking subnets (`10.77.<index % 256>.0/24`).
    pub fn index(&self) -> u32 {
        self.index
    }

    /// Moves network device `dev` from the root namespace into this one,
    /// gives it `addr` (CIDR, "10.77.3.1/24") and brings it up.  IPv6 is
    /// turned off on it first, where the kernel has IPv6, so that the wire
    /// carries only what the test sends (no router solicitations, no MLD).
    pub fn adopt_link(&self, dev: &str, addr: &str) -> Result<(), String> {
        checked(Command::new("ip").args(["link", "set", "dev", dev, "netns", &self.name]))?;
        let v6 = format!("/proc/sys/net/ipv6/conf/{dev}/disable_ipv6");
        // Best effort: a kernel without IPv6 has no such file, and then
        // there is nothing to silence.
        let _ = self.run(["sh", "-c", "[ ! -e \"$1\" ] || echo 1 > \"$1\"", "sh", &v6]);
        self.run(["ip", "address", "add", addr, "dev", dev])?;
        self.run(["ip", "link", "set", "dev", dev, "up"])?;
        Ok(())
    }

    /// The command `program args...` to be run inside the namespace.
    pub fn command<I, S>(&self, argv: I) -> Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.name]).args(argv);
        cmd
    }

    /// Runs `argv` inside the namespace to completion and returns its
    /// output, whatever its exit status.
    pub fn exec<I, S>(&self, argv: I) -> Result<Output, String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.command(argv);
        let line = command_line(&cmd);
        cmd.stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot start `{line}`: {e}"))
    }

    /// Runs `argv` inside the namespace and returns its standard output;
    /// an exit status other than success is an error.
    pub fn run<I, S>(&self, argv: I) -> Result<String, String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let out = checked(&mut self.command(argv))?;
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Runs `f` on a new thread named `name` that has joined this
    /// namespace (see [`enter`]): sockets it creates belong to the
    /// namespace, as those of a program run inside it.
    pub fn thread<T: Send + 'static>(
        &self,
        name: &str,
        f: impl FnOnce() -> T + Send + 'static,
    ) -> JoinHandle<T> {
        let ns = self.name.clone();
        std::thread::Builder::new()
            .name(name.into())
            .spawn(move || {
                enter(&ns).unwrap_or_else(|e| panic!("{e}"));
                f()
            })
            .expect("spawn a thread")
    }

    /// Starts `argv` inside the namespace with stdout and stderr captured
    /// (read them with `wait_with_output`).  The caller owns the child:
    /// kill it before the namespace is dropped if it may still run.
    pub fn spawn<I, S>(&self, argv: I) -> Result<Child, String>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        let mut cmd = self.command(argv);
        let line = command_line(&cmd);
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start `{line}`: {e}"))
    }
}

/// Moves the calling thread into the network namespace named `ns`
/// (setns(2) moves only the calling thread; sockets it creates belong to
/// the namespace for good).
pub fn enter(ns: &str) -> Result<(), String> {
    // `ip netns add` bind-mounts the namespace here (/var/run is usually a
    // link to /run).
    let path = ["/run/netns", "/var/run/netns"]
        .iter()
        .map(|d| format!("{d}/{ns}"))
        .find(|p| Path::new(p).exists())
        .ok_or_else(|| format!("namespace {ns} not found under /run/netns or /var/run/netns"))?;
    let f = fs::File::open(&path).map_err(|e| format!("open {path}: {e}"))?;
    // SAFETY: setns(2) on a descriptor we own; it changes only this thread.
    if unsafe { libc::setns(f.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
        return Err(format!(
            "setns({path}, CLONE_NEWNET): {}",
            std::io::Error::last_os_error()
        ));
    }
    Ok(())
}

impl Drop for Netns {
    /// Deletes the namespace.  Devices in it go with it (a TAP device is
    /// destroyed for good once its file descriptor is closed as well).
    fn drop(&mut self) {
        if let Err(e) = checked(Command::new("ip").args(["netns", "delete", &self.name])) {
            eprintln!("warning: namespace {} left behind: {e}", self.name);
        }
    }
}
