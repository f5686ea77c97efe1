// Board-level top of the TOE core for the TrellisBoard (David Shah's
// open-hardware ECP5 board: LFE5UM5G-85F-8BG756C, Microchip KSZ9031RNX
// gigabit PHY over RGMII, FT2232H USB UART/JTAG, PCIe x2 edge), built by
// `cargo xtask ecp5` with constraints/trellisboard.lpf.
//
// What is around the core (module `toe`, 512-bit MAC streams, AXI4-Lite
// registers, AXI4 DMA master):
//   * MAC side: rgmii_mac.v, a 1000 Mb/s RGMII MAC for the board's PHY with
//     32 <-> 512-bit width conversion and FIFOs between the PHY's 125 MHz
//     RX_CLK and the core clock;
//   * host side: the board has no PCIe controller this project can use (the
//     ECP5 has SERDES but no PCIe hard block), so the core's DMA master
//     serves an on-chip 128 KiB host memory (host_mem.v) and a PC reaches
//     the registers and that memory over the FT2232H's UART at 1 Mbaud
//     (uart_host.v, its command set at the top of that file);
//   * clocks and resets: the core clock from the board's 12 MHz oscillator
//     through the PLL (CORE_MHZ below); the PHY held in reset for 21 ms
//     after configuration; the core reset until the PLL locks;
//   * LEDs 0..3: heartbeat, frame received, frame sent, bad frame or TX
//     underrun.
// The PHY is used at its strap defaults (no MDIO transactions: MDC is held
// low), so the link must come up at 1000 Mb/s.
module trellisboard_top (
    input  wire       clk12,
    output wire [3:0] led,
    input  wire       uart_rx,
    output wire       uart_tx,
    output wire       eth_rst_n,
    output wire       eth_mdc,
    input  wire       eth_rx_clk,
    input  wire       eth_rx_ctl,
    input  wire [3:0] eth_rxd,
    output wire       eth_tx_clk,
    output wire       eth_tx_ctl,
    output wire [3:0] eth_txd
);
    // Core clock: 12 MHz x 4 / 1 = 48 MHz (VCO 576 MHz, CLKOP_DIV 12), as
    // `ecppll -i 12 -o 48` computes it.  To change it, take ecppll's
    // dividers for the new frequency, and set UART_DIV and the LPF's
    // FREQUENCY for the core clock to match.
    localparam CORE_MHZ = 48;
    localparam UART_DIV = CORE_MHZ;  // 1 Mbaud
    wire clk, locked;
    (* FREQUENCY_PIN_CLKI = "12" *)
    (* FREQUENCY_PIN_CLKOP = "48" *)
    (* ICP_CURRENT = "12" *) (* LPF_RESISTOR = "8" *) (* MFG_ENABLE_FILTEROPAMP = "1" *)
    (* MFG_GMCREF_SEL = "2" *)
    EHXPLLL #(
        .PLLRST_ENA("DISABLED"), .INTFB_WAKE("DISABLED"), .STDBY_ENABLE("DISABLED"),
        .DPHASE_SOURCE("DISABLED"), .OUTDIVIDER_MUXA("DIVA"), .OUTDIVIDER_MUXB("DIVB"),
        .OUTDIVIDER_MUXC("DIVC"), .OUTDIVIDER_MUXD("DIVD"),
        .CLKI_DIV(1), .CLKOP_ENABLE("ENABLED"), .CLKOP_DIV(12), .CLKOP_CPHASE(5),
        .CLKOP_FPHASE(0), .FEEDBK_PATH("CLKOP"), .CLKFB_DIV(4)
    ) pll (
        .RST(1'b0), .STDBY(1'b0), .CLKI(clk12), .CLKOP(clk), .CLKFB(clk), .CLKINTFB(),
        .PHASESEL0(1'b0), .PHASESEL1(1'b0), .PHASEDIR(1'b1), .PHASESTEP(1'b1),
        .PHASELOADREG(1'b1), .PLLWAKESYNC(1'b0), .ENCLKOP(1'b0), .LOCK(locked)
    );

    // Resets: the core's until 2**16 cycles after the PLL locks; the PHY's
    // for 2**20 cycles (21.8 ms at 48 MHz; the KSZ9031 needs 10 ms).
    wire lock_rst;
    reset_sync lrs (.clk(clk), .arst(!locked), .rst_out(lock_rst));
    reg [15:0] rst_cnt = 0;
    reg rst = 1'b1;
    reg [19:0] phy_cnt = 0;
    reg phy_rst_n = 1'b0;
    always @(posedge clk)
        if (lock_rst) begin
            rst_cnt <= 0;
            rst <= 1'b1;
        end else if (rst_cnt != 16'hFFFF)
            rst_cnt <= rst_cnt + 1'b1;
        else
            rst <= 1'b0;
    always @(posedge clk)
        if (phy_cnt != 20'hFFFFF)
            phy_cnt <= phy_cnt + 1'b1;
        else
            phy_rst_n <= 1'b1;
    assign eth_rst_n = phy_rst_n;
    assign eth_mdc = 1'b0;

    // The core.
    wire [511:0] rx_tdata, tx_tdata;
    wire [63:0]  rx_tkeep, tx_tkeep;
    wire rx_tvalid, rx_tlast, rx_tuser, rx_tready;
    wire tx_tvalid, tx_tlast, tx_tuser, tx_tready;
    wire [15:0] s_awaddr, s_araddr;
    wire [31:0] s_wdata, s_rdata;
    wire [3:0]  s_wstrb;
    wire [1:0]  s_bresp, s_rresp;
    wire s_awvalid, s_awready, s_wvalid, s_wready, s_bvalid, s_bready;
    wire s_arvalid, s_arready, s_rvalid, s_rready;
    wire [3:0]  m_awid, m_bid, m_arid, m_rid;
    wire [63:0] m_awaddr, m_araddr;
    wire [7:0]  m_awlen, m_arlen;
    wire [2:0]  m_awsize, m_arsize;
    wire [1:0]  m_awburst, m_arburst, m_bresp, m_rresp;
    wire [511:0] m_wdata, m_rdata;
    wire [63:0] m_wstrb;
    wire m_awvalid, m_awready, m_wlast, m_wvalid, m_wready, m_bvalid, m_bready;
    wire m_arvalid, m_arready, m_rlast, m_rvalid, m_rready;
    toe core (
        .clock(clk), .rst(rst),
        .rx_tdata(rx_tdata), .rx_tkeep(rx_tkeep), .rx_tvalid(rx_tvalid), .rx_tlast(rx_tlast),
        .rx_tuser(rx_tuser), .rx_tready(rx_tready),
        .tx_tdata(tx_tdata), .tx_tkeep(tx_tkeep), .tx_tvalid(tx_tvalid), .tx_tlast(tx_tlast),
        .tx_tuser(tx_tuser), .tx_tready(tx_tready),
        .s_axil_awaddr(s_awaddr), .s_axil_awvalid(s_awvalid), .s_axil_awready(s_awready),
        .s_axil_wdata(s_wdata), .s_axil_wstrb(s_wstrb), .s_axil_wvalid(s_wvalid),
        .s_axil_wready(s_wready), .s_axil_bresp(s_bresp), .s_axil_bvalid(s_bvalid),
        .s_axil_bready(s_bready), .s_axil_araddr(s_araddr), .s_axil_arvalid(s_arvalid),
        .s_axil_arready(s_arready), .s_axil_rdata(s_rdata), .s_axil_rresp(s_rresp),
        .s_axil_rvalid(s_rvalid), .s_axil_rready(s_rready),
        .m_axi_awid(m_awid), .m_axi_awaddr(m_awaddr), .m_axi_awlen(m_awlen),
        .m_axi_awsize(m_awsize), .m_axi_awburst(m_awburst), .m_axi_awvalid(m_awvalid),
        .m_axi_awready(m_awready), .m_axi_wdata(m_wdata), .m_axi_wstrb(m_wstrb),
        .m_axi_wlast(m_wlast), .m_axi_wvalid(m_wvalid), .m_axi_wready(m_wready),
        .m_axi_bid(m_bid), .m_axi_bresp(m_bresp), .m_axi_bvalid(m_bvalid),
        .m_axi_bready(m_bready), .m_axi_arid(m_arid), .m_axi_araddr(m_araddr),
        .m_axi_arlen(m_arlen), .m_axi_arsize(m_arsize), .m_axi_arburst(m_arburst),
        .m_axi_arvalid(m_arvalid), .m_axi_arready(m_arready), .m_axi_rid(m_rid),
        .m_axi_rdata(m_rdata), .m_axi_rresp(m_rresp), .m_axi_rlast(m_rlast),
        .m_axi_rvalid(m_rvalid), .m_axi_rready(m_rready)
    );

    // MAC side.
    wire rx_frame, rx_bad, tx_frame, tx_underrun;
    rgmii_mac mac (
        .core_clk(clk), .core_rst(rst),
        .rgmii_rx_clk(eth_rx_clk), .rgmii_rxd(eth_rxd), .rgmii_rx_ctl(eth_rx_ctl),
        .rgmii_tx_clk(eth_tx_clk), .rgmii_txd(eth_txd), .rgmii_tx_ctl(eth_tx_ctl),
        .rx_tdata(rx_tdata), .rx_tkeep(rx_tkeep), .rx_tvalid(rx_tvalid), .rx_tlast(rx_tlast),
        .rx_tuser(rx_tuser), .rx_tready(rx_tready),
        .tx_tdata(tx_tdata), .tx_tkeep(tx_tkeep), .tx_tvalid(tx_tvalid), .tx_tlast(tx_tlast),
        .tx_tuser(tx_tuser), .tx_tready(tx_tready),
        .rx_frame(rx_frame), .rx_bad(rx_bad), .tx_frame(tx_frame), .tx_underrun(tx_underrun)
    );

    // Host side: memory for the DMA master, UART bridge for a PC.
    wire mem_req, mem_we, mem_ack, host_busy;
    wire [31:0] mem_addr, mem_wdata, mem_rdata;
    host_mem hm (
        .clk(clk), .rst(rst),
        .awid(m_awid), .awaddr(m_awaddr), .awlen(m_awlen), .awvalid(m_awvalid),
        .awready(m_awready), .wdata(m_wdata), .wstrb(m_wstrb), .wlast(m_wlast),
        .wvalid(m_wvalid), .wready(m_wready), .bid(m_bid), .bresp(m_bresp),
        .bvalid(m_bvalid), .bready(m_bready), .arid(m_arid), .araddr(m_araddr),
        .arlen(m_arlen), .arvalid(m_arvalid), .arready(m_arready), .rid(m_rid),
        .rdata(m_rdata), .rresp(m_rresp), .rlast(m_rlast), .rvalid(m_rvalid),
        .rready(m_rready),
        .side_req(mem_req), .side_we(mem_we), .side_addr(mem_addr), .side_wdata(mem_wdata),
        .side_ack(mem_ack), .side_rdata(mem_rdata)
    );
    uart_host #(.DIV(UART_DIV)) host (
        .clk(clk), .rst(rst), .rx(uart_rx), .tx(uart_tx),
        .awaddr(s_awaddr), .awvalid(s_awvalid), .awready(s_awready),
        .wdata(s_wdata), .wstrb(s_wstrb), .wvalid(s_wvalid), .wready(s_wready),
        .bresp(s_bresp), .bvalid(s_bvalid), .bready(s_bready),
        .araddr(s_araddr), .arvalid(s_arvalid), .arready(s_arready),
        .rdata(s_rdata), .rresp(s_rresp), .rvalid(s_rvalid), .rready(s_rready),
        .mem_req(mem_req), .mem_we(mem_we), .mem_addr(mem_addr), .mem_wdata(mem_wdata),
        .mem_ack(mem_ack), .mem_rdata(mem_rdata), .busy(host_busy)
    );

    // LEDs: a 1.4 Hz heartbeat of the core clock; MAC events stretched to
    // about 67 ms in the RX_CLK domain.
    reg [24:0] beat = 0;
    always @(posedge clk) beat <= beat + 1'b1;
    reg [22:0] rx_led = 0, tx_led = 0, bad_led = 0;
    always @(posedge eth_rx_clk) begin
        rx_led <= rx_frame ? 23'h7FFFFF : rx_led - (rx_led != 0);
        tx_led <= tx_frame ? 23'h7FFFFF : tx_led - (tx_led != 0);
        bad_led <= (rx_bad || tx_underrun) ? 23'h7FFFFF : bad_led - (bad_led != 0);
    end
    assign led = {bad_led != 0, tx_led != 0, rx_led != 0, beat[24]};
endmodule
