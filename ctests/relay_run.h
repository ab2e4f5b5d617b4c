/*
 * relay_run.h: one relay between a and b, run either by zcopy_relay on a
 * thread of its own or by an engine of 1 or 2 threads, so a test can run
 * the same case through all three (relay_copymode.c, relay_smallpipe.c).
 */
#ifndef ZC_RELAY_RUN_H
#define ZC_RELAY_RUN_H

#include "engine.h"
#include "relay_util.h"

enum { RUN_CALL, RUN_ENGINE1, RUN_ENGINE2 };
static const char *const run_name[] = { "zcopy_relay", "engine 1 thread", "engine 2 threads" };

struct run {
    int kind, a, b;
    pthread_t th;
    zcopy_engine *e;
    struct done_rec d;
    zcopy_options o;     /* the call's options; the engine's when engine_opts */
    int engine_opts;
    zcopy_relay_result r;
};

static void *run_call_main(void *arg)
{
    struct run *x = arg;
    x->r = zcopy_relay(x->a, x->b, &x->o);
    return NULL;
}

/* Starts the relay: zcopy_relay with options `o`, the engine with `o` too
 * when engine_opts, else with none. */
static inline void run_begin(struct run *x, int kind, int a, int b, const zcopy_options *o, int engine_opts)
{
    memset(x, 0, sizeof *x);
    x->kind = kind;
    x->a = a;
    x->b = b;
    x->o = *o;
    x->engine_opts = engine_opts;
    if (kind == RUN_CALL) {
        if (pthread_create(&x->th, NULL, run_call_main, x) != 0)
            DIE("pthread_create relay");
        return;
    }
    x->e = zcopy_engine_new(kind == RUN_ENGINE1 ? 1 : 2);
    if (!x->e)
        DIE("zcopy_engine_new");
    rec_init(&x->d);
    if (zcopy_engine_add(x->e, a, b, x->engine_opts ? &x->o : NULL, rec_done, &x->d) != 0)
        DIE("zcopy_engine_add");
}

/* Starts the relay: zcopy_relay with a 20 s idle timeout (a stall ends as
 * ETIMEDOUT, not a hang), the engine with no options. */
static inline void run_start(struct run *x, int kind, int a, int b)
{
    zcopy_options o;
    zcopy_options_init(&o);
    o.idle_timeout_ms = 20000;
    run_begin(x, kind, a, b, &o, 0);
}

/* Starts the relay with options `o` for both runners. */
static inline void run_start_opts(struct run *x, int kind, int a, int b, const zcopy_options *o)
{
    run_begin(x, kind, a, b, o, 1);
}

/* The engine's pipes in use now (0 for zcopy_relay: nothing to ask). */
static inline uint64_t run_pipes(struct run *x)
{
    zcopy_engine_stats st;
    if (!x->e)
        return 0;
    zcopy_engine_get_stats(x->e, &st);
    return st.pipes_in_use;
}

/* Waits up to `seconds` for the relay to end (the engine is freed). */
static inline zcopy_relay_result run_end(struct run *x, int seconds)
{
    if (x->kind == RUN_CALL) {
        zt_join(x->th, seconds, "relay");
        return x->r;
    }
    if (!rec_wait(&x->d, seconds))
        DIE("engine relay did not end");
    zcopy_engine_free(x->e);
    return x->d.r;
}

/* Pipes the pool has handed out since start (made or reused). */
static inline uint64_t acquisitions(void)
{
    zcopy_pool_stats st;
    zcopy_pool_get_stats(&st);
    return st.created + st.reused;
}

#endif /* ZC_RELAY_RUN_H */
