/*
 * atfork.c: the pool's fork handlers exist from the moment the library is
 * loaded, before any pipe can exist, so no fork() can fall in a window
 * where a pipe is pooled but the child would not be told to drop it.
 *
 * pthread_atfork runs child handlers in registration order. This program
 * registers its own child handler first thing in main, before any zcopy
 * call. If the library registered at load time, its handler ran earlier
 * and has already emptied the inherited pool when ours looks; a library
 * that registers lazily (at its first pipe) comes after ours, and ours
 * would still see the parent's idle pipe.
 */
#include "zc_test.h"

static volatile uint64_t child_idle = 999, child_discarded_delta = 999;
static uint64_t parent_discarded;

static void child_handler(void)
{
    zcopy_pool_stats s;
    zcopy_pool_get_stats(&s);
    child_idle = s.idle;
    child_discarded_delta = s.discarded - parent_discarded;
}

int main(void)
{
    int a[2], b[2], pfd[2];
    unsigned char buf[100], got[100];
    zcopy_result r;
    zcopy_pool_stats s;
    pid_t pid;
    int st;
    zt_start("atfork", 60);
    if (pthread_atfork(NULL, NULL, child_handler) != 0)
        DIE("pthread_atfork");

    /* One pooled splice: its pipe goes back to the pool, idle. */
    zt_fill(buf, sizeof buf, 3);
    zt_unix_pair(a);
    zt_unix_pair(b);
    zt_write_all(a[0], buf, sizeof buf);
    shutdown(a[0], SHUT_WR);
    r = zcopy_splice(b[0], a[1], ZCOPY_ALL);
    CHECK(zt_ok(r, sizeof buf), "a pooled splice: " ZT_RES_FMT, ZT_RES_ARGS(r));
    CHECK(zt_read_full(b[1], got, sizeof got) == sizeof got && memcmp(got, buf, sizeof buf) == 0, "its bytes arrived");
    zcopy_pool_get_stats(&s);
    CHECK(s.idle == 1, "the parent's pool holds 1 idle pipe (%llu)", (unsigned long long)s.idle);
    parent_discarded = s.discarded;

    if (pipe(pfd) < 0)
        DIE("pipe");
    pid = fork();
    if (pid < 0)
        DIE("fork");
    if (pid == 0) {
        uint64_t v[2];
        v[0] = child_idle;
        v[1] = child_discarded_delta;
        if (write(pfd[1], v, sizeof v) != (ssize_t)sizeof v)
            _exit(2);
        _exit(0);
    }
    {
        uint64_t v[2] = { 999, 999 };
        close(pfd[1]);
        CHECK(zt_read_full(pfd[0], v, sizeof v) == sizeof v, "the child reported");
        CHECK(v[0] == 0, "when the application's own child handler runs, the library's already emptied "
                         "the inherited pool (idle %llu): registered at load time",
              (unsigned long long)v[0]);
        CHECK(v[1] == 1, "and counted the inherited pipe as discarded (%llu)", (unsigned long long)v[1]);
        close(pfd[0]);
    }
    if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) || WEXITSTATUS(st) != 0)
        CHECK(0, "child exit status %d", st);
    close(a[0]);
    close(a[1]);
    close(b[0]);
    close(b[1]);
    zcopy_pool_drain();
    return zt_finish();
}
