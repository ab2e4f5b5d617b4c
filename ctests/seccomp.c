/*
 * seccomp.c: sandboxes that forbid a mechanism (container runtimes answer
 * EPERM, older ones ENOSYS, for splice, sendfile or copy_file_range).
 *
 * Each case runs in a child (fork, then exec of this program with
 * "--case N", so that under valgrind, which implements no seccomp(2), the
 * child runs natively) that installs a seccomp filter (written by hand in
 * classic BPF) returning that errno for the listed syscalls; the library's
 * once-per-process learning starts fresh every time.
 * - zcopy_copy must fall back on its *first* call and complete, and
 *   `method` must name the mechanism that really moved the bytes.
 * - Each mechanism's own entry point must answer handled=false (consumed
 *   nothing, cannot serve the pair: fall back) with `error` the errno.
 */
#include "zc_test.h"
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#if defined(__x86_64__)
#define ZT_AUDIT_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define ZT_AUDIT_ARCH AUDIT_ARCH_AARCH64
#else
#error "seccomp.c: add this architecture's AUDIT_ARCH_* value"
#endif

enum { B_SPLICE = 1, B_SENDFILE = 2, B_CFR = 4 };

/* Installs a filter: the syscalls in `block` fail with `err`. */
static void forbid(int block, int err)
{
    struct sock_filter f[16];
    struct sock_fprog prog;
    int n = 0, i;
    long nrs[3];
    int k = 0;
    if (block & B_SPLICE)
        nrs[k++] = SYS_splice;
    if (block & B_SENDFILE)
        nrs[k++] = SYS_sendfile;
    if (block & B_CFR)
        nrs[k++] = SYS_copy_file_range;
    f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch));
    f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, ZT_AUDIT_ARCH, 1, 0);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    f[n++] = (struct sock_filter)BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr));
    for (i = 0; i < k; i++) {
        f[n++] = (struct sock_filter)BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (unsigned)nrs[i], 0, 1);
        f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ((unsigned)err & SECCOMP_RET_DATA));
    }
    f[n++] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW);
    prog.len = (unsigned short)n;
    prog.filter = f;
    if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
        DIE("PR_SET_NO_NEW_PRIVS");
    if (syscall(SYS_seccomp, SECCOMP_SET_MODE_FILTER, 0, &prog) != 0)
        DIE("seccomp(SECCOMP_SET_MODE_FILTER)");
}

static const char *blocked_names(int block, char *buf, size_t n)
{
    snprintf(buf, n, "%s%s%s", block & B_SPLICE ? "splice " : "", block & B_SENDFILE ? "sendfile " : "",
             block & B_CFR ? "copy_file_range " : "");
    return buf;
}

#define SIZE 300000

static unsigned char data[SIZE];

/* zcopy_copy under the filter: first call completes by read/write. */
static void copy_falls_back(int block, int err, const char *what, int method)
{
    char label[200], names[80];
    zcopy_result r;
    int i;
    snprintf(label, sizeof label, "zcopy_copy %s with %s-> %s", what, blocked_names(block, names, sizeof names),
             strerror(err));
    for (i = 0; i < 2; i++) {
        int src = -1, dst = -1, peer = -1, s[2], d[2];
        struct zt_writer w;
        int writer = 0;
        if (!strcmp(what, "file->file")) {
            src = zt_file_with(data, SIZE);
            dst = zt_tmpfile();
        } else if (!strcmp(what, "file->unix")) {
            src = zt_file_with(data, SIZE);
            zt_unix_pair(d);
            dst = d[0];
            peer = d[1];
        } else {
            /* unix->unix (pooled splice) or pipe->unix (direct splice) */
            if (!strcmp(what, "pipe->unix")) {
                zt_pipe(s);
                zt_writer_start(&w, s[1], data, SIZE, 0, 1);
                src = s[0];
            } else {
                zt_unix_pair(s);
                zt_writer_start_shut(&w, s[0], data, SIZE, 0);
                src = s[1];
            }
            writer = 1;
            zt_unix_pair(d);
            dst = d[0];
            peer = d[1];
        }
        {
            struct zt_reader rd;
            if (peer >= 0)
                zt_reader_start(&rd, peer, SIZE + 16, 0);
            r = zcopy_copy(dst, src, ZCOPY_ALL);
            CHECK(r.handled && r.error == 0 && r.written == SIZE,
                  "%s, call %d: completes: " ZT_RES_FMT, label, i + 1, ZT_RES_ARGS(r));
            CHECK(r.method == method, "%s, call %d: method names what moved the bytes: %s (want %s)", label,
                  i + 1, zcopy_method_name(r.method), zcopy_method_name(method));
            if (peer >= 0) {
                close(dst);
                dst = -1;
                zt_join(rd.th, 20, "reader");
                CHECK(rd.got == SIZE && memcmp(rd.buf, data, SIZE) == 0, "%s, call %d: dst got every byte", label,
                      i + 1);
                free(rd.buf);
                close(peer);
            } else {
                unsigned char *got = malloc(SIZE + 1);
                if (!got)
                    DIE("malloc");
                CHECK(zt_pread_all(dst, got, SIZE + 1) == SIZE && memcmp(got, data, SIZE) == 0,
                      "%s, call %d: dst file holds every byte", label, i + 1);
                free(got);
            }
        }
        if (writer) {
            zt_join(w.th, 20, "writer");
            if (!strcmp(what, "unix->unix"))
                close(s[0]);
        }
        if (dst >= 0)
            close(dst);
        close(src);
    }
}

/* Each mechanism's own entry point: handled=false, nothing consumed. */
static void unhandled(int err)
{
    char label[200];
    zcopy_result r;
    int s[2], d[2], p[2], src;
    unsigned char buf[64];
    zcopy_splicer *sp;
    const char *e = strerror(err);

    /* zcopy_splice socket->socket (through the pool) */
    zt_unix_pair(s);
    zt_unix_pair(d);
    zt_write_all(s[0], data, 64);
    zt_set_nonblock(s[1], 1);
    r = zcopy_splice(d[0], s[1], 64);
    snprintf(label, sizeof label, "zcopy_splice unix->unix, splice -> %s", e);
    CHECK(!r.handled && r.error == err && r.written == 0, "%s: handled=false: " ZT_RES_FMT, label, ZT_RES_ARGS(r));
    CHECK(read(s[1], buf, sizeof buf) == 64 && memcmp(buf, data, 64) == 0, "%s: nothing consumed from src", label);

    /* zcopy_splice pipe->socket (direct) */
    zt_pipe(p);
    zt_write_all(p[1], data, 64);
    zt_set_nonblock(p[0], 1);
    r = zcopy_splice(d[0], p[0], 64);
    snprintf(label, sizeof label, "zcopy_splice pipe->unix, splice -> %s", e);
    CHECK(!r.handled && r.error == err && r.written == 0, "%s: handled=false: " ZT_RES_FMT, label, ZT_RES_ARGS(r));
    CHECK(read(p[0], buf, sizeof buf) == 64, "%s: nothing consumed from src", label);

    /* the splicer */
    sp = zcopy_splicer_new();
    if (!sp)
        DIE("zcopy_splicer_new");
    zt_write_all(s[0], data, 64);
    r = zcopy_splicer_step(sp, d[0], s[1], ZCOPY_ALL);
    snprintf(label, sizeof label, "zcopy_splicer_step unix->unix, splice -> %s", e);
    CHECK(!r.handled && r.error == err && r.written == 0 && zcopy_splicer_pending(sp) == 0,
          "%s: handled=false: " ZT_RES_FMT, label, ZT_RES_ARGS(r));
    CHECK(read(s[1], buf, sizeof buf) == 64, "%s: nothing consumed from src", label);
    zcopy_splicer_free(sp);

    /* zcopy_sendfile file->socket */
    src = zt_file_with(data, 64);
    r = zcopy_sendfile(d[0], src, 64);
    snprintf(label, sizeof label, "zcopy_sendfile file->unix, sendfile -> %s", e);
    CHECK(!r.handled && r.error == err && r.written == 0, "%s: handled=false: " ZT_RES_FMT, label, ZT_RES_ARGS(r));
    CHECK(zt_pos(src) == 0, "%s: src position unchanged", label);
    close(src);

    /* zcopy_copy_file_range file->file */
    src = zt_file_with(data, 64);
    {
        int dst = zt_tmpfile();
        r = zcopy_copy_file_range(dst, src, 64);
        snprintf(label, sizeof label, "zcopy_copy_file_range, copy_file_range -> %s", e);
        CHECK(!r.handled && r.error == err && r.written == 0, "%s: handled=false: " ZT_RES_FMT, label,
              ZT_RES_ARGS(r));
        CHECK(zt_pos(src) == 0 && zt_fsize(dst) == 0, "%s: nothing copied", label);
        close(dst);
    }
    close(src);
    close(p[0]);
    close(p[1]);
    close(s[0]);
    close(s[1]);
    close(d[0]);
    close(d[1]);
}

struct sandbox_case {
    int block;
    int err;
    const char *what; /* NULL: the handled=false checks */
    int method;       /* what must move the bytes */
};

static const struct sandbox_case cases[] = {
    { B_CFR | B_SENDFILE, EPERM, "file->file", ZCOPY_METHOD_READ_WRITE },
    { B_CFR | B_SENDFILE, ENOSYS, "file->file", ZCOPY_METHOD_READ_WRITE },
    { B_CFR, EPERM, "file->file", ZCOPY_METHOD_SENDFILE },
    { B_SENDFILE, EPERM, "file->unix", ZCOPY_METHOD_READ_WRITE },
    { B_SENDFILE, ENOSYS, "file->unix", ZCOPY_METHOD_READ_WRITE },
    { B_SPLICE, EPERM, "unix->unix", ZCOPY_METHOD_READ_WRITE },
    { B_SPLICE, ENOSYS, "unix->unix", ZCOPY_METHOD_READ_WRITE },
    { B_SPLICE, EPERM, "pipe->unix", ZCOPY_METHOD_READ_WRITE },
    { B_SPLICE, ENOSYS, "pipe->unix", ZCOPY_METHOD_READ_WRITE },
    { B_SPLICE | B_SENDFILE | B_CFR, EPERM, NULL, 0 },
    { B_SPLICE | B_SENDFILE | B_CFR, ENOSYS, NULL, 0 },
};
enum { NCASES = sizeof cases / sizeof cases[0] };

/* The child's side: one case, in a process of its own. */
static int run_case(const struct sandbox_case *c)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    zt_watchdog(60);
    zt_fill(data, sizeof data, 31);
    forbid(c->block, c->err);
    if (c->what)
        copy_falls_back(c->block, c->err, c->what, c->method);
    else
        unhandled(c->err);
    fflush(stdout);
    return zt_failed ? 1 : 0;
}

static void in_child(const char *self, int i)
{
    const struct sandbox_case *c = &cases[i];
    pid_t pid;
    int st;
    char names[80], idx[16];
    fflush(stdout);
    snprintf(idx, sizeof idx, "%d", i);
    pid = fork();
    if (pid < 0)
        DIE("fork");
    if (pid == 0) {
        execl(self, self, "--case", idx, (char *)NULL);
        _exit(127);
    }
    if (waitpid(pid, &st, 0) != pid)
        DIE("waitpid");
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0, "sandbox (%s-> %s) %s: child's checks passed (status %d)",
          blocked_names(c->block, names, sizeof names), strerror(c->err), c->what ? c->what : "handled=false",
          st);
}

int main(int argc, char **argv)
{
    int i;
    if (argc == 3 && strcmp(argv[1], "--case") == 0) {
        i = atoi(argv[2]);
        return i >= 0 && i < NCASES ? run_case(&cases[i]) : 2;
    }
    zt_start("seccomp", 120);
    for (i = 0; i < NCASES; i++)
        in_child(argv[0], i);
    return zt_finish();
}
