/*
 * fileserver: a small HTTP/1.1 static file server on zcopy_sendfile_at.
 *
 *   fileserver ROOT PORT [ADDR]
 *
 * Serves the files under ROOT on ADDR:PORT (ADDR defaults to 127.0.0.1;
 * port 0 picks a free one, printed on stderr). GET and HEAD; Content-Length;
 * single Range requests (bytes=A-B, bytes=A-, bytes=-N) answered with 206
 * and Content-Range, 416 when unsatisfiable; 404 for missing files; 403 for
 * anything that would leave ROOT (.., %2e%2e, symlinks pointing outside);
 * keep-alive; a thread per connection.
 *
 * Each file is opened once and its fd shared by every connection that
 * sends it: zcopy_sendfile_at sends from an offset of its own and never
 * touches the fd's file position, so concurrent ranges of one fd do not
 * disturb each other. The fd is reopened when the file is replaced on disk.
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

static char root[PATH_MAX];
static size_t root_len;

/* ---- the shared-fd cache: one open fd per file ---------------------- */

struct entry {
    char *path;        /* realpath of the file */
    int fd;
    dev_t dev;
    ino_t ino;
    int refs;          /* connections using it right now */
    int cached;        /* still in the list (else closed at refs 0) */
    struct entry *next;
};

#define CACHE_MAX 256
static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *cache;
static int cache_count;

static void entry_free(struct entry *e) {
    close(e->fd);
    free(e->path);
    free(e);
}

static void cache_unlink(struct entry *e) {
    struct entry **p;
    for (p = &cache; *p != NULL; p = &(*p)->next) {
        if (*p == e) {
            *p = e->next;
            cache_count--;
            e->cached = 0;
            return;
        }
    }
}

/* The shared fd for `real` (whose stat is `st`), opened on first use.
   Returns NULL with errno set when the file cannot be opened. */
static struct entry *cache_get(const char *real, const struct stat *st) {
    struct entry *e, *victim = NULL;
    struct stat fst;
    int fd;

    pthread_mutex_lock(&cache_lock);
    for (e = cache; e != NULL; e = e->next) {
        if (strcmp(e->path, real) != 0)
            continue;
        if (e->dev == st->st_dev && e->ino == st->st_ino) {
            e->refs++;
            pthread_mutex_unlock(&cache_lock);
            return e;
        }
        /* Replaced on disk: forget it; the last user closes it. */
        cache_unlink(e);
        if (e->refs == 0)
            entry_free(e);
        break;
    }
    if (cache_count >= CACHE_MAX) {
        for (e = cache; e != NULL; e = e->next)
            if (e->refs == 0)
                victim = e;
        if (victim != NULL) {
            cache_unlink(victim);
            entry_free(victim);
        }
    }
    fd = open(real, O_RDONLY | O_CLOEXEC);
    if (fd < 0 || fstat(fd, &fst) != 0) {
        int err = errno;
        if (fd >= 0)
            close(fd);
        pthread_mutex_unlock(&cache_lock);
        errno = err;
        return NULL;
    }
    e = (struct entry *)calloc(1, sizeof *e);
    if (e == NULL || (e->path = strdup(real)) == NULL) {
        free(e);
        close(fd);
        pthread_mutex_unlock(&cache_lock);
        errno = ENOMEM;
        return NULL;
    }
    e->fd = fd;
    e->dev = fst.st_dev;
    e->ino = fst.st_ino;
    e->refs = 1;
    if (cache_count < CACHE_MAX) {
        e->cached = 1;
        e->next = cache;
        cache = e;
        cache_count++;
    }
    pthread_mutex_unlock(&cache_lock);
    return e;
}

static void cache_put(struct entry *e) {
    pthread_mutex_lock(&cache_lock);
    if (--e->refs == 0 && !e->cached)
        entry_free(e);
    pthread_mutex_unlock(&cache_lock);
}

/* ---- HTTP ------------------------------------------------------------ */

static int send_all(int fd, const char *buf, size_t len, int more) {
    while (len > 0) {
        ssize_t n = send(fd, buf, len, MSG_NOSIGNAL | (more ? MSG_MORE : 0));
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return -1;
        }
        buf += n;
        len -= (size_t)n;
    }
    return 0;
}

static const char *reason(int status) {
    switch (status) {
    case 200: return "OK";
    case 206: return "Partial Content";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 416: return "Range Not Satisfiable";
    case 505: return "HTTP Version Not Supported";
    default: return "Internal Server Error";
    }
}

static const char *content_type(const char *path) {
    const char *dot = strrchr(path, '.');
    if (dot == NULL || strchr(dot, '/') != NULL)
        return "application/octet-stream";
    if (strcmp(dot, ".html") == 0 || strcmp(dot, ".htm") == 0) return "text/html; charset=utf-8";
    if (strcmp(dot, ".txt") == 0) return "text/plain; charset=utf-8";
    if (strcmp(dot, ".css") == 0) return "text/css";
    if (strcmp(dot, ".js") == 0) return "text/javascript";
    if (strcmp(dot, ".json") == 0) return "application/json";
    if (strcmp(dot, ".png") == 0) return "image/png";
    if (strcmp(dot, ".jpg") == 0 || strcmp(dot, ".jpeg") == 0) return "image/jpeg";
    return "application/octet-stream";
}

static void http_date(char *buf, size_t n) {
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(buf, n, "%a, %d %b %Y %H:%M:%S GMT", &tm);
}

/* A response without a file body (errors). Returns -1 when the peer is gone. */
static int send_simple(int fd, int status, int keep, int head, const char *extra) {
    char hdr[1024], date[64], body[128];
    int blen = snprintf(body, sizeof body, "%d %s\n", status, reason(status));
    int hlen;
    http_date(date, sizeof date);
    hlen = snprintf(hdr, sizeof hdr,
                    "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: zcopy-fileserver\r\n"
                    "Content-Type: text/plain; charset=utf-8\r\nContent-Length: %d\r\n%s"
                    "Connection: %s\r\n\r\n",
                    status, reason(status), date, blen, extra ? extra : "", keep ? "keep-alive" : "close");
    if (send_all(fd, hdr, (size_t)hlen, !head) != 0)
        return -1;
    if (!head && send_all(fd, body, (size_t)blen, 0) != 0)
        return -1;
    return 0;
}

/* Saturating decimal parse of at least one digit; advances *p. */
static int parse_num(const char **p, int64_t *out) {
    int64_t v = 0;
    const char *s = *p;
    if (*s < '0' || *s > '9')
        return -1;
    for (; *s >= '0' && *s <= '9'; s++)
        v = v > (INT64_MAX - 9) / 10 ? INT64_MAX : v * 10 + (*s - '0');
    *p = s;
    *out = v;
    return 0;
}

/* Range header value against a file of `size` bytes.
   1: satisfiable, [*start, *start + *len); -1: unsatisfiable (416);
   0: no usable range (malformed or several ranges): send the whole file. */
static int parse_range(const char *v, int64_t size, int64_t *start, int64_t *len) {
    int64_t a, b;
    while (*v == ' ' || *v == '\t')
        v++;
    if (strncasecmp(v, "bytes=", 6) != 0)
        return 0;
    v += 6;
    while (*v == ' ')
        v++;
    if (strchr(v, ',') != NULL)
        return 0;
    if (*v == '-') {                     /* bytes=-N: the last N bytes */
        v++;
        if (parse_num(&v, &b) != 0)
            return 0;
        while (*v == ' ' || *v == '\t') v++;
        if (*v != '\0')
            return 0;
        if (b == 0 || size == 0)
            return -1;
        if (b > size)
            b = size;
        *start = size - b;
        *len = b;
        return 1;
    }
    if (parse_num(&v, &a) != 0 || *v != '-')
        return 0;
    v++;
    if (*v >= '0' && *v <= '9') {        /* bytes=A-B */
        if (parse_num(&v, &b) != 0)
            return 0;
        if (b < a)
            return 0;
    } else {                             /* bytes=A- */
        b = INT64_MAX;
    }
    while (*v == ' ' || *v == '\t') v++;
    if (*v != '\0')
        return 0;
    if (a >= size)
        return -1;
    if (b >= size)
        b = size - 1;
    *start = a;
    *len = b - a + 1;
    return 1;
}

static int hexval(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Maps a request target to a file under root. Returns 0 and fills `real`
   and `st`, or an HTTP status (400, 403, 404). */
static int resolve_target(const char *target, char *real, struct stat *st) {
    char path[PATH_MAX], full[PATH_MAX * 2 + 16];
    int w;
    size_t n = 0;
    const char *s, *seg;
    if (target[0] != '/')
        return 400;
    for (s = target; *s != '\0' && *s != '?' && *s != '#'; s++) {
        char c = *s;
        if (c == '%') {
            int hi = hexval(s[1]), lo = hi < 0 ? -1 : hexval(s[2]);
            if (hi < 0 || lo < 0)
                return 400;
            c = (char)(hi * 16 + lo);
            if (c == '\0')
                return 400;
            s += 2;
        }
        if (n + 1 >= sizeof path)
            return 404;
        path[n++] = c;
    }
    path[n] = '\0';
    /* No "." or ".." segment, decoded or not. */
    for (seg = path; seg != NULL; seg = strchr(seg + 1, '/')) {
        const char *p = seg + 1;
        size_t len = strcspn(p, "/");
        if ((len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.'))
            return 403;
    }
    w = snprintf(full, sizeof full, "%s%s", root, path);
    if (w > 0 && (size_t)w < sizeof full && stat(full, st) == 0 && S_ISDIR(st->st_mode))
        w = snprintf(full, sizeof full, "%s%s%sindex.html", root, path,
                     path[n - 1] == '/' ? "" : "/");
    if (w < 0 || (size_t)w >= PATH_MAX)
        return 404;
    if (realpath(full, real) == NULL)
        return errno == EACCES ? 403 : 404;
    /* Symlinks must not lead outside root either. */
    if (strncmp(real, root, root_len) != 0 || (real[root_len] != '/' && real[root_len] != '\0'))
        return 403;
    if (stat(real, st) != 0)
        return 404;
    if (!S_ISREG(st->st_mode))
        return 404;
    return 0;
}

/* Finds header `name` (case-insensitive) in the header block; copies its
   value (trimmed) into out. Returns 1 when found. */
static int header(const char *block, const char *name, char *out, size_t n) {
    size_t nl = strlen(name);
    const char *line = strstr(block, "\r\n");
    while (line != NULL && line[2] != '\r' && line[2] != '\0') {
        const char *h = line + 2, *end = strstr(h, "\r\n");
        if (end == NULL)
            break;
        if ((size_t)(end - h) > nl && strncasecmp(h, name, nl) == 0 && h[nl] == ':') {
            const char *v = h + nl + 1;
            size_t len;
            while (*v == ' ' || *v == '\t')
                v++;
            len = (size_t)(end - v);
            while (len > 0 && (v[len - 1] == ' ' || v[len - 1] == '\t'))
                len--;
            if (len >= n)
                len = n - 1;
            memcpy(out, v, len);
            out[len] = '\0';
            return 1;
        }
        line = end;
    }
    return 0;
}

/* Serves one request whose header block is `req` (NUL-terminated).
   Returns 1 to keep the connection, 0 to close it. */
static int handle(int fd, char *req) {
    char method[16], target[4096], version[16], value[256];
    char real[PATH_MAX], hdr[1024], date[64], range_hdr[128] = "";
    struct stat st;
    struct entry *e;
    int keep, head, status, r;
    int64_t size, start = 0, len, off;
    zcopy_result res;

    if (sscanf(req, "%15s %4095s %15s", method, target, version) != 3) {
        send_simple(fd, 400, 0, 0, NULL);
        return 0;
    }
    if (strncmp(version, "HTTP/1.", 7) != 0) {
        send_simple(fd, 505, 0, 0, NULL);
        return 0;
    }
    keep = strcmp(version, "HTTP/1.0") != 0;
    if (header(req, "Connection", value, sizeof value))
        keep = strcasecmp(value, "close") == 0 ? 0 : strcasecmp(value, "keep-alive") == 0 ? 1 : keep;
    if (header(req, "Content-Length", value, sizeof value) && strcmp(value, "0") != 0)
        keep = 0; /* a body we do not read: do not parse it as a request */
    head = strcmp(method, "HEAD") == 0;
    if (!head && strcmp(method, "GET") != 0) {
        fprintf(stderr, "fileserver: %s %s -> 405\n", method, target);
        return send_simple(fd, 405, keep, 0, "Allow: GET, HEAD\r\n") == 0 && keep;
    }
    status = resolve_target(target, real, &st);
    if (status != 0) {
        fprintf(stderr, "fileserver: %s %s -> %d\n", method, target, status);
        return send_simple(fd, status, keep, head, NULL) == 0 && keep;
    }
    e = cache_get(real, &st);
    if (e == NULL) {
        status = errno == EACCES ? 403 : 404;
        fprintf(stderr, "fileserver: %s %s -> %d\n", method, target, status);
        return send_simple(fd, status, keep, head, NULL) == 0 && keep;
    }
    if (fstat(e->fd, &st) != 0) {
        cache_put(e);
        send_simple(fd, 500, 0, head, NULL);
        return 0;
    }
    size = (int64_t)st.st_size;
    len = size;
    status = 200;
    if (header(req, "Range", value, sizeof value)) {
        r = parse_range(value, size, &start, &len);
        if (r < 0) {
            char cr[64];
            cache_put(e);
            snprintf(cr, sizeof cr, "Content-Range: bytes */%lld\r\n", (long long)size);
            fprintf(stderr, "fileserver: %s %s Range: %s -> 416\n", method, target, value);
            return send_simple(fd, 416, keep, head, cr) == 0 && keep;
        }
        if (r > 0) {
            status = 206;
            snprintf(range_hdr, sizeof range_hdr, "Content-Range: bytes %lld-%lld/%lld\r\n",
                     (long long)start, (long long)(start + len - 1), (long long)size);
        } else {
            start = 0;
            len = size;
        }
    }
    http_date(date, sizeof date);
    r = snprintf(hdr, sizeof hdr,
                 "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: zcopy-fileserver\r\nContent-Type: %s\r\n"
                 "Content-Length: %lld\r\nAccept-Ranges: bytes\r\n%sConnection: %s\r\n\r\n",
                 status, reason(status), date, content_type(real), (long long)len, range_hdr,
                 keep ? "keep-alive" : "close");
    if (send_all(fd, hdr, (size_t)r, !head && len > 0) != 0) {
        cache_put(e);
        return 0;
    }
    if (head || len == 0) {
        cache_put(e);
        fprintf(stderr, "fileserver: %s %s -> %d\n", method, target, status);
        return keep;
    }
    /* The body straight from the page cache, from our own offset: the
       shared fd's file position is never used. */
    off = start;
    res = zcopy_sendfile_at(fd, e->fd, &off, len);
    if (!res.handled) {
        /* The kernel cannot sendfile this pair: a plain pread/send loop. */
        char buf[65536];
        res.written = 0;
        res.error = 0;
        while (res.written < len) {
            size_t want = (size_t)(len - res.written < (int64_t)sizeof buf ? len - res.written : (int64_t)sizeof buf);
            ssize_t n = pread(e->fd, buf, want, (off_t)off);
            if (n <= 0) {
                res.error = n < 0 ? errno : 0;
                break;
            }
            if (send_all(fd, buf, (size_t)n, 0) != 0) {
                res.error = errno;
                break;
            }
            off += n;
            res.written += n;
        }
    }
    cache_put(e);
    if (status == 206)
        fprintf(stderr, "fileserver: %s %s bytes %lld-%lld/%lld -> 206, ", method, target, (long long)start,
                (long long)(start + len - 1), (long long)size);
    else
        fprintf(stderr, "fileserver: %s %s -> 200, ", method, target);
    fprintf(stderr, "%lld bytes with %s%s%s\n", (long long)res.written, zcopy_method_name(res.method),
            res.error ? ", " : "", res.error ? strerror(res.error) : "");
    if (res.error != 0 || res.written != len)
        return 0; /* peer gone, or the file shrank: the length was a promise */
    return keep;
}

static void *serve(void *arg) {
    int fd = (int)(intptr_t)arg;
    char buf[16384];
    size_t have = 0;
    struct timeval tv;
    int one = 1;

    tv.tv_sec = 30; /* idle keep-alive connections close after this */
    tv.tv_usec = 0;
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    tv.tv_sec = 60; /* a client that stops reading */
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    for (;;) {
        char *end;
        size_t used;
        ssize_t n;
        buf[have] = '\0';
        end = strstr(buf, "\r\n\r\n");
        if (end == NULL) {
            if (have >= sizeof buf - 1) {
                send_simple(fd, 400, 0, 0, NULL); /* headers too large */
                break;
            }
            n = recv(fd, buf + have, sizeof buf - 1 - have, 0);
            if (n < 0 && errno == EINTR)
                continue;
            if (n <= 0)
                break;
            have += (size_t)n;
            continue;
        }
        end[2] = '\0'; /* keep the last header line's CRLF */
        used = (size_t)(end + 4 - buf);
        if (!handle(fd, buf))
            break;
        memmove(buf, buf + used, have - used); /* pipelined requests */
        have -= used;
    }
    close(fd);
    return NULL;
}

int main(int argc, char **argv) {
    struct sockaddr_in addr;
    socklen_t alen = sizeof addr;
    char *end;
    long port;
    int lfd, one = 1;

    if (argc < 3 || argc > 4) {
        fprintf(stderr, "usage: %s ROOT PORT [ADDR]\n", argv[0]);
        return 2;
    }
    if (realpath(argv[1], root) == NULL) {
        fprintf(stderr, "fileserver: %s: %s\n", argv[1], strerror(errno));
        return 1;
    }
    root_len = strlen(root);
    if (root_len == 1) /* "/": every path is under it */
        root_len = 0, root[0] = '\0';
    port = strtol(argv[2], &end, 10);
    memset(&addr, 0, sizeof addr);
    addr.sin_family = AF_INET;
    addr.sin_port = htons((unsigned short)port);
    if (*end != '\0' || port < 0 || port > 65535 ||
        inet_pton(AF_INET, argc == 4 ? argv[3] : "127.0.0.1", &addr.sin_addr) != 1) {
        fprintf(stderr, "usage: %s ROOT PORT [ADDR]  (PORT 0-65535, ADDR an IPv4 address)\n", argv[0]);
        return 2;
    }
    lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof addr) != 0 || listen(lfd, 128) != 0) {
        fprintf(stderr, "fileserver: cannot listen on port %s: %s\n", argv[2], strerror(errno));
        return 1;
    }
    getsockname(lfd, (struct sockaddr *)&addr, &alen);
    fprintf(stderr, "fileserver: serving %s on http://%s:%d/ (zcopy %s)\n", root_len ? root : "/",
            argc == 4 ? argv[3] : "127.0.0.1", ntohs(addr.sin_port), zcopy_version());
    for (;;) {
        pthread_t t;
        pthread_attr_t attr;
        int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EINTR && errno != ECONNABORTED) {
                perror("fileserver: accept");
                sleep(1);
            }
            continue;
        }
        pthread_attr_init(&attr);
        pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
        if (pthread_create(&t, &attr, serve, (void *)(intptr_t)fd) != 0)
            close(fd);
        pthread_attr_destroy(&attr);
    }
}
