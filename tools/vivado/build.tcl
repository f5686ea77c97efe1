# Non-project Vivado flow of the TOE SmartNIC for an Alveo U250:
# IP generation, synthesis, implementation, bitstream, reports.
#
#   cargo xtask vivado OUT          # writes OUT/toe.v (Tcl-safe names) and prints:
#   vivado -mode batch -source tools/vivado/build.tcl -tclargs OUT
#
# Inputs: OUT/toe.v (the generated core, top module `toe`),
# tools/vivado/u250_top.v (the shell: XDMA bridge, CMAC, CDC FIFOs),
# constraints/u250_board.xdc.  Outputs in OUT: post_synth.dcp, post_route.dcp,
# timing_summary.rpt, timing_paths.rpt, utilization.rpt (hierarchical),
# utilization_synth.rpt, clock_interaction.rpt, cdc.rpt, toe_u250.bit.
# The run fails when timing is not met (worst setup or hold slack < 0).
# Tested here only for its Tcl syntax and flow (`cargo xtask vivado
# --check`): this project's machines have no Vivado.

set part xcu250-figd2104-2L-e
set here [file dirname [file normalize [info script]]]
set root [file normalize [file join $here .. ..]]
if {[llength $argv] > 0} {
    set out [file normalize [lindex $argv 0]]
} else {
    set out [file normalize build/vivado]
}
file mkdir $out
set ipdir [file join $out ip]
file mkdir $ipdir
if {![file exists [file join $out toe.v]]} {
    error "[file join $out toe.v] missing: run `cargo xtask vivado $out` first"
}

set_part $part
set_property TARGET_LANGUAGE Verilog [current_project]

# ---------------------------------------------------------------- IP
# PCIe Gen3 x16, AXI Bridge mode: BAR0 (64 KiB) to the m_axib master, the
# s_axib slave to host memory, 512-bit AXI at 250 MHz.
create_ip -name xdma -vendor xilinx.com -library ip -module_name xdma_0 -dir $ipdir
set_property -dict [list \
    CONFIG.functional_mode {AXI_Bridge} \
    CONFIG.mode_selection {Advanced} \
    CONFIG.device_port_type {PCI_Express_Endpoint_device} \
    CONFIG.pl_link_cap_max_link_width {X16} \
    CONFIG.pl_link_cap_max_link_speed {8.0_GT/s} \
    CONFIG.axi_data_width {512_bit} \
    CONFIG.axisten_freq {250} \
    CONFIG.axi_addr_width {64} \
    CONFIG.pf0_device_id {903F} \
    CONFIG.pf0_bar0_enabled {true} \
    CONFIG.pf0_bar0_size {64} \
    CONFIG.pf0_bar0_scale {Kilobytes} \
    CONFIG.pf0_bar0_64bit {true} \
    CONFIG.axibar_num {1} \
    CONFIG.axibar_0 {0x0000000000000000} \
    CONFIG.axibar_highaddr_0 {0xFFFFFFFFFFFFFFFF} \
    CONFIG.axibar2pciebar_0 {0x0000000000000000} \
    CONFIG.pciebar2axibar_0 {0x0000000000000000} \
    CONFIG.msi_rx_pin_en {false} \
] [get_ips xdma_0]

# BAR0 accesses: 512-bit AXI4 to 32-bit AXI4, then to AXI4-Lite.
create_ip -name axi_dwidth_converter -vendor xilinx.com -library ip \
    -module_name axi_dwidth_converter_0 -dir $ipdir
set_property -dict [list \
    CONFIG.PROTOCOL {AXI4} CONFIG.ADDR_WIDTH {64} CONFIG.SI_ID_WIDTH {4} \
    CONFIG.SI_DATA_WIDTH {512} CONFIG.MI_DATA_WIDTH {32} \
    CONFIG.FIFO_MODE {0} CONFIG.ACLK_ASYNC {0} \
] [get_ips axi_dwidth_converter_0]
create_ip -name axi_protocol_converter -vendor xilinx.com -library ip \
    -module_name axi_protocol_converter_0 -dir $ipdir
set_property -dict [list \
    CONFIG.SI_PROTOCOL {AXI4} CONFIG.MI_PROTOCOL {AXI4LITE} \
    CONFIG.DATA_WIDTH {32} CONFIG.ADDR_WIDTH {32} CONFIG.ID_WIDTH {0} \
    CONFIG.TRANSLATION_MODE {2} \
] [get_ips axi_protocol_converter_0]

# 100G Ethernet on QSFP28 cage 0 (GTY quad 231), CAUI-4 with RS-FEC, AXI4-Stream.
create_ip -name cmac_usplus -vendor xilinx.com -library ip -module_name cmac_usplus_0 -dir $ipdir
set_property -dict [list \
    CONFIG.CMAC_CAUI4_MODE {1} \
    CONFIG.NUM_LANES {4x25} \
    CONFIG.GT_REF_CLK_FREQ {161.1328125} \
    CONFIG.GT_DRP_CLK {100.00} \
    CONFIG.USER_INTERFACE {AXIS} \
    CONFIG.INCLUDE_RS_FEC {1} \
    CONFIG.RX_FLOW_CONTROL {0} \
    CONFIG.TX_FLOW_CONTROL {0} \
    CONFIG.GT_GROUP_SELECT {X1Y44~X1Y47} \
    CONFIG.CMAC_CORE_SELECT {CMACE4_X0Y8} \
    CONFIG.ENABLE_PIPELINE_REG {1} \
] [get_ips cmac_usplus_0]

generate_target all [get_ips]
synth_ip [get_ips]

# ---------------------------------------------------------------- sources
read_verilog [file join $out toe.v]
read_verilog [file join $here u250_top.v]
read_xdc [file join $root constraints u250_board.xdc]

# ---------------------------------------------------------------- synthesis
synth_design -top u250_top -part $part -flatten_hierarchy rebuilt
write_checkpoint -force [file join $out post_synth.dcp]
report_utilization -file [file join $out utilization_synth.rpt]

# ---------------------------------------------------------------- implementation
opt_design
place_design
phys_opt_design
route_design
phys_opt_design
write_checkpoint -force [file join $out post_route.dcp]

# ---------------------------------------------------------------- reports
report_timing_summary -max_paths 20 -report_unconstrained -file [file join $out timing_summary.rpt]
report_timing -sort_by group -max_paths 100 -path_type full -file [file join $out timing_paths.rpt]
report_utilization -hierarchical -file [file join $out utilization.rpt]
report_clock_interaction -file [file join $out clock_interaction.rpt]
report_cdc -file [file join $out cdc.rpt]

# ---------------------------------------------------------------- bitstream
write_bitstream -force [file join $out toe_u250.bit]

set wns [get_property SLACK [get_timing_paths -max_paths 1 -nworst 1 -setup]]
set whs [get_property SLACK [get_timing_paths -max_paths 1 -nworst 1 -hold]]
puts "worst setup slack $wns ns, worst hold slack $whs ns"
if {$wns eq "" || $whs eq "" || $wns < 0 || $whs < 0} {
    error "timing not met (setup $wns ns, hold $whs ns): see [file join $out timing_summary.rpt]"
}
puts "bitstream: [file join $out toe_u250.bit]"
