/*
 * control_eintr.c: ZCOPY_OPT_EINTR for the blocking calls: a signal
 * (handler without SA_RESTART) ends the call with EINTR within 20 ms;
 * calling again with remain - written continues the stream, also when bytes
 * were in flight; a signal every 3 ms during 48 MiB to a slow reader loses,
 * repeats or reorders nothing.
 */
#include "control.h"
#include <sys/syscall.h>

/* ---------- EINTR ---------- */

/* A signal while waiting for src, then while bytes are in flight to a
 * stalled dst; each time the call is resumed with remain - written, from
 * the same thread (bytes in flight are kept per thread). */
struct resumer {
    pthread_t th;
    opts_fn fn;
    int dst, src;
    int64_t left;
    volatile pid_t tid;      /* the resuming thread, for its /proc state */
    volatile int calls;      /* calls returned so far */
    volatile int in_call;
    volatile double t_ret;   /* when the last call returned */
    zcopy_result last[64];
    int bad;
};

static void *resumer_main(void *arg)
{
    struct resumer *w = arg;
    zcopy_options o;
    w->tid = (pid_t)syscall(SYS_gettid);
    zcopy_options_init(&o);
    o.flags = ZCOPY_OPT_EINTR;
    while (w->left > 0 && w->calls < 64) {
        zcopy_result r;
        w->in_call = 1;
        r = w->fn(w->dst, w->src, w->left, &o);
        w->t_ret = zt_now();
        w->in_call = 0;
        w->last[w->calls] = r;
        if (r.written < 0 || r.written > w->left || (r.error != 0 && r.error != EINTR))
            w->bad++;
        w->left -= r.written;
        __sync_synchronize();
        w->calls++;
        if (r.error == 0 && r.written == 0)
            break; /* end of stream early: reported by the caller */
    }
    return NULL;
}

/* True once thread `tid` of this process has been asleep (state S in
 * /proc/self/task/TID/stat) for three looks 2 ms apart while inside a
 * call: it is then waiting (for src's data or dst's room), not moving
 * bytes, so a signal now tests the interruption of a wait. A signal sent
 * while the call still moves bytes does not end it (only waits are
 * interrupted), which on a loaded machine made a fixed 60 ms sleep flaky. */
static int asleep_in_call(const struct resumer *w, double limit_s)
{
    char path[64], buf[256];
    double t0 = zt_now();
    int streak = 0;
    snprintf(path, sizeof path, "/proc/self/task/%d/stat", (int)w->tid);
    while (zt_now() - t0 < limit_s) {
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        ssize_t k = fd >= 0 ? read(fd, buf, sizeof buf - 1) : -1;
        char *rp;
        if (fd >= 0)
            close(fd);
        if (k > 0) {
            buf[k] = 0;
            rp = strrchr(buf, ')'); /* the state follows the command name */
            streak = (rp && rp[1] == ' ' && rp[2] == 'S' && w->in_call) ? streak + 1 : 0;
            if (streak >= 3)
                return 1;
        }
        usleep(2000);
    }
    return 0;
}

static void eintr_case(const char *fname, opts_fn fn, int nb, int in_flight)
{
    char label[200];
    size_t n = in_flight ? (4 << 20) : 100000;
    unsigned char *data = zt_random_buf(n, 44);
    int s[2], d[2], round;
    struct resumer w;
    struct zt_writer wr;
    struct zt_reader rd;
    snprintf(label, sizeof label, "%s tcp->tcp, %s, ZCOPY_OPT_EINTR, signal while waiting for %s", fname,
             nb ? "non-blocking" : "blocking", in_flight ? "dst's room, bytes in flight" : "src's data");
    zt_tcp_pair(s);
    zt_tcp_pair(d);
    small_buffers(d[0], d[1]);
    zt_set_nonblock(s[1], nb);
    zt_set_nonblock(d[0], nb);
    /* In flight: all of src is there at once and dst's peer reads nothing
     * yet, so the pipe holds bytes when the signal comes. Else half now,
     * half after the two interrupted calls. */
    zt_writer_start(&wr, s[0], data, in_flight ? n : n / 2, 0, 0);
    memset(&w, 0, sizeof w);
    w.fn = fn;
    w.dst = d[0];
    w.src = s[1];
    w.left = (int64_t)n;
    if (pthread_create(&w.th, NULL, resumer_main, &w))
        DIE("pthread_create");
    for (round = 0; round < 2; round++) {
        double t, l;
        zcopy_result r;
        usleep(20000);
        CHECK(asleep_in_call(&w, 10), "%s, call %d: the call is waiting before the signal", label, round + 1);
        t = zt_now();
        pthread_kill(w.th, SIGUSR1);
        while (w.calls <= round && zt_now() - t < 5)
            usleep(200);
        r = w.last[round];
        l = (w.t_ret - t) * 1e3;
        CHECK(w.calls > round && r.handled && r.error == EINTR, "%s, call %d: EINTR: " ZT_RES_FMT, label, round + 1,
              ZT_RES_ARGS(r));
        CHECK(l >= 0 && l < 20 * slack(), "%s, call %d: returned %.2f ms after the signal", label, round + 1, l);
        sample(L_EINTR, l);
    }
    zt_reader_start(&rd, d[1], n + 16, 0);
    zt_join(wr.th, 20, "writer");
    if (!in_flight)
        zt_write_all(s[0], data + n / 2, n - n / 2);
    shutdown(s[0], SHUT_WR);
    zt_join(w.th, 30, label);
    CHECK(w.bad == 0 && w.left == 0, "%s: %d calls moved all %zu bytes (left %lld)", label, w.calls, n,
          (long long)w.left);
    close(d[0]);
    zt_join(rd.th, 20, "reader");
    CHECK(rd.got == n && memcmp(rd.buf, data, n) == 0,
          "%s: dst got every byte once, in order (%zu of %zu; first difference at %ld)", label, rd.got, n,
          zt_diff(rd.buf, data, rd.got < n ? rd.got : n));
    free(rd.buf);
    close(d[1]);
    close(s[0]);
    close(s[1]);
    free(data);
}
/* A signal every 3 ms during 48 MiB to a slow reader: resume until done. */
struct slow_reader {
    pthread_t th;
    int fd;
    unsigned char *buf;
    size_t cap, got;
};

static void *slow_main(void *arg)
{
    struct slow_reader *r = arg;
    for (;;) {
        size_t want = r->cap - r->got > 65536 ? 65536 : r->cap - r->got;
        ssize_t k = read(r->fd, r->buf + r->got, want ? want : 1);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            break;
        r->got += (size_t)k;
        usleep(200);
    }
    return NULL;
}

struct ticker {
    pthread_t th;
    pthread_t target;
    volatile int stop;
    long sent;
};

static void *tick_main(void *arg)
{
    struct ticker *t = arg;
    while (!t->stop) {
        usleep(3000);
        if (!t->stop) {
            pthread_kill(t->target, SIGUSR1);
            t->sent++;
        }
    }
    return NULL;
}

static void signal_storm(void)
{
    size_t n = (size_t)zt_vg(48L << 20, 4); /* under valgrind still more than the socket buffers hold */
    unsigned char *data = zt_random_buf(n, 45);
    int s[2], d[2];
    struct zt_writer w;
    struct slow_reader r;
    struct ticker tk;
    zcopy_options o;
    int64_t left = (int64_t)n;
    long calls = 0, eintrs = 0, bad = 0;
    double t0 = zt_now();
    zt_unix_pair(s);
    zt_tcp_pair(d);
    zt_writer_start_shut(&w, s[0], data, n, 1 << 20);
    memset(&r, 0, sizeof r);
    r.fd = d[1];
    r.cap = n + 16;
    r.buf = malloc(r.cap);
    if (!r.buf || pthread_create(&r.th, NULL, slow_main, &r))
        DIE("slow reader");
    memset(&tk, 0, sizeof tk);
    tk.target = pthread_self();
    if (pthread_create(&tk.th, NULL, tick_main, &tk))
        DIE("ticker");
    zcopy_options_init(&o);
    o.flags = ZCOPY_OPT_EINTR;
    while (left > 0 && calls < 1000000) {
        zcopy_result x = zcopy_copy_opts(d[0], s[1], left, &o);
        calls++;
        if (x.error == EINTR)
            eintrs++;
        else if (x.error != 0)
            bad++;
        if (x.written < 0 || x.written > left)
            bad++;
        left -= x.written;
        if (x.error == 0 && x.written == 0)
            break; /* early EOF: a bug, reported below */
    }
    tk.stop = 1;
    zt_join(tk.th, 10, "ticker");
    zt_join(w.th, 30, "writer");
    close(d[0]);
    zt_join(r.th, 30, "slow reader");
    CHECK(left == 0 && bad == 0, "48 MiB with a signal every 3 ms: all moved in %ld calls (%ld ended by EINTR, %ld "
                                 "signals, %ld bad results, %.2f s)",
          calls, eintrs, tk.sent, bad, zt_now() - t0);
    CHECK(eintrs > 0, "48 MiB with a signal every 3 ms: signals did interrupt calls (%ld)", eintrs);
    CHECK(r.got == n && memcmp(r.buf, data, n) == 0,
          "48 MiB with a signal every 3 ms: every byte once, in order (got %zu of %zu, first difference at %ld)",
          r.got, n, zt_diff(r.buf, data, r.got < n ? r.got : n));
    free(r.buf);
    free(data);
    close(d[1]);
    close(s[0]);
    close(s[1]);
}

int main(void)
{
    int nb;
    control_start("control_eintr");
    for (nb = 0; nb < 2; nb++) {
        eintr_case("zcopy_copy_opts", zcopy_copy_opts, nb, 0);
        eintr_case("zcopy_copy_opts", zcopy_copy_opts, nb, 1);
        eintr_case("zcopy_splice_opts", zcopy_splice_opts, nb, 1);
    }
    signal_storm();
    return control_finish();
}
