/*
 * relay_many: 48 relays at once, one thread each (the way examples/relay.c
 * serves connections), mixing TCP and unix sockets and blocking and
 * non-blocking fds. Every byte of every direction arrives intact, no pipe
 * stays lent, and after zcopy_pool_drain the process holds exactly the
 * fds it held before.
 */
#include "relay_util.h"

#define RELAYS 48

struct job {
    pthread_t th;
    int index;
    size_t len;
    int ok;
};

static void *relay_job(void *arg)
{
    struct job *j = arg;
    char label[64];
    int a, ca, b, sb;
    struct rl_talk t;
    zcopy_relay_result r;
    snprintf(label, sizeof label, "relay %d", j->index);
    rl_conn(j->index % 3 == 0 ? RL_UNIX : RL_TCP, &a, &ca);
    rl_conn(j->index % 4 == 1 ? RL_UNIX : RL_TCP, &b, &sb);
    if (j->index % 2) {
        zt_set_nonblock(a, 1);
        zt_set_nonblock(b, 1);
    }
    rl_talk_start(&t, ca, sb, j->len + (size_t)j->index, j->len / 2 + (size_t)j->index * 7,
                  (uint64_t)j->index * 1000);
    r = zcopy_relay(a, b, NULL);
    j->ok = QCHECK(r.error == 0 && r.a_to_b == (int64_t)(j->len + (size_t)j->index) &&
                       r.b_to_a == (int64_t)(j->len / 2 + (size_t)j->index * 7),
                   "%s: " RL_FMT, label, RL_ARGS(r));
    j->ok &= rl_talk_end(&t, label, 1);
    j->ok &= QCHECK(rl_nonblocking(a) == (j->index % 2) && rl_nonblocking(b) == (j->index % 2),
                    "%s: flags restored", label);
    close(a);
    close(b);
    close(ca);
    close(sb);
    return NULL;
}

int main(void)
{
    static struct job jobs[RELAYS];
    size_t len = (size_t)zt_vg(2 << 20, 16);
    int i, ok = 0, before, after;
    zcopy_pool_stats st;
    zt_start("relay_many", 240);
    signal(SIGPIPE, SIG_DFL);
    zcopy_pool_drain();
    before = zt_fd_count();
    for (i = 0; i < RELAYS; i++) {
        jobs[i].index = i;
        jobs[i].len = len;
        if (pthread_create(&jobs[i].th, NULL, relay_job, &jobs[i]) != 0)
            DIE("pthread_create");
    }
    for (i = 0; i < RELAYS; i++) {
        zt_join(jobs[i].th, 180, "relay job");
        ok += jobs[i].ok;
    }
    CHECK(ok == RELAYS, "%d relays at once: %d of them intact both ways, counts exact, flags restored",
          RELAYS, ok);
    zcopy_pool_get_stats(&st);
    CHECK(st.in_use == 0, "no pipe lent after the relays (in_use %llu, created %llu)",
          (unsigned long long)st.in_use, (unsigned long long)st.created);
    zcopy_pool_drain();
    after = zt_fd_count();
    CHECK(after == before, "fds back after zcopy_pool_drain: %d before, %d after", before, after);
    return zt_finish();
}
