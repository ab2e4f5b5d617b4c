/* rawrelay: the splice ceiling. A two-way TCP proxy on bare splice(2):
 * blocking sockets, one pipe of PSZ bytes per direction, a thread per
 * direction, nothing else (no pool, no EAGAIN handling, no SIGPIPE
 * guard). What zcopy's relay pays above this is its own cost.
 *
 *   cc -O2 -pthread -DPSZ=1048576 -DFLAGS=0 rawrelay.c -o rawrelay
 *   rawrelay LISTEN_PORT TARGET_PORT            (both on 127.0.0.1)
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef PSZ
#define PSZ 1048576
#endif
#ifndef FLAGS
#define FLAGS 0
#endif

static int target_port;

struct dir { int src, dst; };

/* Moves src to dst through its own pipe until EOF or an error, then
 * half-closes dst. Invariant at the loop head: the pipe is empty. */
static void *pump(void *arg) {
    struct dir *d = arg;
    int p[2];
    if (pipe(p) == 0) {
        fcntl(p[1], F_SETPIPE_SZ, PSZ);
        for (;;) {
            ssize_t n = splice(d->src, NULL, p[1], NULL, PSZ, FLAGS);
            if (n <= 0) break;
            while (n > 0) {
                ssize_t m = splice(p[0], NULL, d->dst, NULL, (size_t)n, FLAGS);
                if (m <= 0) goto out;
                n -= m;
            }
        }
    out:
        close(p[0]);
        close(p[1]);
    }
    shutdown(d->dst, SHUT_WR);
    return NULL;
}

static void *serve(void *arg) {
    int client = (int)(long)arg;
    int up = socket(AF_INET, SOCK_STREAM, 0);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(target_port) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (up >= 0 && connect(up, (struct sockaddr *)&a, sizeof a) == 0) {
        struct dir there = { client, up }, back = { up, client };
        pthread_t t;
        if (pthread_create(&t, NULL, pump, &back) == 0) {
            pump(&there);
            pthread_join(t, NULL);
        }
    }
    if (up >= 0) close(up);
    close(client);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3) { fprintf(stderr, "usage: %s LISTEN_PORT TARGET_PORT\n", argv[0]); return 2; }
    signal(SIGPIPE, SIG_IGN);
    target_port = atoi(argv[2]);
    int l = socket(AF_INET, SOCK_STREAM, 0), one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons(atoi(argv[1])) };
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(l, (struct sockaddr *)&a, sizeof a) || listen(l, 128)) { perror("listen"); return 1; }
    for (;;) {
        int c = accept(l, NULL, NULL);
        if (c < 0) continue;
        pthread_t t;
        if (pthread_create(&t, NULL, serve, (void *)(long)c) == 0) pthread_detach(t);
        else close(c);
    }
}
