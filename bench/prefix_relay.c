/*
 * prefix_relay.c: what prefix bytes cost a relay (issue 23). Each round
 * relays BYTES one way between two TCP loopback connections, with
 * zcopy_relay, zcopy_relay_prefixed (a 517-byte prefix: a TLS ClientHello's
 * size) and zcopy_relay_prefixed with empty prefixes, interleaved; prints
 * each round's wall time and the relay thread's CPU, then the medians.
 *
 *   cc -O2 -Iinclude bench/prefix_relay.c -o /tmp/prefix_relay \
 *      -Ltarget/release -lzcopy -lpthread -Wl,-rpath,$PWD/target/release
 *   /tmp/prefix_relay [ROUNDS] [MIB]
 */
#define _GNU_SOURCE
#include <zcopy.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void tcp_pair(int p[2])
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof a;
    int l = socket(AF_INET, SOCK_STREAM, 0);
    if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 1) || getsockname(l, (struct sockaddr *)&a, &len))
        exit(1);
    p[0] = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(p[0], (struct sockaddr *)&a, sizeof a))
        exit(1);
    p[1] = accept(l, NULL, NULL);
    close(l);
}

struct io { int fd; size_t n; };

static void *writer(void *arg)
{
    struct io *x = arg;
    static char buf[1 << 16];
    size_t left = x->n;
    while (left) {
        ssize_t w = write(x->fd, buf, left < sizeof buf ? left : sizeof buf);
        if (w <= 0)
            break;
        left -= (size_t)w;
    }
    shutdown(x->fd, SHUT_WR);
    return NULL;
}

static void *reader(void *arg)
{
    struct io *x = arg;
    static char buf[1 << 16];
    ssize_t r;
    x->n = 0;
    while ((r = read(x->fd, buf, sizeof buf)) > 0)
        x->n += (size_t)r;
    shutdown(x->fd, SHUT_WR);
    return NULL;
}

static double cpu(void)
{
    struct rusage u;
    getrusage(RUSAGE_THREAD, &u);
    return (double)(u.ru_utime.tv_sec + u.ru_stime.tv_sec) + (double)(u.ru_utime.tv_usec + u.ru_stime.tv_usec) / 1e6;
}

/* kind 0: zcopy_relay; 1: prefixed, 517 bytes; 2: prefixed, empty. */
static void one(int kind, size_t bytes, double *wall, double *cpus)
{
    static uint8_t hello[517];
    int c[2], u[2];
    struct io w, r;
    pthread_t tw, tr;
    tcp_pair(c);
    tcp_pair(u);
    w.fd = c[0];
    w.n = bytes;
    r.fd = u[1];
    pthread_create(&tw, NULL, writer, &w);
    pthread_create(&tr, NULL, reader, &r);
    double t0 = now(), c0 = cpu();
    zcopy_relay_result res = kind == 0 ? zcopy_relay(c[1], u[0], NULL)
                                       : zcopy_relay_prefixed(c[1], u[0], hello, kind == 1 ? sizeof hello : 0,
                                                              NULL, 0, NULL);
    *cpus = cpu() - c0;
    *wall = now() - t0;
    pthread_join(tw, NULL);
    pthread_join(tr, NULL);
    size_t want = bytes + (kind == 1 ? sizeof hello : 0);
    if (res.error || r.n != want) {
        fprintf(stderr, "kind %d: error %d, got %zu of %zu\n", kind, res.error, r.n, want);
        exit(1);
    }
    close(c[0]);
    close(c[1]);
    close(u[0]);
    close(u[1]);
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : 9;
    size_t bytes = (size_t)(argc > 2 ? atoi(argv[2]) : 512) << 20;
    static const char *name[] = { "zcopy_relay", "prefixed, 517 B", "prefixed, empty" };
    double wall[3][64], cpus[3][64];
    if (rounds > 64)
        rounds = 64;
    for (int i = 0; i < rounds; i++)
        for (int k = 0; k < 3; k++) {
            int kind = (k + i) % 3; /* rotate the order every round */
            one(kind, bytes, &wall[kind][i], &cpus[kind][i]);
            printf("round %d %-16s %.3f s wall, %.3f s CPU\n", i, name[kind], wall[kind][i], cpus[kind][i]);
        }
    printf("\n%zu MiB per relay, %d rounds, medians:\n", bytes >> 20, rounds);
    double base_w = 0, base_c = 0;
    for (int k = 0; k < 3; k++) {
        qsort(wall[k], (size_t)rounds, sizeof(double), cmp);
        qsort(cpus[k], (size_t)rounds, sizeof(double), cmp);
        double w = wall[k][rounds / 2], c = cpus[k][rounds / 2];
        if (k == 0) {
            base_w = w;
            base_c = c;
        }
        printf("%-16s %.3f s wall (%.3fx), %.3f s CPU (%.3fx), %.2f Gbit/s\n", name[k], w, w / base_w, c,
               c / base_c, (double)bytes * 8 / w / 1e9);
    }
    return 0;
}
