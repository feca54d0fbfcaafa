/*
 * stack_rlimit.c - conformance test: growth of the grows-down main stack,
 * RLIMIT_STACK, stack overflow caught on a sigaltstack, small thread stacks,
 * and mprotect inside the [stack] mapping.
 *
 * Kernel API family: implicit stack growth (page faults below the [stack] VMA),
 * getrlimit/setrlimit(RLIMIT_STACK), sigaltstack + SA_ONSTACK SIGSEGV handlers
 * left with siglongjmp, pthread stacks (glibc-allocated with a guard page, and
 * caller-supplied), mprotect on parts of the VM_GROWSDOWN mapping (splitting
 * it, PROT_GROWSDOWN, ENOMEM below it).
 *
 * Why it is hard for a record/replay tool: the kernel grows the stack mapping
 * silently on page faults, with no system call to record, so the replayed
 * address space must be able to grow the same way; whether a fault is a growth
 * or a SIGSEGV depends on RLIMIT_STACK, so the replay must really apply the
 * recorded setrlimit (or reproduce its effect) or the overflow happens at a
 * different depth (or not at all); the SIGSEGV is synchronous and delivered on
 * an alternate stack, and control leaves through siglongjmp (rt_sigprocmask,
 * no sigreturn); a thread overflowing its own small stack faults on the guard
 * page; mprotect splits the [stack] VMA, and the protection must be the same
 * during replay for the expected SEGV_ACCERR to happen.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <unistd.h>

#define CHECK(c)                                                               \
    do {                                                                       \
        if (!(c)) {                                                            \
            fprintf(stderr, "FAIL: %s:%d: %s (errno=%d %s)\n", __FILE__,       \
                    __LINE__, #c, errno, strerror(errno));                     \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

#define KB 1024UL
#define MB (1024UL * 1024UL)
#define FRAME 4096 /* bytes of locals per frame of big_recurse */

static long page;

/* ---- [stack] mapping from /proc/self/maps ---- */
static int stack_vma(uintptr_t *lo, uintptr_t *hi, int *nvmas_near)
{
    FILE *f = fopen("/proc/self/maps", "r");
    CHECK(f != NULL);
    char line[512];
    int found = 0;
    uintptr_t l = 0, h = 0;
    /* first pass: the [stack] line */
    while (fgets(line, sizeof line, f)) {
        if (strstr(line, "[stack]")) {
            CHECK(sscanf(line, "%lx-%lx", &l, &h) == 2);
            found = 1;
        }
    }
    if (nvmas_near) {
        /* count mappings that lie in the 16 MiB below the stack top (split VMAs) */
        rewind(f);
        int n = 0;
        while (fgets(line, sizeof line, f)) {
            uintptr_t a, b;
            if (sscanf(line, "%lx-%lx", &a, &b) == 2 && b <= h && a >= h - 16 * MB)
                n++;
        }
        *nvmas_near = n;
    }
    fclose(f);
    *lo = l;
    *hi = h;
    return found;
}

/* ---- deep recursion, touching every frame ---- */
static uintptr_t lowest_touched;

static long big_recurse(long depth, long max)
{
    volatile char buf[FRAME - 64];
    for (size_t i = 0; i < sizeof buf; i += 256)
        buf[i] = (char)(depth + i);
    buf[sizeof buf - 1] = (char)depth;
    if ((uintptr_t)buf < lowest_touched)
        lowest_touched = (uintptr_t)buf;
    if (depth >= max)
        return buf[0];
    long r = big_recurse(depth + 1, max);
    return r + buf[256] + buf[sizeof buf - 1];
}

/* expected result of big_recurse(0, max), computed without recursion */
static long big_expected(long max)
{
    long r = (char)max;
    for (long d = max - 1; d >= 0; d--)
        r += (char)(d + 256) + (char)d;
    return r;
}

/* unbounded recursion: runs until SIGSEGV */
static volatile long sink_depth;
static long endless(long depth)
{
    volatile char buf[FRAME - 64];
    for (size_t i = 0; i < sizeof buf; i += 512)
        buf[i] = (char)depth;
    sink_depth = depth;
    if ((uintptr_t)buf < lowest_touched)
        lowest_touched = (uintptr_t)buf;
    if (depth < 0) /* never: keeps the compiler quiet about the recursion */
        return 0;
    return endless(depth + 1) + buf[0];
}

/* ---- SIGSEGV on the alternate stack ---- */
static __thread sigjmp_buf *segv_env;
static __thread volatile uintptr_t segv_addr;
static __thread volatile int segv_code;
static __thread volatile int segv_on_altstack;

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)sig;
    (void)uc;
    stack_t ss;
    segv_addr = (uintptr_t)si->si_addr;
    segv_code = si->si_code;
    segv_on_altstack = sigaltstack(NULL, &ss) == 0 && (ss.ss_flags & SS_ONSTACK);
    if (!segv_env)
        _exit(99);
    siglongjmp(*segv_env, 1);
}

static void *setup_altstack(void)
{
    size_t sz = 64 * KB;
    void *mem = malloc(sz);
    CHECK(mem != NULL);
    stack_t ss = {.ss_sp = mem, .ss_size = sz, .ss_flags = 0};
    CHECK(sigaltstack(&ss, NULL) == 0);
    return mem;
}

/* ---- small-stack thread that overflows its stack ---- */
static long small_recurse(long depth)
{
    volatile char buf[1000];
    buf[0] = (char)depth;
    buf[999] = (char)depth;
    sink_depth = depth;
    if ((uintptr_t)buf < lowest_touched)
        lowest_touched = (uintptr_t)buf;
    if (depth < 0)
        return 0;
    return small_recurse(depth + 1) + buf[0];
}

struct thr_result {
    long depth;
    uintptr_t stack_lo, stack_hi, guard, fault, lowest;
    int code, onalt;
};

static void *overflow_thread(void *arg)
{
    struct thr_result *res = arg;
    void *alt = setup_altstack();
    pthread_attr_t a;
    CHECK(pthread_getattr_np(pthread_self(), &a) == 0);
    void *addr;
    size_t size, guard;
    CHECK(pthread_attr_getstack(&a, &addr, &size) == 0);
    CHECK(pthread_attr_getguardsize(&a, &guard) == 0);
    pthread_attr_destroy(&a);
    res->stack_lo = (uintptr_t)addr;
    res->stack_hi = (uintptr_t)addr + size;
    res->guard = guard;
    int local;
    CHECK((uintptr_t)&local > res->stack_lo && (uintptr_t)&local < res->stack_hi);

    sigjmp_buf env;
    segv_env = &env;
    lowest_touched = UINTPTR_MAX;
    if (sigsetjmp(env, 1) == 0) {
        small_recurse(0);
        CHECK(!"small_recurse returned");
    }
    segv_env = NULL;
    res->depth = sink_depth;
    res->fault = segv_addr;
    res->code = segv_code;
    res->onalt = segv_on_altstack;
    res->lowest = lowest_touched;
    stack_t off = {.ss_flags = SS_DISABLE};
    CHECK(sigaltstack(&off, NULL) == 0);
    free(alt);
    return NULL;
}

/* ---- thread on a caller-supplied stack ---- */
static void *own_stack_thread(void *arg)
{
    uintptr_t *range = arg;
    int local;
    range[2] = (uintptr_t)&local;
    lowest_touched = UINTPTR_MAX;
    range[3] = (uintptr_t)big_recurse(0, 8); /* 8 * 4 KiB inside a 256 KiB stack */
    range[4] = lowest_touched;
    return NULL;
}

static void print_rlim(const char *tag, struct rlimit *r)
{
    if (r->rlim_cur == RLIM_INFINITY)
        printf("%s: soft=unlimited", tag);
    else
        printf("%s: soft=%luK", tag, (unsigned long)(r->rlim_cur / KB));
    if (r->rlim_max == RLIM_INFINITY)
        printf(" hard=unlimited\n");
    else
        printf(" hard=%luK\n", (unsigned long)(r->rlim_max / KB));
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    page = sysconf(_SC_PAGESIZE);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGSEGV, &sa, NULL) == 0);
    CHECK(sigaction(SIGBUS, &sa, NULL) == 0);
    void *main_alt = setup_altstack();

    /* 1. getrlimit; make sure the soft limit is a finite 8 MiB (lowering is allowed) */
    struct rlimit orig, rl;
    CHECK(getrlimit(RLIMIT_STACK, &orig) == 0);
    print_rlim("initial RLIMIT_STACK", &orig);
    rl = orig;
    if (rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 8 * MB) {
        rl.rlim_cur = 8 * MB;
        CHECK(setrlimit(RLIMIT_STACK, &rl) == 0);
    }
    CHECK(getrlimit(RLIMIT_STACK, &rl) == 0);
    int have_room = rl.rlim_cur >= 8 * MB;
    print_rlim("working RLIMIT_STACK", &rl);

    uintptr_t lo0, hi0, lo, hi;
    CHECK(stack_vma(&lo0, &hi0, NULL));
    int here;
    CHECK((uintptr_t)&here > lo0 && (uintptr_t)&here < hi0);
    printf("initial [stack] size: %s 1 MiB\n", hi0 - lo0 < MB ? "<" : ">=");

    if (have_room) {
        /* 2. deep recursion: grow the main stack by ~3 MiB */
        long frames = (3 * MB) / FRAME;
        lowest_touched = UINTPTR_MAX;
        long r = big_recurse(0, frames);
        CHECK(r == big_expected(frames));
        CHECK(stack_vma(&lo, &hi, NULL));
        CHECK(hi == hi0);
        CHECK(lo <= lowest_touched);
        CHECK((uintptr_t)&here - lowest_touched >= (uintptr_t)frames * (FRAME - 64));
        CHECK(lo < lo0);
        printf("recursion 3MiB: frames=%ld sum=%ld grew=%d\n", frames, r, lo < lo0);

        /* 3. mprotect pages of the grows-down mapping below sp */
        uintptr_t sp = (uintptr_t)&here;
        char *pg = (char *)((sp - 256 * KB) & ~(uintptr_t)(page - 1));
        CHECK((uintptr_t)pg > lo);
        /* a no-op: page is already read/write */
        CHECK(mprotect(pg, page, PROT_READ | PROT_WRITE) == 0);
        /* make it read-only: splits [stack] into three VMAs */
        CHECK(mprotect(pg, page, PROT_READ) == 0);
        int nv;
        uintptr_t l2, h2;
        CHECK(stack_vma(&l2, &h2, &nv));
        printf("after mprotect(PROT_READ): vmas near stack top=%d\n", nv);
        CHECK(nv >= 3);
        volatile char *vp = pg + 100;
        char seen = *vp; /* reading is fine */
        sigjmp_buf env;
        segv_env = &env;
        segv_addr = 0;
        if (sigsetjmp(env, 1) == 0) {
            *vp = 1;
            CHECK(!"write to read-only stack page succeeded");
        }
        segv_env = NULL;
        printf("write to PROT_READ stack page: SIGSEGV code=%s addr-ok=%d altstack=%d\n",
               segv_code == SEGV_ACCERR ? "SEGV_ACCERR" : "other",
               segv_addr == (uintptr_t)vp, segv_on_altstack);
        CHECK(segv_code == SEGV_ACCERR);
        CHECK(segv_addr == (uintptr_t)vp);
        CHECK(segv_on_altstack);
        CHECK(mprotect(pg, page, PROT_READ | PROT_WRITE) == 0);
        *vp = seen + 1;
        CHECK(*vp == (char)(seen + 1));
        /* PROT_GROWSDOWN: applies from the start of the VMA up to pg */
        CHECK(mprotect(pg, page, PROT_READ | PROT_WRITE | PROT_GROWSDOWN) == 0);
        /* below the bottom of the [stack] VMA nothing is mapped */
        CHECK(stack_vma(&l2, &h2, NULL));
        errno = 0;
        int mr = mprotect((void *)(l2 - page), page, PROT_READ | PROT_WRITE);
        printf("mprotect below [stack]: ret=%d errno=%s\n", mr,
               errno == ENOMEM ? "ENOMEM" : "other");
        CHECK(mr == -1 && errno == ENOMEM);

        /* 4. continued growth through the re-protected page and beyond: ~5 MiB */
        frames = (5 * MB) / FRAME;
        lowest_touched = UINTPTR_MAX;
        r = big_recurse(0, frames);
        CHECK(r == big_expected(frames));
        CHECK(stack_vma(&lo, &hi, NULL));
        CHECK(lo <= lowest_touched);
        CHECK((uintptr_t)&here - lowest_touched >= (uintptr_t)frames * (FRAME - 64));
        CHECK(lowest_touched < (uintptr_t)pg);
        printf("recursion 5MiB: frames=%ld sum=%ld\n", frames, r);

        /* 5. lower RLIMIT_STACK to current size + 1 MiB, recurse until SIGSEGV */
        size_t cur = hi - lo;
        struct rlimit low = rl;
        low.rlim_cur = cur + 1 * MB;
        CHECK(low.rlim_cur < rl.rlim_cur);
        CHECK(setrlimit(RLIMIT_STACK, &low) == 0);
        struct rlimit chk;
        CHECK(getrlimit(RLIMIT_STACK, &chk) == 0);
        CHECK(chk.rlim_cur == low.rlim_cur);
        printf("lowered soft limit by %luK\n",
               (unsigned long)((rl.rlim_cur - low.rlim_cur) / KB));
        lowest_touched = UINTPTR_MAX;
        segv_env = &env;
        segv_addr = 0;
        sink_depth = 0;
        if (sigsetjmp(env, 1) == 0) {
            endless(0);
            CHECK(!"endless returned");
        }
        segv_env = NULL;
        long depth = sink_depth;
        CHECK(stack_vma(&lo, &hi, NULL));
        printf("overflow at limit: depth=%ld code=%s altstack=%d [stack] size=%luK\n",
               depth, segv_code == SEGV_MAPERR ? "SEGV_MAPERR" : (segv_code == SEGV_ACCERR ? "SEGV_ACCERR" : "other"),
               segv_on_altstack, (unsigned long)((hi - lo) / KB));
        CHECK(segv_on_altstack);
        CHECK(hi - lo <= low.rlim_cur);            /* never grew past the limit */
        CHECK(hi - lo >= cur);                     /* and kept what it had */
        CHECK(lowest_touched >= hi - low.rlim_cur); /* every frame was inside */
        CHECK(segv_addr < lo && segv_addr >= hi - low.rlim_cur - 64 * KB);
        CHECK(depth > (long)((cur - 2 * MB) / FRAME)); /* used the existing pages */
        CHECK(setrlimit(RLIMIT_STACK, &rl) == 0);

        /* after restoring the limit the stack can grow again */
        frames = (cur + 512 * KB) / FRAME;
        lowest_touched = UINTPTR_MAX;
        r = big_recurse(0, frames);
        CHECK(r == big_expected(frames));
        CHECK(stack_vma(&lo, &hi, NULL));
        CHECK(lowest_touched >= lo);
        printf("regrowth after restoring limit: frames=%ld sum=%ld ok\n", frames, r);
    } else {
        printf("stack rlimit below 8 MiB: main-stack growth cases skipped\n");
    }

    /* 6. a thread with a small glibc-allocated stack that overflows it */
    {
        pthread_attr_t a;
        CHECK(pthread_attr_init(&a) == 0);
        CHECK(pthread_attr_setstacksize(&a, 64 * KB) == 0);
        struct thr_result res;
        memset(&res, 0, sizeof res);
        pthread_t t;
        CHECK(pthread_create(&t, &a, overflow_thread, &res) == 0);
        CHECK(pthread_join(t, NULL) == 0);
        pthread_attr_destroy(&a);
        int fault_ok = res.fault < res.stack_lo + (uintptr_t)page &&
                       res.fault >= res.stack_lo - res.guard - (uintptr_t)page;
        printf("small thread stack: size=%luK guard=%luK overflow depth=%ld code=%s "
               "altstack=%d fault-in-guard=%d\n",
               (unsigned long)((res.stack_hi - res.stack_lo) / KB),
               (unsigned long)(res.guard / KB), res.depth,
               res.code == SEGV_ACCERR ? "SEGV_ACCERR" : (res.code == SEGV_MAPERR ? "SEGV_MAPERR" : "other"),
               res.onalt, fault_ok);
        CHECK(res.onalt);
        CHECK(fault_ok);
        CHECK(res.lowest >= res.stack_lo - res.guard);
        CHECK(res.depth > 10 && res.depth < 70);
    }

    /* 7. a thread on a caller-supplied (mmap'd) stack */
    {
        size_t sz = 256 * KB;
        char *stk = mmap(NULL, sz, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
        CHECK(stk != MAP_FAILED);
        pthread_attr_t a;
        CHECK(pthread_attr_init(&a) == 0);
        CHECK(pthread_attr_setstack(&a, stk, sz) == 0);
        uintptr_t range[5] = {(uintptr_t)stk, (uintptr_t)stk + sz, 0, 0, 0};
        pthread_t t;
        CHECK(pthread_create(&t, &a, own_stack_thread, range) == 0);
        CHECK(pthread_join(t, NULL) == 0);
        pthread_attr_destroy(&a);
        printf("own-stack thread: local-in-range=%d sum=%ld frames-in-range=%d\n",
               range[2] >= range[0] && range[2] < range[1], (long)range[3],
               range[4] >= range[0] && range[4] < range[1]);
        CHECK(range[2] >= range[0] && range[2] < range[1]);
        CHECK((long)range[3] == big_expected(8));
        CHECK(range[4] >= range[0] && range[4] < range[1]);
        munmap(stk, sz);
    }

    CHECK(setrlimit(RLIMIT_STACK, &orig) == 0);
    stack_t off = {.ss_flags = SS_DISABLE};
    CHECK(sigaltstack(&off, NULL) == 0);
    free(main_alt);
    printf("stack_rlimit: OK\n");
    return 0;
}
