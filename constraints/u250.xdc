# Timing constraints of the TOE core on a Xilinx Alveo U250-class card
# (UltraScale+, xcu250).
#
# The core is not a standalone top level: it sits inside the vendor shell
# (QDMA or XDMA for PCIe DMA, CMAC for 100G Ethernet), which owns every pin,
# the reference clocks and their buffers.  The shell drives the core's
# `clock` port with its 250 MHz user clock (e.g. the QDMA/XDMA axi_aclk) and
# places the clock-domain crossings to the CMAC clock itself.  So there are no
# PACKAGE_PIN/IOSTANDARD lines here: pins are the shell's.
#
# For out-of-context synthesis and timing of the core alone, the one
# constraint is the clock: 250 MHz = 4.000 ns (512-bit data path -> 128 Gbit/s
# raw, enough for 100G line rate plus overhead).
create_clock -period 4.000 -name core_clk [get_ports clock]

# When the core is instantiated in the shell, drop the line above: the shell's
# clock constraint propagates to `clock` through the hierarchy.
