/* pingpong_client PORT CONNS SIZE SECONDS: CONNS connections to 127.0.0.1
 * PORT, each sending SIZE bytes and waiting for all SIZE back before the
 * next, for SECONDS. Prints "ROUND_TRIPS_PER_SECOND TOTAL_ROUND_TRIPS".
 * One thread, epoll, non-blocking sockets. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: %s PORT CONNS SIZE SECONDS\n", argv[0]); return 2; }
    int port = atoi(argv[1]), conns = atoi(argv[2]);
    size_t size = (size_t)atol(argv[3]);
    double secs = atof(argv[4]);
    char *msg = malloc(size), *in = malloc(size);
    memset(msg, 'z', size);
    size_t *got = calloc((size_t)conns, sizeof *got);
    int *fds = calloc((size_t)conns, sizeof *fds), one = 1;
    int ep = epoll_create1(0);
    for (int i = 0; i < conns; i++) {
        fds[i] = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(port) };
        a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        if (connect(fds[i], (struct sockaddr *)&a, sizeof a)) { perror("connect"); return 1; }
        setsockopt(fds[i], IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        struct epoll_event ev = { .events = EPOLLIN, .data.u32 = (unsigned)i };
        epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
        if (write(fds[i], msg, size) != (ssize_t)size) { perror("write"); return 1; }
    }
    long long trips = 0;
    double end = now() + secs;
    struct epoll_event evs[256];
    /* Invariant: each connection has one message in flight; got[i] bytes
     * of its echo have arrived. */
    while (now() < end) {
        int n = epoll_wait(ep, evs, 256, 100);
        for (int k = 0; k < n; k++) {
            int i = (int)evs[k].data.u32;
            ssize_t r = read(fds[i], in, size - got[i]);
            if (r <= 0) {
                if (r < 0 && errno == EAGAIN) continue;
                fprintf(stderr, "connection %d closed\n", i);
                return 1;
            }
            got[i] += (size_t)r;
            if (got[i] == size) {
                got[i] = 0;
                trips++;
                if (write(fds[i], msg, size) != (ssize_t)size) { perror("write"); return 1; }
            }
        }
    }
    printf("%.0f %lld\n", trips / secs, trips);
    return 0;
}
