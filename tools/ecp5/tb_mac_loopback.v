// Loopback test of the TrellisBoard MAC (tools/ecp5/rgmii_mac.v) without
// its DDR I/O cells: core beats -> tx_narrow -> FIFO -> mac_tx (GMII) ->
// mac_rx -> FIFO -> rx_widen -> beats compared with what was sent, across
// the 48 MHz core clock and the 125 MHz MAC clock; one frame has a byte
// flipped on the wire and must arrive with tuser set.  Run by
// tools/tests/ecp5_mac_sim.rs (Verilator --binary --timing).
`timescale 1ns/1ps
module tb;
  reg cclk = 0, eclk = 0, rst = 1;
  always #10.4 cclk = ~cclk;   // 48 MHz
  always #4 eclk = ~eclk;      // 125 MHz
  reg [511:0] tdata; reg [63:0] tkeep; reg tvalid = 0, tlast = 0, tuser = 0; wire tready;
  wire [35:0] tw; wire twv, twr;
  tx_narrow nar(.clk(cclk), .rst(rst), .tdata(tdata), .tkeep(tkeep), .tvalid(tvalid), .tlast(tlast), .tuser(tuser), .tready(tready), .word(tw), .word_valid(twv), .word_ready(twr));
  wire [35:0] tq; wire tqv, tqr, tqf; wire [11:0] tql;
  async_fifo #(.W(36), .AW(11), .LAST_BIT(35)) txq(.wclk(cclk), .wrst(rst), .wdata(tw), .wvalid(twv), .wready(twr), .rclk(eclk), .rrst(rst), .rdata(tq), .rvalid(tqv), .rready(tqr), .frames_avail(tqf), .rlevel(tql));
  wire [7:0] gd; wire gen, ger, fs, ur;
  mac_tx #(.AW(11)) mtx(.clk(eclk), .rst(rst), .word(tq), .word_valid(tqv), .word_ready(tqr), .frames_avail(tqf), .level(tql), .d(gd), .en(gen), .er(ger), .frame_sent(fs), .underrun(ur));
  wire [35:0] rw; wire rwv, rwr, rs, rb;
  reg corrupt = 0; integer cnt_en = 0;
  always @(posedge eclk) cnt_en <= gen ? cnt_en + 1 : 0;
  mac_rx mrx(.clk(eclk), .rst(rst), .d(gd ^ ((corrupt && cnt_en == 20) ? 8'h01 : 8'h00)), .dv(gen), .er(ger), .word(rw), .word_valid(rwv), .word_ready(rwr), .frame_seen(rs), .frame_bad(rb));
  wire [35:0] rq; wire rqv, rqr;
  async_fifo #(.W(36), .AW(9), .LAST_BIT(35)) rxq(.wclk(eclk), .wrst(rst), .wdata(rw), .wvalid(rwv), .wready(rwr), .rclk(cclk), .rrst(rst), .rdata(rq), .rvalid(rqv), .rready(rqr), .frames_avail(), .rlevel());
  wire [511:0] od; wire [63:0] ok; wire ov, ol, ou;
  rx_widen wid(.clk(cclk), .rst(rst), .word(rq), .word_valid(rqv), .word_ready(rqr), .tdata(od), .tkeep(ok), .tvalid(ov), .tlast(ol), .tuser(ou), .tready(1'b1));
  integer i, n, beats, errors = 0, got = 0, len;
  reg [7:0] frame [0:2047];
  integer rxpos = 0;
  // check received beats
  always @(posedge cclk) if (ov) begin
    for (i = 0; i < 64; i = i + 1) if (ok[i]) begin
      if (!corrupt && od[i*8 +: 8] !== frame[rxpos]) begin errors = errors + 1; if (errors < 5) $display("byte %0d: got %h want %h", rxpos, od[i*8+:8], frame[rxpos]); end
      rxpos = rxpos + 1;
    end
    if (ol) begin
      $display("frame received: %0d bytes, tuser=%0d (sent %0d)", rxpos, ou, len);
      if (rxpos != (len < 60 ? 60 : len) || ou != corrupt) errors = errors + 1;
      got = got + 1; rxpos = 0;
    end
  end
  task send(input integer l);
    integer b, k;
    begin
      len = l;
      for (k = 0; k < l; k = k + 1) frame[k] = (k * 7 + l) & 8'hFF;
      for (k = l; k < 60; k = k + 1) frame[k] = 0;
      for (b = 0; b * 64 < l; b = b + 1) begin
        @(negedge cclk);
        tdata = 0; tkeep = 0;
        for (k = 0; k < 64 && b*64+k < l; k = k + 1) begin tdata[k*8 +: 8] = frame[b*64+k]; tkeep[k] = 1; end
        tvalid = 1; tlast = (b+1)*64 >= l;
        @(posedge cclk); while (!tready) @(posedge cclk);
        @(negedge cclk); tvalid = 0;
      end
      wait (got > 0); @(posedge cclk); got = 0;
    end
  endtask
  initial begin
    repeat (10) @(posedge cclk); rst = 0; repeat (10) @(posedge cclk);
    send(64); send(42); send(100); send(1514); send(129);
    corrupt = 1; send(200); corrupt = 0; send(65);
    $display("errors=%0d", errors);
    $finish;
  end
  initial begin #2000000; $display("TIMEOUT"); $finish; end
endmodule
