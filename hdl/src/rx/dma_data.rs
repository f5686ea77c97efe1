//! RX DMA, data stage: sends the W beats of the jobs the address stage
//! queued, in order: the beats of a frame burst from the data FIFO (with the
//! frame's last-beat strobe), nothing for a dropped frame (its beats are
//! discarded), or the one beat of a completion line.  When a frame's last
//! beat goes out, its completion request goes to the coalescer; all writes
//! use one AXI ID, so the host sees the data before the completion.
//!
//! A job is registered (`in_valid`, `in_job`) before it enters the job FIFO,
//! so the address stage's decision does not reach the FIFO's pointers and
//! its first-word register (7 LUT levels in the whole design); the FIFO's
//! almost-full margin of four covers the job held there.
use super::dma_addr::JOB_BITS;
use crate::common::stream::{FifoIn, PushIn, PushOut};
use rust_hdl::prelude::*;

crate::declare_clear_fifo!(JobFifo, Bits<881>, 16, 4);
const _: () = assert!(JOB_BITS == 881);

#[derive(LogicBlock, Default)]
pub struct DmaData {
    pub clock: Signal<In, Clock>,
    pub rst: Signal<In, Bit>,
    /// Write jobs from `DmaAddr`.
    pub job: PushIn<881>,
    /// Frame beats from `RxPath`.
    pub data: FifoIn<513>,
    pub w_valid: Signal<Out, Bit>,
    pub w_data: Signal<Out, Bits<512>>,
    pub w_strb: Signal<Out, Bits<64>>,
    pub w_last: Signal<Out, Bit>,
    pub w_ready: Signal<In, Bit>,
    /// Completion requests, to the coalescer.
    pub req: PushOut<275>,
    pub q_evt: Signal<Out, Bit>,
    pub q_id: Signal<Out, Bits<2>>,
    pub q_len: Signal<Out, Bits<16>>,
    jobs: JobFifo,
    in_valid: DFF<Bit>,
    in_job: DFF<Bits<881>>,
    bc: DFF<Bits<16>>,
    head: Signal<Local, Bits<881>>,
    beats: Signal<Local, Bits<16>>,
    last_beat: Signal<Local, Bit>,
    frame_end: Signal<Local, Bit>,
    hs: Signal<Local, Bit>,
}

impl Logic for DmaData {
    #[hdl_gen]
    fn update(&mut self) {
        dff_setup!(self, clock, in_valid, in_job, bc);
        clock!(self, clock, jobs);
        self.jobs.clear.next = self.rst.val();
        self.in_valid.d.next = self.job.write.val();
        self.in_job.d.next = self.job.data.val();
        self.jobs.write.next = self.in_valid.q.val();
        self.jobs.data_in.next = self.in_job.q.val();
        self.job.full.next = self.jobs.almost_full.val();
        self.head.next = self.jobs.data_out.val();
        self.beats.next = bit_cast::<16, 881>((self.head.val() >> 3) & 0x1FF);
        self.last_beat.next = self.bc.q.val() + 1 == self.beats.val();
        self.frame_end.next = self.last_beat.val() && self.head.val().get_bit(2);
        self.w_valid.next = false;
        self.w_data.next = bit_cast::<512, 513>(self.data.data.val());
        self.w_strb.next = bit_cast::<64, 881>(self.head.val() >> 12);
        self.w_last.next = self.last_beat.val();
        self.data.pop.next = false;
        self.jobs.read.next = false;
        self.req.write.next = false;
        self.req.data.next = bit_cast::<275, 881>(self.head.val() >> 76);
        self.q_evt.next = false;
        self.q_id.next = bit_cast::<2, 881>(self.head.val() >> 351);
        self.q_len.next = bit_cast::<16, 881>(self.head.val() >> 353);
        self.hs.next = false;
        if !self.jobs.empty.val() {
            if (self.head.val() & 3) == 0 {
                // Frame burst.
                self.w_valid.next =
                    !self.data.empty.val() && !(self.frame_end.val() && self.req.full.val());
                if !self.frame_end.val() {
                    self.w_strb.next = 0xFFFF_FFFF_FFFF_FFFF_u64.into();
                }
                self.hs.next = !self.data.empty.val()
                    && !(self.frame_end.val() && self.req.full.val())
                    && self.w_ready.val();
                if self.hs.val() {
                    self.data.pop.next = true;
                    self.bc.d.next = self.bc.q.val() + 1;
                    if self.last_beat.val() {
                        self.bc.d.next = 0.into();
                        self.jobs.read.next = true;
                    }
                    if self.frame_end.val() {
                        self.req.write.next = true;
                        self.q_evt.next = true;
                    }
                }
            }
            if (self.head.val() & 3) == 1 {
                // Dropped frame: discard its beats.
                self.data.pop.next = !self.data.empty.val();
                if !self.data.empty.val() && self.data.data.val().get_bit(512) {
                    self.jobs.read.next = true;
                }
            }
            if (self.head.val() & 3) == 2 {
                // Completion line.
                self.w_valid.next = true;
                self.w_data.next = bit_cast::<512, 881>(self.head.val() >> 369);
                self.w_last.next = true;
                if self.w_ready.val() {
                    self.jobs.read.next = true;
                }
            }
        }
        if self.rst.val() {
            self.bc.d.next = 0.into();
            self.in_valid.d.next = false;
            self.in_job.d.next = 0.into();
        }
    }
}
