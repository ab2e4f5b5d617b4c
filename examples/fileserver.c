/*
 * fileserver: a small HTTP/1.1 static file server on zcopy_sendfile_hdr and
 * zcopy_sendfile_at_opts.
 *
 *   fileserver [-v] [-t THREADS] [-s BYTES] ROOT PORT [ADDR]
 *
 * Serves the files under ROOT on ADDR:PORT (ADDR defaults to 127.0.0.1;
 * port 0 picks a free one, printed on stderr). GET and HEAD;
 * Content-Length; single Range requests (bytes=A-B, bytes=A-, bytes=-N)
 * answered with 206 and Content-Range, 416 when unsatisfiable; 404 for
 * missing files; 403 for anything that would leave ROOT (.., %2e%2e,
 * symlinks pointing outside); keep-alive and pipelining.
 *
 *   -v          a log line per request on stderr (off by default: a write
 *               per request is a system call per request)
 *   -t THREADS  event loops, one thread each (default: one per CPU)
 *   -s BYTES    bodies up to this size are read with pread(2) and sent in
 *               the same send(2) as the headers (default 16384, at most
 *               16384; 0: every body goes through zcopy_sendfile_hdr)
 *
 * FILESERVER_NO_OPENAT2 set in the environment: paths are walked as on a
 * kernel without openat2 (every symlink refused); for the tests.
 *
 * Each thread runs an epoll loop (level-triggered) over non-blocking
 * sockets, with a listening socket of its own (SO_REUSEPORT: the kernel
 * spreads connections over the loops). A response is its headers and
 * then its body: the headers and the body's first chunk in one
 * zcopy_sendfile_hdr call (the headers leave in the same segment as the
 * body's first bytes), the rest by zcopy_sendfile_at_opts, straight from
 * the page cache, in chunks of 2 MiB so a big download
 * yields to the other connections of its loop; a body of more than one
 * chunk is sent with TCP_CORK set, so no chunk ends in a short segment.
 *
 * The body calls pass ZCOPY_OPT_NOWAIT: on a full socket the call returns
 * at once with EAGAIN, `written` and the advanced offset telling how far
 * it got, and the loop waits for EPOLLOUT on that connection and goes on
 * from the offset when it comes. The loop never sleeps anywhere but in
 * epoll_wait, however many clients stop reading.
 *
 * The files: fileserver/files.h (paths beneath ROOT with openat2, the
 * shared-fd cache). HTTP parsing: fileserver/http.h. They are headers of
 * static functions so that the example stays one translation unit, built
 * with one cc command like the other examples:
 *
 * Build: cc -std=c99 -O2 fileserver.c $(pkg-config --cflags --libs zcopy) -lpthread
 */
#define _GNU_SOURCE
#include <zcopy.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/uio.h>
#include <time.h>
#include <unistd.h>

#include "fileserver/files.h"
#include "fileserver/http.h"

#define SMALL_LIMIT 16384        /* the most -s allows: conn.out holds it */
#define CHUNK ((int64_t)2 << 20) /* body bytes per zcopy_sendfile_at call */
#define IDLE_SECS 30             /* keep-alive connection with no request */
#define STALL_SECS 60            /* response with no progress */

static int log_requests;
static int64_t small_max = SMALL_LIMIT;
static zcopy_options nowait; /* ZCOPY_OPT_NOWAIT, set up in main */

struct conn {
    int fd;
    int events;               /* what epoll watches: EPOLLIN or EPOLLOUT */
    time_t last;              /* last progress, for the idle sweep */
    struct conn *prev, *next; /* the loop's connections */
    char in[8192];
    size_t have;              /* bytes in `in` */
    size_t used;              /* of which the request being answered */
    char out[1024 + SMALL_LIMIT]; /* headers, then a small body */
    size_t out_len, out_off;
    struct entry *file;       /* the body's file, or NULL */
    int64_t off, left, sent;  /* the body: next offset, bytes to go, sent */
    int copy;                 /* sendfile refused the pair: pread + send */
    const char *how;          /* for the log line: how the body went */
    int keep, corked, status;
    const char *method;       /* for the log line */
    char what[320];
};

struct loop {
    int ep, lfd;
    struct conn *conns;
    time_t date_at;
    char date[64];
};

static void conn_log(struct conn *c) {
    char line[512];
    if (!log_requests)
        return;
    if (c->file == NULL && c->sent == 0)
        snprintf(line, sizeof line, "fileserver: %s\n", c->what);
    else
        snprintf(line, sizeof line, "fileserver: %s, %lld bytes with %s\n", c->what,
                 (long long)c->sent, c->how);
    fputs(line, stderr);
}

static void conn_close(struct loop *l, struct conn *c) {
    if (c->file != NULL)
        file_put(c->file);
    close(c->fd); /* also takes it out of the epoll set */
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        l->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    free(c);
}

static void conn_want(struct loop *l, struct conn *c, int events) {
    struct epoll_event ev;
    if (c->events == events)
        return;
    ev.events = (uint32_t)events;
    ev.data.ptr = c;
    epoll_ctl(l->ep, EPOLL_CTL_MOD, c->fd, &ev);
    c->events = events;
}

static const char *loop_date(struct loop *l) {
    time_t now = time(NULL);
    if (now != l->date_at) {
        struct tm tm;
        gmtime_r(&now, &tm);
        strftime(l->date, sizeof l->date, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        l->date_at = now;
    }
    return l->date;
}

/* An answer without a file (errors, 416): headers and a short text. */
static void respond_simple(struct loop *l, struct conn *c, int status, int head, const char *extra) {
    char body[64];
    int blen = snprintf(body, sizeof body, "%d %s\n", status, reason(status));
    int n = format_head(c->out, sizeof c->out, status, loop_date(l), "text/plain; charset=utf-8",
                        blen, extra, c->keep);
    if (!head) {
        memcpy(c->out + n, body, (size_t)blen);
        n += blen;
    }
    c->out_len = (size_t)n;
    c->status = status;
    conn_log(c);
}

/* Answers the request whose header block is c->in[0, c->used). */
static void respond(struct loop *l, struct conn *c, struct request *r) {
    char rel[PATH_MAX], extra[160] = "";
    struct stat st;
    struct entry *e;
    int64_t size, start = 0, len;
    int status, n, hl;

    status = target_path(r->target, rel, sizeof rel);
    if (status == 0 && fstatat(root_fd, rel, &st, 0) != 0)
        status = open_status(errno);
    if (status == 0 && S_ISDIR(st.st_mode)) {
        strcat(rel, "/index.html");
        if (fstatat(root_fd, rel, &st, 0) != 0)
            status = open_status(errno);
    }
    if (status == 0 && !S_ISREG(st.st_mode))
        status = 404;
    e = status == 0 ? file_get(rel, &st) : NULL;
    if (status == 0 && e == NULL)
        status = open_status(errno);
    snprintf(c->what, sizeof c->what, "%s %.200s -> %d", r->method, r->target, status);
    if (status != 0) {
        respond_simple(l, c, status, r->head, "");
        return;
    }
    size = (int64_t)st.st_size; /* st is e's inode: file_get checked */
    len = size;
    status = 200;
    if (r->range[0] != '\0') {
        int got = parse_range(r->range, size, &start, &len);
        if (got < 0) {
            file_put(e);
            snprintf(extra, sizeof extra, "Content-Range: bytes */%lld\r\n", (long long)size);
            snprintf(c->what, sizeof c->what, "%s %.200s Range: %.60s -> 416", r->method, r->target, r->range);
            respond_simple(l, c, 416, r->head, extra);
            return;
        }
        if (got > 0) {
            status = 206;
            snprintf(extra, sizeof extra, "Content-Range: bytes %lld-%lld/%lld\r\n", (long long)start,
                     (long long)(start + len - 1), (long long)size);
            snprintf(c->what, sizeof c->what, "%s %.200s bytes %lld-%lld/%lld -> 206", r->method, r->target,
                     (long long)start, (long long)(start + len - 1), (long long)size);
        } else {
            start = 0;
            len = size;
        }
    }
    if (status == 200)
        snprintf(c->what, sizeof c->what, "%s %.200s -> 200", r->method, r->target);
    strcat(extra, "Accept-Ranges: bytes\r\n");
    hl = format_head(c->out, sizeof c->out - SMALL_LIMIT, status, loop_date(l), content_type(rel), len,
                     extra, c->keep);
    c->out_len = (size_t)hl;
    c->status = status;
    if (r->head || len == 0) {
        file_put(e);
        conn_log(c);
        return;
    }
    if (len <= small_max) {
        /* One send for the whole response: for a few KiB, a second system
           call costs more than the copy that sendfile would save. */
        n = (int)pread(e->fd, c->out + hl, (size_t)len, (off_t)start);
        file_put(e);
        if (n >= 0)
            c->out_len += (size_t)n;
        c->sent = n < 0 ? 0 : n;
        c->how = "pread+send";
        if (n != len)
            c->keep = 0; /* the file shrank: the length was a promise */
        conn_log(c);
        return;
    }
    c->file = e;
    c->how = "sendfile";
    c->off = start;
    c->left = len;
    if (len > CHUNK) {
        int one = 1;
        if (setsockopt(c->fd, IPPROTO_TCP, TCP_CORK, &one, sizeof one) == 0)
            c->corked = 1;
    }
}

/* Sends what is queued. 1: the response is out; 0: the socket is full (or
   a chunk is done: let the others have a turn), wait for EPOLLOUT; -1: the
   peer is gone or the file failed. */
static int conn_flush(struct conn *c) {
    for (;;) {
        if (c->out_off < c->out_len && c->left > 0 && !c->copy) {
            /* Headers and the body's first chunk in one call: the headers
               leave in the same segment as the body's first bytes. `written`
               counts the headers first, then the body. */
            struct iovec h;
            int64_t want = c->left < CHUNK ? c->left : CHUNK, body;
            size_t hs;
            zcopy_result res;
            h.iov_base = c->out + c->out_off;
            h.iov_len = c->out_len - c->out_off;
            res = zcopy_sendfile_hdr(c->fd, &h, 1, c->file->fd, &c->off, want, NULL, 0, &nowait);
            hs = res.written < (int64_t)h.iov_len ? (size_t)res.written : h.iov_len;
            body = res.written - (int64_t)hs;
            c->out_off += hs;
            c->left -= body;
            c->sent += body;
            if (res.method == ZCOPY_METHOD_READ_WRITE)
                c->how = "read/write (sendfile refused)";
            if (res.error == EAGAIN)
                return 0; /* the socket is full: out_off and c->off say where to go on */
            if (res.error != 0 || body < want)
                return -1; /* peer gone, or the file shrank */
            if (c->left > 0)
                return 0;
            continue;
        }
        if (c->out_off < c->out_len) {
            ssize_t n = send(c->fd, c->out + c->out_off, c->out_len - c->out_off,
                             MSG_NOSIGNAL | (c->left > 0 ? MSG_MORE : 0));
            if (n < 0 && errno == EINTR)
                continue;
            if (n < 0)
                return errno == EAGAIN ? 0 : -1;
            c->out_off += (size_t)n;
            continue;
        }
        if (c->left == 0)
            break;
        if (c->copy) {
            /* The kernel cannot sendfile this pair: the body through c->out. */
            size_t want = (size_t)(c->left < SMALL_LIMIT ? c->left : SMALL_LIMIT);
            ssize_t n = pread(c->file->fd, c->out, want, (off_t)c->off);
            if (n <= 0)
                return -1;
            c->out_len = (size_t)n;
            c->out_off = 0;
            c->off += n;
            c->left -= n;
            c->sent += n;
            continue;
        } else {
            int64_t want = c->left < CHUNK ? c->left : CHUNK;
            zcopy_result res = zcopy_sendfile_at_opts(c->fd, c->file->fd, &c->off, want, &nowait);
            if (!res.handled) {
                c->copy = 1;
                c->how = "pread+send (sendfile refused)";
                continue;
            }
            c->left -= res.written;
            c->sent += res.written;
            if (res.error == EAGAIN)
                return 0; /* the socket is full: c->off says where to go on */
            if (res.error != 0 || res.written < want)
                return -1; /* peer gone, or the file shrank */
            if (c->left > 0)
                return 0;
        }
    }
    if (c->corked) {
        int zero = 0;
        setsockopt(c->fd, IPPROTO_TCP, TCP_CORK, &zero, sizeof zero); /* pushes the tail */
        c->corked = 0;
    }
    if (c->file != NULL) {
        file_put(c->file);
        conn_log(c);
        c->file = NULL;
    }
    return 1;
}

/* Drives c as far as it goes without waiting: answers buffered requests
   one after the other, reads at most once (`readable`: epoll said so; a
   level-triggered loop is told again when more is there). */
static void conn_run(struct loop *l, struct conn *c, int readable) {
    for (;;) {
        char *end;
        if (c->used > 0) { /* a response is under way */
            int r = conn_flush(c);
            if (r < 0)
                break;
            if (r == 0) {
                conn_want(l, c, EPOLLOUT);
                return;
            }
            if (!c->keep)
                break;
            memmove(c->in, c->in + c->used, c->have - c->used); /* pipelined requests */
            c->have -= c->used;
            c->used = 0;
            c->out_len = c->out_off = 0;
            c->sent = 0;
            c->copy = 0;
        }
        c->in[c->have] = '\0';
        end = strstr(c->in, "\r\n\r\n");
        if (end != NULL) {
            struct request r;
            int status;
            end[2] = '\0'; /* keep the last header line's CRLF */
            c->used = (size_t)(end + 4 - c->in);
            status = parse_request(c->in, &r);
            c->keep = r.keep && (status == 0 || status == 405);
            if (status != 0) {
                snprintf(c->what, sizeof c->what, "%s %.200s -> %d", r.method, r.target, status);
                respond_simple(l, c, status, 0, status == 405 ? "Allow: GET, HEAD\r\n" : "");
            } else {
                respond(l, c, &r);
            }
            continue;
        }
        if (c->have >= sizeof c->in - 1) { /* headers too large */
            c->used = c->have;
            c->keep = 0;
            snprintf(c->what, sizeof c->what, "(header block over %d bytes) -> 431", (int)sizeof c->in);
            respond_simple(l, c, 431, 0, "");
            continue;
        }
        if (!readable) {
            conn_want(l, c, EPOLLIN);
            return;
        }
        {
            ssize_t n = recv(c->fd, c->in + c->have, sizeof c->in - 1 - c->have, 0);
            if (n > 0) {
                c->have += (size_t)n;
                c->last = time(NULL);
                readable = 0;
                continue;
            }
            if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
                readable = errno == EINTR;
                continue;
            }
            break; /* end of stream or an error */
        }
    }
    conn_close(l, c);
}

static void loop_accept(struct loop *l) {
    for (;;) {
        struct epoll_event ev;
        struct conn *c;
        int one = 1;
        int fd = accept4(l->lfd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0)
            return; /* EAGAIN: all taken; otherwise try at the next event */
        c = (struct conn *)calloc(1, sizeof *c);
        if (c == NULL) {
            close(fd);
            continue;
        }
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        c->fd = fd;
        c->events = EPOLLIN;
        c->last = time(NULL);
        ev.events = EPOLLIN;
        ev.data.ptr = c;
        if (epoll_ctl(l->ep, EPOLL_CTL_ADD, fd, &ev) != 0) {
            close(fd);
            free(c);
            continue;
        }
        c->next = l->conns;
        if (l->conns != NULL)
            l->conns->prev = c;
        l->conns = c;
    }
}

/* Closes connections idle past IDLE_SECS, or stalled mid-response past
   STALL_SECS. */
static void loop_sweep(struct loop *l, time_t now) {
    struct conn *c = l->conns, *next;
    for (; c != NULL; c = next) {
        next = c->next;
        if (now - c->last > (c->used > 0 ? STALL_SECS : IDLE_SECS))
            conn_close(l, c);
    }
}

static void *loop_run(void *arg) {
    struct loop *l = (struct loop *)arg;
    struct epoll_event evs[64];
    time_t swept = time(NULL);
    for (;;) {
        int i, n = epoll_wait(l->ep, evs, 64, 1000);
        time_t now = time(NULL);
        for (i = 0; i < n; i++) {
            struct conn *c = (struct conn *)evs[i].data.ptr;
            if (c == NULL) {
                loop_accept(l);
                continue;
            }
            if (c->used > 0)
                c->last = now; /* EPOLLOUT: the peer took bytes */
            conn_run(l, c, (evs[i].events & (EPOLLIN | EPOLLHUP | EPOLLERR)) != 0);
        }
        if (now != swept) {
            loop_sweep(l, now);
            swept = now;
        }
    }
    return NULL;
}

/* A listening socket on addr with SO_REUSEPORT; fills in the port. */
static int listen_on(struct sockaddr_in *addr) {
    socklen_t alen = sizeof *addr;
    int one = 1, fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)addr, sizeof *addr) != 0 || listen(fd, 1024) != 0 ||
        getsockname(fd, (struct sockaddr *)addr, &alen) != 0) {
        close(fd);
        return -1;
    }
    return fd;
}

static int usage(const char *argv0) {
    fprintf(stderr, "usage: %s [-v] [-t THREADS] [-s BYTES] ROOT PORT [ADDR]\n", argv0);
    return 2;
}

int main(int argc, char **argv) {
    struct sockaddr_in addr;
    struct loop *loops;
    const char *host;
    char *end;
    long port, threads = sysconf(_SC_NPROCESSORS_ONLN), i;
    int opt;

    while ((opt = getopt(argc, argv, "vt:s:")) != -1) {
        if (opt == 'v')
            log_requests = 1;
        else if (opt == 't' && (threads = strtol(optarg, &end, 10)) >= 1 && threads <= 256 && *end == '\0')
            continue;
        else if (opt == 's' && (small_max = strtol(optarg, &end, 10)) >= 0 && small_max <= SMALL_LIMIT &&
                 *end == '\0')
            continue;
        else
            return usage(argv[0]);
    }
    if (argc - optind < 2 || argc - optind > 3)
        return usage(argv[0]);
    if (threads < 1 || threads > 256)
        threads = threads < 1 ? 1 : 256;
    host = argc - optind == 3 ? argv[optind + 2] : "127.0.0.1";
    root_fd = open(argv[optind], O_PATH | O_DIRECTORY | O_CLOEXEC);
    if (root_fd < 0) {
        fprintf(stderr, "fileserver: %s: %s\n", argv[optind], strerror(errno));
        return 1;
    }
    port = strtol(argv[optind + 1], &end, 10);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)port);
    if (*end != '\0' || port < 0 || port > 65535 || inet_pton(AF_INET, host, &addr.sin_addr) != 1) {
        fprintf(stderr, "fileserver: PORT 0-65535, ADDR an IPv4 address\n");
        return usage(argv[0]);
    }
    /* As most servers do: a peer gone mid-response is an EPIPE from the
       call, not a signal. zcopy then skips its per-call SIGPIPE guard (one
       rt_sigaction read instead of two rt_sigprocmask). */
    signal(SIGPIPE, SIG_IGN);
    zcopy_options_init(&nowait);
    nowait.flags = ZCOPY_OPT_NOWAIT;
    /* To exercise the walk that stands in for openat2 on older kernels. */
    openat2_missing = getenv("FILESERVER_NO_OPENAT2") != NULL;
    cache_init();
    loops = (struct loop *)calloc((size_t)threads, sizeof *loops);
    for (i = 0; loops != NULL && i < threads; i++) {
        struct epoll_event ev;
        loops[i].lfd = listen_on(&addr); /* the first picks the port for all */
        loops[i].ep = epoll_create1(EPOLL_CLOEXEC);
        ev.events = EPOLLIN;
        ev.data.ptr = NULL;
        if (loops[i].lfd < 0 || loops[i].ep < 0 || epoll_ctl(loops[i].ep, EPOLL_CTL_ADD, loops[i].lfd, &ev) != 0) {
            fprintf(stderr, "fileserver: cannot listen on port %s: %s\n", argv[optind + 1], strerror(errno));
            return 1;
        }
    }
    if (loops == NULL)
        return 1;
    fprintf(stderr, "fileserver: serving %s on http://%s:%d/ with %ld threads (zcopy %s)\n", argv[optind], host,
            ntohs(addr.sin_port), threads, zcopy_version());
    for (i = 1; i < threads; i++) {
        pthread_t t;
        if (pthread_create(&t, NULL, loop_run, &loops[i]) != 0) {
            perror("fileserver: pthread_create");
            return 1;
        }
    }
    loop_run(&loops[0]);
    return 0;
}
