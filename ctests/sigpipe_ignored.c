/*
 * sigpipe_ignored.c: with SIGPIPE's disposition SIG_IGN (as Rust and
 * Python programs and most servers run), the calls skip the mask dance
 * (the kernel drops an ignored SIGPIPE) and still answer EPIPE, and the
 * thread's mask is left as it was; switching back to a handler afterwards
 * gets the guarded behaviour again (no SIGPIPE reaches the handler).
 */
#include "zc_test.h"

static volatile sig_atomic_t got_sigpipe;
static void on_sigpipe(int sig) { (void)sig; got_sigpipe = 1; }

static int pipe_blocked(void)
{
    sigset_t cur;
    pthread_sigmask(SIG_BLOCK, NULL, &cur);
    return sigismember(&cur, SIGPIPE) == 1;
}

static void one_round(const char *how)
{
    unsigned char data[70000];
    int s[2], d[2], p[2], f;
    zcopy_result r;
    zt_fill(data, sizeof data, 8);
    /* pooled splice into a socket whose peer is gone */
    zt_unix_pair(s);
    zt_unix_pair(d);
    zt_write_all(s[0], data, 1000);
    shutdown(s[0], SHUT_WR);
    close(d[1]);
    r = zcopy_splice(d[0], s[1], ZCOPY_ALL);
    CHECK(r.error == EPIPE, "%s: zcopy_splice into a closed peer: EPIPE: " ZT_RES_FMT, how, ZT_RES_ARGS(r));
    close(s[0]);
    close(s[1]);
    close(d[0]);
    /* sendfile into a pipe whose reader is gone */
    zt_pipe(p);
    close(p[0]);
    f = zt_file_with(data, sizeof data);
    r = zcopy_copy(p[1], f, ZCOPY_ALL);
    CHECK(r.error == EPIPE, "%s: zcopy_copy into a pipe without reader: EPIPE: " ZT_RES_FMT, how, ZT_RES_ARGS(r));
    close(p[1]);
    close(f);
    CHECK(!pipe_blocked(), "%s: the thread's SIGPIPE mask is as before (unblocked)", how);
}

int main(void)
{
    zt_start("sigpipe_ignored", 60);
    signal(SIGPIPE, SIG_IGN);
    one_round("SIGPIPE ignored");
    signal(SIGPIPE, on_sigpipe);
    got_sigpipe = 0;
    one_round("a SIGPIPE handler installed");
    CHECK(!got_sigpipe, "with a handler installed no SIGPIPE reached it");
    return zt_finish();
}
