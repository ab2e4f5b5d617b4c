/*
 * relay: a bidirectional TCP proxy on zcopy_splice.
 *
 *   relay LISTEN_ADDR:PORT TARGET_ADDR:PORT
 *
 * Accepts connections on LISTEN_ADDR:PORT (port 0 picks a free one; the
 * address in use is printed on stderr) and connects each to
 * TARGET_ADDR:PORT. Every direction is its own thread that moves bytes with
 * zcopy_splice(dst, src, ZCOPY_ALL): socket -> pooled pipe -> socket, no
 * copy through user space. When one side reaches end of stream the other
 * side gets shutdown(SHUT_WR), so half-closed protocols keep working; both
 * sockets are closed once both directions are done.
 *
 * Build: cc -std=c99 -O2 relay.c $(pkg-config --cflags --libs zcopy) -lpthread
 */
#define _GNU_SOURCE
#include <zcopy.h>

#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <arpa/inet.h>
#include <unistd.h>

struct conn {
    int client;
    int target;
};

struct direction {
    int dst;
    int src;
    zcopy_result result;
};

/* Splits "host:port" (the last ':'; "[v6]:port" allowed) and resolves it. */
static int resolve(const char *spec, int passive, struct sockaddr_storage *out, socklen_t *len) {
    char host[256];
    const char *colon = strrchr(spec, ':');
    struct addrinfo hints, *res = NULL;
    size_t hl;
    int rc;
    if (colon == NULL || colon == spec || colon[1] == '\0')
        return -1;
    hl = (size_t)(colon - spec);
    if (spec[0] == '[' && hl >= 2 && spec[hl - 1] == ']') {
        spec++;
        hl -= 2;
    }
    if (hl >= sizeof host)
        return -1;
    memcpy(host, spec, hl);
    host[hl] = '\0';
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_flags = passive ? AI_PASSIVE : 0;
    rc = getaddrinfo(host, colon + 1, &hints, &res);
    if (rc != 0 || res == NULL) {
        fprintf(stderr, "relay: %s: %s\n", spec, rc ? gai_strerror(rc) : "no address");
        return -1;
    }
    memcpy(out, res->ai_addr, res->ai_addrlen);
    *len = res->ai_addrlen;
    freeaddrinfo(res);
    return 0;
}

static void describe(const struct sockaddr_storage *a, char *buf, size_t n) {
    char host[INET6_ADDRSTRLEN] = "?";
    int port = 0;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *s = (const struct sockaddr_in *)a;
        inet_ntop(AF_INET, &s->sin_addr, host, sizeof host);
        port = ntohs(s->sin_port);
    } else if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *s = (const struct sockaddr_in6 *)a;
        inet_ntop(AF_INET6, &s->sin6_addr, host, sizeof host);
        port = ntohs(s->sin6_port);
    }
    snprintf(buf, n, a->ss_family == AF_INET6 ? "[%s]:%d" : "%s:%d", host, port);
}

/* One direction: everything from src to dst, then a half-close. */
static void *pump(void *arg) {
    struct direction *d = (struct direction *)arg;
    d->result = zcopy_splice(d->dst, d->src, ZCOPY_ALL);
    if (!d->result.handled) /* cannot splice this pair: the best other path */
        d->result = zcopy_copy(d->dst, d->src, ZCOPY_ALL);
    if (d->result.error == 0) {
        shutdown(d->dst, SHUT_WR);
    } else {
        /* Wake the other direction too: the connection is broken. */
        shutdown(d->dst, SHUT_RDWR);
        shutdown(d->src, SHUT_RDWR);
    }
    return NULL;
}

static struct sockaddr_storage target_addr;
static socklen_t target_len;

static void *serve(void *arg) {
    struct conn *c = (struct conn *)arg;
    struct direction up, down;
    pthread_t t;
    int one = 1;

    c->target = socket(target_addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (c->target < 0 || connect(c->target, (struct sockaddr *)&target_addr, target_len) != 0) {
        perror("relay: connect to target");
        if (c->target >= 0)
            close(c->target);
        close(c->client);
        free(c);
        return NULL;
    }
    setsockopt(c->client, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(c->target, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);

    up.dst = c->target;
    up.src = c->client;
    down.dst = c->client;
    down.src = c->target;
    if (pthread_create(&t, NULL, pump, &up) != 0) {
        fprintf(stderr, "relay: cannot start a thread\n");
    } else {
        pump(&down);
        pthread_join(t, NULL);
        fprintf(stderr, "relay: closed: %lld bytes to target (%s%s%s), %lld bytes to client (%s%s%s)\n",
                (long long)up.result.written, zcopy_method_name(up.result.method),
                up.result.error ? ", " : "", up.result.error ? strerror(up.result.error) : "",
                (long long)down.result.written, zcopy_method_name(down.result.method),
                down.result.error ? ", " : "", down.result.error ? strerror(down.result.error) : "");
    }
    close(c->client);
    close(c->target);
    free(c);
    return NULL;
}

int main(int argc, char **argv) {
    struct sockaddr_storage listen_addr, bound;
    socklen_t listen_len, bound_len = sizeof bound;
    char lbuf[80], tbuf[80];
    int lfd, one = 1;

    if (argc != 3) {
        fprintf(stderr, "usage: %s LISTEN_ADDR:PORT TARGET_ADDR:PORT\n", argv[0]);
        return 2;
    }
    if (resolve(argv[1], 1, &listen_addr, &listen_len) != 0 ||
        resolve(argv[2], 0, &target_addr, &target_len) != 0) {
        fprintf(stderr, "usage: %s LISTEN_ADDR:PORT TARGET_ADDR:PORT\n", argv[0]);
        return 2;
    }
    lfd = socket(listen_addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (lfd < 0) {
        perror("relay: socket");
        return 1;
    }
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(lfd, (struct sockaddr *)&listen_addr, listen_len) != 0 || listen(lfd, 128) != 0) {
        fprintf(stderr, "relay: cannot listen on %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    getsockname(lfd, (struct sockaddr *)&bound, &bound_len);
    describe(&bound, lbuf, sizeof lbuf);
    describe(&target_addr, tbuf, sizeof tbuf);
    fprintf(stderr, "relay: listening on %s, forwarding to %s (zcopy %s)\n", lbuf, tbuf, zcopy_version());

    for (;;) {
        pthread_t t;
        pthread_attr_t attr;
        struct conn *c;
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            perror("relay: accept");
            sleep(1); /* EMFILE and the like: let connections finish */
            continue;
        }
        c = (struct conn *)malloc(sizeof *c);
        if (c == NULL) {
            close(fd);
            continue;
        }
        c->client = fd;
        c->target = -1;
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, serve, c) != 0) {
            fprintf(stderr, "relay: cannot start a thread\n");
            close(fd);
            free(c);
        }
        pthread_attr_destroy(&attr);
    }
}
