/*
 * stalled_pipe.c: a regression test for golang/go#75304 (io.Copy from a
 * TCP connection into a pipe whose reader stops reading spun at 100 % CPU:
 * with the pipe full, splice answered EAGAIN and Go waited for the socket,
 * which was readable, not for the pipe). Here a TCP socket with data
 * waiting is spliced into a pipe nobody reads, blocking and non-blocking
 * pipes and sockets, through zcopy_splice and zcopy_copy: over 2 s the
 * calling thread uses under 5 % of one CPU (100 ms), and when the reader
 * finally goes away the call ends with EPIPE and the bytes counted.
 */
#include "zc_test.h"
#include <sys/ioctl.h>

#define STALL 2.0

struct stalled {
    pthread_t th;
    int use_copy;
    int dst, src;
    zcopy_result r;
    double cpu;
    volatile int done;
};

static void *run(void *arg)
{
    struct stalled *s = arg;
    double c0 = zt_thread_cpu();
    s->r = s->use_copy ? zcopy_copy(s->dst, s->src, ZCOPY_ALL) : zcopy_splice(s->dst, s->src, ZCOPY_ALL);
    s->cpu = zt_thread_cpu() - c0;
    s->done = 1;
    return NULL;
}

/* CPU seconds a thread has used so far, read from outside it. */
static double thread_cpu_of(pthread_t th)
{
    clockid_t c;
    struct timespec ts;
    if (pthread_getcpuclockid(th, &c) != 0 || clock_gettime(c, &ts) != 0)
        return -1;
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void one(int use_copy, int pipe_nonblock, int sock_nonblock)
{
    int t[2], p[2];
    struct stalled s;
    struct zt_writer w;
    size_t n = 8 << 20;
    unsigned char *data = zt_random_buf(n, 75304);
    double c0, c1, limit = zt_valgrind() ? 0.5 : 0.1;
    const char *what = use_copy ? "zcopy_copy" : "zcopy_splice";
    zt_tcp_pair(t);
    zt_pipe(p);
    zt_set_nonblock(p[1], pipe_nonblock);
    zt_set_nonblock(t[1], sock_nonblock);
    /* More than the pipe and the socket buffers hold: the writer blocks
     * too, so once the pipe is full nothing can move. */
    zt_writer_start(&w, t[0], data, n, 0, 0);
    memset(&s, 0, sizeof s);
    s.use_copy = use_copy;
    s.dst = p[1];
    s.src = t[1];
    if (pthread_create(&s.th, NULL, run, &s) != 0)
        DIE("pthread_create\n");
    usleep(300000); /* the pipe fills */
    c0 = thread_cpu_of(s.th);
    usleep((useconds_t)(STALL * 1e6));
    c1 = thread_cpu_of(s.th);
    CHECK(!s.done && c0 >= 0 && c1 - c0 < limit,
          "%s tcp -> pipe (%s pipe, %s socket) whose reader stalls: waits without spinning, %.1f ms CPU over %.0f s "
          "(limit %.0f ms)",
          what, pipe_nonblock ? "non-blocking" : "blocking", sock_nonblock ? "non-blocking" : "blocking",
          (c1 - c0) * 1000, STALL, limit * 1000);
    /* The reader goes away: the call ends, and what reached the pipe is
     * counted (at least what it holds; the kernel may have taken more). */
    {
        int held = 0;
        ioctl(p[0], FIONREAD, &held);
        close(p[0]);
        zt_join(s.th, 10, "stalled call");
        CHECK(s.r.error == EPIPE && s.r.written >= held && held > 0,
              "%s: the reader gone, the call ends with EPIPE, %d bytes held counted: " ZT_RES_FMT, what, held,
              ZT_RES_ARGS(s.r));
    }
    shutdown(t[1], SHUT_RDWR);
    close(t[1]);
    zt_join(w.th, 10, "writer");
    close(t[0]);
    close(p[1]);
    free(data);
}

int main(void)
{
    int k;
    zt_start("stalled_pipe", 120);
    signal(SIGPIPE, SIG_IGN);
    /* Both calls, each fd blocking and non-blocking (four of the eight
     * combinations, each flag on each side at least once per call). */
    for (k = 0; k < 4; k++)
        one(k & 1, (k >> 1) & 1, (k & 1) ^ ((k >> 1) & 1));
    return zt_finish();
}
