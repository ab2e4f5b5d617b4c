/*
 * relay_stream: zcopy_relay moves both directions at once, byte for byte
 * (TCP<->TCP, unix<->TCP, unix<->unix; blocking and non-blocking fds,
 * whose flags come back as they were), keeps half-closed protocols
 * working (the answer after the client's SHUT_WR arrives whole), ends at
 * the first EOF with ZCOPY_OPT_CLOSE_BOTH, starts no thread, and falls
 * back when splice cannot serve (a dst that refuses splice, no pipe to be
 * had) without losing a byte.
 */
#include "relay_util.h"

static void both_ways(int ka, int kb, int nonblock, size_t len)
{
    char label[96];
    int a, ca, b, sb;
    struct rl_talk t;
    zcopy_relay_result r;
    snprintf(label, sizeof label, "both ways %s<->%s %s", rl_kind_name[ka], rl_kind_name[kb],
             nonblock ? "non-blocking" : "blocking");
    rl_conn(ka, &a, &ca);
    rl_conn(kb, &b, &sb);
    if (nonblock) {
        zt_set_nonblock(a, 1);
        zt_set_nonblock(b, 1);
    }
    rl_talk_start(&t, ca, sb, len, len + 4097, (uint64_t)(ka * 10 + kb + nonblock * 100));
    r = zcopy_relay(a, b, NULL);
    CHECK(r.error == 0 && r.error_fd == -1 && r.a_to_b == (int64_t)len &&
              r.b_to_a == (int64_t)(len + 4097),
          "%s: " RL_FMT, label, RL_ARGS(r));
    rl_talk_end(&t, label, 0);
    CHECK(rl_nonblocking(a) == nonblock && rl_nonblocking(b) == nonblock,
          "%s: O_NONBLOCK as before the call (a %d, b %d, want %d)", label, rl_nonblocking(a),
          rl_nonblocking(b), nonblock);
    close(a);
    close(b);
    close(ca);
    close(sb);
}

/* The server answers only after it has read the whole request to EOF. */
struct answerer {
    pthread_t th;
    int fd;
    size_t req_len, ans_len;
    unsigned char *ans;
    size_t got;
};

static void *answer_after_eof(void *arg)
{
    struct answerer *s = arg;
    unsigned char buf[65536];
    ssize_t n;
    while ((n = read(s->fd, buf, sizeof buf)) != 0) {
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return NULL;
        s->got += (size_t)n;
    }
    if (zt_write_all(s->fd, s->ans, s->ans_len) == 0)
        shutdown(s->fd, SHUT_WR);
    return NULL;
}

static void half_close(int kind)
{
    size_t req_len = 300001, ans_len = (size_t)zt_vg(6 << 20, 8);
    unsigned char *req = zt_random_buf(req_len, 7);
    struct answerer s = { 0 };
    struct zt_writer w = { 0 };
    struct zt_reader rd;
    int a, ca, b, sb;
    zcopy_relay_result r;
    rl_conn(kind, &a, &ca);
    rl_conn(RL_TCP, &b, &sb);
    s.fd = sb;
    s.req_len = req_len;
    s.ans_len = ans_len;
    s.ans = zt_random_buf(ans_len, 8);
    if (pthread_create(&s.th, NULL, answer_after_eof, &s) != 0)
        DIE("pthread_create");
    zt_reader_start(&rd, ca, ans_len + 16, 0);
    w.fd = ca;
    w.buf = req;
    w.len = req_len;
    w.shut_after = 1;
    if (pthread_create(&w.th, NULL, zt_writer_main, &w) != 0)
        DIE("pthread_create");
    r = zcopy_relay(a, b, NULL);
    zt_join(w.th, 30, "client");
    zt_join(s.th, 30, "server");
    zt_join(rd.th, 30, "client reader");
    CHECK(r.error == 0 && r.a_to_b == (int64_t)req_len && r.b_to_a == (int64_t)ans_len,
          "half-close %s: the request, then the whole answer after the client's SHUT_WR: " RL_FMT,
          rl_kind_name[kind], RL_ARGS(r));
    CHECK(s.got == req_len && rd.got == ans_len && memcmp(rd.buf, s.ans, ans_len) == 0,
          "half-close %s: server read %zu of %zu to EOF, client got %zu of %zu byte for byte",
          rl_kind_name[kind], s.got, req_len, rd.got, ans_len);
    free(req);
    free(s.ans);
    free(rd.buf);
    close(a);
    close(b);
    close(ca);
    close(sb);
}

/* ZCOPY_OPT_CLOSE_BOTH: the client's EOF ends the relay although the
 * server never closes; both peers see EOF. */
static void close_both(void)
{
    unsigned char req[5000], buf[16];
    zcopy_options o;
    zcopy_relay_result r;
    int a, ca, b, sb;
    double t0;
    size_t got;
    ssize_t n;
    zt_fill(req, sizeof req, 9);
    rl_conn(RL_TCP, &a, &ca);
    rl_conn(RL_UNIX, &b, &sb);
    if (zt_write_all(ca, req, sizeof req) != 0 || shutdown(ca, SHUT_WR) != 0)
        DIE("client");
    zcopy_options_init(&o);
    o.flags = ZCOPY_OPT_CLOSE_BOTH;
    o.idle_timeout_ms = 5000; /* a broken close-both fails by timing out */
    t0 = zt_now();
    r = zcopy_relay(a, b, &o);
    CHECK(r.error == 0 && r.error_fd == -1 && r.a_to_b == (int64_t)sizeof req && r.b_to_a == 0 &&
              rl_ms_since(t0) < 2000,
          "close-both: the client's EOF ends the relay at once (%.0f ms): " RL_FMT, rl_ms_since(t0),
          RL_ARGS(r));
    got = zt_read_full(sb, buf, sizeof buf);
    /* The server side: the request, then EOF (its read returns). */
    {
        unsigned char *all = malloc(sizeof req + 16);
        size_t m;
        memcpy(all, buf, got);
        m = got + zt_read_full(sb, all + got, sizeof req + 16 - got);
        CHECK(m == sizeof req && memcmp(all, req, sizeof req) == 0,
              "close-both: the server got the request and EOF (%zu bytes)", m);
        free(all);
    }
    n = read(ca, buf, sizeof buf);
    CHECK(n == 0, "close-both: the client's read side sees EOF (read %zd)", n);
    /* Without the flag the same relay waits for the server. */
    close(a);
    close(b);
    close(ca);
    close(sb);
    rl_conn(RL_TCP, &a, &ca);
    rl_conn(RL_UNIX, &b, &sb);
    shutdown(ca, SHUT_WR);
    zcopy_options_init(&o);
    o.idle_timeout_ms = 150;
    r = zcopy_relay(a, b, &o);
    CHECK(r.error == ETIMEDOUT, "without close-both the relay waits for the server's EOF: " RL_FMT,
          RL_ARGS(r));
    close(a);
    close(b);
    close(ca);
    close(sb);
}

/* The peers run in a child process, so this process holds exactly the
 * main thread and a sampler while zcopy_relay runs. */
static volatile int sampling;
static int max_tasks;

static void *sampler(void *arg)
{
    (void)arg;
    while (__atomic_load_n(&sampling, __ATOMIC_SEQ_CST)) {
        int n = rl_tasks();
        if (n > max_tasks)
            max_tasks = n;
        usleep(500);
    }
    return NULL;
}

static void no_thread(void)
{
    size_t len = (size_t)zt_vg(16 << 20, 16);
    int a, ca, b, sb, status;
    pid_t pid;
    pthread_t th;
    zcopy_relay_result r;
    rl_conn(RL_TCP, &a, &ca);
    rl_conn(RL_TCP, &b, &sb);
    pid = fork();
    if (pid < 0)
        DIE("fork");
    if (pid == 0) {
        struct rl_talk t;
        close(a);
        close(b);
        rl_talk_start(&t, ca, sb, len, len, 21);
        _exit(rl_talk_end(&t, "no-thread peers", 1) ? 0 : 1);
    }
    close(ca);
    close(sb);
    __atomic_store_n(&sampling, 1, __ATOMIC_SEQ_CST);
    if (pthread_create(&th, NULL, sampler, NULL) != 0)
        DIE("pthread_create");
    usleep(5000);
    r = zcopy_relay(a, b, NULL);
    __atomic_store_n(&sampling, 0, __ATOMIC_SEQ_CST);
    zt_join(th, 10, "sampler");
    waitpid(pid, &status, 0);
    CHECK(r.error == 0 && r.a_to_b == (int64_t)len && r.b_to_a == (int64_t)len,
          "no-thread relay: " RL_FMT, RL_ARGS(r));
    CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0, "no-thread relay: peers got every byte");
    CHECK(max_tasks == 2, "no thread started: at most %d tasks during the call (main + sampler = 2)",
          max_tasks);
    close(a);
    close(b);
}

/* b is a regular file opened O_APPEND and positioned at its end: b -> a
 * reads EOF at once (the client sees EOF), and a -> b cannot splice into
 * it, so the bytes already in the pipe go out with write(2). */
static void dst_refuses_splice(void)
{
    size_t len = (size_t)zt_vg(3 << 20, 8) + 11;
    unsigned char *data = zt_random_buf(len, 31), *got, c;
    int a, ca, f, b;
    struct zt_writer w = { 0 };
    zcopy_relay_result r;
    size_t n;
    rl_conn(RL_UNIX, &a, &ca);
    f = zt_file_with("head", 4);
    b = zt_reopen(f, O_RDWR | O_APPEND);
    lseek(b, 0, SEEK_END);
    w.fd = ca;
    w.buf = data;
    w.len = len;
    w.shut_after = 1;
    if (pthread_create(&w.th, NULL, zt_writer_main, &w) != 0)
        DIE("pthread_create");
    r = zcopy_relay(a, b, NULL);
    zt_join(w.th, 30, "client");
    CHECK(r.error == 0 && r.a_to_b == (int64_t)len && r.b_to_a == 0,
          "O_APPEND file as b (no splice into it): " RL_FMT, RL_ARGS(r));
    got = malloc(len + 16);
    n = zt_pread_all(f, got, len + 16);
    CHECK(n == len + 4 && memcmp(got, "head", 4) == 0 && memcmp(got + 4, data, len) == 0,
          "O_APPEND file: every byte appended in order (%zu of %zu)", n, len + 4);
    CHECK(read(ca, &c, 1) == 0, "O_APPEND file: its EOF reached the client as EOF");
    free(got);
    free(data);
    close(a);
    close(ca);
    close(b);
    close(f);
}

/* No pipe can be made (RLIMIT_NOFILE at the fds in use, pool drained):
 * every take goes through user space, and nothing is lost. */
static void no_pipes(void)
{
    size_t len = (size_t)zt_vg(4 << 20, 8);
    int a, ca, b, sb, p[2], fill[4200], nfill = 0, i;
    struct rl_talk t;
    struct rlimit old, low;
    zcopy_pool_stats before, after;
    zcopy_relay_result r;
    rl_conn(RL_TCP, &a, &ca);
    rl_conn(RL_UNIX, &b, &sb);
    rl_talk_start(&t, ca, sb, len, len, 41);
    zcopy_pool_drain();
    zcopy_pool_get_stats(&before);
    if (getrlimit(RLIMIT_NOFILE, &old) != 0)
        DIE("getrlimit");
    low = old;
    {
        int top = 0, fd;
        for (fd = 0; fd < 4096; fd++)
            if (fcntl(fd, F_GETFD) >= 0)
                top = fd;
        low.rlim_cur = (rlim_t)top + 1 + 8;
    }
    if (setrlimit(RLIMIT_NOFILE, &low) != 0)
        DIE("setrlimit");
    /* Fill every free fd number below the limit. */
    while (nfill < (int)(sizeof fill / sizeof fill[0]) && (fill[nfill] = dup(0)) >= 0)
        nfill++;
    CHECK(pipe(p) < 0 && errno == EMFILE, "no pipe can be made now (EMFILE)");
    r = zcopy_relay(a, b, NULL);
    for (i = 0; i < nfill; i++)
        close(fill[i]);
    setrlimit(RLIMIT_NOFILE, &old);
    zcopy_pool_get_stats(&after);
    CHECK(r.error == 0 && r.a_to_b == (int64_t)len && r.b_to_a == (int64_t)len,
          "no pipes: the relay went through user space: " RL_FMT, RL_ARGS(r));
    CHECK(after.created == before.created, "no pipes: none was created (%llu -> %llu)",
          (unsigned long long)before.created, (unsigned long long)after.created);
    rl_talk_end(&t, "no pipes", 0);
    close(a);
    close(b);
    close(ca);
    close(sb);
}

int main(void)
{
    size_t len = (size_t)zt_vg(12 << 20, 16) + 333;
    zt_start("relay_stream", 240);
    signal(SIGPIPE, SIG_DFL);
    both_ways(RL_TCP, RL_TCP, 0, len);
    both_ways(RL_TCP, RL_TCP, 1, len);
    both_ways(RL_UNIX, RL_TCP, 0, len);
    both_ways(RL_TCP, RL_UNIX, 1, len);
    both_ways(RL_UNIX, RL_UNIX, 0, len);
    both_ways(RL_TCP, RL_TCP, 0, 0);
    half_close(RL_TCP);
    half_close(RL_UNIX);
    close_both();
    no_thread();
    dst_refuses_splice();
    no_pipes();
    return zt_finish();
}
