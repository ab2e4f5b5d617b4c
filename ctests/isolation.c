/*
 * isolation.c: a transfer that fails mid-way (the peer closes with data
 * still in the pool pipe) discards that pipe; the next transfer on the same
 * thread gets only its own bytes, checked byte for byte. Also for a
 * splicer freed with bytes pending.
 */
#include "relay.h"

#define U(x) ((unsigned long long)(x))

struct closer {
    pthread_t th;
    int fd;
    size_t take;
};

/* Reads `take` bytes, then closes with more data arriving: RST. */
static void *closer_main(void *arg)
{
    struct closer *c = arg;
    unsigned char *buf = malloc(c->take + 1);
    if (buf) {
        zt_read_full(c->fd, buf, c->take);
        free(buf);
    }
    close(c->fd);
    return NULL;
}

static void fail_midway(int round, zcopy_pool_stats *before, zcopy_pool_stats *after, zcopy_result *res)
{
    size_t n = 3 << 20;
    unsigned char *data = zt_random_buf(n, 0xdead0000ULL + (uint64_t)round);
    int s[2], d[2];
    struct zt_writer w;
    struct closer c;
    zt_unix_pair(s);
    zt_tcp_pair(d);
    {
        /* small dst buffers: the splice must still be running when the
         * reader goes away */
        int small = 16384;
        setsockopt(d[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
        setsockopt(d[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    }
    zt_writer_spawn(&w, zt_block_sigpipe_writer, s[0], data, n);
    c.fd = d[1];
    c.take = 1000 + (size_t)round * 50000;
    if (pthread_create(&c.th, NULL, closer_main, &c))
        DIE("pthread_create");
    zcopy_pool_get_stats(before);
    *res = zcopy_splice(d[0], s[1], ZCOPY_ALL);
    zcopy_pool_get_stats(after);
    zt_join(c.th, 20, "closer");
    close(d[0]);
    close(s[1]);
    zt_join(w.th, 20, "writer");
    free(data);
}

int main(void)
{
    int rounds = 8, i, fds_before;
    uint64_t discarded = 0;
    long long checked = 0;
    zt_start("isolation", 100);
    fds_before = zt_fd_count();
    for (i = 0; i < rounds; i++) {
        zcopy_pool_stats a, b;
        zcopy_result r;
        char label[64];
        fail_midway(i, &a, &b, &r);
        CHECK(r.handled && (r.error == EPIPE || r.error == ECONNRESET) && r.written < (3 << 20),
              "round %d: splice to a peer that closed mid-way fails: " ZT_RES_FMT ", discarded +%llu", i, ZT_RES_ARGS(r),
              U(b.discarded - a.discarded));
        CHECK(b.in_use == 0, "round %d: the pipe was given back or closed (in_use %llu)", i, U(b.in_use));
        discarded += b.discarded - a.discarded;
        /* the next transfer on this thread: a known pattern, its own bytes only */
        snprintf(label, sizeof label, "round %d: next transfer", i);
        r = zt_relay(label, zcopy_splice, i % 2 ? K_TCP : K_UNIX, i % 3 ? K_UNIX : K_FILE, 2 << 20, ZCOPY_ALL, 0,
                     0xbeef0000ULL + (uint64_t)i, ZCOPY_METHOD_SPLICE);
        checked += r.written;
    }
    CHECK(discarded >= 1, "pipes holding undelivered bytes were discarded, not pooled (%llu of %d failures)", U(discarded),
          rounds);

    /* A splicer that fails with bytes pending; the next splicer gets only its own bytes. */
    for (i = 0; i < 3; i++) {
        size_t n = 2 << 20;
        unsigned char *data = zt_random_buf(n, 0xfeed00ULL + (uint64_t)i);
        int s[2], d[2];
        zcopy_splicer *sp = zcopy_splicer_new();
        zcopy_result r;
        int64_t pend;
        unsigned char tmp[100];
        zcopy_pool_stats a, b;
        if (!sp)
            DIE("splicer");
        zt_unix_pair(s);
        zt_unix_pair(d);
        zt_set_nonblock(s[1], 1);
        zt_set_nonblock(d[0], 1);
        {
            int small = 4096;
            setsockopt(d[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
            setsockopt(d[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
        }
        zt_write_all(s[0], data, 100000); /* fits the src socket buffer */
        /* dst is small and nobody reads: the splicer keeps bytes pending */
        r = zcopy_splicer_step(sp, d[0], s[1], ZCOPY_ALL);
        pend = zcopy_splicer_pending(sp);
        CHECK(r.error == EAGAIN && zcopy_splicer_wants(sp) == ZCOPY_WANT_WRITE && pend > 0,
              "splicer %d: dst full: " ZT_RES_FMT ", wants %d, %lld bytes pending", i, ZT_RES_ARGS(r),
              zcopy_splicer_wants(sp), (long long)pend);
        zt_read_full(d[1], tmp, sizeof tmp);
        close(d[1]); /* the reader goes away with data unread */
        r = zcopy_splicer_step(sp, d[0], s[1], ZCOPY_ALL);
        pend = zcopy_splicer_pending(sp);
        CHECK((r.error == EPIPE || r.error == ECONNRESET) && pend > 0,
              "splicer %d: dst peer gone: " ZT_RES_FMT ", %lld bytes pending", i, ZT_RES_ARGS(r), (long long)pend);
        zcopy_pool_get_stats(&a);
        zcopy_splicer_free(sp);
        zcopy_pool_get_stats(&b);
        CHECK(b.discarded == a.discarded + 1 && b.in_use == 0,
              "splicer %d: freed with bytes pending: its pipe closed, not pooled (discarded +%llu)", i,
              U(b.discarded - a.discarded));
        close(d[0]);
        close(s[0]);
        close(s[1]);
        free(data);
        {
            char label[64];
            snprintf(label, sizeof label, "after failed splicer %d: next transfer", i);
            r = zt_relay(label, zcopy_splice, K_UNIX, K_TCP, 1 << 20, ZCOPY_ALL, 0, 0xabc000ULL + (uint64_t)i,
                         ZCOPY_METHOD_SPLICE);
            checked += r.written;
        }
    }
    printf("# isolation: %d forced mid-transfer failures + 3 failed splicers; %lld bytes checked after them\n", rounds,
           checked);
    return zt_finish_drained(fds_before);
}
