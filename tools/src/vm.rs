//! The VM rig: the driver's VFIO backend run against the real kernel VFIO
//! interface, inside a QEMU guest with an emulated Intel IOMMU (issue 22).
//!
//! Everything comes from Debian's packages through apt's ordinary client,
//! downloaded (`apt-get download`) and unpacked under `target/vm/`, keyed by
//! package versions, without installing anything on the host:
//! * QEMU (`qemu-system-x86` and the libraries the host lacks) into
//!   `target/vm/sysroot`, run with `LD_LIBRARY_PATH` (installing Debian's
//!   QEMU 7.2 system-wide would remove the newer `qemu-utils` some machines
//!   carry; a `qemu-system-x86_64` already on PATH is used as it is);
//! * the kernel (`linux-image-amd64`'s current image: vmlinuz and the vfio
//!   modules) and `busybox-static`.
//!
//! The initramfs holds busybox, the modules, the guest program
//! (`driver/examples/vfio_guest.rs`, the driver's code unchanged) and the
//! `xtask` binary itself (for `xtask info --pci`), each with the shared
//! libraries `ldd` lists.  Two boots:
//! * `iommu`: q35, `intel-iommu` with interrupt remapping, 16 hugepages;
//!   an e1000e behind its own root port (bound to vfio-pci by the guest),
//!   a second e1000e left unbound, and an edu device plus a PCI 16550 behind
//!   a PCIe-to-PCI bridge (one IOMMU group, the 16550 bound to `serial`).
//! * `noiommu`: the e1000e without an IOMMU.
//!
//! The guest prints one `CHECK ok|FAIL name: ...` line per check; this step
//! fails unless every check listed here ran and passed.
//!
//! KVM is used when it can run a stock kernel: `/dev/kvm` answers
//! KVM_GET_API_VERSION and the CPU has vmx or svm.  Otherwise (e.g. under a
//! paravirtualised KVM such as kvm_pvm, which only runs PVM guest kernels)
//! QEMU's software emulation (TCG) runs the same guest, slower.  TOE_VM_ACCEL
//! =kvm|tcg forces one.  The step is skipped, with the reason, only on a
//! host that is not x86-64 Linux or has neither QEMU nor apt.
use anyhow::{anyhow, bail, Context, Result};
use std::collections::BTreeSet;
use std::fs;
use std::io::Write as _;
use std::os::unix::fs::PermissionsExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use crate::deps::workspace_root;

/// The e1000e's MAC; the guest checks BAR0 reads it back.
const MAC: &str = "52:54:00:12:34:56";
/// PCI addresses the firmware gives the devices of [`qemu_devices`].
const NIC: &str = "0000:01:00.0";
const UNBOUND: &str = "0000:02:00.0";
const EDU: &str = "0000:03:01.0";
const SERIAL: &str = "0000:03:02.0";

/// Kernel modules for vfio-pci, in load order (Debian builds them as modules).
const MODULES: &[&str] = &[
    "drivers/vfio/vfio.ko",
    "drivers/vfio/vfio_iommu_type1.ko",
    "virt/lib/irqbypass.ko",
    "drivers/vfio/vfio_virqfd.ko",
    "drivers/vfio/pci/vfio-pci-core.ko",
    "drivers/vfio/pci/vfio-pci.ko",
];

/// The checks each boot must report as passed.
const IOMMU_CHECKS: &[&str] = &[
    "load-modules",
    "iommu-groups",
    "not-bound-none",
    "info-not-bound-none",
    "not-bound-serial",
    "info-not-bound-serial",
    "bind-nic",
    "open-nic",
    "bar0-size",
    "bar0-reads-device",
    "bar0-write-read",
    "bar0-bounds",
    "bus-master-on",
    "lane",
    "dma-alloc",
    "iova-ranges",
    "dma-hugepage",
    "dma-pinned",
    "dma-device-tx",
    "dma-unmapped-faults",
    "msix-too-many",
    "msix-enable",
    "msix-vector-0",
    "msix-vector-1",
    "msix-vector-2",
    "msix-vector-3",
    "msix-vector-4",
    "reset-method",
    "reset",
    "dma-after-reset",
    "wrong-device",
    "closed-unpinned",
    "closed-bus-master-off",
    "closed-hugepages-back",
    "info-wrong-device",
    "dma-map-limit",
    "no-hugepages-require",
    "no-hugepages-fallback",
    "bind-edu",
    "group-not-viable",
    "info-group-not-viable",
    "kernel-refuses-group",
    "unbound-sibling-viable",
    "no-reset-method",
    "no-msix",
    "edu-not-a-nic",
    "bind-serial",
    "bar-not-mappable",
];
const NOIOMMU_CHECKS: &[&str] = &[
    "no-vfio-module",
    "info-no-vfio",
    "load-modules",
    "no-iommu-group",
    "info-no-iommu",
];

/// The `cargo xtask test` step: Ok with a SKIP line where the rig cannot run.
pub fn check() -> Result<()> {
    println!("== vfio guest (tools/src/vm.rs)");
    if let Some(why) = unsupported() {
        println!("vfio guest: SKIP: {why}");
        return Ok(());
    }
    let t0 = Instant::now();
    let dir = vm_dir();
    let inputs = match prepare(&dir)? {
        Some(i) => i,
        None => return Ok(()),
    };
    let accel = accel();
    match &accel {
        Accel::Kvm => println!("vfio guest: accelerator KVM"),
        Accel::Tcg(why) => println!("vfio guest: accelerator TCG (software emulation): {why}"),
    }
    let guest = build_guest_program()?;
    // The running binary through /proc/self/exe: `cargo test --workspace`
    // (the step before this one in `cargo xtask test`) rebuilds
    // target/debug/xtask, so the path current_exe names may be gone while
    // the binary still runs.
    let xtask = dir.join("xtask.bin");
    std::fs::copy("/proc/self/exe", &xtask)
        .context("copying the running xtask binary (/proc/self/exe)")?;
    let initrd = dir.join("initramfs.cpio");
    write_initramfs(&initrd, &inputs, &guest, &xtask)?;
    println!(
        "vfio guest: inputs ready in {:.1} s ({})",
        t0.elapsed().as_secs_f64(),
        inputs.kernel_version
    );
    let mut failures = Vec::new();
    for (scenario, required) in [("iommu", IOMMU_CHECKS), ("noiommu", NOIOMMU_CHECKS)] {
        if let Err(e) = boot(&dir, &inputs, &initrd, &accel, scenario, required) {
            failures.push(format!("{scenario}: {e:#}"));
        }
    }
    if !failures.is_empty() {
        bail!("vfio guest: {}", failures.join("; "));
    }
    println!(
        "vfio guest: PASSED ({} + {} checks, {:.1} s in all)",
        IOMMU_CHECKS.len(),
        NOIOMMU_CHECKS.len(),
        t0.elapsed().as_secs_f64()
    );
    Ok(())
}

/// Why the rig cannot run here, if it cannot.
fn unsupported() -> Option<String> {
    if !cfg!(all(target_os = "linux", target_arch = "x86_64")) {
        return Some("the rig boots an x86-64 Debian guest; this host is not x86-64 Linux".into());
    }
    let have_qemu = runs("qemu-system-x86_64", &["--version"]);
    let have_apt = runs("apt-get", &["--version"]) && runs("dpkg-deb", &["--version"]);
    if !have_apt {
        return Some(format!(
            "no apt-get/dpkg-deb to fetch Debian's kernel, busybox{} (a Debian host is needed)",
            if have_qemu { "" } else { " and QEMU" }
        ));
    }
    None
}

fn vm_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
        .join("vm")
}

enum Accel {
    Kvm,
    Tcg(String),
}

fn accel() -> Accel {
    match std::env::var("TOE_VM_ACCEL").as_deref() {
        Ok("kvm") => return Accel::Kvm,
        Ok("tcg") => return Accel::Tcg("TOE_VM_ACCEL=tcg".into()),
        _ => {}
    }
    match kvm_usable() {
        Ok(()) => Accel::Kvm,
        Err(why) => Accel::Tcg(why),
    }
}

/// Whether KVM can run a stock kernel here.
fn kvm_usable() -> std::result::Result<(), String> {
    fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open("/dev/kvm")
        .map_err(|e| format!("/dev/kvm: {e}"))?;
    let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
    let flags = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("flags"))
        .unwrap_or("");
    if !flags.split_whitespace().any(|f| f == "vmx" || f == "svm") {
        let pvm = Path::new("/sys/module/kvm_pvm").exists();
        return Err(format!(
            "/dev/kvm is there but the CPU has neither vmx nor svm{}: it cannot run a stock Debian kernel",
            if pvm { " (KVM is kvm_pvm, which runs only PVM guest kernels)" } else { "" }
        ));
    }
    Ok(())
}

fn runs(prog: &str, args: &[&str]) -> bool {
    Command::new(prog)
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

fn output(cmd: &mut Command) -> Result<String> {
    let shown = format!("{cmd:?}");
    let out = cmd
        .stdin(Stdio::null())
        .output()
        .with_context(|| format!("could not start {shown}"))?;
    if !out.status.success() {
        bail!(
            "{shown} failed ({}): {}",
            out.status,
            String::from_utf8_lossy(&out.stderr).trim()
        );
    }
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// What the guest is made of.
struct Inputs {
    /// The QEMU to run and the LD_LIBRARY_PATH and -L firmware directories it needs.
    qemu: PathBuf,
    ld_path: Option<String>,
    firmware: Vec<PathBuf>,
    vmlinuz: PathBuf,
    modules: PathBuf,
    busybox: PathBuf,
    kernel_version: String,
}

/// Fetches and unpacks what the guest needs, unless the same package
/// versions are unpacked already.  None when skipped.
fn prepare(dir: &Path) -> Result<Option<Inputs>> {
    fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    // A fresh machine may have no package lists yet: fetch them once, as
    // deps::ensure does, when we may (root).
    if kernel_package().is_err() {
        let root = output(Command::new("id").arg("-u")).is_ok_and(|u| u.trim() == "0");
        if root {
            println!("vfio guest: apt knows no linux-image-amd64; running apt-get update");
            output(Command::new("apt-get").arg("update"))?;
        }
    }
    let kernel_pkg = kernel_package()?;
    let system_qemu = runs("qemu-system-x86_64", &["--version"]);
    // The packages apt would add for QEMU (dependencies the host lacks),
    // with versions, from a simulated install; busybox-static always.
    let mut wanted: Vec<(String, String)> = Vec::new();
    let mut sim_pkgs = vec!["busybox-static"];
    if !system_qemu {
        sim_pkgs.push("qemu-system-x86");
    }
    let sim = output(
        Command::new("apt-get")
            .args(["install", "-s", "-y", "--no-install-recommends"])
            .args(&sim_pkgs),
    )
    .context("asking apt what QEMU and busybox need (run `apt-get update` first if apt knows no packages)")?;
    for l in sim.lines() {
        if let Some(rest) = l.strip_prefix("Inst ") {
            let mut w = rest.split_whitespace();
            let name = w.next().unwrap_or_default().to_string();
            // "Inst pkg [old] (new suite [arch])" or "Inst pkg (new ...)"
            let ver = rest
                .split('(')
                .nth(1)
                .and_then(|v| v.split_whitespace().next())
                .unwrap_or("?")
                .to_string();
            wanted.push((name, ver));
        }
    }
    if !wanted.iter().any(|(n, _)| n == "busybox-static") {
        // Installed on the host already: fetch it anyway (apt-get download
        // does not care what is installed).
        wanted.push(("busybox-static".into(), installed_version("busybox-static")));
    }
    wanted.push((kernel_pkg.0.clone(), kernel_pkg.1.clone()));
    let key: String = wanted.iter().map(|(n, v)| format!("{n}={v}\n")).collect();
    let sysroot = dir.join("sysroot");
    let stamp = dir.join("sysroot.stamp");
    if fs::read_to_string(&stamp).ok().as_deref() != Some(key.as_str()) {
        let t = Instant::now();
        let debs = dir.join("debs");
        let _ = fs::remove_dir_all(&debs);
        let _ = fs::remove_dir_all(&sysroot);
        fs::create_dir_all(&debs)?;
        fs::create_dir_all(&sysroot)?;
        let names: Vec<&str> = wanted.iter().map(|(n, _)| n.as_str()).collect();
        println!("vfio guest: apt-get download {}", names.join(" "));
        output(
            Command::new("apt-get")
                .arg("download")
                .args(&names)
                .current_dir(&debs),
        )
        .context("downloading Debian packages for the guest")?;
        for e in fs::read_dir(&debs)? {
            let deb = e?.path();
            let name = deb
                .file_name()
                .unwrap_or_default()
                .to_string_lossy()
                .into_owned();
            if name.starts_with(&format!("{}_", kernel_pkg.0)) {
                // Only vmlinuz and the modules we load (the image is ~400 MB unpacked).
                let mut pats = vec!["./boot/vmlinuz-*".to_string()];
                pats.extend(
                    MODULES
                        .iter()
                        .map(|m| format!("./lib/modules/*/kernel/{m}")),
                );
                let sh = format!(
                    "dpkg-deb --fsys-tarfile '{}' | tar -x -C '{}' --wildcards {}",
                    deb.display(),
                    sysroot.display(),
                    pats.iter()
                        .map(|p| format!("'{p}'"))
                        .collect::<Vec<_>>()
                        .join(" ")
                );
                output(Command::new("sh").arg("-c").arg(&sh))?;
            } else {
                output(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&sysroot))?;
            }
        }
        fs::write(&stamp, &key)?;
        let _ = fs::remove_dir_all(&debs);
        println!("vfio guest: unpacked in {:.1} s", t.elapsed().as_secs_f64());
    }
    let boot = sysroot.join("boot");
    let vmlinuz = fs::read_dir(&boot)
        .with_context(|| format!("reading {}", boot.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|p| {
            p.file_name()
                .is_some_and(|n| n.to_string_lossy().starts_with("vmlinuz-"))
        })
        .ok_or_else(|| anyhow!("no vmlinuz in {}", boot.display()))?;
    let kernel_version = vmlinuz
        .file_name()
        .unwrap()
        .to_string_lossy()
        .trim_start_matches("vmlinuz-")
        .to_string();
    let modules = sysroot
        .join("lib/modules")
        .join(&kernel_version)
        .join("kernel");
    let (qemu, ld_path) = if system_qemu {
        (PathBuf::from("qemu-system-x86_64"), None)
    } else {
        let libs = [
            sysroot.join("usr/lib/x86_64-linux-gnu"),
            sysroot.join("lib/x86_64-linux-gnu"),
        ];
        let ld = libs
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(":");
        (sysroot.join("usr/bin/qemu-system-x86_64"), Some(ld))
    };
    let firmware = if system_qemu {
        vec![]
    } else {
        vec![
            sysroot.join("usr/share/qemu"),
            sysroot.join("usr/share/seabios"),
        ]
    };
    Ok(Some(Inputs {
        qemu,
        ld_path,
        firmware,
        vmlinuz,
        modules,
        busybox: sysroot.join("bin/busybox"),
        kernel_version,
    }))
}

fn installed_version(pkg: &str) -> String {
    output(Command::new("dpkg-query").args(["-W", "-f=${Version}", pkg]))
        .unwrap_or_else(|_| "?".into())
}

/// The kernel image package `linux-image-amd64` currently points at, and
/// its version.
fn kernel_package() -> Result<(String, String)> {
    let deps = output(Command::new("apt-cache").args(["depends", "linux-image-amd64"]))
        .context("asking apt for linux-image-amd64 (run `apt-get update` first)")?;
    let name = deps
        .lines()
        .find_map(|l| l.trim().strip_prefix("Depends: "))
        .filter(|n| n.starts_with("linux-image-"))
        .ok_or_else(|| anyhow!("linux-image-amd64 depends on no linux-image-*: {deps}"))?
        .to_string();
    let policy = output(Command::new("apt-cache").args(["policy", &name]))?;
    let ver = policy
        .lines()
        .find_map(|l| l.trim().strip_prefix("Candidate:"))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|| "?".into());
    Ok((name, ver))
}

/// Builds the guest program with the cargo running us and returns its path.
fn build_guest_program() -> Result<PathBuf> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let out = Command::new(&cargo)
        .args([
            "build",
            "--quiet",
            "-p",
            "toe-driver",
            "--example",
            "vfio_guest",
            "--message-format=json-render-diagnostics",
        ])
        .current_dir(workspace_root())
        .stdin(Stdio::null())
        .stderr(Stdio::inherit())
        .output()
        .context("building the guest program")?;
    if !out.status.success() {
        bail!(
            "building driver/examples/vfio_guest.rs failed ({})",
            out.status
        );
    }
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter(|v| v["target"]["name"] == "vfio_guest")
        .find_map(|v| v["executable"].as_str().map(PathBuf::from))
        .ok_or_else(|| anyhow!("cargo did not name the vfio_guest executable"))
}

/// A newc cpio archive (what the kernel unpacks as its initramfs), built
/// in memory: directories, files and symlinks with their modes.
#[derive(Default)]
struct Cpio {
    data: Vec<u8>,
    ino: u32,
    seen: BTreeSet<String>,
}

impl Cpio {
    fn entry(&mut self, name: &str, mode: u32, body: &[u8]) {
        self.ino += 1;
        let hdr = format!(
            "070701{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}{:08x}",
            self.ino,
            mode,
            0,
            0,
            1,
            0,
            body.len(),
            0,
            0,
            0,
            0,
            name.len() + 1,
            0
        );
        self.data.extend_from_slice(hdr.as_bytes());
        self.data.extend_from_slice(name.as_bytes());
        self.data.push(0);
        self.pad();
        self.data.extend_from_slice(body);
        self.pad();
    }
    fn pad(&mut self) {
        while !self.data.len().is_multiple_of(4) {
            self.data.push(0);
        }
    }
    /// A directory and its parents, once each.
    fn dir(&mut self, path: &str) {
        let mut p = String::new();
        for part in path.trim_matches('/').split('/').filter(|s| !s.is_empty()) {
            if !p.is_empty() {
                p.push('/');
            }
            p.push_str(part);
            if self.seen.insert(p.clone()) {
                let name = p.clone();
                self.entry(&name, 0o040755, &[]);
            }
        }
    }
    fn file(&mut self, path: &str, mode: u32, body: &[u8]) {
        let path = path.trim_start_matches('/');
        if let Some((parent, _)) = path.rsplit_once('/') {
            self.dir(parent);
        }
        if self.seen.insert(path.to_string()) {
            self.entry(path, 0o100000 | mode, body);
        }
    }
    fn finish(mut self) -> Vec<u8> {
        self.entry("TRAILER!!!", 0, &[]);
        self.data
    }
}

/// The shared libraries (and the dynamic loader) `ldd` lists for `bin`.
fn shared_libs(bin: &Path) -> Result<Vec<PathBuf>> {
    let out = output(Command::new("ldd").arg(bin))?;
    Ok(out
        .lines()
        .filter_map(|l| {
            let l = l.trim();
            let path = match l.split_once("=>") {
                Some((_, rest)) => rest.split_whitespace().next()?,
                None => l.split_whitespace().next()?,
            };
            path.starts_with('/').then(|| PathBuf::from(path))
        })
        .collect())
}

/// A copy of a binary without debug information (smaller initramfs); the
/// binary itself if `strip` is missing.
fn stripped(bin: &Path, dir: &Path) -> Result<Vec<u8>> {
    let out = dir.join(format!(
        "{}.stripped",
        bin.file_name().unwrap_or_default().to_string_lossy()
    ));
    let ok = Command::new("strip")
        .arg("--strip-debug")
        .arg("-o")
        .arg(&out)
        .arg(bin)
        .stdin(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    let path = if ok { out.as_path() } else { bin };
    fs::read(path).with_context(|| format!("reading {}", path.display()))
}

const INIT: &str = r#"#!/bin/busybox sh
/bin/busybox --install -s
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
echo "VFIO-GUEST BOOTED uptime=$(cut -d' ' -f1 /proc/uptime)"
/bin/vfio_guest $(cat /proc/cmdline) 2>&1
echo "VFIO-GUEST EXIT status=$? uptime=$(cut -d' ' -f1 /proc/uptime)"
poweroff -f
"#;

fn write_initramfs(path: &Path, inputs: &Inputs, guest: &Path, xtask: &Path) -> Result<()> {
    let mut c = Cpio::default();
    for d in [
        "bin",
        "sbin",
        "usr/bin",
        "usr/sbin",
        "proc",
        "sys",
        "dev",
        "tmp",
        "lib/modules",
    ] {
        c.dir(d);
    }
    c.file("init", 0o755, INIT.as_bytes());
    c.file(
        "bin/busybox",
        0o755,
        &fs::read(&inputs.busybox)
            .with_context(|| format!("reading {}", inputs.busybox.display()))?,
    );
    let dir = path.parent().unwrap();
    for (bin, name) in [(guest, "vfio_guest"), (xtask, "xtask")] {
        c.file(&format!("bin/{name}"), 0o755, &stripped(bin, dir)?);
        for lib in shared_libs(bin)? {
            let body = fs::read(&lib).with_context(|| format!("reading {}", lib.display()))?;
            c.file(&lib.to_string_lossy(), 0o755, &body);
        }
    }
    for m in MODULES {
        let src = inputs.modules.join(m);
        let name = Path::new(m)
            .file_name()
            .unwrap()
            .to_string_lossy()
            .into_owned();
        c.file(
            &format!("lib/modules/{name}"),
            0o644,
            &fs::read(&src).with_context(|| format!("reading {}", src.display()))?,
        );
    }
    let mut f = fs::File::create(path).with_context(|| format!("creating {}", path.display()))?;
    f.write_all(&c.finish())?;
    fs::set_permissions(path, fs::Permissions::from_mode(0o644))?;
    Ok(())
}

fn qemu_devices(scenario: &str) -> Vec<String> {
    let mut d: Vec<String> = Vec::new();
    let mut add = |s: &str| d.extend(["-device".to_string(), s.to_string()]);
    if scenario == "iommu" {
        // First, before the devices it translates for.
        add("intel-iommu,intremap=on");
    }
    add("pcie-root-port,id=rp1,bus=pcie.0,addr=0x1,chassis=1,x-speed=2_5,x-width=1");
    add(&format!("e1000e,bus=rp1,romfile=,mac={MAC}"));
    if scenario == "iommu" {
        add("pcie-root-port,id=rp2,bus=pcie.0,addr=0x2,chassis=2");
        add("e1000e,bus=rp2,romfile=");
        add("pcie-pci-bridge,id=br1,bus=pcie.0,addr=0x3");
        add("edu,bus=br1,addr=0x1");
        add("pci-serial,bus=br1,addr=0x2");
    }
    d
}

/// Boots the guest for one scenario and checks its report.
fn boot(
    dir: &Path,
    inputs: &Inputs,
    initrd: &Path,
    accel: &Accel,
    scenario: &str,
    required: &[&str],
) -> Result<()> {
    let log = dir.join(format!("console-{scenario}.log"));
    let _ = fs::remove_file(&log);
    let mut append = format!(
        "console=ttyS0 panic=-1 quiet loglevel=4 hugepages=16 toe.scenario={scenario} toe.nic={NIC} \
         toe.unbound={UNBOUND} toe.edu={EDU} toe.serial={SERIAL} toe.mac={MAC}"
    );
    if scenario == "iommu" {
        append.push_str(" intel_iommu=on");
    }
    let machine = match accel {
        Accel::Kvm => "q35,accel=kvm,kernel-irqchip=split",
        Accel::Tcg(_) => "q35,accel=tcg",
    };
    let mut cmd = Command::new(&inputs.qemu);
    if let Some(ld) = &inputs.ld_path {
        cmd.env("LD_LIBRARY_PATH", ld);
    }
    for fw in &inputs.firmware {
        cmd.arg("-L").arg(fw);
    }
    cmd.args([
        "-nodefaults",
        "-display",
        "none",
        "-no-reboot",
        "-machine",
        machine,
    ])
    .args(["-m", "512", "-smp", "1"])
    .arg("-serial")
    .arg(format!("file:{}", log.display()))
    .arg("-kernel")
    .arg(&inputs.vmlinuz)
    .arg("-initrd")
    .arg(initrd)
    .arg("-append")
    .arg(&append)
    .args(qemu_devices(scenario))
    .stdin(Stdio::null())
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    if matches!(accel, Accel::Kvm) {
        cmd.args(["-cpu", "host"]);
    }
    let limit = match accel {
        Accel::Kvm => Duration::from_secs(60),
        Accel::Tcg(_) => Duration::from_secs(180),
    };
    let t = Instant::now();
    let mut child = cmd
        .spawn()
        .with_context(|| format!("starting {}", inputs.qemu.display()))?;
    let status = loop {
        if let Some(s) = child.try_wait()? {
            break Some(s);
        }
        if t.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            break None;
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let took = t.elapsed().as_secs_f64();
    let mut qemu_err = String::new();
    if let Some(mut e) = child.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut qemu_err);
    }
    let console = fs::read_to_string(&log).unwrap_or_default();
    let qemu_err: String = qemu_err
        .lines()
        .filter(|l| !l.contains("has no peer"))
        .map(|l| format!("{l}\n"))
        .collect();
    let dump = || {
        format!(
            "console ({}):\n{}\nQEMU stderr:\n{qemu_err}",
            log.display(),
            console
        )
    };
    let Some(status) = status else {
        bail!(
            "the guest did not finish within {} s\n{}",
            limit.as_secs(),
            dump()
        );
    };
    if !status.success() {
        bail!("QEMU exited with {status}\n{}", dump());
    }
    let report = parse_report(&console, required);
    // Show what ran: checks, the info outputs, warnings.
    for l in console.lines() {
        let l = l.trim_end_matches('\r');
        if l.starts_with("CHECK ")
            || l.starts_with("  ")
            || l.starts_with("vfio ")
            || l.starts_with("VFIO-GUEST")
        {
            println!("[{scenario}] {l}");
        }
    }
    let booted = console
        .lines()
        .find_map(|l| l.split("VFIO-GUEST BOOTED uptime=").nth(1))
        .unwrap_or("?")
        .trim()
        .to_string();
    match report {
        Ok(n) => {
            println!(
                "vfio guest: {scenario}: {n} checks passed; QEMU ran {took:.1} s (guest kernel up after {booted} s)"
            );
            Ok(())
        }
        Err(e) => bail!("{e}\n{}", dump()),
    }
}

/// Every required check ran and passed, and the guest program finished.
fn parse_report(console: &str, required: &[&str]) -> std::result::Result<usize, String> {
    let mut ok = BTreeSet::new();
    let mut failed = Vec::new();
    for l in console.lines() {
        let l = l.trim_end_matches('\r');
        if let Some(rest) = l.strip_prefix("CHECK ok ") {
            ok.insert(rest.split(':').next().unwrap_or("").to_string());
        } else if let Some(rest) = l.strip_prefix("CHECK FAIL ") {
            failed.push(rest.to_string());
        }
    }
    let done = console.lines().find(|l| l.starts_with("VFIO-GUEST DONE"));
    let missing: Vec<&str> = required
        .iter()
        .copied()
        .filter(|n| !ok.contains(*n) && !failed.iter().any(|f| f.starts_with(&format!("{n}:"))))
        .collect();
    let mut why = Vec::new();
    if !failed.is_empty() {
        why.push(format!("failed: {}", failed.join(" | ")));
    }
    if !missing.is_empty() {
        why.push(format!("did not run: {}", missing.join(", ")));
    }
    if done.is_none() {
        why.push("the guest program did not finish (no VFIO-GUEST DONE line)".into());
    }
    if why.is_empty() {
        Ok(ok.len())
    } else {
        Err(why.join("; "))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn report_needs_every_check_passed_and_done() {
        let good = "CHECK ok a: x\nCHECK ok b: y\nVFIO-GUEST DONE scenario=s passed=2 failed=0\n";
        assert_eq!(parse_report(good, &["a", "b"]), Ok(2));
        let e = parse_report("CHECK ok a: x\nVFIO-GUEST DONE\n", &["a", "b"]).unwrap_err();
        assert!(e.contains("did not run: b"), "{e}");
        let e = parse_report(
            "CHECK ok a: x\nCHECK FAIL b: boom\nVFIO-GUEST DONE\n",
            &["a", "b"],
        )
        .unwrap_err();
        assert!(
            e.contains("failed: b: boom") && !e.contains("did not run"),
            "{e}"
        );
        let e = parse_report("CHECK ok a: x\n", &["a"]).unwrap_err();
        assert!(e.contains("did not finish"), "{e}");
    }

    #[test]
    fn cpio_entries_are_aligned_and_terminated() {
        let mut c = Cpio::default();
        c.file("a/b/c", 0o755, b"hello");
        let data = c.finish();
        assert_eq!(data.len() % 4, 0);
        let text = String::from_utf8_lossy(&data);
        // a, a/b, a/b/c, trailer
        assert_eq!(text.matches("070701").count(), 4);
        assert!(
            text.contains("a/b/c\0") && text.contains("hello") && text.contains("TRAILER!!!\0")
        );
    }
}
