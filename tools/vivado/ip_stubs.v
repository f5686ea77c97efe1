// Port lists of the vendor IP and primitives u250_top.v instantiates, as
// black boxes: what the wrapper expects of the cores build.tcl generates
// (Xilinx PG195 XDMA in AXI Bridge mode, PG059 AXI protocol converter,
// PG047 AXI data-width converter, PG203 CMAC) and of the UltraScale+
// primitives and XPM macros.  Only for the checks that run without Vivado
// (`cargo xtask vivado --check`: Yosys elaborates u250_top against these);
// Vivado uses the generated cores and its own libraries instead.
(* blackbox *) module IBUFDS_GTE4 #(parameter REFCLK_HROW_CK_SEL = 2'b00)
    (input I, input IB, input CEB, output O, output ODIV2);
endmodule
(* blackbox *) module IBUFDS (input I, input IB, output O);
endmodule
(* blackbox *) module BUFGCE_DIV #(parameter BUFGCE_DIVIDE = 1)
    (input I, input CE, input CLR, output O);
endmodule
(* blackbox *) module xpm_fifo_axis #(
    parameter CLOCKING_MODE = "common_clock", parameter FIFO_DEPTH = 2048,
    parameter TDATA_WIDTH = 32, parameter TUSER_WIDTH = 1, parameter CDC_SYNC_STAGES = 2,
    parameter FIFO_MEMORY_TYPE = "auto", parameter PACKET_FIFO = "false")
    (input s_aclk, input s_aresetn, input m_aclk,
     input s_axis_tvalid, output s_axis_tready, input [TDATA_WIDTH-1:0] s_axis_tdata,
     input [TDATA_WIDTH/8-1:0] s_axis_tkeep, input [TDATA_WIDTH/8-1:0] s_axis_tstrb,
     input s_axis_tlast, input [TUSER_WIDTH-1:0] s_axis_tuser,
     input [0:0] s_axis_tdest, input [0:0] s_axis_tid,
     output m_axis_tvalid, input m_axis_tready, output [TDATA_WIDTH-1:0] m_axis_tdata,
     output [TDATA_WIDTH/8-1:0] m_axis_tkeep, output m_axis_tlast,
     output [TUSER_WIDTH-1:0] m_axis_tuser);
endmodule
(* blackbox *) module xdma_0 (
    input sys_clk, input sys_clk_gt, input sys_rst_n,
    output [15:0] pci_exp_txp, output [15:0] pci_exp_txn,
    input [15:0] pci_exp_rxp, input [15:0] pci_exp_rxn,
    output axi_aclk, output axi_aresetn, output user_lnk_up,
    output [3:0] m_axib_awid, output [63:0] m_axib_awaddr, output [7:0] m_axib_awlen,
    output [2:0] m_axib_awsize, output [1:0] m_axib_awburst, output [2:0] m_axib_awprot,
    output m_axib_awvalid, input m_axib_awready,
    output [511:0] m_axib_wdata, output [63:0] m_axib_wstrb, output m_axib_wlast,
    output m_axib_wvalid, input m_axib_wready,
    input [3:0] m_axib_bid, input [1:0] m_axib_bresp, input m_axib_bvalid, output m_axib_bready,
    output [3:0] m_axib_arid, output [63:0] m_axib_araddr, output [7:0] m_axib_arlen,
    output [2:0] m_axib_arsize, output [1:0] m_axib_arburst, output [2:0] m_axib_arprot,
    output m_axib_arvalid, input m_axib_arready,
    input [3:0] m_axib_rid, input [511:0] m_axib_rdata, input [1:0] m_axib_rresp,
    input m_axib_rlast, input m_axib_rvalid, output m_axib_rready,
    input [3:0] s_axib_awid, input [63:0] s_axib_awaddr, input [7:0] s_axib_awlen,
    input [2:0] s_axib_awsize, input [1:0] s_axib_awburst, input [3:0] s_axib_awregion,
    input s_axib_awvalid, output s_axib_awready,
    input [511:0] s_axib_wdata, input [63:0] s_axib_wstrb, input s_axib_wlast,
    input s_axib_wvalid, output s_axib_wready,
    output [3:0] s_axib_bid, output [1:0] s_axib_bresp, output s_axib_bvalid, input s_axib_bready,
    input [3:0] s_axib_arid, input [63:0] s_axib_araddr, input [7:0] s_axib_arlen,
    input [2:0] s_axib_arsize, input [1:0] s_axib_arburst, input [3:0] s_axib_arregion,
    input s_axib_arvalid, output s_axib_arready,
    output [3:0] s_axib_rid, output [511:0] s_axib_rdata, output [1:0] s_axib_rresp,
    output s_axib_rlast, output s_axib_rvalid, input s_axib_rready);
endmodule
(* blackbox *) module axi_dwidth_converter_0 (
    input s_axi_aclk, input s_axi_aresetn,
    input [3:0] s_axi_awid, input [63:0] s_axi_awaddr, input [7:0] s_axi_awlen,
    input [2:0] s_axi_awsize, input [1:0] s_axi_awburst, input [2:0] s_axi_awprot,
    input s_axi_awvalid, output s_axi_awready,
    input [511:0] s_axi_wdata, input [63:0] s_axi_wstrb, input s_axi_wlast,
    input s_axi_wvalid, output s_axi_wready,
    output [3:0] s_axi_bid, output [1:0] s_axi_bresp, output s_axi_bvalid, input s_axi_bready,
    input [3:0] s_axi_arid, input [63:0] s_axi_araddr, input [7:0] s_axi_arlen,
    input [2:0] s_axi_arsize, input [1:0] s_axi_arburst, input [2:0] s_axi_arprot,
    input s_axi_arvalid, output s_axi_arready,
    output [3:0] s_axi_rid, output [511:0] s_axi_rdata, output [1:0] s_axi_rresp,
    output s_axi_rlast, output s_axi_rvalid, input s_axi_rready,
    output [63:0] m_axi_awaddr, output [7:0] m_axi_awlen, output [2:0] m_axi_awsize,
    output [1:0] m_axi_awburst, output [2:0] m_axi_awprot,
    output m_axi_awvalid, input m_axi_awready,
    output [31:0] m_axi_wdata, output [3:0] m_axi_wstrb, output m_axi_wlast,
    output m_axi_wvalid, input m_axi_wready,
    input [1:0] m_axi_bresp, input m_axi_bvalid, output m_axi_bready,
    output [63:0] m_axi_araddr, output [7:0] m_axi_arlen, output [2:0] m_axi_arsize,
    output [1:0] m_axi_arburst, output [2:0] m_axi_arprot,
    output m_axi_arvalid, input m_axi_arready,
    input [31:0] m_axi_rdata, input [1:0] m_axi_rresp, input m_axi_rlast,
    input m_axi_rvalid, output m_axi_rready);
endmodule
(* blackbox *) module axi_protocol_converter_0 (
    input aclk, input aresetn,
    input [31:0] s_axi_awaddr, input [7:0] s_axi_awlen, input [2:0] s_axi_awsize,
    input [1:0] s_axi_awburst, input [2:0] s_axi_awprot,
    input s_axi_awvalid, output s_axi_awready,
    input [31:0] s_axi_wdata, input [3:0] s_axi_wstrb, input s_axi_wlast,
    input s_axi_wvalid, output s_axi_wready,
    output [1:0] s_axi_bresp, output s_axi_bvalid, input s_axi_bready,
    input [31:0] s_axi_araddr, input [7:0] s_axi_arlen, input [2:0] s_axi_arsize,
    input [1:0] s_axi_arburst, input [2:0] s_axi_arprot,
    input s_axi_arvalid, output s_axi_arready,
    output [31:0] s_axi_rdata, output [1:0] s_axi_rresp, output s_axi_rlast,
    output s_axi_rvalid, input s_axi_rready,
    output [31:0] m_axi_awaddr, output m_axi_awvalid, input m_axi_awready,
    output [31:0] m_axi_wdata, output [3:0] m_axi_wstrb, output m_axi_wvalid, input m_axi_wready,
    input [1:0] m_axi_bresp, input m_axi_bvalid, output m_axi_bready,
    output [31:0] m_axi_araddr, output m_axi_arvalid, input m_axi_arready,
    input [31:0] m_axi_rdata, input [1:0] m_axi_rresp, input m_axi_rvalid, output m_axi_rready);
endmodule
(* blackbox *) module cmac_usplus_0 (
    input gt_ref_clk_p, input gt_ref_clk_n,
    input [3:0] gt_rxp_in, input [3:0] gt_rxn_in, output [3:0] gt_txp_out, output [3:0] gt_txn_out,
    input init_clk, input drp_clk, input sys_reset,
    output gt_txusrclk2, input rx_clk, output usr_tx_reset, output usr_rx_reset,
    input core_rx_reset, input core_tx_reset, input core_drp_reset,
    input gtwiz_reset_tx_datapath, input gtwiz_reset_rx_datapath,
    output rx_axis_tvalid, output [511:0] rx_axis_tdata, output rx_axis_tlast,
    output [63:0] rx_axis_tkeep, output rx_axis_tuser,
    output tx_axis_tready, input tx_axis_tvalid, input [511:0] tx_axis_tdata,
    input tx_axis_tlast, input [63:0] tx_axis_tkeep, input tx_axis_tuser,
    input ctl_rx_enable, input ctl_rx_force_resync, input ctl_rx_test_pattern,
    input ctl_rx_rsfec_enable, input ctl_rx_rsfec_enable_correction,
    input ctl_rx_rsfec_enable_indication,
    input ctl_tx_enable, input ctl_tx_send_rfi, input ctl_tx_send_lfi, input ctl_tx_send_idle,
    input ctl_tx_test_pattern, input ctl_tx_rsfec_enable,
    output stat_rx_aligned);
endmodule
