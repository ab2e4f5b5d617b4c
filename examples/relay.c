/*
 * relay: a bidirectional TCP proxy on zcopy_relay.
 *
 *   relay LISTEN_ADDR:PORT TARGET_ADDR:PORT [IDLE_SECONDS]
 *
 * Accepts connections on LISTEN_ADDR:PORT (port 0 picks a free one; the
 * address in use is printed on stderr) and connects each to
 * TARGET_ADDR:PORT. Each connection is one thread making one call,
 * zcopy_relay(client, target, &opts), which moves both directions at once
 * (socket -> pooled pipe -> socket, no copy through user space). When one
 * side reaches end of stream the other side gets shutdown(SHUT_WR), so
 * half-closed protocols keep working; the call returns once both
 * directions are done, or at the first reset on either side, and both
 * sockets are closed. With IDLE_SECONDS, a connection that moves no byte
 * in either direction for that long is closed (ETIMEDOUT in the log).
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

static struct sockaddr_storage target_addr;
static socklen_t target_len;
static zcopy_options relay_opts;

/* What ended a relay, for the log line. */
static const char *side_of(const zcopy_relay_result *r, const struct conn *c) {
    if (r->error_fd == c->client)
        return " on the client side";
    if (r->error_fd == c->target)
        return " on the target side";
    return "";
}

/* One connection, one thread, one call: zcopy_relay moves both directions
 * at once and half-closes each as its source ends. */
static void *serve(void *arg) {
    struct conn *c = (struct conn *)arg;
    zcopy_relay_result r;
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

    r = zcopy_relay(c->client, c->target, &relay_opts);
    fprintf(stderr, "relay: closed: %lld bytes to target, %lld bytes to client (%s%s)\n",
            (long long)r.a_to_b, (long long)r.b_to_a, r.error ? strerror(r.error) : "both ends done",
            side_of(&r, c));
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

    zcopy_options_init(&relay_opts);
    if (argc == 4) {
        char *end;
        double secs = strtod(argv[3], &end);
        if (*end != '\0' || !(secs > 0) || secs > 9e15 / 1000) {
            fprintf(stderr, "relay: IDLE_SECONDS must be a positive number\n");
            return 2;
        }
        relay_opts.idle_timeout_ms = (int64_t)(secs * 1000 + 0.5);
    }
    if ((argc != 3 && argc != 4) || resolve(argv[1], 1, &listen_addr, &listen_len) != 0 ||
        resolve(argv[2], 0, &target_addr, &target_len) != 0) {
        fprintf(stderr, "usage: %s LISTEN_ADDR:PORT TARGET_ADDR:PORT [IDLE_SECONDS]\n", argv[0]);
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
