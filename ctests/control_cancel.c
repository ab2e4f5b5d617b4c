/*
 * control_cancel.c: cancel_fd for the blocking calls, on blocking and
 * non-blocking fds: ECANCELED within 20 ms of the fd becoming readable,
 * waiting for src's data or dst's room; the fd is never read (one eventfd
 * cancels 8 transfers).
 */
#include "control.h"

/* ---------- cancel ---------- */

struct canceller {
    pthread_t th;
    int efd;
    int delay_ms;
    double t;
};

static void *cancel_main(void *arg)
{
    struct canceller *k = arg;
    uint64_t one = 1;
    usleep((useconds_t)k->delay_ms * 1000);
    k->t = zt_now();
    if (write(k->efd, &one, sizeof one) != sizeof one)
        DIE("eventfd write");
    return NULL;
}

static void cancel_case(const char *fname, opts_fn fn, int stall_dst, int nb)
{
    char label[200];
    size_t n = 8 << 20;
    unsigned char *data = zt_random_buf(n, 43);
    int s[2], d[2], efd = eventfd(0, EFD_CLOEXEC);
    struct call c;
    struct canceller k;
    uint64_t v = 0;
    double l;
    snprintf(label, sizeof label, "%s tcp->tcp, %s, waiting for %s, cancel_fd (eventfd) written after 100 ms", fname,
             nb ? "non-blocking" : "blocking", stall_dst ? "dst's room" : "src's data");
    if (efd < 0)
        DIE("eventfd");
    zt_tcp_pair(s);
    zt_tcp_pair(d);
    small_buffers(d[0], d[1]);
    zt_set_nonblock(s[1], nb);
    zt_set_nonblock(d[0], nb);
    if (stall_dst)
        zt_write_all(s[0], data, 1 << 20); /* more than dst can take */
    call_start(&c, fn, d[0], s[1], ZCOPY_ALL, 0, efd, 0);
    memset(&k, 0, sizeof k);
    k.efd = efd;
    k.delay_ms = 100;
    if (pthread_create(&k.th, NULL, cancel_main, &k))
        DIE("pthread_create");
    zt_join(c.th, 10, label);
    zt_join(k.th, 10, "canceller");
    l = (c.t_ret - k.t) * 1e3;
    CHECK(c.r.handled && c.r.error == ECANCELED, "%s: ECANCELED: " ZT_RES_FMT, label, ZT_RES_ARGS(c.r));
    CHECK(l >= 0 && l < 20 * slack(), "%s: returned %.2f ms after the cancel", label, l);
    CHECK(c.cpu * 1e3 < 30 * slack(), "%s: %.2f ms CPU", label, c.cpu * 1e3);
    CHECK(read(efd, &v, sizeof v) == sizeof v && v == 1, "%s: the eventfd was never read (counter %llu)", label,
          (unsigned long long)v);
    sample(L_CANCEL, l);
    close(efd);
    close(s[0]);
    close(s[1]);
    close(d[0]);
    close(d[1]);
    free(data);
}

/* One eventfd cancels 8 transfers at once. */
struct many {
    struct call c;
    int s[2], d[2];
};

static void cancel_many(void)
{
    struct many m[8];
    int efd = eventfd(0, EFD_CLOEXEC), i, ok = 1;
    uint64_t one = 1, v = 0;
    double t, worst = 0;
    if (efd < 0)
        DIE("eventfd");
    for (i = 0; i < 8; i++) {
        zt_tcp_pair(m[i].s);
        zt_unix_pair(m[i].d);
        zt_set_nonblock(m[i].s[1], i & 1);
        call_start(&m[i].c, zcopy_copy_opts, m[i].d[0], m[i].s[1], ZCOPY_ALL, 0, efd, 0);
    }
    usleep(100000);
    t = zt_now();
    if (write(efd, &one, sizeof one) != sizeof one)
        DIE("eventfd write");
    for (i = 0; i < 8; i++) {
        double l;
        zt_join(m[i].c.th, 10, "one of 8");
        l = (m[i].c.t_ret - t) * 1e3;
        ok &= m[i].c.r.error == ECANCELED && m[i].c.r.written == 0;
        if (l > worst)
            worst = l;
        sample(L_CANCEL, l);
        close(m[i].s[0]);
        close(m[i].s[1]);
        close(m[i].d[0]);
        close(m[i].d[1]);
    }
    CHECK(ok, "8 transfers, one eventfd: all ECANCELED");
    CHECK(worst < 20 * slack(), "8 transfers, one eventfd: the last returned %.2f ms after the write", worst);
    CHECK(read(efd, &v, sizeof v) == sizeof v && v == 1, "8 transfers, one eventfd: never read (counter %llu)",
          (unsigned long long)v);
    close(efd);
}

int main(void)
{
    int nb;
    control_start("control_cancel");
    for (nb = 0; nb < 2; nb++) {
        cancel_case("zcopy_copy_opts", zcopy_copy_opts, 0, nb);
        cancel_case("zcopy_copy_opts", zcopy_copy_opts, 1, nb);
        cancel_case("zcopy_splice_opts", zcopy_splice_opts, 1, nb);
    }
    cancel_many();
    return control_finish();
}
