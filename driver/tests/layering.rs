//! The driver's layering, read from its sources (docs/offload_seam.md):
//! no two driver files name each other (`crate::a::..` or `super::..`
//! paths, doc links included), no two top-level modules do, and the TCP
//! core (`src/tcp`) names no device-side module.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

type Module = Vec<String>;

fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            files(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

/// `tcp/stack.rs` -> [tcp, stack]; `tcp/mod.rs` -> [tcp]; `lib.rs` -> [].
fn module_of(src: &Path, f: &Path) -> Module {
    let rel = f.strip_prefix(src).unwrap().with_extension("");
    let mut m: Module = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if matches!(m.last().map(String::as_str), Some("mod" | "lib")) {
        m.pop();
    }
    m
}

/// Every path after `prefix` in `text`: its `::`-separated identifiers
/// (a `{a, b}` group gives one path per member).
fn paths_after(text: &str, prefix: &str) -> Vec<Vec<String>> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(i) = rest.find(prefix) {
        let before = rest[..i].chars().last();
        rest = &rest[i + prefix.len()..];
        if before.is_some_and(|c| c.is_alphanumeric() || c == '_') {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for member in group[..end].split(',') {
                let id: String = member
                    .trim()
                    .chars()
                    .take_while(|c| c.is_alphanumeric() || *c == '_')
                    .collect();
                if !id.is_empty() {
                    out.push(vec![id]);
                }
            }
            continue;
        }
        let p: String = rest
            .chars()
            .take_while(|c| c.is_alphanumeric() || *c == '_' || *c == ':')
            .collect();
        out.push(
            p.split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect(),
        );
    }
    out
}

/// The longest module `path` starts with (`base` prepended), if any.
fn resolve(mods: &BTreeSet<Module>, base: &[String], path: &[String]) -> Option<Module> {
    let full: Module = base.iter().chain(path).cloned().collect();
    (base.len() + 1..=full.len())
        .rev()
        .map(|n| full[..n].to_vec())
        .find(|m| mods.contains(m))
}

fn uses() -> BTreeMap<Module, BTreeSet<Module>> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut fs = Vec::new();
    files(&src, &mut fs);
    let mods: BTreeSet<Module> = fs.iter().map(|f| module_of(&src, f)).collect();
    // Items lib.rs re-exports (`crate::Device`) count as their module.
    let lib = std::fs::read_to_string(src.join("lib.rs")).unwrap();
    let mut reexports: BTreeMap<String, Module> = BTreeMap::new();
    for line in lib.lines() {
        if let Some(rest) = line.strip_prefix("pub use ") {
            let (m, items) = rest.split_once("::").unwrap();
            for it in items.split(|c: char| !(c.is_alphanumeric() || c == '_')) {
                if !it.is_empty() {
                    reexports.insert(it.to_string(), vec![m.to_string()]);
                }
            }
        }
    }
    let mut uses = BTreeMap::new();
    for f in &fs {
        let me = module_of(&src, f);
        let text = std::fs::read_to_string(f).unwrap();
        // `super` of a file is its directory's module; a test file included
        // with `#[path]` from a sibling (socket_connect_tests.rs) belongs
        // to that sibling.
        let name = f.file_name().unwrap().to_string_lossy();
        let mut parent = me[..me.len().saturating_sub(1)].to_vec();
        for g in &fs {
            let t = std::fs::read_to_string(g).unwrap();
            if g != f && g.parent() == f.parent() && t.contains(&format!("#[path = \"{name}\"]")) {
                parent = module_of(&src, g);
            }
        }
        let mut set = BTreeSet::new();
        for p in paths_after(&text, "crate::") {
            match resolve(&mods, &[], &p) {
                Some(m) => set.insert(m),
                None => p
                    .first()
                    .and_then(|x| reexports.get(x))
                    .map(|m| set.insert(m.clone()))
                    .unwrap_or(false),
            };
        }
        for p in paths_after(&text, "super::") {
            set.insert(resolve(&mods, &parent, &p).unwrap_or(parent.clone()));
        }
        set.remove(&me);
        set.remove(&Vec::new());
        uses.insert(me, set);
    }
    uses
}

#[test]
fn no_two_driver_files_import_each_other() {
    let uses = uses();
    let mut cycles = Vec::new();
    for (a, ua) in &uses {
        for b in ua {
            if a < b && uses.get(b).is_some_and(|ub| ub.contains(a)) {
                cycles.push(format!("{} <-> {}", a.join("::"), b.join("::")));
            }
        }
    }
    assert!(
        cycles.is_empty(),
        "files that import each other: {cycles:#?}"
    );
}

/// The same one level up: `tcp`, `offload` and `net` count as one module
/// each (a file of `offload` may name `socket` through a re-export
/// without naming the file).
#[test]
fn no_two_top_level_modules_import_each_other() {
    let mut top: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (a, ua) in uses() {
        for b in ua {
            if !a.is_empty() && a[0] != b[0] {
                top.entry(a[0].clone()).or_default().insert(b[0].clone());
            }
        }
    }
    let mut cycles = Vec::new();
    for (a, ua) in &top {
        for b in ua {
            if a < b && top.get(b).is_some_and(|ub| ub.contains(a)) {
                cycles.push(format!("{a} <-> {b}"));
            }
        }
    }
    assert!(
        cycles.is_empty(),
        "modules that import each other: {cycles:#?}"
    );
}

#[test]
fn the_tcp_core_names_no_device_side_module() {
    let device_side = [
        "backend", "device", "nic", "offload", "socket", "shm", "vfio", "net",
    ];
    let mut bad = Vec::new();
    for (a, ua) in uses() {
        if a.first().map(String::as_str) != Some("tcp") {
            continue;
        }
        for b in ua {
            if device_side.contains(&b[0].as_str()) {
                bad.push(format!("{} uses {}", a.join("::"), b.join("::")));
            }
        }
    }
    assert!(bad.is_empty(), "{bad:#?}");
}
