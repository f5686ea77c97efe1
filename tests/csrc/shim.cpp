// Small C ABI over the Verilated model of top module `toe`.  Ports are
// addressed by number (see src/dut.rs, same order); wide ports are read and
// written as 32-bit words.
#include "Vtoe.h"
#include "verilated.h"
#include "verilated_fst_c.h"
#include <cstdint>

struct Sim {
    VerilatedContext ctx;
    Vtoe* m;
    VerilatedFstC* tr = nullptr;
    uint64_t t = 0;
};

template <typename W> static void setw(W& w, const uint32_t* v, int n) { for (int i = 0; i < n; i++) w[i] = v[i]; }
template <typename W> static void getw(const W& w, uint32_t* v, int n) { for (int i = 0; i < n; i++) v[i] = w[i]; }

extern "C" {
Sim* toe_new() { Sim* s = new Sim; s->m = new Vtoe(&s->ctx); return s; }
void toe_free(Sim* s) { if (s->tr) { s->tr->close(); delete s->tr; } s->m->final(); delete s->m; delete s; }
void toe_trace(Sim* s, const char* path) {
    s->ctx.traceEverOn(true);
    s->tr = new VerilatedFstC;
    s->m->trace(s->tr, 99);
    s->tr->open(path);
}
void toe_eval(Sim* s) { s->m->eval(); if (s->tr) s->tr->dump(s->t); s->t++; }

// Inputs
void toe_set(Sim* s, int port, const uint32_t* v) {
    Vtoe* m = s->m;
    switch (port) {
    case 0: m->clock = v[0]; break;
    case 1: m->rst = v[0]; break;
    case 2: setw(m->rx_tdata, v, 16); break;
    case 3: m->rx_tkeep = (uint64_t)v[0] | ((uint64_t)v[1] << 32); break;
    case 4: m->rx_tvalid = v[0]; break;
    case 5: m->rx_tlast = v[0]; break;
    case 6: m->rx_tuser = v[0]; break;
    case 7: m->tx_tready = v[0]; break;
    case 8: m->s_axil_awaddr = v[0]; break;
    case 9: m->s_axil_awvalid = v[0]; break;
    case 10: m->s_axil_wdata = v[0]; break;
    case 11: m->s_axil_wstrb = v[0]; break;
    case 12: m->s_axil_wvalid = v[0]; break;
    case 13: m->s_axil_bready = v[0]; break;
    case 14: m->s_axil_araddr = v[0]; break;
    case 15: m->s_axil_arvalid = v[0]; break;
    case 16: m->s_axil_rready = v[0]; break;
    case 17: m->m_axi_awready = v[0]; break;
    case 18: m->m_axi_wready = v[0]; break;
    case 19: m->m_axi_bid = v[0]; break;
    case 20: m->m_axi_bresp = v[0]; break;
    case 21: m->m_axi_bvalid = v[0]; break;
    case 22: m->m_axi_arready = v[0]; break;
    case 23: m->m_axi_rid = v[0]; break;
    case 24: setw(m->m_axi_rdata, v, 16); break;
    case 25: m->m_axi_rresp = v[0]; break;
    case 26: m->m_axi_rlast = v[0]; break;
    case 27: m->m_axi_rvalid = v[0]; break;
    }
}

// Outputs
void toe_get(Sim* s, int port, uint32_t* v) {
    Vtoe* m = s->m;
    switch (port) {
    case 100: v[0] = m->rx_tready; break;
    case 101: getw(m->tx_tdata, v, 16); break;
    case 102: v[0] = (uint32_t)m->tx_tkeep; v[1] = (uint32_t)(m->tx_tkeep >> 32); break;
    case 103: v[0] = m->tx_tvalid; break;
    case 104: v[0] = m->tx_tlast; break;
    case 105: v[0] = m->tx_tuser; break;
    case 106: v[0] = m->s_axil_awready; break;
    case 107: v[0] = m->s_axil_wready; break;
    case 108: v[0] = m->s_axil_bresp; break;
    case 109: v[0] = m->s_axil_bvalid; break;
    case 110: v[0] = m->s_axil_arready; break;
    case 111: v[0] = m->s_axil_rdata; break;
    case 112: v[0] = m->s_axil_rresp; break;
    case 113: v[0] = m->s_axil_rvalid; break;
    case 114: v[0] = m->m_axi_awid; break;
    case 115: v[0] = (uint32_t)m->m_axi_awaddr; v[1] = (uint32_t)(m->m_axi_awaddr >> 32); break;
    case 116: v[0] = m->m_axi_awlen; break;
    case 117: v[0] = m->m_axi_awsize; break;
    case 118: v[0] = m->m_axi_awburst; break;
    case 119: v[0] = m->m_axi_awvalid; break;
    case 120: getw(m->m_axi_wdata, v, 16); break;
    case 121: v[0] = (uint32_t)m->m_axi_wstrb; v[1] = (uint32_t)(m->m_axi_wstrb >> 32); break;
    case 122: v[0] = m->m_axi_wlast; break;
    case 123: v[0] = m->m_axi_wvalid; break;
    case 124: v[0] = m->m_axi_bready; break;
    case 125: v[0] = m->m_axi_arid; break;
    case 126: v[0] = (uint32_t)m->m_axi_araddr; v[1] = (uint32_t)(m->m_axi_araddr >> 32); break;
    case 127: v[0] = m->m_axi_arlen; break;
    case 128: v[0] = m->m_axi_arsize; break;
    case 129: v[0] = m->m_axi_arburst; break;
    case 130: v[0] = m->m_axi_arvalid; break;
    case 131: v[0] = m->m_axi_rready; break;
    }
}
}
