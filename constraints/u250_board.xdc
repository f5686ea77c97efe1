# Board constraints of the TOE SmartNIC shell on a Xilinx Alveo U250
# (xcu250-figd2104-2L-e), top module u250_top (tools/vivado/u250_top.v),
# for the non-project flow tools/vivado/build.tcl.
#
# Pin locations are the U250's (PCIe edge connector on GTY quads 224..227,
# QSFP28 cage 0 on quad 231, its SI5335 reference on MGTREFCLK1 of 231).
# The IP cores bring their own constraints (GT placement of the XDMA and
# the CMAC as configured in build.tcl, the generated clocks axi_aclk and
# gt_txusrclk2); the XPM FIFOs bring the constraints of their clock-domain
# crossings, which is why no set_clock_groups appears here (it would
# override their max-delay constraints).

# -------------------------------------------------------------- device
set_property CFGBVS GND [current_design]
set_property CONFIG_VOLTAGE 1.8 [current_design]
set_property BITSTREAM.GENERAL.COMPRESS TRUE [current_design]
set_property BITSTREAM.CONFIG.SPI_BUSWIDTH 4 [current_design]
set_property BITSTREAM.CONFIG.CONFIGFALLBACK ENABLE [current_design]

# -------------------------------------------------------------- PCIe
# 100 MHz reference from the host (MGTREFCLK0 of quad 226).
set_property PACKAGE_PIN AM11 [get_ports pcie_refclk_p]
set_property PACKAGE_PIN AM10 [get_ports pcie_refclk_n]
create_clock -period 10.000 -name pcie_refclk [get_ports pcie_refclk_p]
# PERST# (bank 64, 1.2 V): asynchronous to everything.
set_property -dict {PACKAGE_PIN BD21 IOSTANDARD LVCMOS12 PULLUP true} [get_ports pcie_perst_n]
set_false_path -from [get_ports pcie_perst_n]
# Lanes 0..15: GTYE4 quads 227 (lanes 0..3) down to 224 (lanes 12..15).
set_property PACKAGE_PIN AF2 [get_ports {pcie_rx_p[0]}]
set_property PACKAGE_PIN AF7 [get_ports {pcie_tx_p[0]}]
set_property PACKAGE_PIN AG4 [get_ports {pcie_rx_p[1]}]
set_property PACKAGE_PIN AG9 [get_ports {pcie_tx_p[1]}]
set_property PACKAGE_PIN AH2 [get_ports {pcie_rx_p[2]}]
set_property PACKAGE_PIN AH7 [get_ports {pcie_tx_p[2]}]
set_property PACKAGE_PIN AJ4 [get_ports {pcie_rx_p[3]}]
set_property PACKAGE_PIN AJ9 [get_ports {pcie_tx_p[3]}]
set_property PACKAGE_PIN AK2 [get_ports {pcie_rx_p[4]}]
set_property PACKAGE_PIN AK7 [get_ports {pcie_tx_p[4]}]
set_property PACKAGE_PIN AL4 [get_ports {pcie_rx_p[5]}]
set_property PACKAGE_PIN AL9 [get_ports {pcie_tx_p[5]}]
set_property PACKAGE_PIN AM2 [get_ports {pcie_rx_p[6]}]
set_property PACKAGE_PIN AM7 [get_ports {pcie_tx_p[6]}]
set_property PACKAGE_PIN AN4 [get_ports {pcie_rx_p[7]}]
set_property PACKAGE_PIN AN9 [get_ports {pcie_tx_p[7]}]
set_property PACKAGE_PIN AP2 [get_ports {pcie_rx_p[8]}]
set_property PACKAGE_PIN AP7 [get_ports {pcie_tx_p[8]}]
set_property PACKAGE_PIN AR4 [get_ports {pcie_rx_p[9]}]
set_property PACKAGE_PIN AR9 [get_ports {pcie_tx_p[9]}]
set_property PACKAGE_PIN AT2 [get_ports {pcie_rx_p[10]}]
set_property PACKAGE_PIN AT7 [get_ports {pcie_tx_p[10]}]
set_property PACKAGE_PIN AU4 [get_ports {pcie_rx_p[11]}]
set_property PACKAGE_PIN AU9 [get_ports {pcie_tx_p[11]}]
set_property PACKAGE_PIN AV2 [get_ports {pcie_rx_p[12]}]
set_property PACKAGE_PIN AV7 [get_ports {pcie_tx_p[12]}]
set_property PACKAGE_PIN AW4 [get_ports {pcie_rx_p[13]}]
set_property PACKAGE_PIN BB5 [get_ports {pcie_tx_p[13]}]
set_property PACKAGE_PIN BA2 [get_ports {pcie_rx_p[14]}]
set_property PACKAGE_PIN BD5 [get_ports {pcie_tx_p[14]}]
set_property PACKAGE_PIN BC2 [get_ports {pcie_rx_p[15]}]
set_property PACKAGE_PIN BF5 [get_ports {pcie_tx_p[15]}]

# -------------------------------------------------------------- QSFP28 0
# 161.1328125 MHz from the SI5335 (MGTREFCLK1 of quad 231).
set_property PACKAGE_PIN K11 [get_ports qsfp0_refclk_p]
set_property PACKAGE_PIN K10 [get_ports qsfp0_refclk_n]
create_clock -period 6.206 -name qsfp0_refclk [get_ports qsfp0_refclk_p]
# Lanes 0..3 on GTYE4_CHANNEL_X1Y44..X1Y47 (quad 231).
set_property PACKAGE_PIN N4 [get_ports {qsfp0_rx_p[0]}]
set_property PACKAGE_PIN M2 [get_ports {qsfp0_rx_p[1]}]
set_property PACKAGE_PIN L4 [get_ports {qsfp0_rx_p[2]}]
set_property PACKAGE_PIN K2 [get_ports {qsfp0_rx_p[3]}]
set_property PACKAGE_PIN N9 [get_ports {qsfp0_tx_p[0]}]
set_property PACKAGE_PIN M7 [get_ports {qsfp0_tx_p[1]}]
set_property PACKAGE_PIN L9 [get_ports {qsfp0_tx_p[2]}]
set_property PACKAGE_PIN K7 [get_ports {qsfp0_tx_p[3]}]
# Module and reference-clock control (bank 64 and 65, 1.2 V): static.
set_property -dict {PACKAGE_PIN BE16 IOSTANDARD LVCMOS12} [get_ports qsfp0_modsell]
set_property -dict {PACKAGE_PIN BE17 IOSTANDARD LVCMOS12} [get_ports qsfp0_resetl]
set_property -dict {PACKAGE_PIN BE20 IOSTANDARD LVCMOS12} [get_ports qsfp0_modprsl]
set_property -dict {PACKAGE_PIN BE21 IOSTANDARD LVCMOS12} [get_ports qsfp0_intl]
set_property -dict {PACKAGE_PIN BD18 IOSTANDARD LVCMOS12} [get_ports qsfp0_lpmode]
set_property -dict {PACKAGE_PIN AT22 IOSTANDARD LVCMOS12} [get_ports qsfp0_refclk_reset]
set_property -dict {PACKAGE_PIN AT20 IOSTANDARD LVCMOS12} [get_ports {qsfp0_fs[0]}]
set_property -dict {PACKAGE_PIN AU22 IOSTANDARD LVCMOS12} [get_ports {qsfp0_fs[1]}]
set_false_path -to [get_ports {qsfp0_modsell qsfp0_resetl qsfp0_lpmode qsfp0_refclk_reset qsfp0_fs[*]}]
set_false_path -from [get_ports {qsfp0_modprsl qsfp0_intl}]

# -------------------------------------------------------------- board clock, LEDs
# 300 MHz (bank 42 LVDS): the CMAC's free-running init/DRP clock, divided by 3.
set_property -dict {PACKAGE_PIN AY37 IOSTANDARD LVDS} [get_ports clk_300_p]
set_property -dict {PACKAGE_PIN AY38 IOSTANDARD LVDS} [get_ports clk_300_n]
create_clock -period 3.333 -name clk_300 [get_ports clk_300_p]
set_property -dict {PACKAGE_PIN BC21 IOSTANDARD LVCMOS12 SLEW SLOW DRIVE 8} [get_ports {led[0]}]
set_property -dict {PACKAGE_PIN BB21 IOSTANDARD LVCMOS12 SLEW SLOW DRIVE 8} [get_ports {led[1]}]
set_property -dict {PACKAGE_PIN BA20 IOSTANDARD LVCMOS12 SLEW SLOW DRIVE 8} [get_ports {led[2]}]
set_false_path -to [get_ports {led[*]}]

# -------------------------------------------------------------- the core
# The core runs on the bridge's axi_aclk (250 MHz, 4.000 ns, from the XDMA
# core's own constraints); its reset comes from a register on that clock,
# so it needs nothing here.  The LED outputs (link up, MAC aligned,
# heartbeat) are false paths above.
