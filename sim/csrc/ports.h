// Port list of top module `toe` and of its simulation wrapper `toe_sim_top`
// (sim/vsrc/toe_sim_top.v, same ports), as X-macros.  This is the single
// place the C side names the ports; sim/src/dut.rs mirrors the two structs
// field by field (same order, all fields uint32_t, so there is no padding).
//
//   P1(name)   port of <= 32 bits      -> one uint32_t
//   P64(name)  port of 33..64 bits     -> uint32_t[2], little-endian words
//   PW(name)   port of 512 bits        -> uint32_t[16], word i = bits 32i+31:32i
//
// Byte i of a 512-bit data port (bits 8i+7:8i) is therefore byte i of the
// little-endian word array.

#define TOE_INPUTS(P1, P64, PW) \
    P1(clock)                   \
    P1(rst)                     \
    PW(rx_tdata)                \
    P64(rx_tkeep)               \
    P1(rx_tvalid)               \
    P1(rx_tlast)                \
    P1(rx_tuser)                \
    P1(tx_tready)               \
    P1(s_axil_awaddr)           \
    P1(s_axil_awvalid)          \
    P1(s_axil_wdata)            \
    P1(s_axil_wstrb)            \
    P1(s_axil_wvalid)           \
    P1(s_axil_bready)           \
    P1(s_axil_araddr)           \
    P1(s_axil_arvalid)          \
    P1(s_axil_rready)           \
    P1(m_axi_awready)           \
    P1(m_axi_wready)            \
    P1(m_axi_bid)               \
    P1(m_axi_bresp)             \
    P1(m_axi_bvalid)            \
    P1(m_axi_arready)           \
    P1(m_axi_rid)               \
    PW(m_axi_rdata)             \
    P1(m_axi_rresp)             \
    P1(m_axi_rlast)             \
    P1(m_axi_rvalid)

#define TOE_OUTPUTS(P1, P64, PW) \
    P1(rx_tready)                \
    PW(tx_tdata)                 \
    P64(tx_tkeep)                \
    P1(tx_tvalid)                \
    P1(tx_tlast)                 \
    P1(tx_tuser)                 \
    P1(s_axil_awready)           \
    P1(s_axil_wready)            \
    P1(s_axil_bresp)             \
    P1(s_axil_bvalid)            \
    P1(s_axil_arready)           \
    P1(s_axil_rdata)             \
    P1(s_axil_rresp)             \
    P1(s_axil_rvalid)            \
    P1(m_axi_awid)               \
    P64(m_axi_awaddr)            \
    P1(m_axi_awlen)              \
    P1(m_axi_awsize)             \
    P1(m_axi_awburst)            \
    P1(m_axi_awvalid)            \
    PW(m_axi_wdata)              \
    P64(m_axi_wstrb)             \
    P1(m_axi_wlast)              \
    P1(m_axi_wvalid)             \
    P1(m_axi_bready)             \
    P1(m_axi_arid)               \
    P64(m_axi_araddr)            \
    P1(m_axi_arlen)              \
    P1(m_axi_arsize)             \
    P1(m_axi_arburst)            \
    P1(m_axi_arvalid)            \
    P1(m_axi_rready)
