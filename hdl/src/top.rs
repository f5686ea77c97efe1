//! Top level: the ports a vendor shell connects to.
use rust_hdl::prelude::*;

#[derive(LogicBlock, Default)]
pub struct Toe {
    pub clock: Signal<In, Clock>,
    /// Synchronous reset, active high.
    pub rst: Signal<In, Bit>,
    // MAC RX (AXI4-Stream slave)
    pub rx_tdata: Signal<In, Bits<512>>,
    pub rx_tkeep: Signal<In, Bits<64>>,
    pub rx_tvalid: Signal<In, Bit>,
    pub rx_tlast: Signal<In, Bit>,
    pub rx_tuser: Signal<In, Bit>,
    pub rx_tready: Signal<Out, Bit>,
    // MAC TX (AXI4-Stream master)
    pub tx_tdata: Signal<Out, Bits<512>>,
    pub tx_tkeep: Signal<Out, Bits<64>>,
    pub tx_tvalid: Signal<Out, Bit>,
    pub tx_tlast: Signal<Out, Bit>,
    pub tx_tuser: Signal<Out, Bit>,
    pub tx_tready: Signal<In, Bit>,
    // AXI4-Lite slave (BAR0)
    pub s_axil_awaddr: Signal<In, Bits<16>>,
    pub s_axil_awvalid: Signal<In, Bit>,
    pub s_axil_awready: Signal<Out, Bit>,
    pub s_axil_wdata: Signal<In, Bits<32>>,
    pub s_axil_wstrb: Signal<In, Bits<4>>,
    pub s_axil_wvalid: Signal<In, Bit>,
    pub s_axil_wready: Signal<Out, Bit>,
    pub s_axil_bresp: Signal<Out, Bits<2>>,
    pub s_axil_bvalid: Signal<Out, Bit>,
    pub s_axil_bready: Signal<In, Bit>,
    pub s_axil_araddr: Signal<In, Bits<16>>,
    pub s_axil_arvalid: Signal<In, Bit>,
    pub s_axil_arready: Signal<Out, Bit>,
    pub s_axil_rdata: Signal<Out, Bits<32>>,
    pub s_axil_rresp: Signal<Out, Bits<2>>,
    pub s_axil_rvalid: Signal<Out, Bit>,
    pub s_axil_rready: Signal<In, Bit>,
    // AXI4 master (DMA into host memory)
    pub m_axi_awid: Signal<Out, Bits<4>>,
    pub m_axi_awaddr: Signal<Out, Bits<64>>,
    pub m_axi_awlen: Signal<Out, Bits<8>>,
    pub m_axi_awsize: Signal<Out, Bits<3>>,
    pub m_axi_awburst: Signal<Out, Bits<2>>,
    pub m_axi_awvalid: Signal<Out, Bit>,
    pub m_axi_awready: Signal<In, Bit>,
    pub m_axi_wdata: Signal<Out, Bits<512>>,
    pub m_axi_wstrb: Signal<Out, Bits<64>>,
    pub m_axi_wlast: Signal<Out, Bit>,
    pub m_axi_wvalid: Signal<Out, Bit>,
    pub m_axi_wready: Signal<In, Bit>,
    pub m_axi_bid: Signal<In, Bits<4>>,
    pub m_axi_bresp: Signal<In, Bits<2>>,
    pub m_axi_bvalid: Signal<In, Bit>,
    pub m_axi_bready: Signal<Out, Bit>,
    pub m_axi_arid: Signal<Out, Bits<4>>,
    pub m_axi_araddr: Signal<Out, Bits<64>>,
    pub m_axi_arlen: Signal<Out, Bits<8>>,
    pub m_axi_arsize: Signal<Out, Bits<3>>,
    pub m_axi_arburst: Signal<Out, Bits<2>>,
    pub m_axi_arvalid: Signal<Out, Bit>,
    pub m_axi_arready: Signal<In, Bit>,
    pub m_axi_rid: Signal<In, Bits<4>>,
    pub m_axi_rdata: Signal<In, Bits<512>>,
    pub m_axi_rresp: Signal<In, Bits<2>>,
    pub m_axi_rlast: Signal<In, Bit>,
    pub m_axi_rvalid: Signal<In, Bit>,
    pub m_axi_rready: Signal<Out, Bit>,
}

impl Logic for Toe {
    #[hdl_gen]
    fn update(&mut self) {
        // SCAFFOLD (replaced by the real datapath): MAC loopback, idle buses.
        self.tx_tdata.next = self.rx_tdata.val();
        self.tx_tkeep.next = self.rx_tkeep.val();
        self.tx_tvalid.next = self.rx_tvalid.val();
        self.tx_tlast.next = self.rx_tlast.val();
        self.tx_tuser.next = self.rx_tuser.val();
        self.rx_tready.next = self.tx_tready.val();
        self.s_axil_awready.next = false;
        self.s_axil_wready.next = false;
        self.s_axil_bresp.next = 0.into();
        self.s_axil_bvalid.next = false;
        self.s_axil_arready.next = false;
        self.s_axil_rdata.next = 0.into();
        self.s_axil_rresp.next = 0.into();
        self.s_axil_rvalid.next = false;
        self.m_axi_awid.next = 0.into();
        self.m_axi_awaddr.next = 0.into();
        self.m_axi_awlen.next = 0.into();
        self.m_axi_awsize.next = 6.into();
        self.m_axi_awburst.next = 1.into();
        self.m_axi_awvalid.next = false;
        self.m_axi_wdata.next = 0.into();
        self.m_axi_wstrb.next = 0.into();
        self.m_axi_wlast.next = false;
        self.m_axi_wvalid.next = false;
        self.m_axi_bready.next = true;
        self.m_axi_arid.next = 0.into();
        self.m_axi_araddr.next = 0.into();
        self.m_axi_arlen.next = 0.into();
        self.m_axi_arsize.next = 6.into();
        self.m_axi_arburst.next = 1.into();
        self.m_axi_arvalid.next = false;
        self.m_axi_rready.next = true;
    }
}
