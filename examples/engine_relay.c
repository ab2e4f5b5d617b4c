/*
 * engine_relay: a TCP port forwarder on the zcopy relay engine.
 *
 *   engine_relay LISTEN TARGET [THREADS [PIPE_SIZE]]
 *
 * LISTEN and TARGET are PORT (on 127.0.0.1) or ADDR:PORT (IPv4); LISTEN
 * port 0 picks a free one (the address in use is printed on stderr).
 * THREADS: the engine's threads (default 0: one per CPU). PIPE_SIZE: the
 * pool's pipe size in bytes (zcopy_pool_configure; default the pool's
 * 1 MiB). Smaller pipes keep a process with many busy relays under
 * pipe-user-pages-soft longer: 64 KiB pipes are 16 pages, 1 MiB ones 256.
 *
 * The main thread only accepts: each client is connected to TARGET and
 * the pair is handed to the engine with zcopy_engine_add, which relays
 * both directions (splice through pooled pipes, half-close, errors) on its
 * own epoll threads; the done callback closes both sockets. SIGINT or
 * SIGTERM stops accepting, prints the engine's counters and frees it
 * (relays still running end with ECANCELED).
 *
 * Build: cc -std=c99 -O2 engine_relay.c $(pkg-config --cflags --libs zcopy)
 */
#define _GNU_SOURCE
#include <zcopy.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static volatile sig_atomic_t stopping;

static void on_signal(int sig)
{
    (void)sig;
    stopping = 1;
}

/* PORT or ADDR:PORT into an IPv4 address; 0 on success. */
static int parse_addr(const char *spec, struct sockaddr_in *a)
{
    const char *colon = strrchr(spec, ':');
    char host[64] = "127.0.0.1";
    char *end;
    long port;
    if (colon) {
        size_t n = (size_t)(colon - spec);
        if (n == 0 || n >= sizeof host)
            return -1;
        memcpy(host, spec, n);
        host[n] = 0;
        spec = colon + 1;
    }
    port = strtol(spec, &end, 10);
    if (*spec == 0 || *end != 0 || port < 0 || port > 65535)
        return -1;
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_port = htons((unsigned short)port);
    return inet_pton(AF_INET, host, &a->sin_addr) == 1 ? 0 : -1;
}

/* The two sockets of one relay, closed by the done callback. */
struct pair {
    int client;
    int target;
};

static void relay_done(void *ctx, zcopy_relay_result r)
{
    struct pair *p = ctx;
    (void)r; /* r.a_to_b, r.b_to_a, r.error, r.error_fd: a real proxy logs them */
    close(p->client);
    close(p->target);
    free(p);
}

static void nodelay(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

int main(int argc, char **argv)
{
    struct sockaddr_in la, ta;
    socklen_t len = sizeof la;
    struct sigaction sa;
    zcopy_engine *engine;
    zcopy_engine_stats st;
    unsigned long threads = 0;
    int l, one = 1;
    if (argc < 3 || argc > 5 || parse_addr(argv[1], &la) || parse_addr(argv[2], &ta)) {
        fprintf(stderr, "usage: %s LISTEN TARGET [THREADS [PIPE_SIZE]]  (PORT or ADDR:PORT)\n", argv[0]);
        return 2;
    }
    if (argc >= 4)
        threads = strtoul(argv[3], NULL, 10);
    if (argc == 5) {
        int rc = zcopy_pool_configure(0, strtoull(argv[4], NULL, 10));
        if (rc != 0) {
            fprintf(stderr, "engine_relay: zcopy_pool_configure: %s\n", strerror(rc));
            return 2;
        }
    }
    engine = zcopy_engine_new((uint32_t)threads);
    if (!engine) {
        fprintf(stderr, "engine_relay: zcopy_engine_new: %s\n", strerror(errno));
        return 1;
    }
    l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (l < 0 || bind(l, (struct sockaddr *)&la, sizeof la) < 0 || listen(l, 1024) < 0 ||
        getsockname(l, (struct sockaddr *)&la, &len) < 0) {
        fprintf(stderr, "engine_relay: cannot listen on %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal; /* no SA_RESTART: accept returns EINTR */
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    {
        char lb[32], tb[32];
        inet_ntop(AF_INET, &la.sin_addr, lb, sizeof lb);
        inet_ntop(AF_INET, &ta.sin_addr, tb, sizeof tb);
        fprintf(stderr, "engine_relay: listening on %s:%d, forwarding to %s:%d (zcopy %s, %lu threads)\n", lb,
                ntohs(la.sin_port), tb, ntohs(ta.sin_port), zcopy_version(), threads);
    }
    while (!stopping) {
        struct pair *p;
        int c = accept4(l, NULL, NULL, SOCK_CLOEXEC), t, rc;
        if (c < 0) {
            if (errno != EINTR && errno != ECONNABORTED)
                usleep(10000); /* EMFILE and the like: back off, do not spin */
            continue;
        }
        t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (t < 0 || connect(t, (struct sockaddr *)&ta, sizeof ta) < 0) {
            if (t >= 0)
                close(t);
            close(c);
            continue;
        }
        nodelay(c);
        nodelay(t);
        p = malloc(sizeof *p);
        if (!p) {
            close(c);
            close(t);
            continue;
        }
        p->client = c;
        p->target = t;
        rc = zcopy_engine_add(engine, c, t, NULL, relay_done, p);
        if (rc != 0) {
            fprintf(stderr, "engine_relay: zcopy_engine_add: %s\n", strerror(rc));
            relay_done(p, (zcopy_relay_result){ 0, 0, rc, -1 });
        }
    }
    zcopy_engine_get_stats(engine, &st);
    fprintf(stderr, "engine_relay: stopping: %llu active, %llu finished, %llu bytes, %llu pipes in use\n",
            (unsigned long long)st.active, (unsigned long long)st.finished, (unsigned long long)st.bytes,
            (unsigned long long)st.pipes_in_use);
    zcopy_engine_free(engine);
    close(l);
    return 0;
}
