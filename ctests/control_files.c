/*
 * control_files.c: cancel_fd and ZCOPY_OPT_EINTR with a file on one side
 * (file -> tcp waiting for dst's room, tcp -> file waiting for src's data),
 * on blocking and non-blocking sockets: the call returns within 20 ms, and
 * after a signal the same thread resumes to the end with every byte once.
 */
#include "control.h"

/* Cancel and EINTR with a file on one side: file -> tcp (waiting for the
 * stalled dst's room) and tcp -> file (waiting for src's data). After the
 * signal the same thread resumes with remain - written to the end. */
struct pair_job {
    opts_fn fn;
    int dst, src, efd;
    int64_t left;
    zcopy_result first, rest;
    double t_first;
    volatile int phase; /* 1: in the first call, 2: first returned, 3: done */
    volatile int go_on;
};

static void *pair_main(void *arg)
{
    struct pair_job *j = arg;
    zcopy_options o;
    zcopy_options_init(&o);
    o.flags = ZCOPY_OPT_EINTR;
    o.cancel_fd = j->efd;
    j->phase = 1;
    j->first = j->fn(j->dst, j->src, j->left, &o);
    j->t_first = zt_now();
    j->left -= j->first.written;
    j->phase = 2;
    while (!j->go_on)
        usleep(500);
    if (j->efd < 0) {
        memset(&j->rest, 0, sizeof j->rest);
        while (j->left > 0) {
            zcopy_result r = j->fn(j->dst, j->src, j->left, &o);
            j->left -= r.written;
            j->rest.written += r.written;
            j->rest.error = r.error;
            if (r.error != EINTR && (r.error != 0 || r.written == 0))
                break;
        }
    }
    j->phase = 3;
    return NULL;
}

static void file_pair(const char *fname, opts_fn fn, int file_src, int nb, int cancel)
{
    char label[200];
    size_t n = 8 << 20;
    unsigned char *data = zt_random_buf(n, 47), *got = malloc(n + 1);
    int s[2], file, efd = cancel ? eventfd(0, EFD_CLOEXEC) : -1;
    struct pair_job j;
    pthread_t th;
    struct zt_reader rd;
    double t, l;
    snprintf(label, sizeof label, "%s %s, %s socket, %s while waiting for %s", fname,
             file_src ? "file->tcp" : "tcp->file", nb ? "non-blocking" : "blocking",
             cancel ? "cancel" : "ZCOPY_OPT_EINTR signal", file_src ? "dst's room" : "src's data");
    zt_tcp_pair(s);
    memset(&j, 0, sizeof j);
    j.fn = fn;
    j.efd = efd;
    j.left = (int64_t)n;
    if (file_src) {
        file = zt_file_with(data, n);
        small_buffers(s[1], s[0]);
        zt_set_nonblock(s[1], nb);
        j.dst = s[1];
        j.src = file;
    } else {
        file = zt_tmpfile();
        zt_set_nonblock(s[1], nb);
        j.dst = file;
        j.src = s[1];
    }
    if (pthread_create(&th, NULL, pair_main, &j))
        DIE("pthread_create");
    usleep(100000);
    t = zt_now();
    if (cancel) {
        uint64_t one = 1;
        if (write(efd, &one, sizeof one) != sizeof one)
            DIE("eventfd write");
    } else {
        pthread_kill(th, SIGUSR1);
    }
    while (j.phase < 2 && zt_now() - t < 5)
        usleep(200);
    l = (j.t_first - t) * 1e3;
    CHECK(j.phase >= 2 && j.first.error == (cancel ? ECANCELED : EINTR), "%s: %s: " ZT_RES_FMT, label,
          cancel ? "ECANCELED" : "EINTR", ZT_RES_ARGS(j.first));
    CHECK(l >= 0 && l < 20 * slack(), "%s: returned %.2f ms after it", label, l);
    sample(cancel ? L_CANCEL : L_EINTR, l);
    if (file_src) {
        zt_reader_start(&rd, s[0], n + 16, 0);
        j.go_on = 1;
        zt_join(th, 30, label);
        if (!cancel) {
            close(s[1]);
            zt_join(rd.th, 20, "reader");
            CHECK(j.left == 0 && rd.got == n && memcmp(rd.buf, data, n) == 0,
                  "%s: resumed, the peer got every byte once, in order (%zu of %zu)", label, rd.got, n);
        } else {
            close(s[1]);
            zt_join(rd.th, 20, "reader");
            CHECK(rd.got == (size_t)j.first.written && memcmp(rd.buf, data, rd.got) == 0,
                  "%s: the peer got exactly the %lld bytes reported", label, (long long)j.first.written);
        }
        free(rd.buf);
    } else {
        j.go_on = 1;
        if (!cancel)
            zt_write_all(s[0], data, n);
        shutdown(s[0], SHUT_WR);
        zt_join(th, 30, label);
        if (!cancel)
            CHECK(j.left == 0 && zt_pread_all(file, got, n + 1) == n && memcmp(got, data, n) == 0,
                  "%s: resumed, the file holds every byte once, in order", label);
        else
            CHECK(zt_fsize(file) == 0 && j.first.written == 0, "%s: nothing was written", label);
        close(s[1]);
    }
    if (cancel) {
        uint64_t v = 0;
        CHECK(read(efd, &v, sizeof v) == sizeof v && v == 1, "%s: the eventfd was never read", label);
        close(efd);
    }
    close(file);
    close(s[0]);
    free(data);
    free(got);
}

int main(void)
{
    int nb;
    control_start("control_files");
    for (nb = 0; nb < 2; nb++) {
        file_pair("zcopy_copy_opts", zcopy_copy_opts, 1, nb, 1);
        file_pair("zcopy_copy_opts", zcopy_copy_opts, 1, nb, 0);
        file_pair("zcopy_copy_opts", zcopy_copy_opts, 0, nb, 1);
        file_pair("zcopy_copy_opts", zcopy_copy_opts, 0, nb, 0);
        file_pair("zcopy_sendfile_opts", zcopy_sendfile_opts, 1, nb, 0);
    }
    return control_finish();
}
