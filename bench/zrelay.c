/* zrelay: a minimal bidirectional TCP proxy on zcopy_splice, one thread per
 * direction, blocking sockets. The benchmark's stand-in for zcopy's C relay
 * when examples/relay.c is not in the tree.
 *
 * build: gcc -O2 -pthread -Iinclude bench/zrelay.c -Ltarget/release -lzcopy \
 *            -Wl,-rpath,$PWD/target/release -o zrelay
 * usage: zrelay LISTEN_PORT TARGET_PORT   (both on 127.0.0.1)
 * ZRELAY_PIPE_SIZE=N in the environment sets the pool's pipe size
 * (zcopy_pool_configure(0, N)), for the benchmark's pipe-size sweep. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "zcopy.h"

static int target_port;

struct leg {
    int dst, src;
};

static void *pump(void *arg) {
    struct leg *l = arg;
    /* One call moves everything until src reaches EOF or a side fails. */
    zcopy_result r = zcopy_splice(l->dst, l->src, ZCOPY_ALL);
    if (!r.handled) {
        fprintf(stderr, "zrelay: splice cannot serve these sockets (errno %d)\n", r.error);
    }
    shutdown(l->dst, SHUT_WR);
    return NULL;
}

static void *connection(void *arg) {
    int c = (int)(long)arg;
    int t = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)target_port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (t < 0 || connect(t, (struct sockaddr *)&a, sizeof a) != 0) {
        close(c);
        if (t >= 0) close(t);
        return NULL;
    }
    struct leg up = {t, c}, down = {c, t};
    pthread_t th;
    if (pthread_create(&th, NULL, pump, &up) != 0) {
        close(c);
        close(t);
        return NULL;
    }
    pump(&down);
    pthread_join(th, NULL);
    close(c);
    close(t);
    return NULL;
}

int main(int argc, char **argv) {
    if (argc != 3) {
        fprintf(stderr, "usage: %s LISTEN_PORT TARGET_PORT\n", argv[0]);
        return 2;
    }
    target_port = atoi(argv[2]);
    const char *psz = getenv("ZRELAY_PIPE_SIZE");
    if (psz != NULL && zcopy_pool_configure(0, strtoull(psz, NULL, 10)) != 0) {
        fprintf(stderr, "zrelay: bad ZRELAY_PIPE_SIZE %s\n", psz);
        return 2;
    }
    int l = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;
    setsockopt(l, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((unsigned short)atoi(argv[1]))};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (bind(l, (struct sockaddr *)&a, sizeof a) != 0 || listen(l, 64) != 0) {
        perror("zrelay: listen");
        return 1;
    }
    for (;;) {
        int c = accept4(l, NULL, NULL, SOCK_CLOEXEC);
        if (c < 0) continue;
        pthread_t th;
        if (pthread_create(&th, NULL, connection, (void *)(long)c) != 0) {
            close(c);
            continue;
        }
        pthread_detach(th);
    }
}
