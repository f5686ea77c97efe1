/*
 * echo_server: a TCP echo server on the TOE host TCP library (libtoe).
 *
 *   echo_server DEVICE QUEUES IP/PREFIX MAC PORT CONNECTIONS
 *   echo_server sim:/dev/shm/toe-sim 4 10.0.0.2/24 02:00:00:00:00:02 7 6
 *
 * Opens the NIC DEVICE with QUEUES queue pairs, creates one endpoint per
 * queue pair with address IP/PREFIX and MAC, listens on PORT on every
 * endpoint (RSS spreads the flows over them) and echoes every byte it
 * receives, keeping per connection what a write did not take (up to 64 KiB;
 * when that is full it stops reading until the peer reads).  A connection
 * is closed once its peer has closed its side and everything has been
 * echoed.  With TOE_ECHO_IN_PLACE set it moves bytes with the zero-copy
 * calls (toe_read_in_place, toe_write_in_place: the library's buffers are
 * read and written in place by a callback) instead of toe_read/toe_write.
 * After CONNECTIONS connections the server
 * waits for them to finish closing, prints one summary line on stdout and
 * exits 0.  Any unexpected error is reported on stderr and exits 1.
 *
 * Build: cc -std=c11 -Wall -Wextra -Werror -I driver/capi/include
 *        driver/capi/examples/echo_server.c target/release/libtoe.a
 *        -lpthread -ldl -lm -lrt -lutil -lgcc_s -o echo_server
 */
#define _POSIX_C_SOURCE 200809L

#include <inttypes.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "toe.h"

#define MAX_QUEUES 64
#define MAX_EVENTS 64
#define BUF_BYTES 65536
/* How long closing connections may take after the last one is served. */
#define DRAIN_NS (30ull * 1000 * 1000 * 1000)

/* One accepted connection and the bytes received but not yet echoed. */
struct conn {
    int sock;
    uint32_t interest;
    int eof;
    size_t head, tail; /* pending bytes are buf[head..tail) */
    uint8_t buf[BUF_BYTES];
};

/* One endpoint (queue pair), its listener and its connections by socket. */
struct queue {
    toe_endpoint *ep;
    int listener;
    struct conn **conns;
    size_t nconns;
    unsigned accepted;
};

static const char *prog = "echo_server";

/* Backpressure seen: writes that took less than offered (or nothing), and
 * times a connection's buffer was full so that reading had to wait. */
static uint64_t short_writes, full_buffers;

/* TOE_ECHO_IN_PLACE: the zero-copy calls. */
static int in_place;

/* toe_read_in_place's callback: takes what fits into the connection's
 * pending bytes. */
static size_t take_in(void *ctx, const uint8_t *data, size_t len) {
    struct conn *c = ctx;
    size_t n = BUF_BYTES - c->tail;
    if (n > len)
        n = len;
    memcpy(c->buf + c->tail, data, n);
    c->tail += n;
    return n;
}

/* toe_write_in_place's callback: writes pending bytes into the room. */
static size_t give_out(void *ctx, uint8_t *buf, size_t room) {
    struct conn *c = ctx;
    size_t n = c->tail - c->head;
    if (n > room)
        n = room;
    memcpy(buf, c->buf + c->head, n);
    return n;
}

static void die(const char *what, int code) {
    fprintf(stderr, "%s: %s: %s (%d)\n", prog, what, toe_strerror(code), code);
    exit(1);
}

static void die_msg(const char *what) {
    fprintf(stderr, "%s: %s: %s\n", prog, what, toe_last_error_message());
    exit(1);
}

static void usage(const char *why) {
    fprintf(stderr,
            "%s: %s\nusage: %s DEVICE QUEUES IP/PREFIX MAC PORT CONNECTIONS\n"
            "  e.g. %s sim:/dev/shm/toe-sim 4 10.0.0.2/24 02:00:00:00:00:02 7 6\n",
            prog, why, prog, prog);
    exit(2);
}

/* Parses a decimal number in [lo, hi]; returns 0 on success. */
static int parse_uint(const char *s, unsigned long lo, unsigned long hi, unsigned long *out) {
    char *end;
    unsigned long v;
    if (*s < '0' || *s > '9')
        return -1;
    v = strtoul(s, &end, 10);
    if (*end != '\0' || v < lo || v > hi)
        return -1;
    *out = v;
    return 0;
}

static int parse_ip_prefix(const char *s, uint8_t ip[4], uint8_t *prefix) {
    unsigned a, b, c, d, p;
    char extra;
    if (sscanf(s, "%u.%u.%u.%u/%u%c", &a, &b, &c, &d, &p, &extra) != 5)
        return -1;
    if (a > 255 || b > 255 || c > 255 || d > 255 || p > 32)
        return -1;
    ip[0] = (uint8_t)a;
    ip[1] = (uint8_t)b;
    ip[2] = (uint8_t)c;
    ip[3] = (uint8_t)d;
    *prefix = (uint8_t)p;
    return 0;
}

static int parse_mac(const char *s, uint8_t mac[6]) {
    unsigned m[6];
    char extra;
    int i;
    if (sscanf(s, "%x:%x:%x:%x:%x:%x%c", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5], &extra) != 6)
        return -1;
    for (i = 0; i < 6; i++) {
        if (m[i] > 255)
            return -1;
        mac[i] = (uint8_t)m[i];
    }
    return 0;
}

static struct conn *lookup(struct queue *q, int sock) {
    if (sock < 0 || (size_t)sock >= q->nconns)
        return NULL;
    return q->conns[sock];
}

static void add_conn(struct queue *q, int sock) {
    struct conn *c;
    if ((size_t)sock >= q->nconns) {
        size_t n = (size_t)sock + 16, i;
        struct conn **grown = realloc(q->conns, n * sizeof *grown);
        if (grown == NULL) {
            fprintf(stderr, "%s: out of memory\n", prog);
            exit(1);
        }
        for (i = q->nconns; i < n; i++)
            grown[i] = NULL;
        q->conns = grown;
        q->nconns = n;
    }
    if (q->conns[sock] != NULL) {
        fprintf(stderr, "%s: socket %d accepted while still in use\n", prog, sock);
        exit(1);
    }
    c = malloc(sizeof *c);
    if (c == NULL) {
        fprintf(stderr, "%s: out of memory\n", prog);
        exit(1);
    }
    c->sock = sock;
    c->interest = TOE_READY_READABLE; /* what toe_accept starts with */
    c->eof = 0;
    c->head = c->tail = 0;
    q->conns[sock] = c;
}

/*
 * Moves bytes: reads while there is room, writes what is pending (a write
 * may take only part of it: the rest waits for TOE_READY_WRITABLE), and
 * closes the connection after end of stream once all is echoed.  Returns
 * the bytes echoed; sets *closed when the connection was closed.
 */
static uint64_t service(struct queue *q, struct conn *c, int *closed) {
    uint64_t echoed = 0;
    uint32_t want;
    *closed = 0;
    while (!c->eof && c->tail < BUF_BYTES) {
        int64_t n = in_place ? toe_read_in_place(q->ep, c->sock, take_in, c)
                             : toe_read(q->ep, c->sock, c->buf + c->tail, BUF_BYTES - c->tail);
        if (n > 0) {
            if (!in_place)
                c->tail += (size_t)n;
        } else if (n == 0)
            c->eof = 1;
        else if (n == TOE_EAGAIN)
            break;
        else
            die("read", (int)n);
    }
    while (c->head < c->tail) {
        size_t offered = c->tail - c->head;
        int64_t n = in_place ? toe_write_in_place(q->ep, c->sock, offered, give_out, c)
                             : toe_write(q->ep, c->sock, c->buf + c->head, offered);
        if (n > 0) {
            c->head += (size_t)n;
            echoed += (uint64_t)n;
            if ((size_t)n < offered) {
                short_writes++;
                break;
            }
        } else if (n == TOE_EAGAIN || n == 0) {
            short_writes++;
            break;
        } else {
            die("write", (int)n);
        }
    }
    if (c->head == c->tail) {
        c->head = c->tail = 0;
    } else if (c->head > 0 && c->tail == BUF_BYTES) {
        memmove(c->buf, c->buf + c->head, c->tail - c->head);
        c->tail -= c->head;
        c->head = 0;
    }
    if (c->eof && c->head == c->tail) {
        int rc = toe_close(q->ep, c->sock);
        if (rc < 0)
            die("close", rc);
        q->conns[c->sock] = NULL;
        free(c);
        *closed = 1;
        return echoed;
    }
    /* Readable while there is room, writable while bytes wait. */
    want = 0;
    if (!c->eof && c->tail < BUF_BYTES)
        want |= TOE_READY_READABLE;
    else if (!c->eof && (c->interest & TOE_READY_READABLE))
        full_buffers++;
    if (c->head < c->tail)
        want |= TOE_READY_WRITABLE;
    if (want != c->interest) {
        int rc = toe_set_interest(q->ep, c->sock, want);
        if (rc < 0)
            die("set_interest", rc);
        c->interest = want;
    }
    return echoed;
}

int main(int argc, char **argv) {
    static struct queue queues[MAX_QUEUES];
    toe_event events[MAX_EVENTS];
    unsigned long nq, port, target;
    uint8_t ip[4], mac[6], prefix;
    unsigned long served = 0;
    uint64_t echoed = 0;
    toe_nic *nic;
    unsigned i;

    if (argc > 0 && argv[0] != NULL)
        prog = argv[0];
    if (argc != 7)
        usage("wrong number of arguments");
    if (parse_uint(argv[2], 1, MAX_QUEUES, &nq) != 0)
        usage("QUEUES must be a number from 1 to 64");
    if (parse_ip_prefix(argv[3], ip, &prefix) != 0)
        usage("IP/PREFIX must look like 10.0.0.2/24");
    if (parse_mac(argv[4], mac) != 0)
        usage("MAC must look like 02:00:00:00:00:02");
    if (parse_uint(argv[5], 1, 65535, &port) != 0)
        usage("PORT must be a number from 1 to 65535");
    if (parse_uint(argv[6], 1, 1000000, &target) != 0)
        usage("CONNECTIONS must be a number from 1 to 1000000");

    nic = toe_nic_open(argv[1], (uint32_t)nq);
    if (nic == NULL)
        die_msg("cannot open the NIC");
    in_place = getenv("TOE_ECHO_IN_PLACE") != NULL;
    if (getenv("TOE_ECHO_SETUP_OFFLOAD") != NULL) {
        /* A real server takes its key from getrandom(2). */
        static const uint8_t key[16] = {0x3a, 0x91, 0x5c, 0x07, 0xe2, 0x48, 0xbd, 0x16,
                                        0x7f, 0x23, 0xc8, 0x64, 0x0b, 0xd5, 0x99, 0x2e};
        int rc = toe_nic_setup_offload(nic, (uint16_t)port, key);
        if (rc != 0)
            die("setup offload", rc);
        fprintf(stderr, "%s: the NIC completes the handshakes (setup offload)\n", prog);
    }
    for (i = 0; i < nq; i++) {
        struct queue *q = &queues[i];
        q->ep = toe_endpoint_new(nic, i, mac, ip, prefix);
        if (q->ep == NULL)
            die_msg("cannot create an endpoint");
        q->listener = toe_listen(q->ep, (uint16_t)port, 128);
        if (q->listener < 0)
            die("listen", q->listener);
    }
    fprintf(stderr, "%s: listening on %u.%u.%u.%u:%lu on %lu queues\n", prog, ip[0], ip[1],
            ip[2], ip[3], port, nq);

    while (served < target) {
        int progress = 0;
        for (i = 0; i < nq; i++) {
            struct queue *q = &queues[i];
            int n = toe_poll(q->ep, nic, toe_now_ns(), events, MAX_EVENTS);
            int k;
            if (n < 0) {
                if (n == TOE_EIO)
                    die_msg("poll");
                die("poll", n);
            }
            for (k = 0; k < n; k++) {
                struct conn *c;
                int closed;
                uint64_t moved;
                progress = 1;
                if (events[k].socket == q->listener) {
                    if (events[k].ready & TOE_READY_ERROR)
                        die("listener", toe_socket_error(q->ep, q->listener));
                    for (;;) {
                        int s = toe_accept(q->ep, q->listener);
                        if (s == TOE_EAGAIN)
                            break;
                        if (s < 0)
                            die("accept", s);
                        add_conn(q, s);
                        q->accepted++;
                    }
                    continue;
                }
                c = lookup(q, events[k].socket);
                if (c == NULL) {
                    fprintf(stderr, "%s: event for unknown socket %d on queue %u\n", prog,
                            (int)events[k].socket, i);
                    return 1;
                }
                if (events[k].ready & TOE_READY_ERROR) {
                    int err = toe_socket_error(q->ep, c->sock);
                    die("connection failed", err < 0 ? err : TOE_EIO);
                }
                moved = service(q, c, &closed);
                echoed += moved;
                if (closed)
                    served++;
            }
        }
        if (!progress)
            sched_yield();
    }

    /* Connections beyond the ones counted are not served: reset them. */
    for (i = 0; i < nq; i++) {
        size_t k;
        for (k = 0; k < queues[i].nconns; k++) {
            struct conn *c = queues[i].conns[k];
            if (c != NULL) {
                int rc = toe_abort(queues[i].ep, c->sock);
                if (rc < 0)
                    die("abort", rc);
                free(c);
                queues[i].conns[k] = NULL;
            }
        }
    }

    /* Let the last FINs be sent and acknowledged. */
    {
        uint64_t deadline = toe_now_ns() + DRAIN_NS;
        for (;;) {
            int64_t left = 0;
            for (i = 0; i < nq; i++) {
                int64_t c;
                int n = toe_poll(queues[i].ep, nic, toe_now_ns(), events, MAX_EVENTS);
                if (n < 0)
                    die("poll", n);
                c = toe_endpoint_connections(queues[i].ep);
                if (c < 0)
                    die("connections", (int)c);
                left += c;
            }
            if (left == 0)
                break;
            if (toe_now_ns() > deadline) {
                fprintf(stderr, "%s: %" PRId64 " connections still closing after 30 s\n", prog,
                        left);
                return 1;
            }
            sched_yield();
        }
    }

    for (i = 0; i < nq; i++) {
        int rc = toe_close(queues[i].ep, queues[i].listener);
        if (rc < 0)
            die("close listener", rc);
        toe_endpoint_free(queues[i].ep);
        free(queues[i].conns);
    }
    toe_nic_close(nic);

    printf("served %lu connections, %" PRIu64 " bytes echoed, accepted per queue:", served,
           echoed);
    for (i = 0; i < nq; i++)
        printf(" %u", queues[i].accepted);
    printf("; backpressure: %" PRIu64 " short writes, %" PRIu64 " full buffers\n", short_writes,
           full_buffers);
    return 0;
}
