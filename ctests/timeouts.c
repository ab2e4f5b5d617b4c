/*
 * timeouts.c: while waiting on a socket, the socket's SO_RCVTIMEO /
 * SO_SNDTIMEO is honoured: the call gives up with EAGAIN and the bytes
 * moved so far, within 1.5 times the timeout of the last progress
 * (non-blocking and blocking sockets, every mechanism: sendfile, pooled
 * and direct splice, read/write).
 */
#include "relay.h"

typedef zcopy_result (*call_fn)(int dst, int src, int64_t remain);

/* Endpoints besides relay.h's kinds. */
enum { K_DEVNULL = 99, K_DEVZERO = 98 };

/* The bound: 1.5 x the 300 ms timeout (valgrind: 4 x that). */
#define LIMIT (0.45 * (zt_valgrind() ? 4 : 1))

static void set_timeo(int fd, int opt, int ms)
{
    struct timeval tv;
    tv.tv_sec = ms / 1000;
    tv.tv_usec = (ms % 1000) * 1000;
    if (setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof tv) < 0)
        DIE("setsockopt timeo");
}

/* src socket with SO_RCVTIMEO 300 ms; its peer sends `first` bytes and then
 * stays silent (connection open). */
static void rcv_timeout(const char *name, call_fn fn, int src_kind, int dst_kind, int nonblock, size_t first)
{
    unsigned char data[4096];
    int s[2], d[2];
    zcopy_result r;
    double t0, el;
    char label[160];
    size_t got;
    unsigned char in[4096 + 16];
    zt_fill(data, sizeof data, 9);
    snprintf(label, sizeof label, "%s %s->%s, %s src with SO_RCVTIMEO 300 ms, %zu bytes then silence", name,
             zt_kind_name[src_kind], dst_kind == K_DEVNULL ? "/dev/null" : zt_kind_name[dst_kind],
             nonblock ? "non-blocking" : "blocking", first);
    if (src_kind == K_TCP)
        zt_tcp_pair(s);
    else
        zt_unix_pair(s);
    if (dst_kind == K_DEVNULL) {
        d[0] = open("/dev/null", O_WRONLY | O_CLOEXEC);
        d[1] = -1;
    } else if (dst_kind == K_PIPE) {
        int p[2];
        zt_pipe(p);
        d[0] = p[1];
        d[1] = p[0];
    } else if (dst_kind == K_TCP) {
        zt_tcp_pair(d);
    } else {
        zt_unix_pair(d);
    }
    set_timeo(s[1], SO_RCVTIMEO, 300);
    if (nonblock)
        zt_set_nonblock(s[1], 1);
    zt_write_all(s[0], data, first);
    t0 = zt_now();
    r = fn(d[0], s[1], ZCOPY_ALL);
    el = zt_now() - t0;
    CHECK(((fcntl(s[1], F_GETFL) & O_NONBLOCK) != 0) == nonblock, "%s: src's O_NONBLOCK as before the call", label);
    CHECK(r.handled && r.error == EAGAIN && r.written == (long long)first, "%s: EAGAIN with the %zu bytes: " ZT_RES_FMT,
          label, first, ZT_RES_ARGS(r));
    /* Blocking or not, the library (not the kernel) waits, once per
     * stall: the timeout runs from the last progress. */
    CHECK(el >= 0.25 && el < LIMIT, "%s: gave up after %.3f s (timeout 0.3 s, bound %.2f s)", label, el, LIMIT);
    if (d[1] >= 0) {
        close(d[0]);
        got = zt_read_full(d[1], in, sizeof in);
        CHECK(got == first && memcmp(in, data, first) == 0, "%s: dst got exactly those bytes", label);
        close(d[1]);
    } else {
        close(d[0]);
    }
    close(s[0]);
    close(s[1]);
}

/* dst socket with SO_SNDTIMEO 300 ms whose peer never reads. */
static void snd_timeout(const char *name, call_fn fn, int src_kind, int dst_kind, int nonblock)
{
    size_t n = 4 << 20;
    unsigned char *data = zt_random_buf(n, 10);
    unsigned char *in = malloc(n);
    int s[2] = { -1, -1 }, d[2], src;
    int small = 32768;
    zcopy_result r;
    double t0, el;
    char label[160];
    size_t got;
    struct zt_writer w;
    if (!in)
        DIE("malloc");
    snprintf(label, sizeof label, "%s %s->%s, %s dst with SO_SNDTIMEO 300 ms, peer not reading", name,
             src_kind == K_DEVZERO ? "/dev/zero" : zt_kind_name[src_kind], zt_kind_name[dst_kind],
             nonblock ? "non-blocking" : "blocking");
    if (src_kind == K_FILE) {
        src = zt_file_with(data, n);
    } else if (src_kind == K_DEVZERO) {
        src = open("/dev/zero", O_RDONLY | O_CLOEXEC);
        memset(data, 0, n);
    } else {
        if (src_kind == K_PIPE) {
            int p[2];
            zt_pipe(p);
            s[0] = p[1];
            s[1] = p[0];
        } else {
            zt_unix_pair(s);
        }
        src = s[1];
        zt_writer_spawn(&w, zt_block_sigpipe_writer, s[0], data, n);
    }
    if (dst_kind == K_TCP)
        zt_tcp_pair(d);
    else
        zt_unix_pair(d);
    setsockopt(d[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof small);
    setsockopt(d[1], SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    set_timeo(d[0], SO_SNDTIMEO, 300);
    if (nonblock)
        zt_set_nonblock(d[0], 1);
    t0 = zt_now();
    r = fn(d[0], src, ZCOPY_ALL);
    el = zt_now() - t0;
    CHECK(((fcntl(d[0], F_GETFL) & O_NONBLOCK) != 0) == nonblock, "%s: dst's O_NONBLOCK as before the call", label);
    CHECK(r.handled && r.error == EAGAIN && r.written > 0 && r.written < (long long)n,
          "%s: EAGAIN with the bytes so far: " ZT_RES_FMT, label, ZT_RES_ARGS(r));
    /* Blocking or not, the library (not the kernel) waits, once per
     * stall: the timeout runs from the last progress. */
    CHECK(el >= 0.25 && el < LIMIT, "%s: gave up after %.3f s (timeout 0.3 s, bound %.2f s)", label, el, LIMIT);
    close(d[0]);
    got = zt_read_full(d[1], in, n);
    CHECK(r.written >= 0 && got == (size_t)r.written && memcmp(in, data, got) == 0,
          "%s: the peer finds exactly the %lld bytes reported, intact (found %zu)", label, (long long)r.written, got);
    if (src_kind == K_FILE && fn != zcopy_splice)
        CHECK(zt_pos(src) == (off_t)r.written, "%s: src position == bytes written", label);
    close(d[1]);
    close(src);
    if (s[0] >= 0)
        zt_join(w.th, 20, "writer");
    free(in);
    free(data);
}

struct job {
    pthread_t th;
    int snd;
    const char *name;
    call_fn fn;
    int sk, dk;
    size_t first;
    int nb;
};

static void *job_main(void *arg)
{
    struct job *j = arg;
    if (j->snd)
        snd_timeout(j->name, j->fn, j->sk, j->dk, j->nb);
    else
        rcv_timeout(j->name, j->fn, j->sk, j->dk, j->nb, j->first);
    return NULL;
}

int main(void)
{
    static const struct job proto[] = {
        { 0, 0, "zcopy_splice", zcopy_splice, K_UNIX, K_UNIX, 1000, 0 },
        { 0, 0, "zcopy_splice", zcopy_splice, K_TCP, K_TCP, 0, 0 },
        { 0, 0, "zcopy_splice", zcopy_splice, K_TCP, K_UNIX, 4096, 0 },
        { 0, 0, "zcopy_copy", zcopy_copy, K_UNIX, K_TCP, 777, 0 },
        { 0, 0, "zcopy_copy (read/write)", zcopy_copy, K_UNIX, K_DEVNULL, 1000, 0 },
        { 0, 0, "zcopy_splice (direct)", zcopy_splice, K_TCP, K_PIPE, 3000, 0 },
        { 0, 0, "zcopy_copy (direct splice)", zcopy_copy, K_UNIX, K_PIPE, 100, 0 },
        { 0, 0, "zcopy_sendfile (a splice into a pipe)", zcopy_sendfile, K_TCP, K_PIPE, 500, 0 },
        { 0, 1, "zcopy_sendfile", zcopy_sendfile, K_FILE, K_UNIX, 0, 0 },
        { 0, 1, "zcopy_sendfile", zcopy_sendfile, K_FILE, K_TCP, 0, 0 },
        { 0, 1, "zcopy_splice", zcopy_splice, K_UNIX, K_UNIX, 0, 0 },
        { 0, 1, "zcopy_splice", zcopy_splice, K_PIPE, K_TCP, 0, 0 },
        { 0, 1, "zcopy_copy", zcopy_copy, K_FILE, K_TCP, 0, 0 },
        { 0, 1, "zcopy_copy", zcopy_copy, K_UNIX, K_UNIX, 0, 0 },
        { 0, 1, "zcopy_copy (read/write)", zcopy_copy, K_DEVZERO, K_TCP, 0, 0 },
        { 0, 1, "zcopy_copy (direct splice)", zcopy_copy, K_PIPE, K_UNIX, 0, 0 },
    };
    enum { P = sizeof proto / sizeof proto[0] };
    static struct job jobs[2 * P];
    int i, fds_before;
    zt_start("timeouts", 100);
    fds_before = zt_fd_count();
    zt_info("%d cases run at once, each in its own thread", 2 * P);
    for (i = 0; i < 2 * P; i++) {
        jobs[i] = proto[i % P];
        jobs[i].nb = i < P;
        if (pthread_create(&jobs[i].th, NULL, job_main, &jobs[i]))
            DIE("pthread_create");
    }
    for (i = 0; i < 2 * P; i++)
        zt_join(jobs[i].th, 60, "timeout job");
    zcopy_pool_drain();
    CHECK(zt_fd_count() <= fds_before, "after drain: %d fds, %d before", zt_fd_count(), fds_before);
    return zt_finish();
}
