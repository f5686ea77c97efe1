//! Every VFIO and hugepage failure that can be produced without hardware:
//! the preflight checks run against fake sysfs/dev trees in a tempdir.
use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};

use toe_driver::hugepage::{HugepageAllocator, Policy, HUGEPAGE, PAGE};
use toe_driver::vfio::{preflight, VfioBackend, VfioPaths};
use toe_driver::Error;

const ADDR: &str = "0000:01:00.0";
const GROUP: u32 = 7;

/// A fake machine: `/dev/vfio/vfio`, `/dev/vfio/7`, and the device at
/// 0000:01:00.0 in IOMMU group 7, bound to vfio-pci.
struct Tree {
    dir: tempfile::TempDir,
}

impl Tree {
    fn new() -> Self {
        let t = Tree {
            dir: tempfile::tempdir().unwrap(),
        };
        fs::create_dir_all(t.root().join("dev/vfio")).unwrap();
        fs::write(t.root().join("dev/vfio/vfio"), "").unwrap();
        fs::write(t.root().join(format!("dev/vfio/{GROUP}")), "").unwrap();
        fs::create_dir_all(t.group_dir()).unwrap();
        t.add_device(ADDR, Some("vfio-pci"), 0x020000);
        t
    }
    fn root(&self) -> &Path {
        self.dir.path()
    }
    fn paths(&self) -> VfioPaths {
        VfioPaths::under(self.root())
    }
    fn sys(&self, p: &str) -> PathBuf {
        self.root().join("sys").join(p)
    }
    fn group_dir(&self) -> PathBuf {
        self.sys(&format!("kernel/iommu_groups/{GROUP}/devices"))
    }
    fn dev_dir(&self, addr: &str) -> PathBuf {
        self.sys(&format!("bus/pci/devices/{addr}"))
    }
    /// A device in group 7 with a driver (or none) and a PCI class.
    fn add_device(&self, addr: &str, driver: Option<&str>, class: u32) {
        let d = self.dev_dir(addr);
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("class"), format!("{class:#08x}\n")).unwrap();
        symlink(
            self.sys(&format!("kernel/iommu_groups/{GROUP}")),
            d.join("iommu_group"),
        )
        .unwrap();
        symlink(&d, self.group_dir().join(addr)).unwrap();
        if let Some(drv) = driver {
            let dd = self.sys(&format!("bus/pci/drivers/{drv}"));
            fs::create_dir_all(&dd).unwrap();
            symlink(dd, d.join("driver")).unwrap();
        }
    }
    fn rm(&self, p: PathBuf) {
        fs::remove_file(p).unwrap();
    }
}

fn open(t: &Tree, addr: &str) -> Error {
    VfioBackend::open_with(addr, &t.paths(), Policy::PreferWithFallback).unwrap_err()
}

#[test]
fn fake_tree_passes_preflight() {
    let t = Tree::new();
    let p = preflight("01:00.0", &t.paths()).unwrap();
    assert_eq!(p.addr, ADDR);
    assert_eq!(p.group, GROUP);
    assert_eq!(p.group_dev, t.root().join("dev/vfio/7"));
    assert_eq!(p.sysfs_dev, t.dev_dir(ADDR));
}

#[test]
fn no_dev_vfio() {
    let t = Tree::new();
    t.rm(t.root().join("dev/vfio/vfio"));
    let e = open(&t, ADDR);
    assert!(
        matches!(&e, Error::NoVfio(p) if p.ends_with("dev/vfio/vfio")),
        "{e:?}"
    );
    assert!(e.to_string().contains("modprobe vfio-pci"), "{e}");
}

#[test]
fn no_dev_vfio_is_reported_before_a_bad_address() {
    let t = Tree::new();
    t.rm(t.root().join("dev/vfio/vfio"));
    assert!(matches!(open(&t, "nonsense"), Error::NoVfio(_)));
}

#[test]
fn malformed_address() {
    let t = Tree::new();
    for bad in ["nonsense", "0000:01:00", "0000:01:00.9", "1:0.0", ""] {
        match open(&t, bad) {
            Error::Config(m) => assert!(m.contains("DDDD:BB:DD.F"), "{m}"),
            e => panic!("{bad:?}: {e:?}"),
        }
    }
}

#[test]
fn no_such_device() {
    let t = Tree::new();
    let e = open(&t, "0000:02:00.0");
    assert!(
        matches!(&e, Error::NoPciDevice(a) if a == "0000:02:00.0"),
        "{e:?}"
    );
}

#[test]
fn no_iommu_group() {
    let t = Tree::new();
    t.rm(t.dev_dir(ADDR).join("iommu_group"));
    let e = open(&t, ADDR);
    assert!(matches!(&e, Error::NoIommu(a) if a == ADDR), "{e:?}");
    assert!(e.to_string().contains("intel_iommu=on"), "{e}");
}

#[test]
fn bound_to_another_driver() {
    let t = Tree::new();
    t.rm(t.dev_dir(ADDR).join("driver"));
    symlink(
        t.sys("bus/pci/drivers/e1000e"),
        t.dev_dir(ADDR).join("driver"),
    )
    .unwrap();
    let e = open(&t, ADDR);
    assert!(
        matches!(&e, Error::NotVfioBound { driver, .. } if driver == "e1000e"),
        "{e:?}"
    );
    let m = e.to_string();
    assert!(
        m.contains("drivers/e1000e/unbind") && m.contains("driver_override"),
        "{m}"
    );
}

#[test]
fn unbound() {
    let t = Tree::new();
    t.rm(t.dev_dir(ADDR).join("driver"));
    let e = open(&t, ADDR);
    assert!(
        matches!(&e, Error::NotVfioBound { driver, addr } if driver == "none" && addr == ADDR),
        "{e:?}"
    );
}

#[test]
fn group_not_viable() {
    let t = Tree::new();
    t.add_device("0000:01:00.1", Some("e1000e"), 0x020000);
    let e = open(&t, ADDR);
    assert!(
        matches!(&e, Error::GroupNotViable { group: GROUP, other, driver } if other == "0000:01:00.1" && driver == "e1000e"),
        "{e:?}"
    );
    assert!(e.to_string().contains("vfio-pci"), "{e}");
}

#[test]
fn harmless_group_members() {
    let t = Tree::new();
    t.add_device("0000:00:01.0", Some("pcieport"), 0x060400); // bridge: ignored
    t.add_device("0000:01:00.1", None, 0x020000); // unbound
    t.add_device("0000:01:00.2", Some("vfio-pci"), 0x020000);
    t.add_device("0000:01:00.3", Some("pci-stub"), 0x020000);
    preflight(ADDR, &t.paths()).unwrap();
}

#[test]
fn group_device_node_missing() {
    let t = Tree::new();
    t.rm(t.root().join("dev/vfio/7"));
    let e = open(&t, ADDR);
    assert!(
        matches!(&e, Error::NoVfio(p) if p.ends_with("dev/vfio/7")),
        "{e:?}"
    );
}

/// Past the preflight, the ioctls use the real /dev/vfio: on a fake tree the
/// open fails there, with a VFIO error naming the device.
#[test]
fn real_open_after_a_clean_preflight() {
    let t = Tree::new();
    let e = open(&t, ADDR);
    assert!(
        matches!(&e, Error::Vfio { addr, .. } if addr == ADDR),
        "{e:?}"
    );
    if !Path::new("/dev/vfio/vfio").exists() {
        assert!(e.to_string().contains("/dev/vfio/vfio"), "{e}");
    }
}

#[test]
fn this_machine() {
    let e = VfioBackend::open("0000:00:00.0").unwrap_err();
    if !Path::new("/dev/vfio/vfio").exists() {
        assert!(
            matches!(&e, Error::NoVfio(p) if p == Path::new("/dev/vfio/vfio")),
            "{e:?}"
        );
    }
}

/// Free 2 MiB hugepages on this machine, as the kernel counts them.
fn free_hugepages() -> u64 {
    let sysfs = "/sys/kernel/mm/hugepages/hugepages-2048kB/free_hugepages";
    if let Ok(s) = fs::read_to_string(sysfs) {
        return s.trim().parse().unwrap();
    }
    let meminfo = fs::read_to_string("/proc/meminfo").unwrap();
    meminfo
        .lines()
        .find_map(|l| l.strip_prefix("HugePages_Free:"))
        .map_or(0, |v| v.trim().parse().unwrap())
}

fn no_map(_: *mut u8, _: usize) -> toe_driver::Result<()> {
    Ok(())
}

#[test]
fn hugepages_required() {
    let mut a = HugepageAllocator::new(Policy::Require);
    match a.alloc(PAGE, no_map) {
        Ok((p, len)) => {
            assert_eq!((p as usize % PAGE, len, a.huge_chunks()), (0, PAGE, 1));
        }
        Err(e) => {
            assert_eq!(
                free_hugepages(),
                0,
                "hugepages are free but allocation failed: {e}"
            );
            assert!(matches!(e, Error::NoHugepages(_)), "{e:?}");
            assert!(e.to_string().contains("nr_hugepages"), "{e}");
            assert_eq!(a.chunks().count(), 0);
        }
    }
}

#[test]
fn hugepage_message_names_the_counters() {
    let t = Tree::new();
    let dir = t.sys("kernel/mm/hugepages/hugepages-2048kB");
    fs::create_dir_all(&dir).unwrap();
    fs::write(dir.join("free_hugepages"), "0\n").unwrap();
    fs::write(dir.join("nr_hugepages"), "0\n").unwrap();
    let a =
        HugepageAllocator::with_paths(Policy::Require, t.root().join("sys"), t.root().join("proc"));
    let e = Error::NoHugepages(a.hugepage_status());
    let m = e.to_string();
    assert!(
        m.contains("0 of 0 2 MiB hugepages free")
            && m.contains("echo 64 > /proc/sys/vm/nr_hugepages"),
        "{m}"
    );
}

#[test]
fn fallback_memory_is_zeroed_aligned_writable() {
    let mut a = HugepageAllocator::new(Policy::PreferWithFallback);
    let mut regions = Vec::new();
    for len in [1, PAGE, 3 * PAGE + 5, HUGEPAGE + 1] {
        regions.push(a.alloc(len, no_map).unwrap());
    }
    let warning = a.take_warning();
    assert_eq!(a.take_warning(), None, "the warning is given once");
    if a.huge_chunks() == a.chunks().count() {
        assert_eq!(warning, None);
    } else {
        let w = warning.expect("fallback without a warning");
        assert!(w.contains("hugepage") && w.contains("nr_hugepages"), "{w}");
    }
    for (p, len) in regions {
        assert_eq!(p as usize % PAGE, 0);
        assert_eq!(len % PAGE, 0);
        for i in (0..len).step_by(64) {
            // SAFETY: inside an allocation only this test uses.
            unsafe {
                assert_eq!(p.add(i).read_volatile(), 0, "byte {i} not zeroed");
                p.add(i).write_volatile(0x5A);
                assert_eq!(p.add(i).read_volatile(), 0x5A);
            }
        }
    }
}
