/*
 * fork_init.c: the library's lazy, process-wide facts are computed without
 * a lock (issue 21: pool/budget.rs used a locking OnceCell, against the
 * rule kernel.rs states), so a process forked while another thread is
 * computing one never waits in the child for a thread that does not exist.
 *
 * Each round starts from a process that has not touched the pool yet (a
 * fresh child of this program): one thread makes the first pooled splice
 * (which reads the pipe budget from /proc), and the main thread forks at
 * the same moment; the grandchild makes its own first pooled splice. Every
 * grandchild must finish (bounded waits). The race is narrow, so this is
 * a regression test by repetition, not a proof.
 */
#include "zc_test.h"

static void *first_splice(void *arg)
{
    int s[2], d[2];
    (void)arg;
    zt_unix_pair(s);
    zt_unix_pair(d);
    if (write(s[0], "x", 1) != 1)
        return NULL;
    zcopy_splice(d[0], s[1], 1);
    close(s[0]);
    close(s[1]);
    close(d[0]);
    close(d[1]);
    return NULL;
}

/* One round, in a fresh child: returns 0 when the grandchild finished. */
static int round_in_child(void)
{
    pthread_t th;
    pid_t pid;
    int st;
    if (pthread_create(&th, NULL, first_splice, NULL) != 0)
        return 2;
    pid = fork();
    if (pid == 0) {
        first_splice(NULL);
        _exit(0);
    }
    st = zt_wait_child(pid, zt_valgrind() ? 60 : 10);
    pthread_join(th, NULL);
    return st == 0 ? 0 : 1;
}

int main(void)
{
    int rounds = (int)zt_vg(200, 20), hung = 0, failed = 0;
    zt_start("fork_init", 600);
    signal(SIGPIPE, SIG_IGN);
    for (int i = 0; i < rounds; i++) {
        pid_t pid = fork();
        if (pid == 0)
            _exit(round_in_child());
        int st = zt_wait_child(pid, zt_valgrind() ? 120 : 20);
        hung += st == 1 || st == -1;
        failed += st != 0;
    }
    CHECK(failed == 0, "forks during the first pooled splice of another thread: %d rounds, %d hung, %d failed",
          rounds, hung, failed);
    return zt_finish();
}
