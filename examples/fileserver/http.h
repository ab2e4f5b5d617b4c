/*
 * fileserver/http.h: HTTP/1.1 request parsing and response headers, for
 * examples/fileserver.c. No system calls here.
 */

struct request {
    char method[16], target[4096], version[16];
    char range[128];   /* the Range header's value, "" when absent */
    int keep;          /* keep the connection after the response */
    int head;          /* HEAD: headers only */
};

static const char *reason(int status) {
    switch (status) {
    case 200: return "OK";
    case 206: return "Partial Content";
    case 400: return "Bad Request";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 416: return "Range Not Satisfiable";
    case 431: return "Request Header Fields Too Large";
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

/* Parses the header block `req` (NUL-terminated, ending in CRLF). Returns
   0, or the status of an error response (400, 405, 505). */
static int parse_request(const char *req, struct request *r) {
    char value[256];
    memset(r, 0, sizeof *r);
    if (sscanf(req, "%15s %4095s %15s", r->method, r->target, r->version) != 3)
        return 400;
    if (strncmp(r->version, "HTTP/1.", 7) != 0)
        return 505;
    r->keep = strcmp(r->version, "HTTP/1.0") != 0;
    if (header(req, "Connection", value, sizeof value))
        r->keep = strcasecmp(value, "close") == 0 ? 0 : strcasecmp(value, "keep-alive") == 0 ? 1 : r->keep;
    if (header(req, "Content-Length", value, sizeof value) && strcmp(value, "0") != 0)
        r->keep = 0; /* a body we do not read: do not parse it as a request */
    r->head = strcmp(r->method, "HEAD") == 0;
    if (!r->head && strcmp(r->method, "GET") != 0)
        return 405;
    header(req, "Range", r->range, sizeof r->range);
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

/* The request target as a path relative to root (percent-decoded, no
   query, no leading '/'; "." for the root itself) in rel[n]. Returns 0 or
   a status: 400 (not absolute, bad escape, NUL), 403 (a "." or ".."
   segment, decoded or not: refused before the kernel is asked), 404 (too
   long). */
static int target_path(const char *target, char *rel, size_t n) {
    size_t len = 0;
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
        if (len + 12 >= n) /* room for "/index.html" */
            return 404;
        if (c == '/' && (len == 0 || rel[len - 1] == '/'))
            continue; /* leading and doubled slashes */
        rel[len++] = c;
    }
    rel[len] = '\0';
    for (seg = rel; seg != NULL; seg = strchr(seg, '/')) {
        size_t l;
        if (*seg == '/')
            seg++;
        l = strcspn(seg, "/");
        if ((l == 1 && seg[0] == '.') || (l == 2 && seg[0] == '.' && seg[1] == '.'))
            return 403;
    }
    if (len == 0)
        strcpy(rel, ".");
    return 0;
}

/* The status line and headers of a response, into buf[n]; returns their
   length. `extra` holds whole header lines or is "". */
static int format_head(char *buf, size_t n, int status, const char *date, const char *type,
                       int64_t len, const char *extra, int keep) {
    return snprintf(buf, n,
                    "HTTP/1.1 %d %s\r\nDate: %s\r\nServer: zcopy-fileserver\r\nContent-Type: %s\r\n"
                    "Content-Length: %lld\r\n%sConnection: %s\r\n\r\n",
                    status, reason(status), date, type, (long long)len, extra,
                    keep ? "keep-alive" : "close");
}
