// On-chip "host memory" for the TrellisBoard build (cargo xtask ecp5): the
// TOE core's AXI4 DMA master writes completions and received frames into
// it and reads descriptors and frames to send from it, as it would host
// memory over PCIe.  The host (a PC on the board's USB UART, uart_host.v)
// reads and writes it 32 bits at a time through the side port.
//
// 128 KiB: 2048 rows of 64 bytes, one memory per byte lane (a DP16KD each,
// 2048 x 9), so that AXI write strobes are per-lane write enables.  The
// address is taken modulo 128 KiB.  One port, shared: the side port first,
// then writes and reads in turn; INCR bursts of full 64-byte beats (the
// core's only kind); a read beat every two cycles.
module host_mem #(parameter ROWS_LOG2 = 11) (
    input  wire         clk,
    input  wire         rst,
    // AXI4 slave (the core's m_axi_*)
    input  wire [3:0]   awid,
    input  wire [63:0]  awaddr,
    input  wire [7:0]   awlen,
    input  wire         awvalid,
    output reg          awready,
    input  wire [511:0] wdata,
    input  wire [63:0]  wstrb,
    input  wire         wlast,
    input  wire         wvalid,
    output reg          wready,
    output reg  [3:0]   bid,
    output wire [1:0]   bresp,
    output reg          bvalid,
    input  wire         bready,
    input  wire [3:0]   arid,
    input  wire [63:0]  araddr,
    input  wire [7:0]   arlen,
    input  wire         arvalid,
    output reg          arready,
    output reg  [3:0]   rid,
    output reg  [511:0] rdata,
    output wire [1:0]   rresp,
    output reg          rlast,
    output reg          rvalid,
    input  wire         rready,
    // side port: one 32-bit word per request, `ack` one cycle when done
    input  wire         side_req,
    input  wire         side_we,
    input  wire [31:0]  side_addr,
    input  wire [31:0]  side_wdata,
    output reg          side_ack,
    output reg  [31:0]  side_rdata
);
    assign bresp = 2'b00;
    assign rresp = 2'b00;

    // The memory: one port at `maddr` (the side port's row in the cycle it
    // is served, `row` otherwise), per-lane write enables `we`.
    localparam IDLE = 3'd0, WBURST = 3'd1, WRESP = 3'd2, RREAD = 3'd3, RDATA = 3'd4,
               SIDE = 3'd5;
    reg [2:0] state;
    reg  [ROWS_LOG2-1:0] row;
    wire side_go = state == IDLE && side_req && !side_ack;
    wire [ROWS_LOG2-1:0] maddr = side_go ? side_addr[ROWS_LOG2 + 5:6] : row;
    reg  [63:0]  we;
    reg  [511:0] din;
    wire [511:0] dout;
    genvar i;
    generate
        for (i = 0; i < 64; i = i + 1) begin : lane
            reg [7:0] m [0:(1 << ROWS_LOG2) - 1];
            reg [7:0] q;
            always @(posedge clk) begin
                if (we[i]) m[maddr] <= din[i * 8 +: 8];
                q <= m[maddr];
            end
            assign dout[i * 8 +: 8] = q;
        end
    endgenerate

    reg       prefer_read;
    reg [7:0] left;
    reg [3:0] side_word;
    always @(*) begin
        we = 64'd0;
        din = wdata;
        if (state == WBURST && wvalid && wready)
            we = wstrb;
        else if (side_go && side_we) begin
            we = 64'hF << (side_addr[5:2] * 4);
            din = {16{side_wdata}};
        end
    end
    always @(posedge clk) begin
        awready <= 1'b0;
        arready <= 1'b0;
        side_ack <= 1'b0;
        if (rst) begin
            state <= IDLE;
            wready <= 1'b0;
            bvalid <= 1'b0;
            rvalid <= 1'b0;
            prefer_read <= 1'b0;
        end else case (state)
            IDLE:
                if (side_go) begin
                    // This cycle writes (above) or reads the side port's row.
                    side_word <= side_addr[5:2];
                    state <= SIDE;
                end else if (awvalid && (!arvalid || !prefer_read)) begin
                    awready <= 1'b1;
                    bid <= awid;
                    row <= awaddr[ROWS_LOG2 + 5:6];
                    wready <= 1'b1;
                    prefer_read <= 1'b1;
                    state <= WBURST;
                end else if (arvalid) begin
                    arready <= 1'b1;
                    rid <= arid;
                    row <= araddr[ROWS_LOG2 + 5:6];
                    left <= arlen;
                    prefer_read <= 1'b0;
                    state <= RREAD;
                end
            SIDE: begin
                // The read of `row` is in `dout` now.
                side_rdata <= dout[side_word * 32 +: 32];
                side_ack <= 1'b1;
                state <= IDLE;
            end
            WBURST:
                if (wvalid) begin
                    row <= row + 1'b1;
                    if (wlast) begin
                        wready <= 1'b0;
                        bvalid <= 1'b1;
                        state <= WRESP;
                    end
                end
            WRESP:
                if (bready) begin
                    bvalid <= 1'b0;
                    state <= IDLE;
                end
            RREAD:
                // `row` is being read this cycle.
                state <= RDATA;
            default:  // RDATA
                if (!rvalid) begin
                    rdata <= dout;
                    rvalid <= 1'b1;
                    rlast <= left == 8'd0;
                end else if (rready) begin
                    rvalid <= 1'b0;
                    if (rlast)
                        state <= IDLE;
                    else begin
                        left <= left - 1'b1;
                        row <= row + 1'b1;
                        state <= RREAD;
                    end
                end
        endcase
    end
endmodule
