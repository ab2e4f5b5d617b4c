/*
 * control.c: idle timeouts, cancellation and interruption (zcopy_options)
 * for the blocking calls, on blocking and non-blocking fds.
 *
 * - idle_timeout_ms T: ETIMEDOUT within [T, T + 50 ms] of the last byte
 *   moved, `written` exact, no CPU while waiting; for src's data and for
 *   dst's room; socket->socket, socket->file, file->socket.
 * - cancel_fd: ECANCELED within 20 ms of the fd becoming readable; the fd
 *   is never read (one eventfd cancels 8 transfers).
 * - ZCOPY_OPT_EINTR: a signal (handler without SA_RESTART) ends the call
 *   with EINTR within 20 ms; calling again with remain - written continues
 *   the stream, also when bytes were in flight; a signal every 3 ms during
 *   48 MiB to a slow reader loses, repeats or reorders nothing.
 * - a trickling peer that never trips the timeout; EINVAL for bad options.
 *
 * The figures (latency from deadline/cancel/signal to return, median and
 * max; CPU while waiting) are printed as "# figures" lines.
 */
#include "zc_test.h"
#include <sys/eventfd.h>

typedef zcopy_result (*opts_fn)(int, int, int64_t, const zcopy_options *);

/* Latency samples in ms, per kind, for the figures. */
enum { L_TIMEOUT, L_CANCEL, L_EINTR, L_COUNT };
static const char *const lat_name[] = { "idle timeout (return - deadline)", "cancel (return - eventfd write)",
                                        "EINTR (return - pthread_kill)" };
static double lat[L_COUNT][256];
static int nlat[L_COUNT];
static double max_wait_cpu_ms;

static void sample(int kind, double ms)
{
    if (nlat[kind] < 256)
        lat[kind][nlat[kind]++] = ms;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* A scale for bounds under valgrind. */
static double slack(void) { return zt_valgrind() ? 10.0 : 1.0; }

static void on_usr1(int sig) { (void)sig; }

/* ---------- a call in its own thread ---------- */

struct call {
    pthread_t th;
    opts_fn fn;
    int dst, src;
    int64_t remain;
    zcopy_options o;
    const zcopy_options *opts;
    zcopy_result r;
    double t_start, t_ret, cpu;
    volatile int started;
};

static void *call_main(void *arg)
{
    struct call *c = arg;
    double c0;
    c->t_start = zt_now();
    c0 = zt_thread_cpu();
    c->started = 1;
    c->r = c->fn(c->dst, c->src, c->remain, c->opts);
    c->cpu = zt_thread_cpu() - c0;
    c->t_ret = zt_now();
    return NULL;
}

static void call_start(struct call *c, opts_fn fn, int dst, int src, int64_t remain, int64_t timeout_ms, int cancel_fd,
                       unsigned flags)
{
    memset(c, 0, sizeof *c);
    c->fn = fn;
    c->dst = dst;
    c->src = src;
    c->remain = remain;
    zcopy_options_init(&c->o);
    c->o.idle_timeout_ms = timeout_ms;
    c->o.cancel_fd = cancel_fd;
    c->o.flags = flags;
    c->opts = &c->o;
    if (pthread_create(&c->th, NULL, call_main, c))
        DIE("pthread_create");
    while (!c->started)
        usleep(100);
}

/* ---------- endpoints ---------- */

enum ep { E_TCP, E_UNIX, E_FILE };
static const char *const ep_name[] = { "tcp", "unix", "file" };

static void stream_pair(int kind, int fds[2])
{
    if (kind == E_TCP)
        zt_tcp_pair(fds);
    else
        zt_unix_pair(fds);
}

static void small_buffers(int snd, int rcv)
{
    int small = 16384;
    setsockopt(snd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    setsockopt(rcv, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
}

static int nonblock_of(int fd) { return (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0; }

/* ---------- idle timeout, waiting for src ---------- */

#define T_MS 200

static void timeout_src(const char *fname, opts_fn fn, int sk, int dk, int nb)
{
    char label[200];
    unsigned char data[5000], *got;
    int s[2], d[2] = { -1, -1 }, dst;
    struct call c;
    struct zt_reader rd;
    double el;
    snprintf(label, sizeof label, "%s %s->%s, %s src silent after 5000 bytes, idle_timeout_ms %d", fname,
             ep_name[sk], ep_name[dk], nb ? "non-blocking" : "blocking", T_MS);
    zt_fill(data, sizeof data, 41);
    stream_pair(sk, s);
    if (dk == E_FILE) {
        dst = zt_tmpfile();
    } else {
        stream_pair(dk, d);
        dst = d[0];
        zt_reader_start(&rd, d[1], sizeof data + 16, 0);
    }
    zt_set_nonblock(s[1], nb);
    zt_write_all(s[0], data, sizeof data);
    call_start(&c, fn, dst, s[1], ZCOPY_ALL, T_MS, -1, 0);
    zt_join(c.th, 10, label);
    el = (c.t_ret - c.t_start) * 1e3;
    CHECK(c.r.handled && c.r.error == ETIMEDOUT && c.r.written == (long long)sizeof data,
          "%s: ETIMEDOUT with the 5000 bytes: " ZT_RES_FMT, label, ZT_RES_ARGS(c.r));
    CHECK(el >= T_MS && el <= (T_MS + 50) * slack(), "%s: returned after %.1f ms (window [%d, %d])", label, el, T_MS,
          T_MS + 50);
    CHECK(c.cpu * 1e3 < 20 * slack(), "%s: %.2f ms CPU while waiting", label, c.cpu * 1e3);
    CHECK(nonblock_of(s[1]) == nb, "%s: src's O_NONBLOCK as before", label);
    sample(L_TIMEOUT, el - T_MS);
    if (c.cpu * 1e3 > max_wait_cpu_ms)
        max_wait_cpu_ms = c.cpu * 1e3;
    if (dk == E_FILE) {
        got = malloc(sizeof data + 1);
        CHECK(zt_pread_all(dst, got, sizeof data + 1) == sizeof data && memcmp(got, data, sizeof data) == 0,
              "%s: the file holds exactly those bytes", label);
        free(got);
        close(dst);
    } else {
        close(d[0]);
        zt_join(rd.th, 10, "reader");
        CHECK(rd.got == sizeof data && memcmp(rd.buf, data, sizeof data) == 0, "%s: dst got exactly those bytes",
              label);
        free(rd.buf);
        close(d[1]);
    }
    close(s[0]);
    close(s[1]);
}

/* ---------- idle timeout, waiting for dst's room ---------- */

static void timeout_dst(const char *fname, opts_fn fn, int sk, int nb)
{
    char label[200];
    size_t n = 8 << 20;
    unsigned char *data = zt_random_buf(n, 42), *got = malloc(n);
    int s[2] = { -1, -1 }, d[2], src;
    struct zt_writer w;
    struct call c;
    double el;
    size_t have;
    snprintf(label, sizeof label, "%s %s->tcp, %s dst whose peer stops reading, idle_timeout_ms %d", fname,
             ep_name[sk], nb ? "non-blocking" : "blocking", T_MS);
    if (sk == E_FILE) {
        src = zt_file_with(data, n);
    } else {
        stream_pair(sk, s);
        src = s[1];
        zt_writer_start_shut(&w, s[0], data, n, 0);
    }
    zt_tcp_pair(d);
    small_buffers(d[0], d[1]);
    zt_set_nonblock(d[0], nb);
    call_start(&c, fn, d[0], src, ZCOPY_ALL, T_MS, -1, 0);
    zt_join(c.th, 10, label);
    el = (c.t_ret - c.t_start) * 1e3;
    CHECK(c.r.handled && c.r.error == ETIMEDOUT && c.r.written > 0 && c.r.written < (long long)n,
          "%s: ETIMEDOUT with the bytes so far: " ZT_RES_FMT, label, ZT_RES_ARGS(c.r));
    CHECK(el >= T_MS && el <= (T_MS + 50) * slack() + 100, "%s: returned after %.1f ms (stall begins at once)", label,
          el);
    CHECK(c.cpu * 1e3 < 30 * slack(), "%s: %.2f ms CPU (filling the buffer, then waiting)", label, c.cpu * 1e3);
    CHECK(nonblock_of(d[0]) == nb, "%s: dst's O_NONBLOCK as before", label);
    close(d[0]);
    have = zt_read_full(d[1], got, n);
    CHECK(c.r.written >= 0 && have == (size_t)c.r.written && memcmp(got, data, have) == 0,
          "%s: the peer finds exactly the %lld bytes reported (found %zu)", label, (long long)c.r.written, have);
    if (sk != E_FILE) {
        close(s[1]); /* unblocks the writer */
        zt_join(w.th, 20, "writer");
        close(s[0]);
    } else {
        close(src);
    }
    close(d[1]);
    free(data);
    free(got);
}

/* ---------- cancel ---------- */

struct canceller {
    pthread_t th;
    int efd;
    int delay_ms;
    double t;
};

static void *cancel_main(void *arg)
{
    struct canceller *k = arg;
    uint64_t one = 1;
    usleep((useconds_t)k->delay_ms * 1000);
    k->t = zt_now();
    if (write(k->efd, &one, sizeof one) != sizeof one)
        DIE("eventfd write");
    return NULL;
}

static void cancel_case(const char *fname, opts_fn fn, int stall_dst, int nb)
{
    char label[200];
    size_t n = 8 << 20;
    unsigned char *data = zt_random_buf(n, 43);
    int s[2], d[2], efd = eventfd(0, EFD_CLOEXEC);
    struct call c;
    struct canceller k;
    uint64_t v = 0;
    double l;
    snprintf(label, sizeof label, "%s tcp->tcp, %s, waiting for %s, cancel_fd (eventfd) written after 100 ms", fname,
             nb ? "non-blocking" : "blocking", stall_dst ? "dst's room" : "src's data");
    if (efd < 0)
        DIE("eventfd");
    zt_tcp_pair(s);
    zt_tcp_pair(d);
    small_buffers(d[0], d[1]);
    zt_set_nonblock(s[1], nb);
    zt_set_nonblock(d[0], nb);
    if (stall_dst)
        zt_write_all(s[0], data, 1 << 20); /* more than dst can take */
    call_start(&c, fn, d[0], s[1], ZCOPY_ALL, 0, efd, 0);
    memset(&k, 0, sizeof k);
    k.efd = efd;
    k.delay_ms = 100;
    if (pthread_create(&k.th, NULL, cancel_main, &k))
        DIE("pthread_create");
    zt_join(c.th, 10, label);
    zt_join(k.th, 10, "canceller");
    l = (c.t_ret - k.t) * 1e3;
    CHECK(c.r.handled && c.r.error == ECANCELED, "%s: ECANCELED: " ZT_RES_FMT, label, ZT_RES_ARGS(c.r));
    CHECK(l >= 0 && l < 20 * slack(), "%s: returned %.2f ms after the cancel", label, l);
    CHECK(c.cpu * 1e3 < 30 * slack(), "%s: %.2f ms CPU", label, c.cpu * 1e3);
    CHECK(read(efd, &v, sizeof v) == sizeof v && v == 1, "%s: the eventfd was never read (counter %llu)", label,
          (unsigned long long)v);
    sample(L_CANCEL, l);
    close(efd);
    close(s[0]);
    close(s[1]);
    close(d[0]);
    close(d[1]);
    free(data);
}

/* One eventfd cancels 8 transfers at once. */
struct many {
    struct call c;
    int s[2], d[2];
};

static void cancel_many(void)
{
    struct many m[8];
    int efd = eventfd(0, EFD_CLOEXEC), i, ok = 1;
    uint64_t one = 1, v = 0;
    double t, worst = 0;
    if (efd < 0)
        DIE("eventfd");
    for (i = 0; i < 8; i++) {
        zt_tcp_pair(m[i].s);
        zt_unix_pair(m[i].d);
        zt_set_nonblock(m[i].s[1], i & 1);
        call_start(&m[i].c, zcopy_copy_opts, m[i].d[0], m[i].s[1], ZCOPY_ALL, 0, efd, 0);
    }
    usleep(100000);
    t = zt_now();
    if (write(efd, &one, sizeof one) != sizeof one)
        DIE("eventfd write");
    for (i = 0; i < 8; i++) {
        double l;
        zt_join(m[i].c.th, 10, "one of 8");
        l = (m[i].c.t_ret - t) * 1e3;
        ok &= m[i].c.r.error == ECANCELED && m[i].c.r.written == 0;
        if (l > worst)
            worst = l;
        sample(L_CANCEL, l);
        close(m[i].s[0]);
        close(m[i].s[1]);
        close(m[i].d[0]);
        close(m[i].d[1]);
    }
    CHECK(ok, "8 transfers, one eventfd: all ECANCELED");
    CHECK(worst < 20 * slack(), "8 transfers, one eventfd: the last returned %.2f ms after the write", worst);
    CHECK(read(efd, &v, sizeof v) == sizeof v && v == 1, "8 transfers, one eventfd: never read (counter %llu)",
          (unsigned long long)v);
    close(efd);
}

/* ---------- EINTR ---------- */

/* A signal while waiting for src, then while bytes are in flight to a
 * stalled dst; each time the call is resumed with remain - written, from
 * the same thread (bytes in flight are kept per thread). */
struct resumer {
    pthread_t th;
    opts_fn fn;
    int dst, src;
    int64_t left;
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
        usleep(60000);
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

/* Cancel and EINTR with a file on one side: file -> tcp (waiting for the
 * stalled dst's room) and tcp -> file (waiting for src's data). After the
 * signal the same thread resumes with remain - written to the end. */
struct pair_job {
    opts_fn fn;
    int dst, src, efd;
    int64_t left;
    zcopy_result first, rest;
    double t_first;
    volatile int phase; /* 1: in the first call, 2: first returned, 3: done */
    volatile int go_on;
};

static void *pair_main(void *arg)
{
    struct pair_job *j = arg;
    zcopy_options o;
    zcopy_options_init(&o);
    o.flags = ZCOPY_OPT_EINTR;
    o.cancel_fd = j->efd;
    j->phase = 1;
    j->first = j->fn(j->dst, j->src, j->left, &o);
    j->t_first = zt_now();
    j->left -= j->first.written;
    j->phase = 2;
    while (!j->go_on)
        usleep(500);
    if (j->efd < 0) {
        memset(&j->rest, 0, sizeof j->rest);
        while (j->left > 0) {
            zcopy_result r = j->fn(j->dst, j->src, j->left, &o);
            j->left -= r.written;
            j->rest.written += r.written;
            j->rest.error = r.error;
            if (r.error != EINTR && (r.error != 0 || r.written == 0))
                break;
        }
    }
    j->phase = 3;
    return NULL;
}

static void file_pair(const char *fname, opts_fn fn, int file_src, int nb, int cancel)
{
    char label[200];
    size_t n = 8 << 20;
    unsigned char *data = zt_random_buf(n, 47), *got = malloc(n + 1);
    int s[2], file, efd = cancel ? eventfd(0, EFD_CLOEXEC) : -1;
    struct pair_job j;
    pthread_t th;
    struct zt_reader rd;
    double t, l;
    snprintf(label, sizeof label, "%s %s, %s socket, %s while waiting for %s", fname,
             file_src ? "file->tcp" : "tcp->file", nb ? "non-blocking" : "blocking",
             cancel ? "cancel" : "ZCOPY_OPT_EINTR signal", file_src ? "dst's room" : "src's data");
    zt_tcp_pair(s);
    memset(&j, 0, sizeof j);
    j.fn = fn;
    j.efd = efd;
    j.left = (int64_t)n;
    if (file_src) {
        file = zt_file_with(data, n);
        small_buffers(s[1], s[0]);
        zt_set_nonblock(s[1], nb);
        j.dst = s[1];
        j.src = file;
    } else {
        file = zt_tmpfile();
        zt_set_nonblock(s[1], nb);
        j.dst = file;
        j.src = s[1];
    }
    if (pthread_create(&th, NULL, pair_main, &j))
        DIE("pthread_create");
    usleep(100000);
    t = zt_now();
    if (cancel) {
        uint64_t one = 1;
        if (write(efd, &one, sizeof one) != sizeof one)
            DIE("eventfd write");
    } else {
        pthread_kill(th, SIGUSR1);
    }
    while (j.phase < 2 && zt_now() - t < 5)
        usleep(200);
    l = (j.t_first - t) * 1e3;
    CHECK(j.phase >= 2 && j.first.error == (cancel ? ECANCELED : EINTR), "%s: %s: " ZT_RES_FMT, label,
          cancel ? "ECANCELED" : "EINTR", ZT_RES_ARGS(j.first));
    CHECK(l >= 0 && l < 20 * slack(), "%s: returned %.2f ms after it", label, l);
    sample(cancel ? L_CANCEL : L_EINTR, l);
    if (file_src) {
        zt_reader_start(&rd, s[0], n + 16, 0);
        j.go_on = 1;
        zt_join(th, 30, label);
        if (!cancel) {
            close(s[1]);
            zt_join(rd.th, 20, "reader");
            CHECK(j.left == 0 && rd.got == n && memcmp(rd.buf, data, n) == 0,
                  "%s: resumed, the peer got every byte once, in order (%zu of %zu)", label, rd.got, n);
        } else {
            close(s[1]);
            zt_join(rd.th, 20, "reader");
            CHECK(rd.got == (size_t)j.first.written && memcmp(rd.buf, data, rd.got) == 0,
                  "%s: the peer got exactly the %lld bytes reported", label, (long long)j.first.written);
        }
        free(rd.buf);
    } else {
        j.go_on = 1;
        if (!cancel)
            zt_write_all(s[0], data, n);
        shutdown(s[0], SHUT_WR);
        zt_join(th, 30, label);
        if (!cancel)
            CHECK(j.left == 0 && zt_pread_all(file, got, n + 1) == n && memcmp(got, data, n) == 0,
                  "%s: resumed, the file holds every byte once, in order", label);
        else
            CHECK(zt_fsize(file) == 0 && j.first.written == 0, "%s: nothing was written", label);
        close(s[1]);
    }
    if (cancel) {
        uint64_t v = 0;
        CHECK(read(efd, &v, sizeof v) == sizeof v && v == 1, "%s: the eventfd was never read", label);
        close(efd);
    }
    close(file);
    close(s[0]);
    free(data);
    free(got);
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

/* ---------- trickle, bad options, NULL options ---------- */

struct trickler {
    pthread_t th;
    int fd, count, every_ms;
};

static void *trickle_main(void *arg)
{
    struct trickler *t = arg;
    int i;
    for (i = 0; i < t->count; i++) {
        unsigned char b = (unsigned char)i;
        usleep((useconds_t)t->every_ms * 1000);
        if (write(t->fd, &b, 1) != 1)
            break;
    }
    shutdown(t->fd, SHUT_WR);
    return NULL;
}

static void trickle(int nb)
{
    int s[2], d[2], i, ok = 1;
    struct trickler t;
    zcopy_options o;
    zcopy_result r;
    unsigned char got[64];
    zt_tcp_pair(s);
    zt_unix_pair(d);
    zt_set_nonblock(s[1], nb);
    t.fd = s[0];
    t.count = 12;
    t.every_ms = T_MS / 4;
    if (pthread_create(&t.th, NULL, trickle_main, &t))
        DIE("pthread_create");
    zcopy_options_init(&o);
    o.idle_timeout_ms = T_MS;
    r = zcopy_copy_opts(d[0], s[1], ZCOPY_ALL, &o);
    zt_join(t.th, 10, "trickler");
    CHECK(zt_ok(r, 12), "trickling peer (%s src, a byte every %d ms for %d ms, idle timeout %d ms): completes: " ZT_RES_FMT,
          nb ? "non-blocking" : "blocking", T_MS / 4, 12 * T_MS / 4, T_MS, ZT_RES_ARGS(r));
    close(d[0]);
    CHECK(zt_read_full(d[1], got, sizeof got) == 12, "trickling peer: 12 bytes arrived");
    for (i = 0; i < 12; i++)
        ok &= got[i] == (unsigned char)i;
    CHECK(ok, "trickling peer: in order");
    close(d[1]);
    close(s[0]);
    close(s[1]);
}

static void bad_options(void)
{
    static const struct {
        const char *what;
        uint32_t size, flags;
        int64_t timeout;
        int32_t cancel, reserved;
        int want;
    } bad[] = {
        { "size 16", 16, 0, 0, -1, 0, EINVAL },       { "size 32", 32, 0, 0, -1, 0, EINVAL },
        { "unknown flag 4", 24, 4, 0, -1, 0, EINVAL }, { "flag bit 31", 24, 1u << 31, 0, -1, 0, EINVAL },
        { "reserved 1", 24, 0, 0, -1, 1, EINVAL },    { "timeout -1", 24, 0, -1, -1, 0, EINVAL },
        { "cancel_fd -2", 24, 0, 0, -2, 0, EINVAL },  { "cancel_fd closed", 24, 0, 0, 999, 0, EBADF },
    };
    opts_fn fns[] = { zcopy_copy_opts, zcopy_splice_opts, zcopy_sendfile_opts, zcopy_copy_file_range_opts };
    const char *names[] = { "zcopy_copy_opts", "zcopy_splice_opts", "zcopy_sendfile_opts",
                            "zcopy_copy_file_range_opts" };
    size_t i, f;
    unsigned char data[100], got[200];
    int s[2], d[2];
    zt_fill(data, sizeof data, 46);
    zt_unix_pair(s);
    zt_unix_pair(d);
    zt_set_nonblock(s[1], 1);
    zt_write_all(s[0], data, sizeof data);
    for (f = 0; f < 4; f++)
        for (i = 0; i < sizeof bad / sizeof bad[0]; i++) {
            zcopy_options o;
            zcopy_result r;
            o.size = bad[i].size;
            o.flags = bad[i].flags;
            o.idle_timeout_ms = bad[i].timeout;
            o.cancel_fd = bad[i].cancel;
            o.reserved = bad[i].reserved;
            errno = 0;
            r = fns[f](d[0], s[1], 100, &o);
            CHECK(r.error == bad[i].want && r.written == 0 && errno == bad[i].want, "%s, %s: %s, nothing moved: " ZT_RES_FMT,
                  names[f], bad[i].what, strerror(bad[i].want), ZT_RES_ARGS(r));
        }
    CHECK(read(s[1], got, sizeof got) == (ssize_t)sizeof data, "bad options: src still holds its 100 bytes");
    /* NULL options: exactly zcopy_copy */
    zt_write_all(s[0], data, sizeof data);
    shutdown(s[0], SHUT_WR);
    {
        zcopy_result r = zcopy_copy_opts(d[0], s[1], ZCOPY_ALL, NULL);
        CHECK(zt_ok(r, 100) && r.method == ZCOPY_METHOD_SPLICE, "NULL options: as zcopy_copy: " ZT_RES_FMT,
              ZT_RES_ARGS(r));
    }
    /* defaults: as plain */
    {
        zcopy_options o;
        zcopy_options_init(&o);
        CHECK(o.size == 24 && o.flags == 0 && o.idle_timeout_ms == 0 && o.cancel_fd == -1 && o.reserved == 0,
              "zcopy_options_init: size 24, flags 0, no timeout, cancel_fd -1");
    }
    {
        int efd = eventfd(1, EFD_CLOEXEC);
        zcopy_options o;
        zcopy_result r;
        int p[2];
        zt_unix_pair(p);
        zt_write_all(p[0], data, sizeof data);
        zcopy_options_init(&o);
        o.cancel_fd = efd;
        r = zcopy_copy_opts(d[0], p[1], ZCOPY_ALL, &o);
        CHECK(r.error == ECANCELED && r.written == 0, "a cancel fd readable at the start: ECANCELED, nothing moved: " ZT_RES_FMT,
              ZT_RES_ARGS(r));
        zt_set_nonblock(p[1], 1);
        CHECK(read(p[1], got, sizeof got) == (ssize_t)sizeof data, "and src still holds its bytes");
        close(p[0]);
        close(p[1]);
        close(efd);
    }
    close(s[0]);
    close(s[1]);
    close(d[0]);
    close(d[1]);
}

static void figures(void)
{
    int k;
    for (k = 0; k < L_COUNT; k++) {
        double *v = lat[k];
        if (!nlat[k])
            continue;
        qsort(v, (size_t)nlat[k], sizeof v[0], cmp_double);
        zt_info("figures: %s: median %.2f ms, max %.2f ms over %d calls", lat_name[k], v[nlat[k] / 2],
                v[nlat[k] - 1], nlat[k]);
    }
    zt_info("figures: CPU of a call waiting %d ms for an idle timeout: at most %.2f ms", T_MS, max_wait_cpu_ms);
}

int main(void)
{
    struct sigaction sa;
    int nb;
    zt_start("control", 240);
    signal(SIGPIPE, SIG_IGN); /* writer threads whose reader goes away */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART */
    if (sigaction(SIGUSR1, &sa, NULL) < 0)
        DIE("sigaction");

    for (nb = 0; nb < 2; nb++) {
        timeout_src("zcopy_copy_opts", zcopy_copy_opts, E_TCP, E_TCP, nb);
        timeout_src("zcopy_copy_opts", zcopy_copy_opts, E_UNIX, E_FILE, nb);
        timeout_src("zcopy_splice_opts", zcopy_splice_opts, E_TCP, E_UNIX, nb);
        timeout_dst("zcopy_copy_opts", zcopy_copy_opts, E_FILE, nb);
        timeout_dst("zcopy_copy_opts", zcopy_copy_opts, E_UNIX, nb);
        timeout_dst("zcopy_sendfile_opts", zcopy_sendfile_opts, E_FILE, nb);
        cancel_case("zcopy_copy_opts", zcopy_copy_opts, 0, nb);
        cancel_case("zcopy_copy_opts", zcopy_copy_opts, 1, nb);
        cancel_case("zcopy_splice_opts", zcopy_splice_opts, 1, nb);
        eintr_case("zcopy_copy_opts", zcopy_copy_opts, nb, 0);
        eintr_case("zcopy_copy_opts", zcopy_copy_opts, nb, 1);
        eintr_case("zcopy_splice_opts", zcopy_splice_opts, nb, 1);
        trickle(nb);
        file_pair("zcopy_copy_opts", zcopy_copy_opts, 1, nb, 1);
        file_pair("zcopy_copy_opts", zcopy_copy_opts, 1, nb, 0);
        file_pair("zcopy_copy_opts", zcopy_copy_opts, 0, nb, 1);
        file_pair("zcopy_copy_opts", zcopy_copy_opts, 0, nb, 0);
        file_pair("zcopy_sendfile_opts", zcopy_sendfile_opts, 1, nb, 0);
    }
    cancel_many();
    signal_storm();
    bad_options();
    figures();
    zcopy_pool_drain();
    return zt_finish();
}
