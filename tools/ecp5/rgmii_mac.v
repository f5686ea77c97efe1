// Gigabit Ethernet MAC for the TrellisBoard build (cargo xtask ecp5): the
// board's Microchip KSZ9031RNX PHY over RGMII on one side, the TOE core's
// 512-bit AXI4-Stream MAC interface (frames without FCS) on the other.
//
//   PHY --RGMII--> rgmii_rx -> mac_rx (preamble/SFD off, FCS checked and
//   removed) -> 32-bit words -> async_fifo -> rx_widen (32 -> 512) -> core
//   core -> tx_narrow (512 -> 32) -> async_fifo (store and forward) ->
//   mac_tx (preamble, SFD, padding to 60 bytes, FCS, 12-byte gap) ->
//   rgmii_tx --RGMII--> PHY
//
// 1000 Mb/s only: RX_CLK (125 MHz at gigabit) clocks both directions, as
// LiteEth's ECP5 RGMII PHY does on this board; the PHY runs at its strap
// defaults (no MDIO traffic), so a 10/100 link partner is not served.
// RGMII timing: 2 ns of input delay on RXD/RX_CTL and of output delay on
// TX_CLK from the I/O cells' delay lines (DELAYG, 80 taps of 25 ps), the
// same defaults LiteEth's ECP5 RGMII PHY uses.
//
// Word format in both FIFOs (36 bits, one DP16KD wide): [31:0] bytes, first
// byte in [7:0]; [33:32] valid bytes - 1; [34] error; [35] last.

// Ethernet CRC-32 (reflected 0xEDB88320) of one more byte.
module crc32_byte(input wire [31:0] crc, input wire [7:0] d, output reg [31:0] next);
    integer i;
    always @* begin
        next = crc ^ {24'd0, d};
        for (i = 0; i < 8; i = i + 1)
            next = next[0] ? (next >> 1) ^ 32'hEDB88320 : next >> 1;
    end
endmodule

// RGMII receive: DDR input registers after a 2 ns delay; one GMII byte per
// RX_CLK cycle.
module rgmii_rx(
    input  wire       clk,
    input  wire [3:0] rxd,
    input  wire       rx_ctl,
    output reg  [7:0] gmii_d,
    output reg        gmii_dv,
    output reg        gmii_er
);
    wire [4:0] pin = {rx_ctl, rxd};
    wire [4:0] dly, q0, q1;
    genvar i;
    generate
        for (i = 0; i < 5; i = i + 1) begin : g
            DELAYG #(.DEL_MODE("USER_DEFINED"), .DEL_VALUE(80)) d (.A(pin[i]), .Z(dly[i]));
            IDDRX1F r (.D(dly[i]), .SCLK(clk), .RST(1'b0), .Q0(q0[i]), .Q1(q1[i]));
        end
    endgenerate
    // Rising edge: data bits 3:0 and RX_DV; falling edge: bits 7:4 and
    // RX_DV xor RX_ER.
    always @(posedge clk) begin
        gmii_d  <= {q1[3:0], q0[3:0]};
        gmii_dv <= q0[4];
        gmii_er <= q0[4] ^ q1[4];
    end
endmodule

// RGMII transmit: DDR output registers; TX_CLK is a DDR "10" pattern
// delayed by 2 ns so that it is centred in the data eye.
module rgmii_tx(
    input  wire       clk,
    input  wire [7:0] gmii_d,
    input  wire       gmii_en,
    input  wire       gmii_er,
    output wire [3:0] txd,
    output wire       tx_ctl,
    output wire       tx_clk
);
    wire clk_ddr;
    genvar i;
    generate
        for (i = 0; i < 4; i = i + 1) begin : g
            ODDRX1F r (.D0(gmii_d[i]), .D1(gmii_d[i + 4]), .SCLK(clk), .RST(1'b0), .Q(txd[i]));
        end
    endgenerate
    ODDRX1F c (.D0(gmii_en), .D1(gmii_en ^ gmii_er), .SCLK(clk), .RST(1'b0), .Q(tx_ctl));
    ODDRX1F k (.D0(1'b1), .D1(1'b0), .SCLK(clk), .RST(1'b0), .Q(clk_ddr));
    DELAYG #(.DEL_MODE("USER_DEFINED"), .DEL_VALUE(80)) d (.A(clk_ddr), .Z(tx_clk));
endmodule

// GMII receive: strips preamble and SFD, checks the FCS (CRC residue), drops
// the FCS, and packs the frame into 36-bit words written straight into the
// RX FIFO.  A frame whose FCS is wrong, that carries RX_ER, or is shorter
// than 64 bytes with its FCS ends with its error bit set (the core drops it
// as a MAC error).  A frame that meets a full FIFO is lost: the rest of it
// is discarded and, when there is room, an error word closes what of it was
// written; frames that start before that are discarded too.
module mac_rx(
    input  wire        clk,
    input  wire        rst,
    input  wire [7:0]  d,
    input  wire        dv,
    input  wire        er,
    output wire [35:0] word,
    output wire        word_valid,
    input  wire        word_ready,
    output reg         frame_seen,
    output reg         frame_bad
);
    // Stage A: frame bytes, each one cycle after the byte that follows it
    // by five (so that the four FCS bytes never leave).
    localparam IDLE = 1'b0, DATA = 1'b1;
    reg        state;
    reg [31:0] crc;
    wire [31:0] crc_n;
    crc32_byte c (.crc(crc), .d(d), .next(crc_n));
    reg [39:0] hold;
    reg [2:0]  held;
    reg [13:0] count;
    reg        err;
    wire       end_bad = err || crc != 32'hDEBB20E3 || count < 14'd64;
    reg  [7:0] b;       // the byte out of stage A
    reg        bv, blast, berr, bfirst;
    always @(posedge clk) begin
        bv <= 1'b0;
        frame_seen <= 1'b0;
        frame_bad <= 1'b0;
        if (rst)
            state <= IDLE;
        else if (state == IDLE) begin
            if (dv && d == 8'hD5) begin
                state <= DATA;
                crc <= 32'hFFFFFFFF;
                held <= 3'd0;
                count <= 14'd0;
                err <= 1'b0;
            end
        end else if (dv) begin
            crc <= crc_n;
            if (count != 14'h3FFF) count <= count + 14'd1;
            if (er) err <= 1'b1;
            hold <= {hold[31:0], d};
            if (held == 3'd5) begin
                b <= hold[39:32];
                bv <= 1'b1;
                blast <= 1'b0;
                berr <= 1'b0;
                bfirst <= count == 14'd5;
            end else
                held <= held + 3'd1;
        end else begin
            // The end: with five bytes held, the oldest is the last one.
            state <= IDLE;
            frame_seen <= 1'b1;
            frame_bad <= end_bad;
            if (held == 3'd5) begin
                b <= hold[39:32];
                bv <= 1'b1;
                blast <= 1'b1;
                berr <= end_bad;
                bfirst <= count == 14'd5;
            end
        end
    end

    // Stage B: packing into words.
    reg [31:0] acc;
    reg [1:0]  nacc;
    reg        dropping, owe_close;
    wire [31:0] acc_n = (acc & ~(32'hFF << (nacc * 8))) | ({24'd0, b} << (nacc * 8));
    wire emit = bv && !(dropping || (bfirst && owe_close)) && (nacc == 2'd3 || blast);
    wire close = owe_close && !emit;
    assign word_valid = emit || close;
    assign word = emit ? {blast, berr, nacc, acc_n} : {1'b1, 1'b1, 2'd0, 32'd0};
    always @(posedge clk) begin
        if (rst) begin
            nacc <= 2'd0;
            dropping <= 1'b0;
            owe_close <= 1'b0;
        end else begin
            if (close && word_ready)
                owe_close <= 1'b0;
            if (bv) begin
                if (dropping || (bfirst && owe_close)) begin
                    // Lost frame: its bytes go nowhere.
                    dropping <= !blast;
                    nacc <= 2'd0;
                end else if (nacc == 2'd3 || blast) begin
                    nacc <= 2'd0;
                    if (!word_ready) begin
                        // Full FIFO: the frame is lost; close it later.
                        owe_close <= 1'b1;
                        dropping <= !blast;
                    end
                end else begin
                    acc <= acc_n;
                    nacc <= nacc + 2'd1;
                end
            end
        end
    end
endmodule

// 32 -> 512: words from the RX FIFO into beats for the core.
module rx_widen(
    input  wire         clk,
    input  wire         rst,
    input  wire [35:0]  word,
    input  wire         word_valid,
    output wire         word_ready,
    output reg  [511:0] tdata,
    output reg  [63:0]  tkeep,
    output reg          tvalid,
    output reg          tlast,
    output reg          tuser,
    input  wire         tready
);
    reg [3:0] idx;
    // Take a word while the beat is not waiting for the core.
    assign word_ready = !tvalid;
    wire [3:0] keep4 = word[33:32] == 2'd0 ? 4'b0001 :
                       word[33:32] == 2'd1 ? 4'b0011 :
                       word[33:32] == 2'd2 ? 4'b0111 : 4'b1111;
    always @(posedge clk) begin
        if (rst) begin
            tvalid <= 1'b0;
            idx <= 4'd0;
            tkeep <= 64'd0;
        end else if (tvalid) begin
            if (tready) begin
                tvalid <= 1'b0;
                tkeep <= 64'd0;
            end
        end else if (word_valid) begin
            tdata[idx * 32 +: 32] <= word[31:0];
            tkeep[idx * 4 +: 4] <= keep4;
            idx <= word[35] ? 4'd0 : idx + 4'd1;
            if (word[35] || idx == 4'd15) begin
                tvalid <= 1'b1;
                tlast <= word[35];
                tuser <= word[34];
            end
        end
    end
endmodule

// 512 -> 32: beats from the core into words for the TX FIFO (contiguous
// tkeep from lane 0, as the core sends).
module tx_narrow(
    input  wire         clk,
    input  wire         rst,
    input  wire [511:0] tdata,
    input  wire [63:0]  tkeep,
    input  wire         tvalid,
    input  wire         tlast,
    input  wire         tuser,
    output wire         tready,
    output wire [35:0]  word,
    output wire         word_valid,
    input  wire         word_ready
);
    reg [511:0] data;
    reg [6:0]   nbytes;  // bytes of the beat, 1..64
    reg         last, user, busy;
    reg [3:0]   idx;
    // Bytes of a beat: one past the highest kept lane.
    reg [6:0] n;
    integer i;
    always @* begin
        n = 7'd0;
        for (i = 0; i < 64; i = i + 1)
            if (tkeep[i]) n = i + 1;
    end
    assign tready = !busy;
    wire [6:0] left = nbytes - {idx, 2'b00};
    wire final_word = left <= 7'd4;
    assign word_valid = busy;
    assign word = {last && final_word, user && final_word,
                   final_word ? left[1:0] - 2'd1 : 2'd3, data[idx * 32 +: 32]};
    always @(posedge clk) begin
        if (rst)
            busy <= 1'b0;
        else if (!busy) begin
            if (tvalid) begin
                data <= tdata;
                nbytes <= tlast ? n : 7'd64;
                last <= tlast;
                user <= tuser;
                idx <= 4'd0;
                busy <= 1'b1;
            end
        end else if (word_ready) begin
            idx <= idx + 4'd1;
            if (final_word) busy <= 1'b0;
        end
    end
endmodule

// GMII transmit: waits for a whole frame in the FIFO (or a FIFO at least
// three quarters full, for frames longer than it), then sends preamble and
// SFD, the frame, zero padding up to 60 bytes, the FCS, and 12 idle bytes.
// A frame the core marked with tuser, or whose words ran out before its
// last one (an underrun), leaves with TX_ER raised on its last byte and an
// inverted FCS, so that no station takes it; the rest of an underrun frame
// is discarded.
module mac_tx #(parameter AW = 11) (
    input  wire        clk,
    input  wire        rst,
    input  wire [35:0] word,
    input  wire        word_valid,
    output wire        word_ready,
    input  wire        frames_avail,
    input  wire [AW:0] level,
    output reg  [7:0]  d,
    output reg         en,
    output reg         er,
    output reg         frame_sent,
    output reg         underrun
);
    localparam IDLE = 3'd0, PRE = 3'd1, DATA = 3'd2, PAD = 3'd3, FCS = 3'd4, GAP = 3'd5, SKIP = 3'd6;
    reg [2:0]  state;
    reg [3:0]  n;      // preamble, FCS and gap byte counter
    reg [1:0]  bi;     // byte of the current word
    reg [6:0]  sent;   // frame bytes so far, saturating at 64
    reg [31:0] crc;
    reg        bad, skip;
    wire [7:0] byte_out = state == DATA ? word[bi * 8 +: 8] : 8'd0;
    wire [31:0] crc_n;
    crc32_byte c (.crc(crc), .d(byte_out), .next(crc_n));
    wire [31:0] fcs = bad ? crc : ~crc;
    // The head word leaves with its last byte (no gap between words).
    assign word_ready = word_valid &&
        ((state == DATA && bi == word[33:32]) || state == SKIP);
    always @(posedge clk) begin
        frame_sent <= 1'b0;
        underrun <= 1'b0;
        if (rst) begin
            state <= IDLE;
            en <= 1'b0;
            er <= 1'b0;
            skip <= 1'b0;
        end else case (state)
            IDLE: begin
                en <= 1'b0;
                er <= 1'b0;
                if (word_valid && (frames_avail || level >= (3 << (AW - 2)))) begin
                    state <= PRE;
                    n <= 4'd0;
                end
            end
            PRE: begin
                en <= 1'b1;
                d <= n == 4'd7 ? 8'hD5 : 8'h55;
                n <= n + 4'd1;
                if (n == 4'd7) begin
                    state <= DATA;
                    bi <= 2'd0;
                    sent <= 7'd0;
                    crc <= 32'hFFFFFFFF;
                    bad <= 1'b0;
                end
            end
            DATA:
                if (!word_valid) begin
                    // The FIFO ran dry inside a frame.
                    underrun <= 1'b1;
                    bad <= 1'b1;
                    skip <= 1'b1;
                    d <= 8'd0;
                    state <= FCS;
                    n <= 4'd0;
                end else begin
                    d <= byte_out;
                    crc <= crc_n;
                    if (sent != 7'd64) sent <= sent + 7'd1;
                    if (bi == word[33:32]) begin
                        bi <= 2'd0;
                        if (word[35]) begin
                            if (word[34]) bad <= 1'b1;
                            state <= sent >= 7'd59 ? FCS : PAD;
                            n <= 4'd0;
                        end
                    end else
                        bi <= bi + 2'd1;
                end
            PAD: begin
                d <= 8'd0;
                crc <= crc_n;
                sent <= sent + 7'd1;
                if (sent == 7'd59) begin
                    state <= FCS;
                    n <= 4'd0;
                end
            end
            FCS: begin
                d <= fcs[n[1:0] * 8 +: 8];
                er <= bad && n == 4'd3;
                n <= n + 4'd1;
                if (n == 4'd3) begin
                    state <= GAP;
                    n <= 4'd0;
                    frame_sent <= 1'b1;
                end
            end
            GAP: begin
                en <= 1'b0;
                er <= 1'b0;
                d <= 8'd0;
                n <= n + 4'd1;
                if (n == 4'd11) begin
                    state <= skip ? SKIP : IDLE;
                    skip <= 1'b0;
                end
            end
            default:  // SKIP: the rest of an underrun frame
                if (word_valid && word[35]) state <= IDLE;
        endcase
    end
endmodule

// The whole MAC: RGMII pins on the PHY side, the core's streams on the
// other, FIFOs between the 125 MHz RX_CLK domain and the core clock.
module rgmii_mac(
    input  wire         core_clk,
    input  wire         core_rst,
    // PHY
    input  wire         rgmii_rx_clk,
    input  wire [3:0]   rgmii_rxd,
    input  wire         rgmii_rx_ctl,
    output wire         rgmii_tx_clk,
    output wire [3:0]   rgmii_txd,
    output wire         rgmii_tx_ctl,
    // to the core (its rx_*)
    output wire [511:0] rx_tdata,
    output wire [63:0]  rx_tkeep,
    output wire         rx_tvalid,
    output wire         rx_tlast,
    output wire         rx_tuser,
    input  wire         rx_tready,
    // from the core (its tx_*)
    input  wire [511:0] tx_tdata,
    input  wire [63:0]  tx_tkeep,
    input  wire         tx_tvalid,
    input  wire         tx_tlast,
    input  wire         tx_tuser,
    output wire         tx_tready,
    // activity, one cycle each, in the RX_CLK domain
    output wire         rx_frame,
    output wire         rx_bad,
    output wire         tx_frame,
    output wire         tx_underrun
);
    wire eclk = rgmii_rx_clk;
    wire erst;
    reset_sync rs (.clk(eclk), .arst(core_rst), .rst_out(erst));

    // Receive.
    wire [7:0] gd;
    wire gdv, ger;
    rgmii_rx prx (.clk(eclk), .rxd(rgmii_rxd), .rx_ctl(rgmii_rx_ctl),
                  .gmii_d(gd), .gmii_dv(gdv), .gmii_er(ger));
    wire [35:0] rw;
    wire rw_valid, rw_ready;
    mac_rx mrx (.clk(eclk), .rst(erst), .d(gd), .dv(gdv), .er(ger),
                .word(rw), .word_valid(rw_valid), .word_ready(rw_ready),
                .frame_seen(rx_frame), .frame_bad(rx_bad));
    wire [35:0] rq;
    wire rq_valid, rq_ready;
    async_fifo #(.W(36), .AW(9), .LAST_BIT(35)) rxq (
        .wclk(eclk), .wrst(erst), .wdata(rw), .wvalid(rw_valid), .wready(rw_ready),
        .rclk(core_clk), .rrst(core_rst), .rdata(rq), .rvalid(rq_valid), .rready(rq_ready),
        .frames_avail(), .rlevel());
    rx_widen wid (.clk(core_clk), .rst(core_rst), .word(rq), .word_valid(rq_valid),
                  .word_ready(rq_ready), .tdata(rx_tdata), .tkeep(rx_tkeep),
                  .tvalid(rx_tvalid), .tlast(rx_tlast), .tuser(rx_tuser), .tready(rx_tready));

    // Transmit.
    wire [35:0] tw;
    wire tw_valid, tw_ready;
    tx_narrow nar (.clk(core_clk), .rst(core_rst), .tdata(tx_tdata), .tkeep(tx_tkeep),
                   .tvalid(tx_tvalid), .tlast(tx_tlast), .tuser(tx_tuser), .tready(tx_tready),
                   .word(tw), .word_valid(tw_valid), .word_ready(tw_ready));
    wire [35:0] tq;
    wire tq_valid, tq_ready, tq_frames;
    wire [11:0] tq_level;
    async_fifo #(.W(36), .AW(11), .LAST_BIT(35)) txq (
        .wclk(core_clk), .wrst(core_rst), .wdata(tw), .wvalid(tw_valid), .wready(tw_ready),
        .rclk(eclk), .rrst(erst), .rdata(tq), .rvalid(tq_valid), .rready(tq_ready),
        .frames_avail(tq_frames), .rlevel(tq_level));
    wire [7:0] td;
    wire ten, ter;
    mac_tx #(.AW(11)) mtx (.clk(eclk), .rst(erst), .word(tq), .word_valid(tq_valid),
                .word_ready(tq_ready), .frames_avail(tq_frames), .level(tq_level),
                .d(td), .en(ten), .er(ter), .frame_sent(tx_frame), .underrun(tx_underrun));
    rgmii_tx ptx (.clk(eclk), .gmii_d(td), .gmii_en(ten), .gmii_er(ter),
                  .txd(rgmii_txd), .tx_ctl(rgmii_tx_ctl), .tx_clk(rgmii_tx_clk));
endmodule
