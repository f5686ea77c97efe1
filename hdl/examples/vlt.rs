//! Prints the Verilator configuration of the design: `cargo run -p toe-hdl --example vlt > toe.vlt`.
fn main() {
    print!("{}", toe_hdl::verilator_config(&toe_hdl::verilog()));
}
