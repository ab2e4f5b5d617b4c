/*
 * control.h: what the control_* programs share (zcopy_options: idle
 * timeouts, cancellation, interruption). A call run in its own thread with
 * its timing and CPU, the socket endpoints, the latency samples printed as
 * "# figures" lines, and the start every program makes (SIGPIPE ignored,
 * a SIGUSR1 handler without SA_RESTART).
 */
#ifndef CONTROL_H
#define CONTROL_H
#include "zc_test.h"
#include <sys/eventfd.h>

typedef zcopy_result (*opts_fn)(int, int, int64_t, const zcopy_options *);

/* Latency samples in ms, per kind, for the figures. */
enum { L_TIMEOUT, L_CANCEL, L_EINTR, L_COUNT };
static const char *const lat_name[] = { "idle timeout (return - deadline)", "cancel (return - eventfd write)",
                                        "EINTR (return - pthread_kill)" };
static double lat[L_COUNT][256];
static int nlat[L_COUNT];

static inline void sample(int kind, double ms)
{
    if (nlat[kind] < 256)
        lat[kind][nlat[kind]++] = ms;
}

static inline int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* A scale for bounds under valgrind. */
static inline double slack(void) { return zt_valgrind() ? 10.0 : 1.0; }

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

static inline void *call_main(void *arg)
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

static inline void call_start(struct call *c, opts_fn fn, int dst, int src, int64_t remain, int64_t timeout_ms, int cancel_fd,
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

static inline void stream_pair(int kind, int fds[2])
{
    if (kind == E_TCP)
        zt_tcp_pair(fds);
    else
        zt_unix_pair(fds);
}

static inline void small_buffers(int snd, int rcv)
{
    int small = 16384;
    setsockopt(snd, SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    setsockopt(rcv, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
}

static inline int nonblock_of(int fd) { return (fcntl(fd, F_GETFL) & O_NONBLOCK) != 0; }

#define T_MS 200

static inline void figures(void)
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
}

/* The start of every control_* program. */
static inline void control_start(const char *name)
{
    struct sigaction sa;
    zt_start(name, 240);
    signal(SIGPIPE, SIG_IGN); /* writer threads whose reader goes away */
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART */
    if (sigaction(SIGUSR1, &sa, NULL) < 0)
        DIE("sigaction");
}

/* The end of every control_* program. */
static inline int control_finish(void)
{
    figures();
    zcopy_pool_drain();
    return zt_finish();
}
#endif
