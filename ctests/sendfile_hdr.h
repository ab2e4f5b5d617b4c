/*
 * sendfile_hdr.h: what ctests/sendfile_hdr.c and sendfile_hdr_wait.c share:
 * the body, the header and trailer parts, the stream the call must produce.
 */
#ifndef SENDFILE_HDR_H
#define SENDFILE_HDR_H
#include "zc_test.h"
#include <netinet/tcp.h>
#include <sys/eventfd.h>
#include <sys/uio.h>

#define BODY ((size_t)(1 << 20) + 7)

static unsigned char *body;
static const char H1[] = "HTTP/1.1 200 OK\r\n", H2[] = "Content-Type: application/octet-stream\r\n\r\n";
static const char T1[] = "\r\n0\r\n", T2[] = "X-Trailer: yes\r\n\r\n";

/* The stream the call must produce, for `len` body bytes from `from`. */
static inline unsigned char *expected(size_t from, size_t len, size_t *n)
{
    size_t h = strlen(H1) + strlen(H2), t = strlen(T1) + strlen(T2);
    unsigned char *e = malloc(h + len + t);
    memcpy(e, H1, strlen(H1));
    memcpy(e + strlen(H1), H2, strlen(H2));
    memcpy(e + h, body + from, len);
    memcpy(e + h + len, T1, strlen(T1));
    memcpy(e + h + len + strlen(T1), T2, strlen(T2));
    *n = h + len + t;
    return e;
}

static inline void iovs(struct iovec hdr[2], struct iovec trl[2])
{
    hdr[0].iov_base = (void *)H1;
    hdr[0].iov_len = strlen(H1);
    hdr[1].iov_base = (void *)H2;
    hdr[1].iov_len = strlen(H2);
    trl[0].iov_base = (void *)T1;
    trl[0].iov_len = strlen(T1);
    trl[1].iov_base = (void *)T2;
    trl[1].iov_len = strlen(T2);
}

static inline int cork_of(int fd)
{
    int v = -1;
    socklen_t l = sizeof v;
    getsockopt(fd, IPPROTO_TCP, TCP_CORK, &v, &l);
    return v;
}


#endif
