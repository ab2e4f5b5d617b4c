/*
 * control_timeout.c: idle_timeout_ms T for the blocking calls, on blocking
 * and non-blocking fds: ETIMEDOUT within [T, T + 50 ms] of the last byte
 * moved, `written` exact, no CPU while waiting; for src's data and for
 * dst's room; socket->socket, socket->file, file->socket. A trickling peer
 * never trips the timeout.
 */
#include "control.h"

/* The most CPU a call used while waiting for an idle timeout, in ms. */
static double max_wait_cpu_ms;

/* ---------- idle timeout, waiting for src ---------- */

static void timeout_src(const char *fname, opts_fn fn, int sk, int dk, int nb)
{
    char label[200];
    unsigned char data[5000], *got;
    int s[2], d[2] = { -1, -1 }, dst;
    struct call c;
    struct zt_reader rd;
    double el;
    snprintf(label, sizeof label, "%s %s->%s, %s src silent after 5000 bytes, idle_timeout_ms %d", fname,
             ep_name[sk], ep_name[dk], nb ? "non-blocking" : "blocking", T_MS);
    zt_fill(data, sizeof data, 41);
    stream_pair(sk, s);
    if (dk == E_FILE) {
        dst = zt_tmpfile();
    } else {
        stream_pair(dk, d);
        dst = d[0];
        zt_reader_start(&rd, d[1], sizeof data + 16, 0);
    }
    zt_set_nonblock(s[1], nb);
    zt_write_all(s[0], data, sizeof data);
    call_start(&c, fn, dst, s[1], ZCOPY_ALL, T_MS, -1, 0);
    zt_join(c.th, 10, label);
    el = (c.t_ret - c.t_start) * 1e3;
    CHECK(c.r.handled && c.r.error == ETIMEDOUT && c.r.written == (long long)sizeof data,
          "%s: ETIMEDOUT with the 5000 bytes: " ZT_RES_FMT, label, ZT_RES_ARGS(c.r));
    CHECK(el >= T_MS && el <= (T_MS + 50) * slack(), "%s: returned after %.1f ms (window [%d, %d])", label, el, T_MS,
          T_MS + 50);
    CHECK(c.cpu * 1e3 < 20 * slack(), "%s: %.2f ms CPU while waiting", label, c.cpu * 1e3);
    CHECK(nonblock_of(s[1]) == nb, "%s: src's O_NONBLOCK as before", label);
    sample(L_TIMEOUT, el - T_MS);
    if (c.cpu * 1e3 > max_wait_cpu_ms)
        max_wait_cpu_ms = c.cpu * 1e3;
    if (dk == E_FILE) {
        got = malloc(sizeof data + 1);
        CHECK(zt_pread_all(dst, got, sizeof data + 1) == sizeof data && memcmp(got, data, sizeof data) == 0,
              "%s: the file holds exactly those bytes", label);
        free(got);
        close(dst);
    } else {
        close(d[0]);
        zt_join(rd.th, 10, "reader");
        CHECK(rd.got == sizeof data && memcmp(rd.buf, data, sizeof data) == 0, "%s: dst got exactly those bytes",
              label);
        free(rd.buf);
        close(d[1]);
    }
    close(s[0]);
    close(s[1]);
}

/* ---------- idle timeout, waiting for dst's room ---------- */

static void timeout_dst(const char *fname, opts_fn fn, int sk, int nb)
{
    char label[200];
    size_t n = 8 << 20;
    unsigned char *data = zt_random_buf(n, 42), *got = malloc(n);
    int s[2] = { -1, -1 }, d[2], src;
    struct zt_writer w;
    struct call c;
    double el;
    size_t have;
    snprintf(label, sizeof label, "%s %s->tcp, %s dst whose peer stops reading, idle_timeout_ms %d", fname,
             ep_name[sk], nb ? "non-blocking" : "blocking", T_MS);
    if (sk == E_FILE) {
        src = zt_file_with(data, n);
    } else {
        stream_pair(sk, s);
        src = s[1];
        zt_writer_start_shut(&w, s[0], data, n, 0);
    }
    zt_tcp_pair(d);
    small_buffers(d[0], d[1]);
    zt_set_nonblock(d[0], nb);
    call_start(&c, fn, d[0], src, ZCOPY_ALL, T_MS, -1, 0);
    zt_join(c.th, 10, label);
    el = (c.t_ret - c.t_start) * 1e3;
    CHECK(c.r.handled && c.r.error == ETIMEDOUT && c.r.written > 0 && c.r.written < (long long)n,
          "%s: ETIMEDOUT with the bytes so far: " ZT_RES_FMT, label, ZT_RES_ARGS(c.r));
    CHECK(el >= T_MS && el <= (T_MS + 50) * slack() + 100, "%s: returned after %.1f ms (stall begins at once)", label,
          el);
    CHECK(c.cpu * 1e3 < 30 * slack(), "%s: %.2f ms CPU (filling the buffer, then waiting)", label, c.cpu * 1e3);
    CHECK(nonblock_of(d[0]) == nb, "%s: dst's O_NONBLOCK as before", label);
    close(d[0]);
    have = zt_read_full(d[1], got, n);
    CHECK(c.r.written >= 0 && have == (size_t)c.r.written && memcmp(got, data, have) == 0,
          "%s: the peer finds exactly the %lld bytes reported (found %zu)", label, (long long)c.r.written, have);
    if (sk != E_FILE) {
        close(s[1]); /* unblocks the writer */
        zt_join(w.th, 20, "writer");
        close(s[0]);
    } else {
        close(src);
    }
    close(d[1]);
    free(data);
    free(got);
}
/* ---------- a trickling peer ---------- */

struct trickler {
    pthread_t th;
    int fd, count, every_ms;
};

static void *trickle_main(void *arg)
{
    struct trickler *t = arg;
    int i;
    for (i = 0; i < t->count; i++) {
        unsigned char b = (unsigned char)i;
        usleep((useconds_t)t->every_ms * 1000);
        if (write(t->fd, &b, 1) != 1)
            break;
    }
    shutdown(t->fd, SHUT_WR);
    return NULL;
}

static void trickle(int nb)
{
    int s[2], d[2], i, ok = 1;
    struct trickler t;
    zcopy_options o;
    zcopy_result r;
    unsigned char got[64];
    zt_tcp_pair(s);
    zt_unix_pair(d);
    zt_set_nonblock(s[1], nb);
    t.fd = s[0];
    t.count = 12;
    t.every_ms = T_MS / 4;
    if (pthread_create(&t.th, NULL, trickle_main, &t))
        DIE("pthread_create");
    zcopy_options_init(&o);
    o.idle_timeout_ms = T_MS;
    r = zcopy_copy_opts(d[0], s[1], ZCOPY_ALL, &o);
    zt_join(t.th, 10, "trickler");
    CHECK(zt_ok(r, 12), "trickling peer (%s src, a byte every %d ms for %d ms, idle timeout %d ms): completes: " ZT_RES_FMT,
          nb ? "non-blocking" : "blocking", T_MS / 4, 12 * T_MS / 4, T_MS, ZT_RES_ARGS(r));
    close(d[0]);
    CHECK(zt_read_full(d[1], got, sizeof got) == 12, "trickling peer: 12 bytes arrived");
    for (i = 0; i < 12; i++)
        ok &= got[i] == (unsigned char)i;
    CHECK(ok, "trickling peer: in order");
    close(d[1]);
    close(s[0]);
    close(s[1]);
}

static void cpu_figure(void)
{
    zt_info("figures: CPU of a call waiting %d ms for an idle timeout: at most %.2f ms", T_MS, max_wait_cpu_ms);
}

int main(void)
{
    int nb;
    control_start("control_timeout");
    for (nb = 0; nb < 2; nb++) {
        timeout_src("zcopy_copy_opts", zcopy_copy_opts, E_TCP, E_TCP, nb);
        timeout_src("zcopy_copy_opts", zcopy_copy_opts, E_UNIX, E_FILE, nb);
        timeout_src("zcopy_splice_opts", zcopy_splice_opts, E_TCP, E_UNIX, nb);
        timeout_dst("zcopy_copy_opts", zcopy_copy_opts, E_FILE, nb);
        timeout_dst("zcopy_copy_opts", zcopy_copy_opts, E_UNIX, nb);
        timeout_dst("zcopy_sendfile_opts", zcopy_sendfile_opts, E_FILE, nb);
        trickle(nb);
    }
    cpu_figure();
    return control_finish();
}
