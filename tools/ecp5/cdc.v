// Clock-domain crossing for the TrellisBoard build (cargo xtask ecp5):
// a reset synchronizer and an asynchronous FIFO.

// Asserts `rst_out` at once with `arst`, releases it on the third rising
// edge of `clk` after `arst` falls.
module reset_sync(input wire clk, input wire arst, output wire rst_out);
    reg [2:0] s = 3'b111;
    always @(posedge clk or posedge arst)
        if (arst) s <= 3'b111;
        else s <= {s[1:0], 1'b0};
    assign rst_out = s[2];
endmodule

// Asynchronous FIFO of 2**AW entries of W bits, first word fall-through:
// `rdata` is the head while `rvalid` is high; `rready` pops it.  Gray-coded
// pointers cross through two flip-flops each; the memory has a registered
// read (block RAM for deep FIFOs) and an output register holding the head.
//
// `frames_avail` (read side) is high while at least one word with bit
// LAST_BIT set (a frame's last word) has been written and not yet read: a
// second Gray-coded counter crosses the count of such words, so a reader
// can wait for a whole frame (store and forward).  `rlevel` is the number
// of words written and not yet read, as the read side knows it.
module async_fifo #(
    parameter W = 36,
    parameter AW = 4,
    parameter LAST_BIT = 0
) (
    input  wire          wclk,
    input  wire          wrst,
    input  wire [W-1:0]  wdata,
    input  wire          wvalid,
    output wire          wready,
    input  wire          rclk,
    input  wire          rrst,
    output wire [W-1:0]  rdata,
    output wire          rvalid,
    input  wire          rready,
    output wire          frames_avail,
    output wire [AW:0]   rlevel
);
    reg [W-1:0] mem [0:(1<<AW)-1];

    function [AW:0] bin2gray(input [AW:0] b);
        bin2gray = b ^ (b >> 1);
    endfunction
    function [AW:0] gray2bin(input [AW:0] g);
        integer i;
        begin
            gray2bin[AW] = g[AW];
            for (i = AW - 1; i >= 0; i = i - 1)
                gray2bin[i] = gray2bin[i + 1] ^ g[i];
        end
    endfunction
    function [7:0] bin2gray8(input [7:0] b);
        bin2gray8 = b ^ (b >> 1);
    endfunction
    function [7:0] gray2bin8(input [7:0] g);
        integer i;
        begin
            gray2bin8[7] = g[7];
            for (i = 6; i >= 0; i = i - 1)
                gray2bin8[i] = gray2bin8[i + 1] ^ g[i];
        end
    endfunction

    // Write side.
    reg [AW:0] wbin, wgray, rgray_w1, rgray_w2;
    reg [7:0] wfr_bin, wfr_gray;
    wire full = wgray == {~rgray_w2[AW:AW-1], rgray_w2[AW-2:0]};
    assign wready = !full;
    wire [AW:0] wbin_n = wbin + 1'b1;
    wire [7:0] wfr_n = wfr_bin + 1'b1;
    always @(posedge wclk)
        if (wvalid && !full)
            mem[wbin[AW-1:0]] <= wdata;
    always @(posedge wclk or posedge wrst)
        if (wrst) begin
            wbin <= 0; wgray <= 0; wfr_bin <= 0; wfr_gray <= 0;
            rgray_w1 <= 0; rgray_w2 <= 0;
        end else begin
            rgray_w1 <= rgray; rgray_w2 <= rgray_w1;
            if (wvalid && !full) begin
                wbin <= wbin_n;
                wgray <= bin2gray(wbin_n);
                if (wdata[LAST_BIT]) begin
                    wfr_bin <= wfr_n;
                    wfr_gray <= bin2gray8(wfr_n);
                end
            end
        end

    // Read side.
    reg [AW:0] rbin, rgray, wgray_r1, wgray_r2;
    reg [7:0] wfr_r1, wfr_r2, rfr_bin;
    reg [W-1:0] head;
    reg head_valid;
    wire empty = rgray == wgray_r2;
    wire fetch = !empty && (!head_valid || rready);
    wire [AW:0] rbin_n = rbin + 1'b1;
    always @(posedge rclk)
        if (fetch)
            head <= mem[rbin[AW-1:0]];
    always @(posedge rclk or posedge rrst)
        if (rrst) begin
            rbin <= 0; rgray <= 0; head_valid <= 0; rfr_bin <= 0;
            wgray_r1 <= 0; wgray_r2 <= 0; wfr_r1 <= 0; wfr_r2 <= 0;
        end else begin
            wgray_r1 <= wgray; wgray_r2 <= wgray_r1;
            wfr_r1 <= wfr_gray; wfr_r2 <= wfr_r1;
            if (fetch) begin
                rbin <= rbin_n;
                rgray <= bin2gray(rbin_n);
                head_valid <= 1'b1;
            end else if (rready)
                head_valid <= 1'b0;
            if (head_valid && rready && head[LAST_BIT])
                rfr_bin <= rfr_bin + 1'b1;
        end
    assign rdata = head;
    assign rvalid = head_valid;
    assign frames_avail = gray2bin8(wfr_r2) != rfr_bin;
    assign rlevel = gray2bin(wgray_r2) - rbin + head_valid;
endmodule
