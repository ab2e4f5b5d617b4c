/*
 * load.c: 64 threads x 200 transfers of random sizes (1 B to 4 MiB,
 * log-uniform) over socket pairs, TCP connections, pipes and files, every
 * mechanism mixed (pooled splice, direct splice, sendfile,
 * copy_file_range, zcopy_copy, the non-blocking splicer); every byte is
 * checked. Afterwards: in_use 0, idle <= max_idle, created + reused ==
 * the number of pipe acquisitions made, and after zcopy_pool_drain() the
 * process's open fds equal the count before.
 *
 * Size: by default the full 64 x 200 (about 10 s on 2 cores).
 * ZCOPY_LOAD_SCALE (a factor on the 200 transfers per thread) shrinks or
 * grows it; ZCOPY_SOAK=1 is a longer soak (scale 5: 64 x 1000). Under
 * valgrind the default is 64 x 1 with sizes up to 256 KiB.
 */
#include "relay.h"
#include <poll.h>

#define THREADS 64
#define U(x) ((unsigned long long)(x))

static int per_thread;
static size_t max_size;

struct worker {
    pthread_t th;
    int id;
    long long bytes;       /* bytes checked */
    long long transfers;
    long long pool_acq;    /* calls that borrow exactly one pool pipe */
    long long by_kind[10];
};

static const char *const kind_names[10] = {
    "splice unix->unix (pool)", "splice tcp->tcp (pool)", "splice tcp->file (pool)",
    "sendfile file->tcp", "copy_file_range file->file", "zcopy_copy unix->tcp (pool)",
    "splice pipe->unix (direct)", "splicer unix->unix (non-blocking)", "zcopy_copy file->pipe",
    "zcopy_copy file->file",
};

/* A non-blocking relay with one splicer, driven by poll. */
static zcopy_result splicer_relay(int dst, int src, int64_t remain)
{
    zcopy_splicer *s = zcopy_splicer_new();
    zcopy_result total, r;
    memset(&total, 0, sizeof total);
    total.handled = true;
    total.method = ZCOPY_METHOD_SPLICE;
    if (!s) {
        total.error = errno;
        return total;
    }
    zt_set_nonblock(dst, 1);
    zt_set_nonblock(src, 1);
    for (;;) {
        r = zcopy_splicer_step(s, dst, src, remain);
        total.written += r.written;
        if (r.error == EAGAIN) {
            struct pollfd p;
            int w = zcopy_splicer_wants(s);
            p.fd = w == ZCOPY_WANT_WRITE ? dst : src;
            p.events = w == ZCOPY_WANT_WRITE ? POLLOUT : POLLIN;
            p.revents = 0;
            if (poll(&p, 1, 30000) <= 0) {
                total.error = ETIMEDOUT;
                break;
            }
            continue;
        }
        if (r.error != 0) {
            total.error = r.error;
            total.handled = r.handled;
            break;
        }
        if (zcopy_splicer_eof(s) || (r.written == 0 && zcopy_splicer_wants(s) == 0))
            break;
    }
    zcopy_splicer_free(s);
    zt_set_nonblock(dst, 0);
    return total;
}

static void *worker_main(void *arg)
{
    struct worker *w = arg;
    uint64_t rs = 0x1234567ULL * (uint64_t)(w->id + 1);
    int i;
    for (i = 0; i < per_thread; i++) {
        int kind = (int)(zt_rand_next(&rs) % 10);
        /* log-uniform size in [1, max_size]: a random power of two, then a
         * random point in [2^k, 2^(k+1)) */
        int bits = 0;
        size_t n;
        while (((size_t)1 << (bits + 1)) <= max_size)
            bits++;
        n = (size_t)1 << (zt_rand_next(&rs) % (uint64_t)(bits + 1));
        n += (size_t)(zt_rand_next(&rs) % n);
        uint64_t seed = ((uint64_t)w->id << 32) | (uint64_t)i;
        zcopy_result r;
        char label[96];
        if (n < 1)
            n = 1;
        if (n > max_size)
            n = max_size;
        snprintf(label, sizeof label, "thread %d transfer %d (%s)", w->id, i, kind_names[kind]);
        switch (kind) {
        case 0: r = zt_relay(label, zcopy_splice, K_UNIX, K_UNIX, n, ZCOPY_ALL, 0, seed, ZCOPY_METHOD_SPLICE); w->pool_acq++; break;
        case 1: r = zt_relay(label, zcopy_splice, K_TCP, K_TCP, n, ZCOPY_ALL, 0, seed, ZCOPY_METHOD_SPLICE); w->pool_acq++; break;
        case 2: r = zt_relay(label, zcopy_splice, K_TCP, K_FILE, n, ZCOPY_ALL, 0, seed, ZCOPY_METHOD_SPLICE); w->pool_acq++; break;
        case 3: r = zt_relay(label, zcopy_sendfile, K_FILE, K_TCP, n, ZCOPY_ALL, 0, seed, ZCOPY_METHOD_SENDFILE); break;
        case 4: r = zt_relay(label, zcopy_copy_file_range, K_FILE, K_FILE, n, (int64_t)n, 0, seed, ZCOPY_METHOD_COPY_FILE_RANGE); break;
        case 5: r = zt_relay(label, zcopy_copy, K_UNIX, K_TCP, n, ZCOPY_ALL, 0, seed, ZCOPY_METHOD_SPLICE); w->pool_acq++; break;
        case 6: r = zt_relay(label, zcopy_splice, K_PIPE, K_UNIX, n, ZCOPY_ALL, 0, seed, ZCOPY_METHOD_SPLICE); break;
        case 7: r = zt_relay(label, splicer_relay, K_UNIX, K_UNIX, n, ZCOPY_ALL, 0, seed, ZCOPY_METHOD_SPLICE); w->pool_acq++; break;
        case 8: r = zt_relay(label, zcopy_copy, K_FILE, K_PIPE, n, ZCOPY_ALL, 0, seed, ZCOPY_METHOD_READ_WRITE); break;
        default: r = zt_relay(label, zcopy_copy, K_FILE, K_FILE, n, ZCOPY_ALL, 0, seed, ZCOPY_METHOD_COPY_FILE_RANGE); break;
        }
        w->bytes += r.written;
        w->transfers++;
        w->by_kind[kind]++;
    }
    return NULL;
}

int main(void)
{
    static struct worker ws[THREADS];
    zcopy_pool_stats a, b;
    long long bytes = 0, transfers = 0, acq = 0, by_kind[10];
    double scale = 1.0, t0, el;
    const char *sc = getenv("ZCOPY_LOAD_SCALE");
    int i, k, fds_before;
    uint64_t drained;

    zt_start("load", zt_env_flag("ZCOPY_SOAK") ? 3000 : 110);
    if (zt_env_flag("ZCOPY_SOAK"))
        scale = 5.0;
    else if (sc && *sc)
        scale = atof(sc);
    if (zt_valgrind() && !(sc && *sc) && !zt_env_flag("ZCOPY_SOAK"))
        scale = 0.005;
    per_thread = (int)(200 * scale + 0.5);
    if (per_thread < 1)
        per_thread = 1;
    max_size = zt_valgrind() ? (256u << 10) : (4u << 20);
    zt_relay_quiet = 1;
    printf("# load: %d threads x %d transfers, sizes 1 B..%zu B log-uniform (scale %.3f%s)\n", THREADS, per_thread,
           max_size, scale, zt_env_flag("ZCOPY_SOAK") ? ", soak" : "");

    zcopy_pool_drain();
    fds_before = zt_fd_count();
    zcopy_pool_get_stats(&a);
    t0 = zt_now();
    for (i = 0; i < THREADS; i++) {
        ws[i].id = i;
        if (pthread_create(&ws[i].th, NULL, worker_main, &ws[i]))
            DIE("pthread_create");
    }
    for (i = 0; i < THREADS; i++)
        zt_join(ws[i].th, zt_env_flag("ZCOPY_SOAK") ? 2900 : 100, "load worker");
    el = zt_now() - t0;
    memset(by_kind, 0, sizeof by_kind);
    for (i = 0; i < THREADS; i++) {
        bytes += ws[i].bytes;
        transfers += ws[i].transfers;
        acq += ws[i].pool_acq;
        for (k = 0; k < 10; k++)
            by_kind[k] += ws[i].by_kind[k];
    }
    zcopy_pool_get_stats(&b);
    for (k = 0; k < 10; k++)
        printf("#   %-36s %lld transfers\n", kind_names[k], by_kind[k]);
    printf("# load: %lld transfers, %lld bytes checked byte for byte, %.1f s (%.0f MB/s incl. checking)\n", transfers,
           bytes, el, (double)bytes / el / 1e6);
    printf("# pool: idle %llu in_use %llu created +%llu reused +%llu discarded +%llu; %lld pool acquisitions made\n",
           U(b.idle), U(b.in_use), U(b.created - a.created), U(b.reused - a.reused), U(b.discarded - a.discarded), acq);
    CHECK(zt_failed == 0, "every one of %lld transfers correct (%lld bytes checked)", transfers, bytes);
    CHECK(transfers == (long long)THREADS * per_thread, "all %d x %d transfers ran", THREADS, per_thread);
    CHECK(b.in_use == 0, "afterwards in_use == 0 (%llu)", U(b.in_use));
    CHECK(b.idle <= 16, "idle %llu <= max_idle 16", U(b.idle));
    CHECK((long long)(b.created - a.created + b.reused - a.reused) == acq,
          "created + reused (+%llu) == pipe acquisitions (%lld)", U(b.created - a.created + b.reused - a.reused), acq);
    drained = zcopy_pool_drain();
    CHECK(zt_fd_count() == fds_before, "after zcopy_pool_drain (%llu closed): %d open fds, %d before", U(drained),
          zt_fd_count(), fds_before);
    return zt_finish();
}
