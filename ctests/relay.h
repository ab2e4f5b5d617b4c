/*
 * relay.h: one transfer between two kinds of endpoint (TCP, unix socket,
 * pipe, regular file), checked byte for byte. Used by core.c and goports.c.
 *
 * A stream source is fed by a writer thread that writes `len` bytes and
 * closes its end; after the call the test reads what is left of the source
 * and checks that exactly the bytes past the transfer remain (nothing
 * consumed beyond `remain`). A stream destination is read by a reader
 * thread; after the call a trailer is written to dst (dst still usable) and
 * the reader must get exactly the moved bytes plus the trailer.
 */
#ifndef ZC_RELAY_H
#define ZC_RELAY_H

#include "zc_test.h"

enum zt_kind { K_TCP, K_UNIX, K_PIPE, K_FILE };

static const char *const zt_kind_name[] = { "tcp", "unix", "pipe", "file" };

typedef zcopy_result (*zt_fn)(int dst, int src, int64_t remain);

struct zt_src {
    int kind;
    int fd;
    struct zt_writer w;
};

struct zt_dst {
    int kind;
    int fd;
    struct zt_reader r;
};

/* When set, relay checks print only failures (for the load test). */
static int zt_relay_quiet;
#define RCHECK(cond, ...) (zt_relay_quiet ? QCHECK(cond, __VA_ARGS__) : CHECK(cond, __VA_ARGS__))

#define ZT_TRAILER "|trailer|"
#define ZT_TRAILER_LEN 9

static inline void *zt_block_sigpipe_writer(void *arg)
{
    sigset_t s;
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    return zt_writer_main(arg);
}

static inline void zt_src_open(struct zt_src *s, int kind, const unsigned char *data, size_t len,
                               size_t chunk)
{
    int p[2];
    memset(s, 0, sizeof *s);
    s->kind = kind;
    if (kind == K_FILE) {
        s->fd = zt_file_with(data, len);
        return;
    }
    if (kind == K_TCP)
        zt_tcp_pair(p);
    else if (kind == K_UNIX)
        zt_unix_pair(p);
    else
        zt_pipe(p);
    if (kind == K_PIPE) {
        s->fd = p[0];
        s->w.fd = p[1];
    } else {
        s->fd = p[1];
        s->w.fd = p[0];
    }
    s->w.buf = data;
    s->w.len = len;
    s->w.chunk = chunk;
    s->w.close_after = 1;
    if (pthread_create(&s->w.th, NULL, zt_block_sigpipe_writer, &s->w) != 0)
        DIE("pthread_create");
}

/* Checks that exactly data[moved..len) is left in the source; closes it. */
static inline void zt_src_close(struct zt_src *s, const char *label, const unsigned char *data,
                                size_t len, size_t moved)
{
    if (s->kind == K_FILE) {
        RCHECK(zt_pos(s->fd) == (off_t)moved, "%s: src file position %lld == bytes moved %zu",
              label, (long long)zt_pos(s->fd), moved);
    } else {
        size_t left = len - moved;
        unsigned char *rest = malloc(left + 16);
        size_t got;
        if (!rest)
            DIE("malloc");
        got = zt_read_full(s->fd, rest, left + 16);
        RCHECK(got == left && (left == 0 || memcmp(rest, data + moved, left) == 0),
              "%s: src keeps exactly the %zu bytes not moved (found %zu)", label, left, got);
        free(rest);
        zt_join(s->w.th, 30, "src writer");
    }
    zt_close(&s->fd);
}

static inline void zt_dst_open(struct zt_dst *d, int kind, size_t cap)
{
    int p[2];
    memset(d, 0, sizeof *d);
    d->kind = kind;
    if (kind == K_FILE) {
        d->fd = zt_tmpfile();
        return;
    }
    if (kind == K_TCP)
        zt_tcp_pair(p);
    else if (kind == K_UNIX)
        zt_unix_pair(p);
    else
        zt_pipe(p);
    if (kind == K_PIPE) {
        d->fd = p[1];
        zt_reader_start(&d->r, p[0], cap + ZT_TRAILER_LEN, 1);
    } else {
        d->fd = p[0];
        zt_reader_start(&d->r, p[1], cap + ZT_TRAILER_LEN, 1);
    }
}

/* Writes the trailer, closes dst and checks what arrived. */
static inline void zt_dst_close(struct zt_dst *d, const char *label, const unsigned char *data,
                                size_t moved)
{
    unsigned char *got;
    size_t n;
    int wr = zt_write_all(d->fd, ZT_TRAILER, ZT_TRAILER_LEN);
    RCHECK(wr == 0, "%s: dst still usable after the call (trailer written)", label);
    if (d->kind == K_FILE) {
        RCHECK(zt_pos(d->fd) == (off_t)(moved + ZT_TRAILER_LEN),
              "%s: dst file position %lld == bytes moved %zu + trailer", label,
              (long long)zt_pos(d->fd), moved);
        got = malloc(moved + ZT_TRAILER_LEN + 16);
        if (!got)
            DIE("malloc");
        n = zt_pread_all(d->fd, got, moved + ZT_TRAILER_LEN + 16);
        zt_close(&d->fd);
    } else {
        zt_close(&d->fd);
        zt_join(d->r.th, 30, "dst reader");
        got = d->r.buf;
        n = d->r.got + d->r.extra;
    }
    RCHECK(n == moved + ZT_TRAILER_LEN && memcmp(got, data, moved) == 0 &&
              memcmp(got + moved, ZT_TRAILER, ZT_TRAILER_LEN) == 0,
          "%s: dst got exactly the %zu bytes, byte for byte (got %zu incl. trailer)", label, moved, n);
    free(got);
}

/* One transfer with fn from a `sk` source to a `dk` destination. Returns
 * the result; checks count, error, method and content. */
static inline zcopy_result zt_relay(const char *fname, zt_fn fn, int sk, int dk, size_t len,
                                    int64_t remain, size_t chunk, uint64_t seed, int want_method)
{
    char label[160];
    unsigned char *data = zt_random_buf(len, seed);
    size_t expect = (remain >= 0 && (uint64_t)remain < (uint64_t)len) ? (size_t)remain : len;
    struct zt_src s;
    struct zt_dst d;
    zcopy_result r;
    if (remain == ZCOPY_ALL)
        snprintf(label, sizeof label, "%s %s->%s len=%zu remain=ALL", fname, zt_kind_name[sk],
                 zt_kind_name[dk], len);
    else
        snprintf(label, sizeof label, "%s %s->%s len=%zu remain=%lld", fname, zt_kind_name[sk],
                 zt_kind_name[dk], len, (long long)remain);
    zt_src_open(&s, sk, data, len, chunk);
    zt_dst_open(&d, dk, len);
    r = fn(d.fd, s.fd, remain);
    RCHECK(zt_ok(r, (long long)expect), "%s: " ZT_RES_FMT " (want %zu)", label, ZT_RES_ARGS(r),
          expect);
    if (want_method >= 0)
        RCHECK(r.method == want_method, "%s: method %s (want %s)", label,
              zcopy_method_name(r.method), zcopy_method_name(want_method));
    zt_src_close(&s, label, data, len, r.written > 0 ? (size_t)r.written : 0);
    zt_dst_close(&d, label, data, r.written > 0 ? (size_t)r.written : 0);
    free(data);
    return r;
}

#endif /* ZC_RELAY_H */
