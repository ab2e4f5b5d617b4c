/*
 * engine_hold: many relays held at once on one engine, a few of them
 * active at any moment (issue 15's 10 000-relay target).
 *
 *   engine_hold [RELAYS [ACTIVE [MSG [SECONDS [THREADS [UID [SOFT [READ]]]]]]]]
 *
 * Defaults: 10000 relays, 100 active per round (1%), 65536-byte messages,
 * 10 seconds, 2 engine threads; UID (e.g. 65534): fork, raise the limits,
 * then setuid to it and run there (the unprivileged case); SOFT 1: first
 * use up that user's pipe-user-pages-soft with 1 MiB pipes (held to the
 * end), so that every pipe the relays get is a 2-page one (UID -1: stay
 * root). READ: the most bytes the driver reads from one connection per poll
 * turn (default 65536, what it writes per turn); less makes a slow reader:
 * the relays' destinations fill up and each busy direction holds a pool
 * pipe with bytes in flight, which is what the pool's pipe sizing is for.
 *
 * Each relay is a pair of unix stream connections: a driver process (forked)
 * connects 2 x RELAYS times to an abstract unix socket, the engine's process
 * accepts them and relays connection 2i with 2i+1, so each process holds
 * 2 x RELAYS sockets (RLIMIT_NOFILE is raised; with a hard limit below that,
 * RELAYS is cut to fit and says so). Each round the driver picks ACTIVE
 * distinct relays at random, writes MSG bytes at both ends and reads them
 * back at the other ends, checking every byte. Prints rounds/s, MB/s
 * through the relays, the slowest round, RSS growth of the engine's process
 * per held relay, the most pipes in use seen (sampled every ms), and the
 * engine's counters at the end (which must match the driver's totals).
 *
 * Build: cc -std=c99 -O2 bench/engine_hold.c -Iinclude \
 *          -Ltarget/release -lzcopy -Wl,-rpath,$PWD/target/release -pthread
 */
#define _GNU_SOURCE
#include <zcopy.h>

#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static long rss(void)
{
    long pages = 0, res = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%ld %ld", &pages, &res) != 2)
            res = 0;
        fclose(f);
    }
    return res * sysconf(_SC_PAGESIZE);
}

static unsigned char pat(uint32_t seed, uint64_t pos)
{
    uint64_t x = (pos + 1) * 0x9E3779B97F4A7C15ULL ^ (uint64_t)seed * 0xC2B2AE3D27D4EB4FULL;
    x ^= x >> 29;
    x *= 0xBF58476D1CE4E5B9ULL;
    return (unsigned char)(x >> 56);
}

/* The engine process's side of one relay. */
struct relay {
    int a, b;
    int done;
    zcopy_relay_result r;
};

/* The driver process's side: the peers of a and b. */
struct peer {
    int c, s;
    uint64_t sent_ab, sent_ba; /* stream positions */
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static long done_calls;
static volatile int sampling;
static uint64_t max_pipes;

static void on_done(void *ctx, zcopy_relay_result r)
{
    struct relay *x = ctx;
    pthread_mutex_lock(&lock);
    x->done++;
    x->r = r;
    done_calls++;
    pthread_mutex_unlock(&lock);
}

/* One endpoint in a round: sends msg bytes of its stream and receives
 * msg bytes of its peer's, non-blocking, so that neither side's buffers
 * (nor the relay's pipe) have to hold a whole message. */
struct leg {
    int fd;
    uint32_t seed_out, seed_in;
    uint64_t pos_out, pos_in;
    size_t out, in;
};

/* Runs the legs to completion; returns the number of wrong legs (a bad
 * byte, EOF, an error, or 10 s without progress). */
static long round_trip(struct leg *g, int n, size_t msg, struct pollfd *p, unsigned char *buf, size_t cap,
                       size_t rcap)
{
    long bad = 0;
    int i, left = n;
    double stall = now() + 10;
    for (i = 0; i < n; i++)
        g[i].out = g[i].in = msg;
    while (left > 0) {
        int m = 0;
        for (i = 0; i < n; i++) {
            p[i].fd = g[i].out || g[i].in ? g[i].fd : -1;
            p[i].events = (short)((g[i].out ? POLLOUT : 0) | (g[i].in ? POLLIN : 0));
            p[i].revents = 0;
        }
        if (poll(p, (nfds_t)n, 1000) < 0 || now() > stall)
            return bad + left;
        for (i = 0; i < n; i++) {
            struct leg *l = &g[i];
            if (p[i].revents & POLLOUT && l->out) {
                size_t k, want = l->out < cap ? l->out : cap;
                ssize_t w;
                for (k = 0; k < want; k++)
                    buf[k] = pat(l->seed_out, l->pos_out + k);
                w = write(l->fd, buf, want);
                if (w > 0) {
                    l->out -= (size_t)w;
                    l->pos_out += (uint64_t)w;
                    m++;
                }
            }
            if (p[i].revents & (POLLIN | POLLHUP | POLLERR) && l->in) {
                ssize_t r = read(l->fd, buf, l->in < rcap ? l->in : rcap);
                size_t k;
                if (r <= 0) {
                    bad++;
                    l->in = l->out = 0;
                } else {
                    for (k = 0; k < (size_t)r; k++)
                        if (buf[k] != pat(l->seed_in, l->pos_in + k))
                            break;
                    if (k < (size_t)r) {
                        bad++;
                        l->in = l->out = 0;
                    } else {
                        l->in -= (size_t)r;
                        l->pos_in += (uint64_t)r;
                        m++;
                    }
                }
            }
            if (p[i].fd >= 0 && !l->out && !l->in)
                left--;
        }
        if (m)
            stall = now() + 10;
    }
    return bad;
}

static struct sockaddr_un rendezvous(socklen_t *len)
{
    struct sockaddr_un u;
    memset(&u, 0, sizeof u);
    u.sun_family = AF_UNIX;
    /* Abstract namespace: nothing on disk, gone with the socket. */
    snprintf(u.sun_path + 1, sizeof u.sun_path - 1, "zcopy-engine-hold-%d", (int)getpid());
    *len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + 1 + strlen(u.sun_path + 1));
    return u;
}

/* The driver: connects 2n times (sending each connection's id), waits for
 * the go byte, runs the rounds, shuts every connection down, and writes
 * its totals to `ctl`. */
static size_t read_cap = 65536;

static int drive(struct sockaddr_un u, socklen_t ulen, int ctl, long n, long active, size_t msg, double secs)
{
    struct peer *x = calloc((size_t)n, sizeof *x);
    size_t cap = 65536;
    unsigned char *buf = malloc(cap);
    struct leg *g = calloc((size_t)active * 2, sizeof *g);
    struct pollfd *p = calloc((size_t)active * 2, sizeof *p);
    long i, rounds = 0, bad = 0, *pick = calloc((size_t)n, sizeof *pick);
    uint64_t moved = 0, sums[2] = { 0, 0 };
    double t0, t_end, worst = 0;
    unsigned seed = 12345;
    char go;
    if (!x || !buf || !pick || !g || !p)
        return 1;
    for (i = 0; i < 2 * n; i++) {
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        uint32_t id = (uint32_t)i;
        if (fd < 0 || connect(fd, (struct sockaddr *)&u, ulen) < 0 || write(fd, &id, 4) != 4) {
            fprintf(stderr, "driver: connection %ld: %s\n", i, strerror(errno));
            return 1;
        }
        fcntl(fd, F_SETFL, O_NONBLOCK);
        if (i % 2)
            x[i / 2].s = fd;
        else
            x[i / 2].c = fd;
    }
    for (i = 0; i < n; i++)
        pick[i] = i;
    if (read(ctl, &go, 1) != 1)
        return 1;
    t0 = now();
    t_end = t0 + secs;
    while (now() < t_end) {
        double r0 = now(), dt;
        /* ACTIVE distinct relays: a partial Fisher-Yates shuffle. */
        for (i = 0; i < active; i++) {
            long j = i + (long)(rand_r(&seed) % (unsigned)(n - i)), t = pick[i];
            pick[i] = pick[j];
            pick[j] = t;
        }
        for (i = 0; i < active; i++) {
            struct peer *r = &x[pick[i]];
            uint32_t sa = (uint32_t)(2 * pick[i]), sb = (uint32_t)(2 * pick[i] + 1);
            g[2 * i] = (struct leg){ r->c, sa, sb, r->sent_ab, r->sent_ba, 0, 0 };
            g[2 * i + 1] = (struct leg){ r->s, sb, sa, r->sent_ba, r->sent_ab, 0, 0 };
        }
        bad += round_trip(g, (int)(2 * active), msg, p, buf, cap, read_cap);
        for (i = 0; i < active; i++) {
            x[pick[i]].sent_ab += msg;
            x[pick[i]].sent_ba += msg;
        }
        dt = now() - r0;
        if (dt > worst)
            worst = dt;
        moved += 2 * (uint64_t)msg * (uint64_t)active;
        rounds++;
    }
    t_end = now() - t0;
    for (i = 0; i < n; i++) {
        shutdown(x[i].c, SHUT_WR);
        shutdown(x[i].s, SHUT_WR);
        sums[0] += x[i].sent_ab;
        sums[1] += x[i].sent_ba;
    }
    printf("%ld rounds of %ld active relays x %zu bytes each way in %.2f s: %.0f rounds/s, %.1f MB/s, "
           "slowest round %.1f ms; %ld wrong\n",
           rounds, active, msg, t_end, rounds / t_end, moved / t_end / 1e6, worst * 1e3, bad);
    fflush(stdout);
    if (write(ctl, sums, sizeof sums) != (ssize_t)sizeof sums)
        return 1;
    return bad ? 1 : 0;
}

/* user + system CPU seconds of this process (the engine's threads, and
 * the sampler's few wakeups; the driver is another process). */
static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) + (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

static void *sampler(void *arg)
{
    zcopy_engine *e = arg;
    while (sampling) {
        zcopy_engine_stats st;
        zcopy_engine_get_stats(e, &st);
        if (st.pipes_in_use > max_pipes)
            max_pipes = st.pipes_in_use;
        usleep(1000);
    }
    return NULL;
}

static int run(long n, long active, size_t msg, double secs, unsigned threads)
{
    struct relay *x = calloc((size_t)n, sizeof *x);
    zcopy_engine *e = zcopy_engine_new(threads);
    zcopy_engine_stats st;
    zcopy_pool_stats ps;
    struct sockaddr_un u;
    socklen_t ulen;
    uint64_t sums[2] = { 0, 0 }, total = 0;
    long i, bad = 0, rss0, rss1;
    double cpu0, cpu1;
    int l, ctl[2], status;
    pthread_t th;
    pid_t pid;
    if (!x || !e)
        return 1;
    if (active > n)
        active = n;
    u = rendezvous(&ulen);
    l = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (l < 0 || bind(l, (struct sockaddr *)&u, ulen) < 0 || listen(l, 4096) < 0 ||
        socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, ctl) < 0) {
        perror("listen");
        return 1;
    }
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        close(l);
        close(ctl[0]);
        status = drive(u, ulen, ctl[1], n, active, msg, secs);
        fflush(stdout);
        _exit(status);
    }
    close(ctl[1]);
    for (i = 0; i < 2 * n; i++) {
        uint32_t id;
        int fd = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0 || read(fd, &id, 4) != 4 || id >= (uint32_t)(2 * n)) {
            fprintf(stderr, "accept %ld: %s\n", i, strerror(errno));
            return 1;
        }
        if (id % 2)
            x[id / 2].b = fd;
        else
            x[id / 2].a = fd;
    }
    close(l);
    rss0 = rss();
    for (i = 0; i < n; i++) {
        int rc = zcopy_engine_add(e, x[i].a, x[i].b, NULL, on_done, &x[i]);
        if (rc) {
            fprintf(stderr, "add %ld: %s\n", i, strerror(rc));
            return 1;
        }
    }
    usleep(500000);
    rss1 = rss();
    zcopy_engine_get_stats(e, &st);
    printf("held %ld relays (%ld sockets in the engine's process): RSS +%ld bytes per relay, active=%llu "
           "pipes_in_use=%llu\n",
           n, 2 * n, (rss1 - rss0) / n, (unsigned long long)st.active, (unsigned long long)st.pipes_in_use);
    fflush(stdout);
    sampling = 1;
    pthread_create(&th, NULL, sampler, e);
    cpu0 = cpu_seconds();
    if (write(ctl[0], "g", 1) != 1 || read(ctl[0], sums, sizeof sums) != (ssize_t)sizeof sums)
        bad++;
    cpu1 = cpu_seconds();
    for (i = 0; i < 3000 && done_calls < n; i++)
        usleep(10000);
    sampling = 0;
    pthread_join(th, NULL);
    waitpid(pid, &status, 0);
    zcopy_engine_get_stats(e, &st);
    zcopy_pool_get_stats(&ps);
    for (i = 0; i < n; i++) {
        total += (uint64_t)(x[i].r.a_to_b + x[i].r.b_to_a);
        bad += x[i].done != 1 || x[i].r.error != 0;
    }
    printf("engine process CPU during the rounds: %.2f s, %.3f s/GB\n", cpu1 - cpu0,
           (cpu1 - cpu0) / ((double)(sums[0] + sums[1]) / 1e9));
    printf("most pipes in use seen: %llu (pool: %llu created, %llu reused, %llu discarded, %llu idle)\n",
           (unsigned long long)max_pipes, (unsigned long long)ps.created, (unsigned long long)ps.reused,
           (unsigned long long)ps.discarded, (unsigned long long)ps.idle);
    printf("end: active=%llu finished=%llu bytes=%llu (results %llu, driver sent %llu) pipes_in_use=%llu; "
           "%ld relays wrong; driver %s\n",
           (unsigned long long)st.active, (unsigned long long)st.finished, (unsigned long long)st.bytes,
           (unsigned long long)total, (unsigned long long)(sums[0] + sums[1]),
           (unsigned long long)st.pipes_in_use, bad, WIFEXITED(status) && !WEXITSTATUS(status) ? "ok" : "FAILED");
    zcopy_engine_free(e);
    return bad || st.bytes != total || total != sums[0] + sums[1] || st.pipes_in_use ||
                   !WIFEXITED(status) || WEXITSTATUS(status)
               ? 1
               : 0;
}

int main(int argc, char **argv)
{
    long n = argc > 1 ? atol(argv[1]) : 10000, active = argc > 2 ? atol(argv[2]) : 100;
    size_t msg = argc > 3 ? (size_t)atol(argv[3]) : 65536;
    double secs = argc > 4 ? atof(argv[4]) : 10;
    unsigned threads = argc > 5 ? (unsigned)atoi(argv[5]) : 2;
    int uid = argc > 6 ? atoi(argv[6]) : -1, soft = argc > 7 && atoi(argv[7]) == 1, status;
    long spare = soft ? 300 : 64; /* stdio, epoll, eventfds (+ the held pipes) */
    struct rlimit rl;
    pid_t pid;
    if (argc > 8 && atol(argv[8]) > 0)
        read_cap = (size_t)atol(argv[8]) < 65536 ? (size_t)atol(argv[8]) : 65536;
    rl.rlim_cur = rl.rlim_max = (rlim_t)(2 * n + spare);
    if (setrlimit(RLIMIT_NOFILE, &rl) != 0) {
        getrlimit(RLIMIT_NOFILE, &rl);
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        if ((long)rl.rlim_cur < 2 * n + spare) {
            n = ((long)rl.rlim_cur - spare) / 2;
            printf("RLIMIT_NOFILE hard limit %ld: %ld relays\n", (long)rl.rlim_max, n);
        }
    }
    if (uid < 0)
        return run(n, active, msg, secs, threads);
    fflush(stdout);
    pid = fork();
    if (pid == 0) {
        if (setgroups(0, NULL) || setgid((gid_t)uid) || setuid((uid_t)uid)) {
            perror("setuid");
            _exit(1);
        }
        printf("running as uid %d\n", (int)getuid());
        if (soft) {
            int held = 0, p[2];
            while (held < 1000 && pipe2(p, O_CLOEXEC) == 0) {
                held++;
                if (fcntl(p[1], F_SETPIPE_SZ, 1 << 20) < 0)
                    break;
            }
            if (pipe2(p, O_CLOEXEC) == 0)
                printf("holding %d 1 MiB pipes: a new pipe gets %d bytes\n", held, fcntl(p[1], F_GETPIPE_SZ));
        }
        fflush(stdout);
        status = run(n, active, msg, secs, threads);
        fflush(stdout);
        _exit(status);
    }
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 1;
}
