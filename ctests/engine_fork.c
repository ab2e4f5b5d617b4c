/*
 * engine_fork.c: an engine across fork() (issue 24).
 *
 * The engine's threads exist only in the parent. In a child, an inherited
 * engine must be inert and safe: zcopy_engine_add answers ESTALE (its
 * done is never called), zcopy_engine_free returns at once, prints
 * nothing and takes no lock a parent thread may have held at the fork;
 * the child can still make an engine of its own and relay with it; the
 * parent's relays go on untouched. Forked at each phase: an idle engine,
 * relays mid-transfer, another thread adding relays, another thread
 * freeing the engine. Every child is waited for with a deadline: a child
 * that hangs fails the check and is killed.
 */
#include "engine.h"
#include "relay_util.h"

/* In the child: stderr goes to a temporary file, so that anything the
 * library prints (a panic message) is seen. Returns the file. */
static int child_capture_stderr(void)
{
    char path[] = "/tmp/zcopy-fork-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        _exit(90);
    unlink(path);
    dup2(fd, 2);
    return fd;
}

/* A relay made and run inside the child, on an engine of the child's own. */
static int child_own_engine_works(void)
{
    zcopy_engine *e = zcopy_engine_new(1);
    struct ends x;
    struct done_rec d;
    char got[6] = { 0 };
    int ok;
    if (!e)
        return 0;
    ends_open(&x, E_UNIX, E_UNIX);
    rec_init(&d);
    if (zcopy_engine_add(e, x.a, x.b, NULL, rec_done, &d) != 0)
        return 0;
    ok = zt_write_all(x.c, "child", 5) == 0 && zt_read_full(x.s, got, 5) == 5 &&
         memcmp(got, "child", 5) == 0;
    shutdown(x.c, SHUT_WR);
    shutdown(x.s, SHUT_WR);
    ok = ok && rec_wait(&d, 10) && d.r.error == 0;
    zcopy_engine_free(e);
    ends_close(&x);
    return ok;
}

/* The child's side of every case: exit status 0 when the inherited engine
 * refused an add with ESTALE, free returned, nothing was printed and an
 * engine of the child's own works; else a code saying what failed. */
static void child_main(zcopy_engine *inherited, int try_add)
{
    int err = child_capture_stderr();
    if (try_add && inherited) {
        struct ends x;
        struct done_rec d;
        ends_open(&x, E_UNIX, E_UNIX);
        rec_init(&d);
        if (zcopy_engine_add(inherited, x.a, x.b, NULL, rec_done, &d) != ESTALE)
            _exit(10);
        usleep(20000);
        if (rec_calls(&d) != 0)
            _exit(11);
        ends_close(&x);
    }
    if (inherited)
        zcopy_engine_free(inherited);
    if (!child_own_engine_works())
        _exit(12);
    if (lseek(err, 0, SEEK_END) != 0)
        _exit(13); /* something was printed */
    exit(0);
}

/* Forks a child running child_main; returns its exit status, or -1 when
 * it did not end in time (killed). */
static int fork_child(zcopy_engine *inherited, int try_add)
{
    pid_t pid = fork();
    if (pid < 0)
        DIE("fork");
    if (pid == 0)
        child_main(inherited, try_add);
    return zt_wait_child(pid, zt_valgrind() ? 120 : 15);
}

static const char *status_text(int st)
{
    switch (st) {
    case 0: return "ok";
    case -1: return "hung (killed)";
    case 10: return "add did not answer ESTALE";
    case 11: return "done was called for a refused add";
    case 12: return "the child's own engine did not work";
    case 13: return "the library printed something on stderr";
    default: return "died";
    }
}

static void idle_engine(void)
{
    zcopy_engine *e = zcopy_engine_new(2);
    int st = fork_child(e, 1);
    CHECK(st == 0, "idle engine: in the child add is ESTALE, free is quiet (%s, %d)", status_text(st), st);
    zcopy_engine_free(e);
}

/* Relays mid-transfer at the fork: the parent's bytes all arrive. */
static void mid_transfer(void)
{
    zcopy_engine *e = zcopy_engine_new(2);
    struct ends x[4];
    struct done_rec d[4];
    struct rl_talk t[4];
    size_t len = (size_t)zt_vg(16 << 20, 8);
    int st, ok = 1;
    for (int i = 0; i < 4; i++) {
        ends_open(&x[i], i % 2 ? E_UNIX : E_TCP, E_TCP);
        rec_init(&d[i]);
        if (zcopy_engine_add(e, x[i].a, x[i].b, NULL, rec_done, &d[i]) != 0)
            DIE("add");
        rl_talk_start(&t[i], x[i].c, x[i].s, len, len / 2, 40 + i);
    }
    usleep(20000);
    st = fork_child(e, 1);
    CHECK(st == 0, "relays mid-transfer: the child's add is ESTALE, free is quiet (%s, %d)",
          status_text(st), st);
    for (int i = 0; i < 4; i++) {
        ok &= rl_talk_end(&t[i], "relays mid-transfer at the fork", 1);
        ok &= rec_wait(&d[i], 30) && d[i].r.error == 0 && rec_calls(&d[i]) == 1;
    }
    CHECK(ok, "relays mid-transfer: the parent's 4 relays deliver every byte and end once each");
    zcopy_engine_free(e);
    for (int i = 0; i < 4; i++)
        ends_close(&x[i]);
}

struct adder {
    zcopy_engine *e;
    volatile int stop;
    int added, failed;
};

/* Adds short relays in a loop (each carries 3 bytes and ends). */
static void *adder_main(void *arg)
{
    struct adder *ad = arg;
    while (!ad->stop) {
        struct ends x;
        struct done_rec d;
        char got[3];
        ends_open(&x, E_UNIX, E_UNIX);
        rec_init(&d);
        if (zcopy_engine_add(ad->e, x.a, x.b, NULL, rec_done, &d) != 0) {
            ad->failed++;
        } else {
            if (zt_write_all(x.c, "abc", 3) != 0 || zt_read_full(x.s, got, 3) != 3)
                ad->failed++;
            shutdown(x.c, SHUT_WR);
            shutdown(x.s, SHUT_WR);
            if (!rec_wait(&d, 10) || d.r.error != 0)
                ad->failed++;
            ad->added++;
        }
        ends_close(&x);
    }
    return NULL;
}

static void during_adds(void)
{
    struct adder ad = { .e = zcopy_engine_new(2) };
    pthread_t th;
    int forks = (int)zt_vg(20, 5), good = 0;
    if (pthread_create(&th, NULL, adder_main, &ad) != 0)
        DIE("pthread_create");
    for (int i = 0; i < forks; i++) {
        usleep(3000);
        good += fork_child(ad.e, i % 2) == 0;
    }
    ad.stop = 1;
    zt_join(th, 30, "adder");
    CHECK(good == forks, "forks while another thread adds relays: %d of %d children clean", good, forks);
    CHECK(ad.failed == 0 && ad.added > 0, "the parent's %d relays all worked (%d failed)", ad.added,
          ad.failed);
    zcopy_engine_free(ad.e);
}

static void *freer_main(void *arg)
{
    zcopy_engine_free(arg);
    return NULL;
}

/* Another thread frees an engine (with a relay still running, so the free
 * has work to do) while the main thread forks. The child never touches
 * that engine (it may be half freed in the child's copy); it must still
 * exit cleanly and have a working library. */
static void during_free(void)
{
    int rounds = (int)zt_vg(10, 5), good = 0;
    for (int i = 0; i < rounds; i++) {
        zcopy_engine *e = zcopy_engine_new(2);
        struct ends x;
        struct done_rec d;
        pthread_t th;
        ends_open(&x, E_TCP, E_TCP);
        rec_init(&d);
        if (zcopy_engine_add(e, x.a, x.b, NULL, rec_done, &d) != 0)
            DIE("add");
        if (pthread_create(&th, NULL, freer_main, e) != 0)
            DIE("pthread_create");
        good += fork_child(NULL, 0) == 0;
        zt_join(th, 30, "freer");
        if (!(rec_calls(&d) == 1 && d.r.error == ECANCELED))
            good -= 1000;
        ends_close(&x);
    }
    CHECK(good == rounds, "forks while another thread frees an engine: %d of %d clean, each relay ended once with ECANCELED",
          good, rounds);
}

int main(void)
{
    zt_start("engine_fork", 300);
    signal(SIGPIPE, SIG_IGN);
    idle_engine();
    mid_transfer();
    during_adds();
    during_free();
    return zt_finish();
}
