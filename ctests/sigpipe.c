/*
 * sigpipe.c: with SIGPIPE at its default disposition (which kills), every
 * transfer to a socket or pipe whose peer is gone returns EPIPE (or
 * ECONNRESET) with the bytes written so far, and the process lives. A
 * SIGPIPE already pending (and blocked) before the call stays pending; the
 * thread's signal mask is restored after every call; no handler is
 * installed.
 */
#include "relay.h"

typedef zcopy_result (*call_fn)(int dst, int src, int64_t remain);

static zcopy_result splicer_call(int dst, int src, int64_t remain)
{
    zcopy_splicer *s = zcopy_splicer_new();
    zcopy_result r, total;
    memset(&total, 0, sizeof total);
    if (!s)
        DIE("zcopy_splicer_new");
    for (;;) {
        r = zcopy_splicer_step(s, dst, src, remain);
        total.written += r.written;
        total.error = r.error;
        total.method = r.method;
        total.handled = r.handled;
        if (r.error == EAGAIN) {
            /* wait a little; the peer is gone so this ends soon */
            usleep(1000);
            continue;
        }
        if (r.error != 0 || zcopy_splicer_eof(s) || (r.written == 0 && zcopy_splicer_wants(s) == 0))
            break;
    }
    zcopy_splicer_free(s);
    return total;
}

/* Source: a file or a socket holding `n` bytes; dst: a socket or pipe whose
 * reading peer has closed (after reading a little, so some bytes may have
 * been written). */
static void one(const char *name, call_fn fn, int src_kind, int dst_kind, int read_first)
{
    size_t n = 3 << 20;
    unsigned char *data = zt_random_buf(n, 1);
    int src, feed = -1, d[2];
    struct zt_writer w;
    zcopy_result r;
    sigset_t before, after;
    int i, same = 1;
    char label[128];
    snprintf(label, sizeof label, "%s %s -> %s (peer closed%s)", name, zt_kind_name[src_kind],
             zt_kind_name[dst_kind], read_first ? " after reading 1000 bytes" : "");

    if (src_kind == K_FILE) {
        src = zt_file_with(data, n);
    } else {
        int s[2];
        zt_unix_pair(s);
        src = s[1];
        feed = s[0];
        zt_writer_spawn(&w, zt_block_sigpipe_writer, feed, data, n);
    }
    if (dst_kind == K_TCP)
        zt_tcp_pair(d);
    else if (dst_kind == K_UNIX)
        zt_unix_pair(d);
    else {
        int p[2];
        zt_pipe(p);
        d[0] = p[1];
        d[1] = p[0];
    }
    if (read_first) {
        unsigned char tmp[1000];
        /* put a little in, read it at the far end, then close the far end */
        zt_write_all(d[0], "x", 1);
        zt_read_full(d[1], tmp, 1);
    }
    close(d[1]);
    pthread_sigmask(SIG_SETMASK, NULL, &before);
    r = fn(d[0], src, ZCOPY_ALL);
    pthread_sigmask(SIG_SETMASK, NULL, &after);
    CHECK(r.handled && (r.error == EPIPE || r.error == ECONNRESET) && r.written >= 0 &&
              r.written < (long long)n,
          "%s: EPIPE/ECONNRESET, process alive: " ZT_RES_FMT, label, ZT_RES_ARGS(r));
    for (i = 1; i < 32; i++)
        if (sigismember(&before, i) != sigismember(&after, i))
            same = 0;
    CHECK(same && !zt_mask_has(SIGPIPE), "%s: signal mask restored (SIGPIPE unblocked again)", label);
    CHECK(!zt_pending(SIGPIPE), "%s: no SIGPIPE left pending", label);
    close(d[0]);
    close(src);
    if (feed >= 0)
        zt_join(w.th, 20, "writer");
    free(data);
}

/* A SIGPIPE already pending and blocked stays pending, and the mask (with
 * SIGPIPE blocked) is what it was. */
static void test_pending_kept(void)
{
    sigset_t s, got;
    int d[2], f;
    unsigned char data[100000];
    zcopy_result r;
    struct timespec zero = { 0, 0 };
    zt_fill(data, sizeof data, 2);
    f = zt_file_with(data, sizeof data);
    sigemptyset(&s);
    sigaddset(&s, SIGPIPE);
    sigaddset(&s, SIGUSR1);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    pthread_kill(pthread_self(), SIGPIPE);
    CHECK(zt_pending(SIGPIPE), "setup: a SIGPIPE is pending and blocked");
    zt_tcp_pair(d);
    close(d[1]);
    r = zcopy_splice(d[0], f, ZCOPY_ALL);
    CHECK(r.error == EPIPE || r.error == ECONNRESET, "splice file -> closed TCP peer with SIGPIPE blocked: " ZT_RES_FMT,
          ZT_RES_ARGS(r));
    CHECK(zt_pending(SIGPIPE), "the SIGPIPE pending before the call is still pending");
    CHECK(zt_mask_has(SIGPIPE) && zt_mask_has(SIGUSR1), "the mask still blocks SIGPIPE and SIGUSR1 as before");
    sigemptyset(&got);
    sigaddset(&got, SIGPIPE);
    CHECK(sigtimedwait(&got, NULL, &zero) == SIGPIPE, "the pending SIGPIPE can be collected");
    CHECK(!zt_pending(SIGPIPE), "exactly one was pending (no second one from the call left)");

    /* Blocked but not pending: the call's own SIGPIPE is consumed. */
    lseek(f, 0, SEEK_SET);
    r = zcopy_sendfile(d[0], f, ZCOPY_ALL);
    CHECK(r.error == EPIPE || r.error == ECONNRESET, "sendfile to closed peer with SIGPIPE blocked: " ZT_RES_FMT,
          ZT_RES_ARGS(r));
    CHECK(!zt_pending(SIGPIPE), "SIGPIPE raised by the call is not left pending");
    CHECK(zt_mask_has(SIGPIPE), "SIGPIPE still blocked, as the caller had it");
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
    close(d[0]);
    close(f);
}

/* An unusual mask (SIGUSR1, SIGUSR2, SIGTERM blocked) survives the call. */
static void test_mask_other(void)
{
    sigset_t s;
    int d[2];
    zcopy_result r;
    unsigned char data[70000];
    int f;
    zt_fill(data, sizeof data, 3);
    f = zt_file_with(data, sizeof data);
    sigemptyset(&s);
    sigaddset(&s, SIGUSR1);
    sigaddset(&s, SIGUSR2);
    sigaddset(&s, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &s, NULL);
    zt_unix_pair(d);
    close(d[1]);
    r = zcopy_copy(d[0], f, ZCOPY_ALL);
    CHECK(r.error == EPIPE || r.error == ECONNRESET, "zcopy_copy file -> closed unix peer: " ZT_RES_FMT, ZT_RES_ARGS(r));
    CHECK(zt_mask_has(SIGUSR1) && zt_mask_has(SIGUSR2) && zt_mask_has(SIGTERM) && !zt_mask_has(SIGPIPE),
          "mask with SIGUSR1/SIGUSR2/SIGTERM blocked restored exactly");
    pthread_sigmask(SIG_UNBLOCK, &s, NULL);
    close(d[0]);
    close(f);
}

static void *thread_main(void *arg)
{
    (void)arg;
    one("zcopy_splice (other thread)", zcopy_splice, K_UNIX, K_TCP, 0);
    one("zcopy_sendfile (other thread)", zcopy_sendfile, K_FILE, K_PIPE, 0);
    return NULL;
}

int main(void)
{
    struct sigaction sa;
    int fds_before;
    pthread_t t;
    zt_start("sigpipe", 100);
    signal(SIGPIPE, SIG_DFL);
    sigaction(SIGPIPE, NULL, &sa);
    CHECK(sa.sa_handler == SIG_DFL, "SIGPIPE has its default (killing) disposition");
    fds_before = zt_fd_count();

    one("zcopy_splice", zcopy_splice, K_UNIX, K_TCP, 0);
    one("zcopy_splice", zcopy_splice, K_UNIX, K_TCP, 1);
    one("zcopy_splice", zcopy_splice, K_UNIX, K_UNIX, 0);
    one("zcopy_splice", zcopy_splice, K_UNIX, K_PIPE, 0);
    one("zcopy_splice", zcopy_splice, K_FILE, K_TCP, 0);
    one("zcopy_splice", zcopy_splice, K_FILE, K_PIPE, 1);
    one("zcopy_sendfile", zcopy_sendfile, K_FILE, K_TCP, 0);
    one("zcopy_sendfile", zcopy_sendfile, K_FILE, K_TCP, 1);
    one("zcopy_sendfile", zcopy_sendfile, K_FILE, K_UNIX, 0);
    one("zcopy_sendfile", zcopy_sendfile, K_FILE, K_PIPE, 0);
    one("zcopy_copy", zcopy_copy, K_UNIX, K_TCP, 1);
    one("zcopy_copy", zcopy_copy, K_FILE, K_TCP, 0);
    one("zcopy_copy", zcopy_copy, K_FILE, K_PIPE, 0);
    one("zcopy_copy", zcopy_copy, K_UNIX, K_PIPE, 0);
    one("zcopy_splicer_step", splicer_call, K_UNIX, K_TCP, 1);
    one("zcopy_splicer_step", splicer_call, K_UNIX, K_PIPE, 0);
    if (pthread_create(&t, NULL, thread_main, NULL))
        DIE("pthread_create");
    zt_join(t, 30, "sigpipe thread");
    test_pending_kept();
    test_mask_other();
    sigaction(SIGPIPE, NULL, &sa);
    CHECK(sa.sa_handler == SIG_DFL, "no SIGPIPE handler was installed by the library");
    return zt_finish_drained(fds_before);
}
