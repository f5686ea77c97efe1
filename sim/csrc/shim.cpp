// Small C ABI over the Verilated model (Verilator 5) of `toe_sim_top`
// (sim/vsrc/toe_sim_top.v: the design `toe` behind register slices, same
// ports).
//
// One call per evaluation (eval) or per clock cycle (cycle): the caller
// passes the whole input struct, the shim copies it into the model,
// evaluates, and copies every output back.  Port structs come from ports.h
// (X-macros) and are mirrored in sim/src/dut.rs.
//
// The same source can be compiled for several Verilator --prefix names:
// define TOE_CLASS (model class), TOE_HEADER (its header) and TOE_FN(name)
// (exported symbol names) before including this file.  Defaults: Vtoe, toe_*.
#ifndef TOE_CLASS
#define TOE_CLASS Vtoe
#define TOE_HEADER "Vtoe.h"
#define TOE_ROOT_HEADER "Vtoe___024root.h"
#define TOE_FN(n) toe_##n
#endif
#ifndef TOE_ROOT_FN
#define TOE_ROOT_FN(n) Vtoe___024root___##n
#endif

#include TOE_HEADER
#include TOE_ROOT_HEADER
#include "verilated.h"
#include "ports.h"
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <type_traits>
#include <utility>
#if VM_TRACE
#include "verilated_fst_c.h"
#endif

#define DECL1(n) uint32_t n;
#define DECL64(n) uint32_t n[2];
#define DECLW(n) uint32_t n[16];
extern "C" {
struct ToeIn { TOE_INPUTS(DECL1, DECL64, DECLW) };
struct ToeOut { TOE_OUTPUTS(DECL1, DECL64, DECLW) };
}

// Verilator's internal region functions, used for skipping the ico region
// (see eval_without_ico below).  Weak: null when this Verilator has none.
using ToeRoot = std::remove_reference_t<decltype(*std::declval<TOE_CLASS&>().rootp)>;
void TOE_ROOT_FN(eval_triggers__act)(ToeRoot*) __attribute__((weak));
void TOE_ROOT_FN(eval_act)(ToeRoot*) __attribute__((weak));
void TOE_ROOT_FN(eval_nba)(ToeRoot*) __attribute__((weak));

namespace {
// Skipping redundant clock-low evaluations.  Each cycle is two evaluations:
// clock low with the new inputs, then the rising edge.  When the inputs did
// not change since the rising edge, the clock-low evaluation cannot change
// anything (the design has no negedge logic) except Verilator's record of the
// clock's previous value, which it needs to see the next rising edge.  If
// that record exists under the name Verilator 5.006 uses, it is set directly
// and the evaluation skipped; otherwise (other Verilator versions) the shim
// always evaluates.  Never done while a waveform is being written.
using Root = ToeRoot;
template <typename T, typename = void> struct HasPrevClock : std::false_type {};
template <typename T>
struct HasPrevClock<T, std::void_t<decltype(std::declval<T&>().__Vtrigrprev__TOP__clock)>>
    : std::true_type {};
template <typename T> inline bool mark_clock_low(T* root) {
    if constexpr (HasPrevClock<T>::value) {
        root->__Vtrigrprev__TOP__clock = 0;
        return true;
    } else {
        (void)root;
        return false;
    }
}

// Skipping the input-combinational region on rising edges.  Verilator
// 5.006's eval() always runs the "ico" region (all logic that depends on
// top-level inputs) before the clocked "act"/"nba" regions, even when no
// input changed.  On a rising edge whose inputs (clock apart) equal those of
// the previous evaluation, the ico region can only recompute the values it
// already holds: every combinational value that depends on a register is
// recomputed by the nba region anyway.  Then the shim runs Verilator's
// act/nba loop itself, exactly as eval() does, without the ico loop.  Needs
// Verilator's internal region functions (weak references: absent symbols
// resolve to null) and the trigger members (checked at compile time);
// otherwise the shim calls eval().
template <typename T, typename = void> struct HasRegions : std::false_type {};
template <typename T>
struct HasRegions<T, std::void_t<decltype(std::declval<T&>().__VactTriggered.any()),
                                 decltype(std::declval<T&>().__VnbaTriggered.any()),
                                 decltype(std::declval<T&>().__VactIterCount),
                                 decltype(std::declval<T&>().__VactContinue)>>
    : std::true_type {};
inline bool have_region_fns() {
    return TOE_ROOT_FN(eval_triggers__act) != nullptr && TOE_ROOT_FN(eval_act) != nullptr &&
           TOE_ROOT_FN(eval_nba) != nullptr && HasRegions<Root>::value;
}
// Verilator 5.006's _eval() minus its first loop (the ico region).
template <typename T> inline void eval_without_ico(T* r) {
    if constexpr (HasRegions<T>::value) {
        uint32_t nba_iter = 0;
        bool nba_continue = true;
        while (nba_continue) {
            nba_continue = false;
            r->__VnbaTriggered.clear();
            r->__VactIterCount = 0;
            r->__VactContinue = 1;
            while (r->__VactContinue) {
                r->__VactContinue = 0;
                TOE_ROOT_FN(eval_triggers__act)(r);
                if (r->__VactTriggered.any()) {
                    r->__VactContinue = 1;
                    if (VL_UNLIKELY(100 < r->__VactIterCount))
                        VL_FATAL_MT(__FILE__, __LINE__, "", "Active region did not converge.");
                    r->__VactIterCount = r->__VactIterCount + 1;
                    r->__VnbaTriggered.set(r->__VactTriggered);
                    TOE_ROOT_FN(eval_act)(r);
                }
            }
            if (r->__VnbaTriggered.any()) {
                nba_continue = true;
                if (VL_UNLIKELY(100 < nba_iter))
                    VL_FATAL_MT(__FILE__, __LINE__, "", "NBA region did not converge.");
                nba_iter++;
                TOE_ROOT_FN(eval_nba)(r);
            }
        }
    } else {
        (void)r;
    }
}

struct Sim {
    VerilatedContext* ctx;
    TOE_CLASS* m;
    ToeIn last;            // inputs of the last real evaluation
    bool last_high = false;  // the last real evaluation had the clock high
    bool skip = HasPrevClock<Root>::value;
    uint64_t skipped = 0;
    bool evaluated = false;  // eval() ran at least once (initialisation done)
    bool skip_ico = have_region_fns();
    uint64_t ico_skipped = 0;
#if VM_TRACE
    VerilatedFstC* tr = nullptr;
#endif
};

// Inputs equal apart from the clock (the first field).
inline bool same_inputs(const ToeIn* a, const ToeIn* b) {
    const size_t o = offsetof(ToeIn, rst);
    return std::memcmp(reinterpret_cast<const char*>(a) + o, reinterpret_cast<const char*>(b) + o,
                       sizeof(ToeIn) - o) == 0;
}

inline void put_in(const ToeIn* in, TOE_CLASS* m) {
#define SET1(n) m->n = in->n;
#define SET64(n) m->n = (uint64_t)in->n[0] | ((uint64_t)in->n[1] << 32);
#define SETW(n) for (int i = 0; i < 16; i++) m->n[i] = in->n[i];
    TOE_INPUTS(SET1, SET64, SETW)
}

inline void get_out(const TOE_CLASS* m, ToeOut* out) {
#define GET1(n) out->n = m->n;
#define GET64(n) out->n[0] = (uint32_t)m->n; out->n[1] = (uint32_t)(m->n >> 32);
#define GETW(n) for (int i = 0; i < 16; i++) out->n[i] = m->n[i];
    TOE_OUTPUTS(GET1, GET64, GETW)
}
}  // namespace

extern "C" {

// Sizes of the two port structs, checked by the Rust side at creation.
uint32_t TOE_FN(abi)(void) { return (uint32_t)(sizeof(ToeIn) << 16 | sizeof(ToeOut)); }

// 1 when this library was Verilated with --trace-fst.
int TOE_FN(has_trace)(void) { return VM_TRACE; }

void* TOE_FN(new)(void) {
    Sim* s = new Sim;
    std::memset(&s->last, 0, sizeof s->last);
    s->ctx = new VerilatedContext;
#if VM_TRACE
    // Must be set before trace() is called; it only enables the possibility.
    s->ctx->traceEverOn(true);
#endif
    s->m = new TOE_CLASS(s->ctx, "toe");
    return s;
}

void TOE_FN(free)(void* p) {
    Sim* s = static_cast<Sim*>(p);
    s->m->final();
#if VM_TRACE
    if (s->tr) { s->tr->close(); delete s->tr; }
#endif
    delete s->m;
    delete s->ctx;
    delete s;
}

// Applies the inputs, evaluates, returns the outputs.  `time` (ps) is the
// simulation time of this evaluation; it is also used for the waveform.
void TOE_FN(eval)(void* p, const ToeIn* in, ToeOut* out, uint64_t time) {
    Sim* s = static_cast<Sim*>(p);
    s->ctx->time(time);
#if VM_TRACE
    const bool tracing = s->tr != nullptr;
#else
    const bool tracing = false;
#endif
    if (in->clock == 0 && s->skip && s->last_high && !tracing && same_inputs(in, &s->last)) {
        s->m->clock = 0;
        if (mark_clock_low(s->m->rootp)) {
            s->last_high = false;
            s->skipped++;
            get_out(s->m, out);
            return;
        }
    }
    if (in->clock != 0 && !s->last_high && s->evaluated && s->skip_ico && !tracing &&
        same_inputs(in, &s->last)) {
        s->m->clock = 1;
        eval_without_ico(s->m->rootp);
        s->last_high = true;
        s->ico_skipped++;
        get_out(s->m, out);
        return;
    }
    put_in(in, s->m);
    s->m->eval();
    s->evaluated = true;
    s->last = *in;
    s->last_high = in->clock != 0;
#if VM_TRACE
    if (s->tr) s->tr->dump(time);
#endif
    get_out(s->m, out);
}

// One clock cycle with the inputs `in` (its clock field is ignored): the
// inputs change with the clock low at `t_low` (ps), the clock rises at
// `t_high`.  Correct in one evaluation only because no output of the
// Verilated top (sim/vsrc/toe_sim_top.v: register slices on every channel)
// depends combinationally on an input: the outputs of the previous rising
// edge are final for this cycle, and the caller samples them before calling.
//
// Fast path (skipping on, no waveform being written, Verilator's record of
// the clock's previous value available, model initialised): the clock-low
// evaluation is not run (the design has no negedge logic; only the clock's
// previous value is recorded, as in the clock-low skip above) and the rising
// edge is evaluated with the new inputs: Verilator's input-combinational
// region settles what depends on them, then the edge triggers the clocked
// regions, as after a clock-low evaluation.  With inputs unchanged since the
// previous evaluation, the ico region is skipped too.  Otherwise (a waveform
// is open, skipping off, first evaluation) two real evaluations, clock low
// then high, so that waveforms show the clock and inputs changing at the
// falling edge.  `out` must hold the outputs of the previous call (those of
// the previous rising edge): on the two-evaluation path, the shim checks that
// the clock-low evaluation left them unchanged and returns 1 if it did not
// (an output depending combinationally on an input), else 0.
int TOE_FN(cycle)(void* p, const ToeIn* in, ToeOut* out, uint64_t t_low, uint64_t t_high) {
    Sim* s = static_cast<Sim*>(p);
#if VM_TRACE
    const bool tracing = s->tr != nullptr;
#else
    const bool tracing = false;
#endif
    if (s->skip && s->evaluated && !tracing) {
        s->m->clock = 0;
        if (mark_clock_low(s->m->rootp)) {
            s->skipped++;
            s->ctx->time(t_high);
            s->m->clock = 1;
            if (s->skip_ico && same_inputs(in, &s->last)) {
                eval_without_ico(s->m->rootp);
                s->ico_skipped++;
            } else {
                put_in(in, s->m);
                s->m->clock = 1;
                s->m->eval();
                s->last = *in;
            }
            s->last.clock = 1;
            s->last_high = true;
            get_out(s->m, out);
            return 0;
        }
    }
    const bool check = s->evaluated;
    const ToeOut prev = *out;
    ToeIn i = *in;
    i.clock = 0;
    TOE_FN(eval)(p, &i, out, t_low);
    const int changed = check && std::memcmp(&prev, out, sizeof prev) != 0;
    i.clock = 1;
    TOE_FN(eval)(p, &i, out, t_high);
    return changed;
}

// Enables (1) or disables (0) both skips (clock-low evaluations, ico region
// on rising edges; with them the one-evaluation path of cycle()); returns
// whether skipping clock-low evaluations is possible at all.  Off, every
// evaluation is a real one: the reference behaviour for tests.
int TOE_FN(set_skip)(void* p, int on) {
    Sim* s = static_cast<Sim*>(p);
    s->skip = on && HasPrevClock<Root>::value;
    s->skip_ico = on && have_region_fns();
    return HasPrevClock<Root>::value;
}

// Number of clock-low evaluations skipped so far.
uint64_t TOE_FN(skipped)(void* p) { return static_cast<Sim*>(p)->skipped; }

// Number of rising edges evaluated without the ico region so far.
uint64_t TOE_FN(ico_skipped)(void* p) { return static_cast<Sim*>(p)->ico_skipped; }

// Compares toe_shiftl_wwi (csrc/vlfast.h, force-included by build.rs) with
// Verilator's own VL_SHIFTL_WWI on `iters` random widths, shift amounts
// (in and out of range) and operands (clean or with dirty top bits);
// returns the number of results that differ in any word.
uint64_t TOE_FN(selftest_shiftl)(uint32_t iters, uint64_t seed) {
#ifdef VL_SHIFTL_WWI
    uint64_t x = seed | 1;
    auto rnd = [&x]() {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        return static_cast<uint32_t>(x >> 11);
    };
    uint64_t bad = 0;
    for (uint32_t it = 0; it < iters; ++it) {
        const int obits = 33 + static_cast<int>(rnd() % 1100);
        const int words = VL_WORDS_I(obits);
        const IData rd = (rnd() % 4 == 0) ? rnd() : rnd() % static_cast<uint32_t>(obits + 40);
        uint32_t l[40], a[40], b[40];
        for (int i = 0; i < 40; ++i) {
            l[i] = rnd();
            a[i] = b[i] = 0xdeadbeef;
        }
        if (rnd() % 2) l[words - 1] &= VL_MASK_E(obits);
        toe_shiftl_wwi(obits, obits, 32, a, l, rd);
        (VL_SHIFTL_WWI)(obits, obits, 32, b, l, rd);
        if (std::memcmp(a, b, sizeof a) != 0) bad++;
    }
    return bad;
#else
    (void)iters; (void)seed;
    return 0;
#endif
}

// Opens an FST waveform; returns 0 on success, -1 when tracing is not
// compiled in or a trace is already open.
int TOE_FN(trace_open)(void* p, const char* path) {
#if VM_TRACE
    Sim* s = static_cast<Sim*>(p);
    if (s->tr) return -1;
    s->tr = new VerilatedFstC;
    s->m->trace(s->tr, 99);
    s->tr->open(path);
    return s->tr->isOpen() ? 0 : -1;
#else
    (void)p; (void)path;
    return -1;
#endif
}

void TOE_FN(trace_flush)(void* p) {
#if VM_TRACE
    Sim* s = static_cast<Sim*>(p);
    if (s->tr) s->tr->flush();
#else
    (void)p;
#endif
}

void TOE_FN(trace_close)(void* p) {
#if VM_TRACE
    Sim* s = static_cast<Sim*>(p);
    if (s->tr) { s->tr->close(); delete s->tr; s->tr = nullptr; }
#else
    (void)p;
#endif
}
}
