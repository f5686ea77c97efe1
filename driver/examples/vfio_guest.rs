//! The driver's VFIO backend against the real kernel: runs inside the VM
//! rig's guest (`tools/src/vm.rs`, a step of `cargo xtask test`), where a
//! Linux kernel with an emulated Intel IOMMU binds emulated PCI devices to
//! vfio-pci.  Not useful on a host: it binds and unbinds devices.
//!
//! Every check compares what the driver and the kernel did with what they
//! must do, and prints one line, `CHECK ok NAME: what was seen` or
//! `CHECK FAIL NAME: what was wrong`; the last line is
//! `VFIO-GUEST DONE scenario=S passed=N failed=M`.  The rig fails the step
//! unless every check it requires passed.
//!
//! Arguments come from the kernel command line (`toe.KEY=VALUE` words,
//! the rig passes `$(cat /proc/cmdline)`):
//! * `toe.scenario=iommu`: the guest has an IOMMU; `toe.nic` is an e1000e
//!   behind its own root port (the device the DMA, MSI-X and reset checks
//!   drive), `toe.unbound` an e1000e left without a driver, `toe.edu` and
//!   `toe.serial` a QEMU edu device and a PCI 16550 behind one PCIe-to-PCI
//!   bridge (one IOMMU group; the 16550 starts bound to the kernel's
//!   `serial` driver), `toe.mac` the e1000e's MAC address.
//! * `toe.scenario=noiommu`: the same e1000e in a guest booted without an
//!   IOMMU.
//!
//! The e1000e is not our NIC, so its DMA is driven through its own
//! registers (82574 datasheet; QEMU's model of it): a legacy transmit
//! descriptor with RS set is written back with DD by the device, through
//! the IOMMU, at the IOVA the driver chose.
use std::os::fd::AsRawFd;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use toe_driver::hugepage::Policy;
use toe_driver::vfio::{VfioBackend, VfioPaths};
use toe_driver::{Backend, Device, DmaRegion, Error};

type R = std::result::Result<String, String>;

/// e1000e (82574) registers and bits used here.
mod e1k {
    pub const ICS: u32 = 0x00C8;
    pub const IMS: u32 = 0x00D0;
    pub const IMC: u32 = 0x00D8;
    pub const IVAR: u32 = 0x00E4;
    pub const TCTL: u32 = 0x0400;
    pub const TCTL_EN: u32 = 1 << 1;
    pub const TDBAL: u32 = 0x3800;
    pub const TDBAH: u32 = 0x3804;
    pub const TDLEN: u32 = 0x3808;
    pub const TDH: u32 = 0x3810;
    pub const TDT: u32 = 0x3818;
    pub const RAL0: u32 = 0x5400;
    pub const RAH0: u32 = 0x5404;
    /// MSI-X causes in ICR/ICS/IMS: RXQ0, RXQ1, TXQ0, TXQ1, Other.
    pub const CAUSES: [u32; 5] = [1 << 20, 1 << 21, 1 << 22, 1 << 23, 1 << 24];
    /// IVAR: cause k -> vector k (each nibble: vector in bits 0-2, valid in bit 3).
    pub const IVAR_IDENTITY: u32 = 0x8 | 0x9 << 4 | 0xA << 8 | 0xB << 12 | 0xC << 16;
    /// Legacy TX descriptor command bits and status DD.
    pub const CMD_EOP: u32 = 0x01;
    pub const CMD_IFCS: u32 = 0x02;
    pub const CMD_RS: u32 = 0x08;
    pub const STA_DD: u32 = 0x01;
}

/// Registers of QEMU's edu device.
mod edu {
    pub const ID: u32 = 0x00;
    pub const ID_VALUE: u32 = 0x0100_00ed;
    /// Reads back the bitwise inverse of what was written.
    pub const INV: u32 = 0x04;
}

struct Checks {
    passed: u32,
    failed: u32,
}

impl Checks {
    fn check(&mut self, name: &str, r: R) {
        match r {
            Ok(d) => {
                self.passed += 1;
                println!("CHECK ok {name}: {d}");
            }
            Err(e) => {
                self.failed += 1;
                println!("CHECK FAIL {name}: {e}");
            }
        }
    }
}

fn want(cond: bool, msg: impl FnOnce() -> String) -> std::result::Result<(), String> {
    if cond {
        Ok(())
    } else {
        Err(msg())
    }
}

fn sysfs_dev(addr: &str) -> String {
    format!("/sys/bus/pci/devices/{addr}")
}

fn driver_of(addr: &str) -> String {
    std::fs::read_link(format!("{}/driver", sysfs_dev(addr)))
        .ok()
        .and_then(|p| p.file_name().map(|n| n.to_string_lossy().into_owned()))
        .unwrap_or_else(|| "none".into())
}

fn write_sys(path: &str, val: &str) -> std::result::Result<(), String> {
    std::fs::write(path, val).map_err(|e| format!("writing {val:?} to {path}: {e}"))
}

fn unbind(addr: &str) -> std::result::Result<(), String> {
    if driver_of(addr) != "none" {
        write_sys(&format!("{}/driver/unbind", sysfs_dev(addr)), addr)?;
    }
    Ok(())
}

/// Binds `addr` to `driver` the way docs/driver.md tells users to.
fn bind(addr: &str, driver: &str) -> R {
    unbind(addr)?;
    write_sys(&format!("{}/driver_override", sysfs_dev(addr)), driver)?;
    write_sys("/sys/bus/pci/drivers_probe", addr)?;
    let now = driver_of(addr);
    want(now == driver, || {
        format!("{addr} is bound to {now} after probing, not {driver}")
    })?;
    Ok(format!("{addr} bound to {driver}"))
}

fn group_of(addr: &str) -> Option<u32> {
    std::fs::read_link(format!("{}/iommu_group", sysfs_dev(addr)))
        .ok()?
        .file_name()?
        .to_str()?
        .parse()
        .ok()
}

/// The PCI command register as the kernel's config accessors read it.
fn pci_command(addr: &str) -> std::result::Result<u16, String> {
    let cfg = std::fs::read(format!("{}/config", sysfs_dev(addr)))
        .map_err(|e| format!("reading config space of {addr}: {e}"))?;
    Ok(u16::from_le_bytes([cfg[4], cfg[5]]))
}

fn bar0_size(addr: &str) -> std::result::Result<u64, String> {
    let text = std::fs::read_to_string(format!("{}/resource", sysfs_dev(addr)))
        .map_err(|e| e.to_string())?;
    let line = text.lines().next().ok_or("empty resource file")?;
    let f: Vec<u64> = line
        .split_whitespace()
        .map(|h| u64::from_str_radix(h.trim_start_matches("0x"), 16).unwrap_or(0))
        .collect();
    Ok(f[1] - f[0] + 1)
}

/// A field of /proc/meminfo or /proc/self/status, in its unit (kB or pages).
fn proc_field(file: &str, key: &str) -> u64 {
    std::fs::read_to_string(file)
        .unwrap_or_default()
        .lines()
        .find_map(|l| l.strip_prefix(key)?.split_whitespace().next()?.parse().ok())
        .unwrap_or(u64::MAX)
}
fn hugepages_free() -> u64 {
    proc_field("/proc/meminfo", "HugePages_Free:")
}
fn vm_locked_kb() -> u64 {
    proc_field("/proc/self/status", "VmLck:")
}

fn open(addr: &str, policy: Policy) -> toe_driver::Result<VfioBackend> {
    VfioBackend::open_with(addr, &VfioPaths::default(), policy)
}

/// `xtask info --pci ADDR` as a user runs it: prints its output and
/// returns (exit success, stdout + stderr).
fn info(addr: &str) -> (bool, String) {
    match Command::new("/bin/xtask")
        .args(["info", "--pci", addr])
        .output()
    {
        Ok(o) => {
            let text = format!(
                "{}{}",
                String::from_utf8_lossy(&o.stdout),
                String::from_utf8_lossy(&o.stderr)
            );
            println!("  $ cargo xtask info --pci {addr}");
            for l in text.lines() {
                println!("  | {l}");
            }
            (o.status.success(), text)
        }
        Err(e) => (false, format!("could not run /bin/xtask: {e}")),
    }
}

/// Checks that `xtask info --pci addr` fails with a message containing
/// every one of `needles`.
fn info_fails_with(addr: &str, needles: &[&str]) -> R {
    let (ok, text) = info(addr);
    want(!ok, || format!("info succeeded:\n{text}"))?;
    let first = text
        .lines()
        .find(|l| l.starts_with("error: "))
        .unwrap_or("");
    for n in needles {
        want(first.contains(n), || {
            format!("the error line lacks {n:?}: {text:?}")
        })?;
    }
    Ok(first.to_string())
}

fn wait_until(limit: Duration, mut f: impl FnMut() -> bool) -> bool {
    let t = Instant::now();
    while t.elapsed() < limit {
        if f() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    f()
}

fn dmesg() -> String {
    Command::new("dmesg")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
        .unwrap_or_default()
}

/// One transmit on the e1000e: a descriptor ring and a frame in `ring`
/// (DMA memory of the backend), TDBA = the ring's IOVA.  The device reads
/// the descriptor and the frame through the IOMMU and writes the
/// descriptor's status back with DD (only because it read RS in our
/// descriptor).  Returns what was seen.
fn e1000e_tx(b: &dyn Backend, ring: &DmaRegion, tag: u32) -> R {
    let frame_off = 2048usize;
    let frame: Vec<u8> = (0..60u32).map(|i| (i as u8) ^ (tag as u8)).collect();
    ring.fill(0, 256, 0);
    ring.write(frame_off, &frame);
    // Descriptor 0: buffer address, then length | cmd << 24, then
    // status (0) | special << 16 (a tag that comes back in the write-back).
    ring.write_u64(0, ring.iova() + frame_off as u64);
    let lower = frame.len() as u32 | (e1k::CMD_EOP | e1k::CMD_IFCS | e1k::CMD_RS) << 24;
    let upper = (tag & 0xffff) << 16;
    ring.write_u64(8, lower as u64 | (upper as u64) << 32);
    b.write32(e1k::TCTL, 0);
    b.write32(e1k::TDBAL, ring.iova() as u32);
    b.write32(e1k::TDBAH, (ring.iova() >> 32) as u32);
    b.write32(e1k::TDLEN, 128); // 8 descriptors, the minimum
    b.write32(e1k::TDH, 0);
    b.write32(e1k::TDT, 0);
    b.write32(e1k::TCTL, e1k::TCTL_EN);
    std::sync::atomic::fence(std::sync::atomic::Ordering::SeqCst);
    b.write32(e1k::TDT, 1);
    let status = || (ring.read_u64(8) >> 32) as u32;
    let done = wait_until(Duration::from_secs(2), || status() & e1k::STA_DD != 0);
    let tdh = b.read32(e1k::TDH);
    b.write32(e1k::TCTL, 0);
    want(done, || {
        format!(
            "no write-back within 2 s: status word {:#010x}, TDH {tdh} (ring at IOVA {:#x})",
            status(),
            ring.iova()
        )
    })?;
    want(status() == upper | e1k::STA_DD, || {
        format!(
            "write-back {:#010x}, expected {:#010x}",
            status(),
            upper | e1k::STA_DD
        )
    })?;
    want(tdh == 1, || format!("TDH is {tdh} after one descriptor"))?;
    Ok(format!(
        "descriptor at IOVA {:#x} read and written back by the device (status word {:#010x}, TDH 1)",
        ring.iova(),
        status()
    ))
}

fn load_modules() -> R {
    let mut loaded = Vec::new();
    for m in [
        "vfio",
        "vfio_iommu_type1",
        "irqbypass",
        "vfio_virqfd",
        "vfio-pci-core",
        "vfio-pci",
    ] {
        let out = Command::new("insmod")
            .arg(format!("/lib/modules/{m}.ko"))
            .output()
            .map_err(|e| format!("insmod: {e}"))?;
        want(out.status.success(), || {
            format!("insmod {m}: {}", String::from_utf8_lossy(&out.stderr))
        })?;
        loaded.push(m);
    }
    want(Path::new("/dev/vfio/vfio").exists(), || {
        "no /dev/vfio/vfio after loading vfio".into()
    })?;
    Ok(format!("loaded {}", loaded.join(", ")))
}

fn arg<'a>(args: &'a [(String, String)], k: &str) -> &'a str {
    args.iter()
        .find(|(key, _)| key == k)
        .map(|(_, v)| v.as_str())
        .unwrap_or_else(|| panic!("missing toe.{k}= on the kernel command line"))
}

fn main() {
    let args: Vec<(String, String)> = std::env::args()
        .skip(1)
        .filter_map(|w| {
            let (k, v) = w.strip_prefix("toe.")?.split_once('=')?;
            Some((k.to_string(), v.to_string()))
        })
        .collect();
    let scenario = arg(&args, "scenario").to_string();
    let mut c = Checks {
        passed: 0,
        failed: 0,
    };
    match scenario.as_str() {
        "iommu" => iommu(&mut c, &args),
        "noiommu" => noiommu(&mut c, &args),
        s => panic!("unknown scenario {s}"),
    }
    println!(
        "VFIO-GUEST DONE scenario={scenario} passed={} failed={}",
        c.passed, c.failed
    );
}

/// Guest booted without an IOMMU.
fn noiommu(c: &mut Checks, args: &[(String, String)]) {
    let nic = arg(args, "nic");
    c.check("no-vfio-module", {
        match open(nic, Policy::Require) {
            Err(Error::NoVfio(p)) if p == Path::new("/dev/vfio/vfio") => {
                Ok(format!("{}", Error::NoVfio(p)))
            }
            other => Err(format!("expected NoVfio(/dev/vfio/vfio), got {other:?}")),
        }
    });
    c.check(
        "info-no-vfio",
        info_fails_with(nic, &["/dev/vfio/vfio does not exist", "modprobe vfio-pci"]),
    );
    c.check("load-modules", load_modules());
    c.check("no-iommu-group", {
        want(group_of(nic).is_none(), || {
            format!("{nic} has an IOMMU group without an IOMMU")
        })
        .and_then(|_| match open(nic, Policy::Require) {
            Err(e @ Error::NoIommu(_)) => Ok(e.to_string()),
            other => Err(format!("expected NoIommu, got {other:?}")),
        })
    });
    c.check(
        "info-no-iommu",
        info_fails_with(nic, &[nic, "has no IOMMU group", "intel_iommu=on"]),
    );
}

/// Guest with an IOMMU (intel-iommu, interrupt remapping).
fn iommu(c: &mut Checks, args: &[(String, String)]) {
    let nic = arg(args, "nic");
    let unbound = arg(args, "unbound");
    let edu_addr = arg(args, "edu");
    let serial = arg(args, "serial");
    let mac: Vec<u8> = arg(args, "mac")
        .split(':')
        .map(|h| u8::from_str_radix(h, 16).unwrap())
        .collect();
    let hp_total = proc_field("/proc/meminfo", "HugePages_Total:");

    c.check("load-modules", load_modules());
    c.check("iommu-groups", {
        let groups: Vec<_> = [nic, unbound, edu_addr, serial]
            .iter()
            .map(|a| group_of(a))
            .collect();
        want(groups.iter().all(|g| g.is_some()), || {
            format!("groups {groups:?}")
        })
        .and_then(|_| {
            want(
                groups[2] == groups[3] && groups[0] != groups[1] && groups[0] != groups[2],
                || format!("unexpected grouping {groups:?}"),
            )
        })
        .map(|_| {
            format!(
                "nic {:?}, unbound {:?}, edu and serial share {:?}",
                groups[0], groups[1], groups[2]
            )
        })
    });

    // --- error paths before binding ---
    c.check("not-bound-none", match open(unbound, Policy::Require) {
        Err(e @ Error::NotVfioBound { .. }) if matches!(&e, Error::NotVfioBound { driver, .. } if driver == "none") => Ok(e.to_string()),
        other => Err(format!("expected NotVfioBound(none), got {other:?}")),
    });
    c.check(
        "info-not-bound-none",
        info_fails_with(
            unbound,
            &[
                unbound,
                "not bound to any driver",
                "driver_override",
                "drivers_probe",
            ],
        ),
    );
    c.check("not-bound-serial", match open(serial, Policy::Require) {
        Err(e @ Error::NotVfioBound { .. }) if matches!(&e, Error::NotVfioBound { driver, .. } if driver == "serial") => Ok(e.to_string()),
        other => Err(format!("expected NotVfioBound(serial), got {other:?}")),
    });
    c.check(
        "info-not-bound-serial",
        info_fails_with(
            serial,
            &[
                "is bound to serial, not vfio-pci",
                "/sys/bus/pci/drivers/serial/unbind",
            ],
        ),
    );

    // --- the e1000e through the driver ---
    c.check(
        "bind-nic",
        bind(nic, "vfio-pci").and_then(|s| {
            let g = group_of(nic).unwrap();
            want(Path::new(&format!("/dev/vfio/{g}")).exists(), || {
                format!("no /dev/vfio/{g}")
            })?;
            Ok(format!("{s}, /dev/vfio/{g} present"))
        }),
    );
    nic_session(c, nic, &mac, hp_total);

    // Closed: everything released.
    c.check(
        "closed-bus-master-off",
        pci_command(nic).and_then(|cmd| {
            want(cmd & 4 == 0, || {
                format!("command register {cmd:#06x} still has bus mastering")
            })?;
            Ok(format!("command register {cmd:#06x}"))
        }),
    );
    c.check("closed-hugepages-back", {
        let free = hugepages_free();
        want(free == hp_total, || {
            format!("{free} of {hp_total} hugepages free after close")
        })
        .map(|_| format!("{free} of {hp_total} hugepages free"))
    });
    c.check("info-wrong-device", info_fails_with(nic, &[
        &format!("device at vfio {nic} is not a TOE NIC: ID register reads 0x00000000, expected 0x544f4531"),
    ]));

    // DMA-map failure: the IOMMU's mapping limit.
    dma_map_failure(c, nic);
    // No hugepages.
    no_hugepages(c, nic, hp_total);

    // --- one IOMMU group, two devices ---
    group_checks(c, edu_addr, serial);
}

fn nic_session(c: &mut Checks, nic: &str, mac: &[u8], hp_total: u64) {
    let locked0 = vm_locked_kb();
    let mut b = match open(nic, Policy::Require) {
        Ok(b) => {
            c.check("open-nic", Ok(format!("{b:?}")));
            b
        }
        Err(e) => {
            c.check("open-nic", Err(e.to_string()));
            return;
        }
    };
    c.check(
        "bar0-size",
        bar0_size(nic).and_then(|s| {
            want(b.bar_len() as u64 == s, || {
                format!("BAR0 mapped {} bytes, sysfs says {s}", b.bar_len())
            })?;
            Ok(format!("{s} bytes, as in sysfs"))
        }),
    );
    c.check("bar0-reads-device", {
        let (ral, rah) = (b.read32(e1k::RAL0), b.read32(e1k::RAH0));
        let want_ral = u32::from_le_bytes([mac[0], mac[1], mac[2], mac[3]]);
        let want_rah = u16::from_le_bytes([mac[4], mac[5]]) as u32;
        want(ral == want_ral && rah & 0xffff == want_rah, || {
            format!("RAL0/RAH0 {ral:#010x}/{rah:#010x}, MAC {mac:02x?}")
        })
        .map(|_| format!("RAL0 {ral:#010x} RAH0 {rah:#010x} = the MAC QEMU was given"))
    });
    c.check("bar0-write-read", {
        b.write32(e1k::TDBAL, 0x1234_5670);
        let v = b.read32(e1k::TDBAL);
        want(v == 0x1234_5670, || {
            format!("TDBAL reads {v:#x} after writing 0x12345670")
        })
        .map(|_| "TDBAL written and read back".into())
    });
    c.check("bar0-bounds", {
        let before = b.bad_accesses();
        let v = b.read32(b.bar_len() as u32);
        want(v == u32::MAX && b.bad_accesses() == before + 1, || {
            format!(
                "read past BAR0 gave {v:#x}, bad accesses {}",
                b.bad_accesses()
            )
        })
        .map(|_| "a read past BAR0 reads all ones and is counted".into())
    });
    c.check(
        "bus-master-on",
        pci_command(nic).and_then(|cmd| {
            want(cmd & 4 != 0, || {
                format!("command register {cmd:#06x} lacks bus mastering")
            })?;
            Ok(format!("command register {cmd:#06x}"))
        }),
    );
    c.check(
        "lane",
        match b.lane(1) {
            Ok(l) => {
                let v = l.read32(e1k::RAL0);
                want(v == b.read32(e1k::RAL0), || {
                    format!("lane 1 reads RAL0 {v:#x}")
                })
                .map(|_| format!("{} reads BAR0", l.describe()))
            }
            Err(e) => Err(e.to_string()),
        },
    );

    // DMA memory: hugepage-backed, pinned by VFIO, reachable by the device.
    let free0 = hugepages_free();
    let region = b.alloc_dma(4096);
    let region = match region {
        Ok(r) => {
            c.check(
                "dma-alloc",
                Ok(format!("4096 bytes at IOVA {:#x}", r.iova())),
            );
            r
        }
        Err(e) => {
            c.check("dma-alloc", Err(e.to_string()));
            return;
        }
    };
    // Why the IOVA is not the virtual address (as it was before this rig
    // ran): the IOMMU's valid ranges, as the kernel reports them, end far
    // below where user-space memory lives.
    c.check("iova-ranges", {
        let ranges = b.iova_ranges();
        let top = ranges.iter().map(|r| r.1).max().unwrap_or(0);
        let va = region.ptr(0) as u64;
        let inside = ranges.iter().any(|&(s, e)| s <= region.iova() && region.iova() + 4095 <= e);
        // x86: the MSI window 0xfee00000-0xfeefffff is reserved, so the
        // kernel reports two ranges (one would be the driver's fallback,
        // i.e. the capability was not parsed).
        want(ranges.len() >= 2 && ranges[0].0 == 0, || {
            format!("ranges {ranges:x?} are not what an x86 IOMMU reports (MSI window missing)")
        })
        .and_then(|_| want(inside, || format!("IOVA {:#x} outside {ranges:x?}", region.iova())))
            .and_then(|_| {
                want(va > top, || {
                    format!("virtual address {va:#x} inside the IOMMU's ranges {ranges:x?}: IOVA = VA would have worked here")
                })
            })
            .map(|_| {
                format!(
                    "kernel's valid IOVA ranges {ranges:x?}; region at IOVA {:#x}, virtual address {va:#x} beyond the last ({top:#x}): IOVA = VA would be refused",
                    region.iova()
                )
            })
    });
    c.check("dma-hugepage", {
        let free = hugepages_free();
        want(free + 1 == free0, || {
            format!("hugepages free {free0} -> {free}")
        })
        .map(|_| format!("one 2 MiB hugepage taken ({free0} -> {free} free of {hp_total})"))
    });
    c.check("dma-pinned", {
        let l = vm_locked_kb();
        want(l == locked0 + 2048, || {
            format!("VmLck {locked0} kB -> {l} kB, expected +2048 (the chunk pinned by VFIO)")
        })
        .map(|_| {
            format!("VmLck {locked0} kB -> {l} kB: the 2 MiB chunk is pinned by the IOMMU mapping")
        })
    });
    c.check("dma-device-tx", e1000e_tx(&b, &region, 0xA5A5));

    // Negative control: a ring at an IOVA nothing is mapped at must fault
    // in the IOMMU, not reach memory.
    c.check("dma-unmapped-faults", {
        let bad = region.iova() + (1 << 30);
        region.fill(0, 256, 0);
        region.write_u64(8, ((e1k::CMD_RS | e1k::CMD_EOP) as u64) << 24 | 60);
        b.write32(e1k::TDBAL, bad as u32);
        b.write32(e1k::TDBAH, (bad >> 32) as u32);
        b.write32(e1k::TDLEN, 128);
        b.write32(e1k::TDH, 0);
        b.write32(e1k::TDT, 0);
        b.write32(e1k::TCTL, e1k::TCTL_EN);
        b.write32(e1k::TDT, 1);
        let needle = format!("fault addr 0x{:x}", bad);
        let seen = wait_until(Duration::from_secs(2), || dmesg().contains(&needle));
        b.write32(e1k::TCTL, 0);
        let st = (region.read_u64(8) >> 32) as u32;
        want(seen, || format!("no DMAR fault for {bad:#x} in dmesg"))
            .and_then(|_| want(st == 0, || format!("our descriptor changed ({st:#x})")))
            .map(|_| {
                let line = dmesg()
                    .lines()
                    .rev()
                    .find(|l| l.contains(&needle))
                    .unwrap_or("")
                    .trim()
                    .to_string();
                format!("IOMMU fault logged: {line}")
            })
    });

    // MSI-X through eventfds.
    c.check(
        "msix-too-many",
        match b.enable_msix(6) {
            Err(Error::Config(m)) if m.contains("offers 5 MSI-X vectors, 6 requested") => Ok(m),
            other => Err(format!(
                "expected 'offers 5 MSI-X vectors, 6 requested', got {other:?}"
            )),
        },
    );
    match b.enable_msix(5) {
        Ok(fds) => {
            c.check(
                "msix-enable",
                Ok(format!("{} vectors, one eventfd each", fds.len())),
            );
            b.write32(e1k::IVAR, e1k::IVAR_IDENTITY);
            b.write32(e1k::IMS, e1k::CAUSES.iter().fold(0, |a, x| a | x));
            for (v, cause) in e1k::CAUSES.iter().enumerate() {
                c.check(&format!("msix-vector-{v}"), {
                    b.write32(e1k::ICS, *cause);
                    let fired = wait_until(Duration::from_secs(2), || readable(&fds[v]));
                    let counts: Vec<u64> = fds.iter().map(|f| f.read().unwrap_or(0)).collect();
                    let mut expect = vec![0u64; 5];
                    expect[v] = 1;
                    want(fired && counts == expect, || {
                        format!("cause {cause:#x}: eventfd counts {counts:?}, expected {expect:?}")
                    })
                    .map(|_| format!("cause {cause:#x} -> vector {v}: counts {counts:?}"))
                });
            }
            b.write32(e1k::IMC, u32::MAX);
        }
        Err(e) => c.check("msix-enable", Err(e.to_string())),
    }

    // Function-level reset.  The kernel tries its reset methods in order
    // (FLR, PM, bus); QEMU's e1000e has no FLR and ignores a PM reset
    // (D3hot -> D0), so the rig selects the secondary bus reset of its
    // root port, which QEMU performs, as an FPGA board's FLR would be.
    c.check("reset-method", {
        let path = format!("{}/reset_method", sysfs_dev(nic));
        let offered = std::fs::read_to_string(&path)
            .unwrap_or_default()
            .trim()
            .to_string();
        want(offered.split_whitespace().any(|m| m == "bus"), || {
            format!("{path}: {offered:?} lacks bus")
        })
        .and_then(|_| write_sys(&path, "bus"))
        .map(|_| format!("kernel offers {offered:?}; using bus"))
    });
    c.check("reset", {
        want(b.can_reset(), || {
            "VFIO reports no reset method for the e1000e behind its own root port".into()
        })
        .and_then(|_| {
            b.write32(e1k::TDBAL, 0x1234_5670);
            b.reset().map_err(|e| e.to_string())
        })
        .and_then(|_| {
            let v = b.read32(e1k::TDBAL);
            want(v == 0, || format!("TDBAL still {v:#x} after reset"))?;
            let cmd = pci_command(nic)?;
            want(cmd & 4 != 0, || {
                format!("bus mastering off after reset ({cmd:#06x})")
            })?;
            Ok(format!(
                "TDBAL back to 0, bus mastering on again ({cmd:#06x})"
            ))
        })
    });
    c.check("dma-after-reset", e1000e_tx(&b, &region, 0x5A5A));

    // The ID check: an e1000e is not our NIC.
    c.check(
        "wrong-device",
        match Device::open(Box::new(b)) {
            Err(
                e @ Error::WrongDevice {
                    found: 0,
                    expected: 0x544f_4531,
                    ..
                },
            ) => Ok(e.to_string()),
            Err(e) => Err(format!("expected WrongDevice(found 0), got {e}")),
            Ok(_) => Err("an e1000e was accepted as a TOE NIC".into()),
        },
    );
    c.check("closed-unpinned", {
        let l = vm_locked_kb();
        want(l == locked0, || {
            format!("VmLck {l} kB after close, {locked0} kB before open")
        })
        .map(|_| format!("VmLck back to {l} kB: unmapped from the IOMMU"))
    });
}

fn readable(fd: &vmm_sys_util::eventfd::EventFd) -> bool {
    let mut p = libc::pollfd {
        fd: fd.as_raw_fd(),
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    unsafe { libc::poll(&mut p, 1, 0) == 1 }
}

fn dma_map_failure(c: &mut Checks, nic: &str) {
    let limit = "/sys/module/vfio_iommu_type1/parameters/dma_entry_limit";
    let old = std::fs::read_to_string(limit)
        .unwrap_or_default()
        .trim()
        .to_string();
    c.check(
        "dma-map-limit",
        write_sys(limit, "1").and_then(|_| {
            let mut b = open(nic, Policy::Require).map_err(|e| e.to_string())?;
            b.alloc_dma(4096).map_err(|e| format!("first chunk: {e}"))?;
            match b.alloc_dma(4 << 20) {
                Err(e @ Error::Vfio { .. }) => {
                    let s = e.to_string();
                    want(
                        s.contains("mapping 4194304 bytes of DMA memory into the IOMMU")
                            && s.contains("dma_entry_limit"),
                        || format!("error does not name the cause: {s}"),
                    )?;
                    Ok(s)
                }
                other => Err(format!("expected a VFIO DMA-map error, got {other:?}")),
            }
        }),
    );
    let _ = write_sys(limit, &old);
}

fn no_hugepages(c: &mut Checks, nic: &str, hp_total: u64) {
    let nr = "/proc/sys/vm/nr_hugepages";
    c.check(
        "no-hugepages-require",
        write_sys(nr, "0").and_then(|_| {
            let mut b = open(nic, Policy::Require).map_err(|e| e.to_string())?;
            match b.alloc_dma(4096) {
                Err(e @ Error::NoHugepages(_)) => {
                    let s = e.to_string();
                    want(s.contains("0 of 0 2 MiB hugepages free"), || {
                        format!("wrong count: {s}")
                    })?;
                    Ok(s)
                }
                other => Err(format!("expected NoHugepages, got {other:?}")),
            }
        }),
    );
    c.check(
        "no-hugepages-fallback",
        (|| {
            let mut b = open(nic, Policy::PreferWithFallback).map_err(|e| e.to_string())?;
            let r = b.alloc_dma(4096).map_err(|e| e.to_string())?;
            let s = e1000e_tx(&b, &r, 0x0F0F)?;
            Ok(format!("ordinary pages: {s}"))
        })(),
    );
    let _ = write_sys(nr, &hp_total.to_string());
}

fn group_checks(c: &mut Checks, edu_addr: &str, serial: &str) {
    let group = group_of(edu_addr).unwrap_or(u32::MAX);
    c.check("bind-edu", bind(edu_addr, "vfio-pci"));
    c.check("group-not-viable", match open(edu_addr, Policy::Require) {
        Err(e @ Error::GroupNotViable { .. }) => {
            let s = e.to_string();
            want(s.contains(&format!("IOMMU group {group} is not viable: device {serial} in the same group is bound to serial")), || s.clone()).map(|_| s)
        }
        other => Err(format!("expected GroupNotViable, got {other:?}")),
    });
    c.check(
        "info-group-not-viable",
        info_fails_with(edu_addr, &["is not viable", serial, "bound to serial"]),
    );
    // The kernel must agree with the preflight: opening the group through
    // VFIO directly is refused while the 16550 has a kernel driver.
    c.check("kernel-refuses-group", {
        let direct = vfio_ioctls::VfioContainer::new(None).and_then(|ct| {
            vfio_ioctls::VfioDevice::new(Path::new(&sysfs_dev(edu_addr)), Arc::new(ct), false)
        });
        match direct {
            Err(e) => Ok(format!("VFIO refused: {e}")),
            Ok(_) => {
                Err("the kernel opened a device of a group with a member bound to serial".into())
            }
        }
    });
    c.check(
        "unbound-sibling-viable",
        unbind(serial).and_then(|_| {
            let b = open(edu_addr, Policy::Require)
                .map_err(|e| format!("with {serial} unbound: {e}"))?;
            let id = b.read32(edu::ID);
            want(id == edu::ID_VALUE, || format!("edu ID reads {id:#x}"))?;
            b.write32(edu::INV, 0x0F0F_1234);
            let inv = b.read32(edu::INV);
            want(inv == !0x0F0F_1234u32, || {
                format!("edu inverter reads {inv:#x}")
            })?;
            Ok(format!(
                "opened with {serial} unbound (kernel agrees); edu ID {id:#x}, inverter works"
            ))
        }),
    );
    c.check("no-reset-method", (|| {
        let mut b = open(edu_addr, Policy::Require).map_err(|e| e.to_string())?;
        want(!b.can_reset(), || "VFIO offers a reset for an edu sharing its bus".into())?;
        b.write32(edu::INV, 0x1357_9BDF);
        // No reset happens; the check after it reads our ID register,
        // which the edu answers with all ones.
        let r = b.reset();
        want(matches!(r, Err(Error::DeviceGone { .. })), || format!("reset() gave {r:?}"))?;
        let inv = b.read32(edu::INV);
        want(inv == !0x1357_9BDFu32, || format!("edu state changed by a reset that cannot happen: {inv:#x}"))?;
        let cmd = pci_command(edu_addr)?;
        want(cmd & 4 != 0, || format!("bus mastering off ({cmd:#06x})"))?;
        Ok("can_reset() is false (no FLR, shares its bus); reset() left the device as it was, bus mastering on".into())
    })());
    c.check(
        "no-msix",
        (|| {
            let mut b = open(edu_addr, Policy::Require).map_err(|e| e.to_string())?;
            match b.enable_msix(1) {
                Err(Error::Config(m)) if m.contains("offers 0 MSI-X vectors") => Ok(m),
                other => Err(format!("expected 'offers 0 MSI-X vectors', got {other:?}")),
            }
        })(),
    );
    c.check(
        "edu-not-a-nic",
        match open(edu_addr, Policy::Require).map(|b| Device::open(Box::new(b))) {
            Ok(Err(e @ Error::DeviceGone { .. })) => Ok(e.to_string()),
            other => Err(format!(
                "expected DeviceGone (the edu reads all ones at 0x0c), got {:?}",
                other.map(|r| r.map(|_| ()))
            )),
        },
    );
    c.check("bind-serial", bind(serial, "vfio-pci"));
    c.check(
        "bar-not-mappable",
        match open(serial, Policy::Require) {
            Err(e @ Error::BarNotMappable { .. }) => Ok(e.to_string()),
            other => Err(format!(
                "expected BarNotMappable for an I/O-port BAR0, got {other:?}"
            )),
        },
    );
}
