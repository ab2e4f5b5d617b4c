/*
 * hostile.c: at least 10,000 calls across every entry point with random
 * fds (closed, -1, INT_MIN, huge, a directory, /dev/zero, eventfds, epoll,
 * UDP and listening sockets, a datagram socket, both wrong ends of pipes,
 * a read-only dst, an O_APPEND file, /dev/null, a socket whose peer is
 * gone, ...) and random remain (negative, 0, small, huge). Every call must
 * return promptly (a per-call alarm() watchdog names the call that hangs)
 * with an errno from the documented set, or a correct transfer (checked
 * where the result is known); no crash, no hang, no caller fd closed, and
 * the process's fd count unchanged afterwards.
 */
#include "hostile_zoo.h"

int main(void)
{
    long calls = zt_valgrind() ? 2000 : 12000;
    long i, ok_calls = 0, transfers = 0, bad_errno = 0, checked_content = 0;
    long errs[200];
    long per_entry[E_COUNT];
    long long bytes = 0;
    double worst = 0;
    double prompt = zt_valgrind() ? 10.0 : 2.0; /* seconds a call may take */
    int fds_before, fds_after_zoo, k;
    uint64_t rs = 0xC0FFEE;
    struct sigaction sa;
    unsigned char *buf = malloc(1 << 21);

    zt_start("hostile", 3000);
    alarm(0); /* replaced by the per-call watchdog */
    if (!buf)
        DIE("malloc");
    memset(errs, 0, sizeof errs);
    memset(per_entry, 0, sizeof per_entry);
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_alarm;
    sigaction(SIGALRM, &sa, NULL);
    signal(SIGPIPE, SIG_DFL);

    fds_before = zt_fd_count();
    build_zoo();
    fds_after_zoo = zt_fd_count();
    printf("# hostile: %d kinds of fd, %ld calls over %d entry points\n", nzoo, calls, E_COUNT);

    for (i = 0; i < calls; i++) {
        struct zfd *d, *s;
        int entry = (int)(zt_rand_next(&rs) % E_COUNT);
        int64_t remain = pick_remain(&rs);
        int64_t so_store = 0, do_store = 0, *so = NULL, *dof = NULL, so0 = 0, do0 = 0;
        zcopy_result r;
        double t0, el;
        memset(&r, 0, sizeof r);
        do
            d = &zoo[zt_rand_next(&rs) % (uint64_t)nzoo];
        while (d->flags & F_NOT_DST);
        do
            s = &zoo[zt_rand_next(&rs) % (uint64_t)nzoo];
        while (s->flags & F_NOT_SRC);
        if (zt_rand_next(&rs) % 5 == 0) {
            /* one call in five: a pair whose right result is known */
            for (k = 0; k < nzoo; k++)
                if (zoo[k].flags & F_RW_DST)
                    d = &zoo[k];
            for (k = 0; k < nzoo; k++)
                if ((zoo[k].flags & F_DATA_SRC) || (zt_rand_next(&rs) % 2 && zoo[k].fd == zoo[5].fd))
                    s = &zoo[k];
        }
        /* Endless sources would rightly run forever with a huge remain. */
        if ((s->flags & F_INF_SRC) && remain > (256 << 10))
            remain = 1 + (int64_t)(zt_rand_next(&rs) % (256 << 10));
        /* The eventfd gives 8 bytes per read: keep those calls short. */
        if ((s->flags & F_INF_SRC) && s->fd != zoo[5].fd && remain > (16 << 10))
            remain = 1 + (int64_t)(zt_rand_next(&rs) % (16 << 10));
        /* An eventfd takes one 8-byte value per write and then is full. */
        if ((d->flags & F_EVENTFD_DST) && remain > 8)
            remain = 8;
        if (entry == E_SENDFILE_AT || entry == E_CFR_AT)
            so = pick_off(&rs, &so_store);
        if (entry == E_CFR_AT)
            dof = pick_off(&rs, &do_store);
        if (so)
            so0 = *so;
        if (dof)
            do0 = *dof;
        reset_zoo();
        snprintf(current, sizeof current, "call %ld: %s(dst=%s [%d], src=%s [%d], remain=%lld)", i,
                 entry_names[entry], d->name, d->fd, s->name, s->fd, (long long)remain);
        alarm(zt_valgrind() ? 60 : 10);
        in_call = 1;
        t0 = zt_now();
        switch (entry) {
        case E_SPLICE: r = zcopy_splice(d->fd, s->fd, remain); break;
        case E_SENDFILE: r = zcopy_sendfile(d->fd, s->fd, remain); break;
        case E_CFR: r = zcopy_copy_file_range(d->fd, s->fd, remain); break;
        case E_COPY: r = zcopy_copy(d->fd, s->fd, remain); break;
        case E_SENDFILE_AT: r = zcopy_sendfile_at(d->fd, s->fd, so, remain); break;
        case E_CFR_AT: r = zcopy_copy_file_range_at(d->fd, dof, s->fd, so, remain); break;
        default: {
            zcopy_splicer *sp = zcopy_splicer_new();
            if (!sp)
                DIE("zcopy_splicer_new");
            r = zcopy_splicer_step(sp, d->fd, s->fd, remain);
            zcopy_splicer_free(sp);
        }
        }
        el = zt_now() - t0;
        in_call = 0;
        alarm(0);
        per_entry[entry]++;
        if (el > worst)
            worst = el;
        if (r.error >= 0 && r.error < 200)
            errs[r.error]++;

        if (!QCHECK(el < prompt, "%s: took %.3f s", current, el))
            continue;
        if ((d->flags & F_NEG) || (s->flags & F_NEG)) {
            QCHECK(r.handled && r.error == EBADF && r.written == 0, "%s: negative fd -> EBADF: " ZT_RES_FMT, current,
                   ZT_RES_ARGS(r));
            continue;
        }
        if (remain < 0) {
            QCHECK(r.handled && r.error == EINVAL && r.written == 0, "%s: negative remain -> EINVAL: " ZT_RES_FMT,
                   current, ZT_RES_ARGS(r));
            continue;
        }
        if (remain == 0 && !((so && so0 < 0) || (dof && do0 < 0))) {
            QCHECK(r.error == 0 && r.written == 0, "%s: remain 0 -> nothing, no error: " ZT_RES_FMT, current,
                   ZT_RES_ARGS(r));
            continue;
        }
        if ((so && so0 < 0) || (dof && do0 < 0)) {
            QCHECK(r.written == 0 && (r.error == EINVAL || r.error == 0 || r.error == EBADF),
                   "%s: negative offset -> EINVAL (or EBADF / nothing): " ZT_RES_FMT, current, ZT_RES_ARGS(r));
            continue;
        }
        if (!allowed(r.error)) {
            bad_errno++;
            QCHECK(0, "%s: errno %d (%s) is not in the documented set: " ZT_RES_FMT, current, r.error,
                   strerror(r.error), ZT_RES_ARGS(r));
        }
        QCHECK(r.written >= 0 && r.written <= remain && (r.handled || r.written == 0),
               "%s: written within [0, remain], 0 when not handled: " ZT_RES_FMT, current, ZT_RES_ARGS(r));
        if (so && r.written >= 0)
            QCHECK(*so == so0 + r.written, "%s: src offset advanced by written (%lld -> %lld)", current,
                   (long long)so0, (long long)*so);
        if (dof && r.written >= 0)
            QCHECK(*dof == do0 + r.written, "%s: dst offset advanced by written (%lld -> %lld)", current,
                   (long long)do0, (long long)*dof);
        if (r.written > 0) {
            transfers++;
            bytes += r.written;
        }
        /* Where the outcome is known, the bytes must be right. */
        if ((d->flags & F_RW_DST) && r.written > 0 && !dof &&
            ((s->flags & F_DATA_SRC) || s->fd == zoo[5].fd)) {
            size_t n = zt_pread_all(rw_file, buf, 1 << 21);
            int good;
            if (s->flags & F_DATA_SRC) {
                int64_t start = so ? so0 : 0;
                good = n == (size_t)r.written && start + r.written <= (int64_t)sizeof filedata &&
                       memcmp(buf, filedata + start, n) == 0;
            } else {
                size_t j;
                good = n == (size_t)r.written;
                for (j = 0; good && j < n; j++)
                    good = buf[j] == 0;
            }
            checked_content++;
            QCHECK(good, "%s: dst file holds exactly the %lld bytes moved (found %zu)", current, (long long)r.written,
                   n);
        }
        if (r.error == 0 || r.written > 0)
            ok_calls++;
        if (i % 1000 == 999) {
            for (k = 0; k < nzoo; k++)
                if (zoo[k].fd >= 0 && k != 2 && k != 3)
                    QCHECK(fcntl(zoo[k].fd, F_GETFD) >= 0, "after %ld calls: the caller's fd '%s' is still open", i + 1,
                           zoo[k].name);
        }
    }
    printf("# hostile: %ld calls (", calls);
    for (k = 0; k < E_COUNT; k++)
        printf("%s%s %ld", k ? ", " : "", entry_names[k], per_entry[k]);
    printf(")\n# hostile: %ld calls moved data (%lld bytes), %ld results checked byte for byte, slowest call %.3f s\n",
           transfers, bytes, checked_content, worst);
    printf("# errno histogram:");
    for (k = 0; k < 200; k++)
        if (errs[k])
            printf(" %s=%ld", k ? strerror(k) : "0", errs[k]);
    printf("\n");
    CHECK(zt_failed == 0, "%ld hostile calls: every one returned promptly with a documented errno or a correct transfer",
          calls);
    CHECK(bad_errno == 0, "no errno outside the documented set (%ld)", bad_errno);
    CHECK(worst < prompt, "slowest call %.3f s < %.0f s", worst, prompt);
    for (k = 0; k < nzoo; k++)
        if (zoo[k].fd >= 0 && k != 2 && k != 3)
            CHECK(fcntl(zoo[k].fd, F_GETFD) >= 0, "the caller's fd '%s' is still open", zoo[k].name);
    zcopy_pool_drain();
    CHECK(zt_fd_count() == fds_after_zoo, "no fd leaked: %d open fds with the zoo, %d before the calls", zt_fd_count(),
          fds_after_zoo);
    for (k = 0; k < nzoo; k++)
        if (zoo[k].fd >= 0 && k != 2 && k != 3)
            close(zoo[k].fd);
    close(dgram_peer);
    CHECK(zt_fd_count() == fds_before, "zoo closed: %d fds, %d at start", zt_fd_count(), fds_before);
    free(buf);
    (void)ok_calls;
    return zt_finish();
}
