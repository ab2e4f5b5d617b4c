/*
 * relay_control: zcopy_relay under zcopy_options. The idle timeout ends a
 * quiet relay within [T, T+50ms] with no CPU spent waiting, and is
 * restarted by bytes in either direction; a cancel fd written by another
 * thread ends it within 20 ms; with ZCOPY_OPT_EINTR a signal returns EINTR
 * with the counts so far, and calling again continues both directions
 * with no byte lost (bytes held in a pipe across the return included);
 * a child forked in between never touches the pipe it shares with the
 * parent.
 */
#include "relay_util.h"

#include <sys/eventfd.h>

/* valgrind runs everything many times slower and translates code on first
 * use: wider bounds there, the same checks. */
static double cpu_limit_ms(void) { return zt_valgrind() ? 500 : 20; }
static double late_ms(void) { return zt_valgrind() ? 400 : 50; }

static void idle_timeout_quiet(int kind)
{
    int a, ca, b, sb;
    zcopy_options o;
    zcopy_relay_result r;
    double t0, c0, ms, cpu;
    rl_conn(kind, &a, &ca);
    rl_conn(RL_TCP, &b, &sb);
    zcopy_options_init(&o);
    o.idle_timeout_ms = 300;
    c0 = rl_thread_cpu_ms();
    t0 = zt_now();
    r = zcopy_relay(a, b, &o);
    ms = rl_ms_since(t0);
    cpu = rl_thread_cpu_ms() - c0;
    CHECK(r.error == ETIMEDOUT && r.error_fd == -1 && r.a_to_b == 0 && r.b_to_a == 0,
          "idle timeout %s: " RL_FMT, rl_kind_name[kind], RL_ARGS(r));
    CHECK(ms >= 300 && ms <= 300 + late_ms(),
          "idle timeout %s: returned after %.1f ms (want [300, %.0f])", rl_kind_name[kind], ms,
          300 + late_ms());
    CHECK(cpu < cpu_limit_ms(), "idle timeout %s: %.1f ms of CPU while waiting 300 ms (want < %.0f)",
          rl_kind_name[kind], cpu, cpu_limit_ms());
    close(a);
    close(b);
    close(ca);
    close(sb);
}

/* One byte every 60 ms from the server for 12 rounds: the b -> a bytes
 * keep a 150 ms idle timeout from firing although a -> b is silent. */
struct trickle {
    pthread_t th;
    int fd;
    int rounds;
    unsigned long long in_use_max; /* pipes lent while the relay sat idle */
};

static void *trickle_main(void *arg)
{
    struct trickle *t = arg;
    int i;
    for (i = 0; i < t->rounds; i++) {
        zcopy_pool_stats st;
        usleep(60000);
        /* 60 ms after the last byte the relay waits in poll(2), holding
         * nothing: no pipe may be lent. */
        zcopy_pool_get_stats(&st);
        if (st.in_use > t->in_use_max)
            t->in_use_max = st.in_use;
        if (write(t->fd, "x", 1) != 1)
            break;
    }
    return NULL;
}

static void idle_timeout_counts_both_directions(void)
{
    int a, ca, b, sb;
    struct trickle t = { 0 };
    zcopy_options o;
    zcopy_relay_result r;
    double t0, ms;
    char buf[64];
    rl_conn(RL_TCP, &a, &ca);
    rl_conn(RL_TCP, &b, &sb);
    t.fd = sb;
    t.rounds = 12;
    if (pthread_create(&t.th, NULL, trickle_main, &t) != 0)
        DIE("pthread_create");
    zcopy_options_init(&o);
    o.idle_timeout_ms = 150;
    t0 = zt_now();
    r = zcopy_relay(a, b, &o);
    ms = rl_ms_since(t0);
    zt_join(t.th, 10, "trickle");
    CHECK(r.error == ETIMEDOUT && r.b_to_a == 12 && r.a_to_b == 0 && ms >= 12 * 60 + 150,
          "idle clock restarted by b -> a bytes only: %.0f ms (want >= %d): " RL_FMT, ms,
          12 * 60 + 150, RL_ARGS(r));
    CHECK(zt_read_full(ca, buf, 12) == 12 && memcmp(buf, "xxxxxxxxxxxx", 12) == 0,
          "the trickled bytes reached the client");
    CHECK(t.in_use_max == 0, "an idle relay between bytes holds no pipe (at most %llu lent)",
          t.in_use_max);
    close(a);
    close(b);
    close(ca);
    close(sb);
}

struct canceller {
    pthread_t th;
    int efd;
    double at;
};

static void *cancel_main(void *arg)
{
    struct canceller *c = arg;
    uint64_t one = 1;
    usleep(100000);
    c->at = zt_now();
    if (write(c->efd, &one, sizeof one) != (ssize_t)sizeof one)
        DIE("eventfd write");
    return NULL;
}

static void cancel_fd(void)
{
    int a, ca, b, sb;
    struct canceller c = { 0 };
    zcopy_options o;
    zcopy_relay_result r;
    double end, c0, cpu;
    rl_conn(RL_TCP, &a, &ca);
    rl_conn(RL_UNIX, &b, &sb);
    c.efd = eventfd(0, EFD_CLOEXEC);
    if (c.efd < 0)
        DIE("eventfd");
    zcopy_options_init(&o);
    o.cancel_fd = c.efd;
    if (pthread_create(&c.th, NULL, cancel_main, &c) != 0)
        DIE("pthread_create");
    c0 = rl_thread_cpu_ms();
    r = zcopy_relay(a, b, &o);
    end = zt_now();
    cpu = rl_thread_cpu_ms() - c0;
    zt_join(c.th, 10, "canceller");
    CHECK(r.error == ECANCELED && r.error_fd == -1, "cancel fd: " RL_FMT, RL_ARGS(r));
    CHECK((end - c.at) * 1000 < (zt_valgrind() ? 200 : 20),
          "cancel fd: returned %.2f ms after the eventfd was written", (end - c.at) * 1000);
    CHECK(cpu < cpu_limit_ms(), "cancel fd: %.1f ms of CPU while waiting (want < %.0f)", cpu,
          cpu_limit_ms());
    /* The cancel fd is never read: a second relay is cancelled at once. */
    r = zcopy_relay(a, b, &o);
    CHECK(r.error == ECANCELED, "cancel fd still readable for the next relay: " RL_FMT, RL_ARGS(r));
    close(c.efd);
    close(a);
    close(b);
    close(ca);
    close(sb);
}

/* A reader that takes its time, so that dst is often full and the relay
 * holds bytes when a signal comes. */
struct slow_reader {
    pthread_t th;
    int fd;
    unsigned char *buf;
    size_t cap, got;
};

static void *slow_reader_main(void *arg)
{
    struct slow_reader *s = arg;
    for (;;) {
        size_t want = s->cap - s->got < 32768 ? s->cap - s->got : 32768;
        ssize_t n;
        if (want == 0)
            want = 1; /* only to see EOF */
        n = read(s->fd, s->got < s->cap ? s->buf + s->got : s->buf, want);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        if (s->got < s->cap)
            s->got += (size_t)n;
        else
            s->cap = 0; /* too much: makes the check fail */
        if ((s->got / 32768) % 8 == 0)
            usleep(1000);
    }
    return NULL;
}

static volatile sig_atomic_t signals_seen;

static void on_usr1(int sig)
{
    (void)sig;
    signals_seen++;
}

struct signaller {
    pthread_t th;
    pthread_t target;
    volatile int stop;
};

static void *signaller_main(void *arg)
{
    struct signaller *s = arg;
    while (!__atomic_load_n(&s->stop, __ATOMIC_SEQ_CST)) {
        usleep(2000);
        pthread_kill(s->target, SIGUSR1);
    }
    return NULL;
}

static void eintr_resume(void)
{
    /* Big enough that the signals (every 2 ms) come while bytes flow,
     * under valgrind too. */
    size_t len = (size_t)zt_vg(24 << 20, 3) + 12345;
    unsigned char *d_ab = zt_random_buf(len, 51), *d_ba = zt_random_buf(len, 52);
    struct zt_writer wc = { 0 }, ws = { 0 };
    struct slow_reader rs = { 0 }, rc = { 0 };
    struct signaller sg = { 0 };
    struct sigaction sa;
    zcopy_options o;
    zcopy_relay_result r;
    zcopy_pool_stats st;
    int64_t ab = 0, ba = 0;
    int calls = 0, held_across = 0, a, ca, b, sb;

    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: poll(2) returns EINTR */
    sigaction(SIGUSR1, &sa, NULL);

    rl_conn(RL_TCP, &a, &ca);
    rl_conn(RL_UNIX, &b, &sb);
    rs.fd = sb;
    rs.buf = malloc(len);
    rs.cap = len;
    rc.fd = ca;
    rc.buf = malloc(len);
    rc.cap = len;
    if (pthread_create(&rs.th, NULL, slow_reader_main, &rs) != 0 ||
        pthread_create(&rc.th, NULL, slow_reader_main, &rc) != 0)
        DIE("pthread_create");
    wc.fd = ca;
    wc.buf = d_ab;
    wc.len = len;
    wc.shut_after = 1;
    ws.fd = sb;
    ws.buf = d_ba;
    ws.len = len;
    ws.shut_after = 1;
    if (pthread_create(&wc.th, NULL, zt_writer_main, &wc) != 0 ||
        pthread_create(&ws.th, NULL, zt_writer_main, &ws) != 0)
        DIE("pthread_create");
    sg.target = pthread_self();
    if (pthread_create(&sg.th, NULL, signaller_main, &sg) != 0)
        DIE("pthread_create");

    zcopy_options_init(&o);
    o.flags = ZCOPY_OPT_EINTR;
    o.idle_timeout_ms = 20000;
    for (;;) {
        r = zcopy_relay(a, b, &o);
        calls++;
        ab += r.a_to_b;
        ba += r.b_to_a;
        if (r.error != EINTR)
            break;
        QCHECK(r.error_fd == -1, "EINTR has error_fd -1 (got %d)", r.error_fd);
        /* Between two calls the relay may hold bytes: a pipe stays lent. */
        zcopy_pool_get_stats(&st);
        if (st.in_use > 0)
            held_across++;
    }
    __atomic_store_n(&sg.stop, 1, __ATOMIC_SEQ_CST);
    zt_join(sg.th, 10, "signaller");
    zt_join(wc.th, 60, "client writer");
    zt_join(ws.th, 60, "server writer");
    zt_join(rs.th, 60, "server reader");
    zt_join(rc.th, 60, "client reader");
    CHECK(r.error == 0 && ab == (int64_t)len && ba == (int64_t)len,
          "EINTR resume: %d calls, totals a_to_b=%lld b_to_a=%lld (want %zu each), last " RL_FMT,
          calls, (long long)ab, (long long)ba, len, RL_ARGS(r));
    CHECK(calls > 3, "EINTR resume: the signals interrupted the relay (%d calls, %d signals)", calls,
          (int)signals_seen);
    CHECK(held_across > 0, "EINTR resume: bytes were held in a pipe across %d of the returns",
          held_across);
    CHECK(rs.got == len && memcmp(rs.buf, d_ab, len) == 0 && rc.got == len &&
              memcmp(rc.buf, d_ba, len) == 0,
          "EINTR resume: both directions intact byte for byte (%zu, %zu of %zu)", rs.got, rc.got,
          len);
    zcopy_pool_get_stats(&st);
    CHECK(st.in_use == 0, "EINTR resume: no pipe lent after the relay ended (%llu)",
          (unsigned long long)st.in_use);
    signal(SIGUSR1, SIG_IGN);
    free(d_ab);
    free(d_ba);
    free(rs.buf);
    free(rc.buf);
    close(a);
    close(b);
    close(ca);
    close(sb);
}

/* Without ZCOPY_OPT_EINTR signals are retried: one call, no EINTR. */
static void eintr_retried_without_flag(void)
{
    int a, ca, b, sb;
    struct signaller sg = { 0 };
    struct sigaction sa;
    zcopy_options o;
    zcopy_relay_result r;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    rl_conn(RL_TCP, &a, &ca);
    rl_conn(RL_TCP, &b, &sb);
    sg.target = pthread_self();
    if (pthread_create(&sg.th, NULL, signaller_main, &sg) != 0)
        DIE("pthread_create");
    zcopy_options_init(&o);
    o.idle_timeout_ms = 200;
    r = zcopy_relay(a, b, &o);
    __atomic_store_n(&sg.stop, 1, __ATOMIC_SEQ_CST);
    zt_join(sg.th, 10, "signaller");
    CHECK(r.error == ETIMEDOUT, "signals without ZCOPY_OPT_EINTR are retried: " RL_FMT, RL_ARGS(r));
    signal(SIGUSR1, SIG_IGN);
    close(a);
    close(b);
    close(ca);
    close(sb);
}

/* One signal, 100 ms after the start, to the thread `target`. */
struct one_signal {
    pthread_t th;
    pthread_t target;
};

static void *one_signal_main(void *arg)
{
    struct one_signal *s = arg;
    usleep(100000);
    pthread_kill(s->target, SIGUSR1);
    return NULL;
}

/* EINTR while the relay holds bytes for a full dst, then fork(): the
 * child's call must not touch the pipe it shares with the parent (ESTALE,
 * error_fd -1), and the parent's next call still delivers every byte. */
static void eintr_then_fork(void)
{
    size_t len = 6 << 20;
    unsigned char *data = zt_random_buf(len, 71);
    struct one_signal sg = { 0 };
    struct sigaction sa;
    zcopy_options o;
    zcopy_relay_result r;
    zcopy_pool_stats st;
    int a, ca, b, sb, status;
    int64_t ab;
    pid_t pid;
    size_t n;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    rl_conn(RL_UNIX, &a, &ca);
    rl_conn(RL_UNIX, &b, &sb);
    /* All of it waits in a's socket: the writer side never blocks. */
    {
        int big = 16 << 20;
        setsockopt(ca, SOL_SOCKET, SO_SNDBUF, &big, sizeof big);
    }
    zt_set_nonblock(ca, 1);
    n = 0;
    while (n < len) {
        ssize_t w = write(ca, data + n, len - n);
        if (w <= 0)
            break;
        n += (size_t)w;
    }
    zt_set_nonblock(ca, 0);
    shutdown(ca, SHUT_WR);
    sg.target = pthread_self();
    if (pthread_create(&sg.th, NULL, one_signal_main, &sg) != 0)
        DIE("pthread_create");
    zcopy_options_init(&o);
    o.flags = ZCOPY_OPT_EINTR;
    r = zcopy_relay(a, b, &o); /* nobody reads sb: b fills up */
    zt_join(sg.th, 10, "signaller");
    zcopy_pool_get_stats(&st);
    CHECK(r.error == EINTR && st.in_use > 0,
          "EINTR with bytes held for a full dst (%llu pipe(s) lent): " RL_FMT,
          (unsigned long long)st.in_use, RL_ARGS(r));
    ab = r.a_to_b;
    pid = fork();
    if (pid < 0)
        DIE("fork");
    if (pid == 0) {
        zcopy_relay_result c = zcopy_relay(a, b, &o);
        _exit(c.error == ESTALE && c.error_fd == -1 && c.a_to_b == 0 ? 0 : 1);
    }
    waitpid(pid, &status, 0);
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0,
          "after fork() the child's call leaves the shared pipe alone (ESTALE, error_fd -1)");
    {
        struct zt_reader rd;
        zt_reader_start(&rd, sb, len + 16, 0);
        shutdown(b, SHUT_RD);
        r = zcopy_relay(a, b, &o);
        while (r.error == EINTR) {
            ab += r.a_to_b;
            r = zcopy_relay(a, b, &o);
        }
        ab += r.a_to_b;
        zt_join(rd.th, 30, "reader");
        CHECK(r.error == 0 && ab == (int64_t)n && rd.got == n && memcmp(rd.buf, data, n) == 0,
              "the parent's resumed relay delivered all %zu bytes intact (a_to_b total %lld, read %zu): " RL_FMT,
              n, (long long)ab, rd.got, RL_ARGS(r));
        free(rd.buf);
    }
    signal(SIGUSR1, SIG_IGN);
    free(data);
    close(a);
    close(b);
    close(ca);
    close(sb);
}

int main(void)
{
    zt_start("relay_control", 240);
    idle_timeout_quiet(RL_TCP);
    idle_timeout_quiet(RL_UNIX);
    idle_timeout_counts_both_directions();
    cancel_fd();
    eintr_resume();
    eintr_retried_without_flag();
    eintr_then_fork();
    return zt_finish();
}
