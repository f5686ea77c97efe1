//! `cargo xtask info`: what the driver finds on a device, through VFIO
//! (`--pci ADDR`) or on a running simulator (`--sim [PATH]`).
use anyhow::Result;
use std::fmt::Write;
use std::time::Duration;
use toe_contract::regs as r;
use toe_driver::device::Device;
use toe_driver::shm::ShmBackend;
use toe_driver::vfio::VfioBackend;
use toe_driver::Backend;

pub enum Target {
    Sim(std::path::PathBuf),
    Pci(String),
}

/// Opens the device and describes it; errors are the driver's, naming
/// their cause.
pub fn info(target: &Target) -> Result<String> {
    let backend: Box<dyn Backend> = match target {
        Target::Sim(p) => Box::new(ShmBackend::open(p, Duration::ZERO)?),
        Target::Pci(a) => Box::new(VfioBackend::open(a)?),
    };
    let dev = Device::open(backend)?;
    Ok(describe(&dev))
}

pub fn describe(dev: &Device) -> String {
    let i = dev.info();
    let mut s = String::new();
    let _ = writeln!(s, "device      {}", i.backend);
    let _ = writeln!(
        s,
        "id          {:#010x} ({})",
        i.device_id,
        String::from_utf8_lossy(&i.device_id.to_be_bytes())
    );
    let _ = writeln!(s, "hw version  {}.{}", i.hw_major, i.hw_minor);
    let _ = writeln!(s, "data path   {} bits", i.data_bits);
    let _ = writeln!(s, "max frame   {} bytes", i.max_frame);
    let _ = writeln!(s, "blocks");
    for b in &i.blocks {
        let _ = writeln!(
            s,
            "  {:#06x}  {:<9} type {:#010x}  version {}.{}",
            b.offset,
            b.name(),
            b.kind,
            b.version >> 16,
            b.version & 0xffff
        );
    }
    let _ = writeln!(s, "queue pairs {}", i.queue_pairs);
    let _ = writeln!(
        s,
        "  {:>2}  {:<8} {:>6} {:>6} {:>12} {:>14} {:<8} {:>6} {:>6} {:>12} {:>14}",
        "q", "tx", "size", "prod", "packets", "bytes", "rx", "size", "prod", "packets", "bytes"
    );
    for q in 0..i.queue_pairs {
        let c = dev.queue_counters(q);
        let ring = |base: u32| {
            let ctrl = dev.read32(base + r::Q_CTRL);
            let on = if ctrl & r::Q_CTRL_ENABLE != 0 {
                "enabled"
            } else {
                "off"
            };
            let size = if ctrl & r::Q_CTRL_ENABLE != 0 {
                (1u32 << (ctrl & 0xf)).to_string()
            } else {
                "-".into()
            };
            (on, size, dev.read32(base + r::Q_PROD) & 0xffff)
        };
        let (ton, tsize, tprod) = ring(r::txq(q, 0));
        let (ron, rsize, rprod) = ring(r::rxq(q, 0));
        let _ = writeln!(
            s,
            "  {:>2}  {:<8} {:>6} {:>6} {:>12} {:>14} {:<8} {:>6} {:>6} {:>12} {:>14}",
            q,
            ton,
            tsize,
            tprod,
            c.tx_packets,
            c.tx_bytes,
            ron,
            rsize,
            rprod,
            c.rx_packets,
            c.rx_bytes
        );
    }
    let _ = writeln!(s, "counters ({})", i.counters);
    for (name, v) in dev.counters() {
        let _ = writeln!(s, "  {name:<26} {v}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_devices_are_clear_errors() {
        let e = info(&Target::Sim("/dev/shm/toe-no-such-sim".into()))
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no simulator serves this file") && e.contains("cargo xtask sim"),
            "{e}"
        );
        if !std::path::Path::new("/dev/vfio/vfio").exists() {
            let e = info(&Target::Pci("0000:00:1f.0".into()))
                .unwrap_err()
                .to_string();
            assert!(e.contains("VFIO is not available"), "{e}");
        }
    }
}
