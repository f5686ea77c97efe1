// Host access for the TrellisBoard build (cargo xtask ecp5) over the
// board's FT2232H USB UART (8N1, BAUD): the TrellisBoard's PCIe x2 edge has
// SERDES lanes but ECP5 has no PCIe controller, and this project has no
// soft one, so a PC reaches the core's registers (AXI4-Lite) and the
// on-chip host memory (host_mem.v) through this bridge instead.
//
// Commands, little-endian (every reply starts with the command byte):
//   0x01 A[4] D[4]  register write  -> 0x01 BRESP
//   0x02 A[4]       register read   -> 0x02 RRESP D[4]
//   0x03 A[4] D[4]  memory write    -> 0x03
//   0x04 A[4]       memory read     -> 0x04 D[4]
//   other           (ignored)       -> 0xEE
// A register address is the core's 16-bit AXI4-Lite address; a memory
// address a byte address (4-aligned) in host memory.

module uart_rx #(parameter DIV = 48) (
    input  wire       clk,
    input  wire       rst,
    input  wire       rx,
    output reg  [7:0] data,
    output reg        valid
);
    reg [1:0] s = 2'b11;  // synchronizer
    reg [15:0] cnt;
    reg [3:0] bitn;
    reg busy;
    reg [7:0] sh;
    always @(posedge clk) begin
        s <= {s[0], rx};
        valid <= 1'b0;
        if (rst)
            busy <= 1'b0;
        else if (!busy) begin
            if (!s[1]) begin
                // Start bit: sample mid-bit from here on.
                busy <= 1'b1;
                cnt <= DIV / 2;
                bitn <= 4'd0;
            end
        end else if (cnt != 0)
            cnt <= cnt - 1'b1;
        else begin
            cnt <= DIV - 1;
            bitn <= bitn + 1'b1;
            if (bitn == 4'd0) begin
                if (s[1]) busy <= 1'b0;  // a glitch, not a start bit
            end else if (bitn <= 4'd8)
                sh <= {s[1], sh[7:1]};
            else begin
                busy <= 1'b0;
                if (s[1]) begin  // stop bit
                    data <= sh;
                    valid <= 1'b1;
                end
            end
        end
    end
endmodule

module uart_tx #(parameter DIV = 48) (
    input  wire       clk,
    input  wire       rst,
    input  wire [7:0] data,
    input  wire       valid,
    output wire       ready,
    output reg        tx
);
    reg [15:0] cnt;
    reg [3:0] bitn;
    reg [9:0] sh;
    reg busy;
    assign ready = !busy;
    always @(posedge clk) begin
        if (rst) begin
            busy <= 1'b0;
            tx <= 1'b1;
        end else if (!busy) begin
            tx <= 1'b1;
            if (valid) begin
                sh <= {1'b1, data, 1'b0};
                busy <= 1'b1;
                cnt <= 0;
                bitn <= 4'd0;
            end
        end else if (cnt != 0)
            cnt <= cnt - 1'b1;
        else begin
            cnt <= DIV - 1;
            tx <= sh[0];
            sh <= {1'b1, sh[9:1]};
            bitn <= bitn + 1'b1;
            if (bitn == 4'd10) busy <= 1'b0;
        end
    end
endmodule

module uart_host #(parameter DIV = 48) (
    input  wire        clk,
    input  wire        rst,
    input  wire        rx,
    output wire        tx,
    // AXI4-Lite master (the core's s_axil_*)
    output reg  [15:0] awaddr,
    output reg         awvalid,
    input  wire        awready,
    output reg  [31:0] wdata,
    output wire [3:0]  wstrb,
    output reg         wvalid,
    input  wire        wready,
    input  wire [1:0]  bresp,
    input  wire        bvalid,
    output reg         bready,
    output reg  [15:0] araddr,
    output reg         arvalid,
    input  wire        arready,
    input  wire [31:0] rdata,
    input  wire [1:0]  rresp,
    input  wire        rvalid,
    output reg         rready,
    // host memory side port
    output reg         mem_req,
    output reg         mem_we,
    output reg  [31:0] mem_addr,
    output reg  [31:0] mem_wdata,
    input  wire        mem_ack,
    input  wire [31:0] mem_rdata,
    output wire        busy
);
    assign wstrb = 4'hF;
    wire [7:0] rxd;
    wire rxv;
    uart_rx #(.DIV(DIV)) urx (.clk(clk), .rst(rst), .rx(rx), .data(rxd), .valid(rxv));
    reg [7:0] txd;
    reg txv;
    wire txr;
    uart_tx #(.DIV(DIV)) utx (.clk(clk), .rst(rst), .data(txd), .valid(txv), .ready(txr), .tx(tx));

    localparam GET = 3'd0, EXEC = 3'd1, WAIT = 3'd2, REPLY = 3'd3;
    reg [2:0]  state;
    reg [7:0]  cmd;
    reg [3:0]  got;       // bytes received of the command
    reg [31:0] addr, data;
    reg [55:0] reply;     // bytes to send, first in [7:0]
    reg [2:0]  reply_n;
    assign busy = state != GET;
    wire [3:0] need = (cmd == 8'h01 || cmd == 8'h03) ? 4'd9 : 4'd5;
    always @(posedge clk) begin
        txv <= 1'b0;
        if (rst) begin
            state <= GET;
            got <= 4'd0;
            awvalid <= 1'b0;
            wvalid <= 1'b0;
            bready <= 1'b0;
            arvalid <= 1'b0;
            rready <= 1'b0;
            mem_req <= 1'b0;
        end else case (state)
            GET:
                if (rxv) begin
                    if (got == 4'd0) begin
                        cmd <= rxd;
                        if (rxd >= 8'h01 && rxd <= 8'h04)
                            got <= 4'd1;
                        else begin
                            reply <= 56'hEE;
                            reply_n <= 3'd1;
                            state <= REPLY;
                        end
                    end else begin
                        if (got <= 4'd4) addr <= {rxd, addr[31:8]};
                        else data <= {rxd, data[31:8]};
                        got <= got + 1'b1;
                        if (got + 1'b1 == need) state <= EXEC;
                    end
                end
            EXEC: begin
                got <= 4'd0;
                state <= WAIT;
                case (cmd)
                    8'h01: begin
                        awaddr <= addr[15:0]; awvalid <= 1'b1;
                        wdata <= data; wvalid <= 1'b1;
                        bready <= 1'b1;
                    end
                    8'h02: begin
                        araddr <= addr[15:0]; arvalid <= 1'b1;
                        rready <= 1'b1;
                    end
                    default: begin
                        mem_addr <= addr; mem_wdata <= data;
                        mem_we <= cmd == 8'h03; mem_req <= 1'b1;
                    end
                endcase
            end
            WAIT: begin
                if (awvalid && awready) awvalid <= 1'b0;
                if (wvalid && wready) wvalid <= 1'b0;
                if (arvalid && arready) arvalid <= 1'b0;
                if (bready && bvalid) begin
                    bready <= 1'b0;
                    reply <= {40'd0, 6'd0, bresp, 8'h01};
                    reply_n <= 3'd2;
                    state <= REPLY;
                end
                if (rready && rvalid) begin
                    rready <= 1'b0;
                    reply <= {rdata, 6'd0, rresp, 8'h02};
                    reply_n <= 3'd6;
                    state <= REPLY;
                end
                if (mem_req && mem_ack) begin
                    mem_req <= 1'b0;
                    reply <= mem_we ? 56'h03 : {16'd0, mem_rdata, 8'h04};
                    reply_n <= mem_we ? 3'd1 : 3'd5;
                    state <= REPLY;
                end
            end
            default:  // REPLY
                if (txr && !txv) begin
                    if (reply_n == 3'd0)
                        state <= GET;
                    else begin
                        txd <= reply[7:0];
                        txv <= 1'b1;
                        reply <= reply >> 8;
                        reply_n <= reply_n - 1'b1;
                    end
                end
        endcase
    end
endmodule
