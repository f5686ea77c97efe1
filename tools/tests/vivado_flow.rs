//! The Vivado flow's checks that need no Vivado (see `toe_tools::vivado`):
//! Tcl-safe names, the shell elaborating with the core and the IP port
//! lists, build.tcl running the whole flow under tclsh, every XDC port
//! existing and every shell port pinned.
#[test]
fn the_vivado_flow_parses_and_its_constraints_name_real_ports() {
    let lines = toe_tools::vivado::check().unwrap_or_else(|e| panic!("{e:#}"));
    for l in &lines {
        println!("ok  {l}");
    }
    assert_eq!(lines.len(), 4);
}
