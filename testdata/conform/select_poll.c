/*
 * select_poll.c - conformance test: select/pselect6/poll/ppoll/epoll with many
 * and high-numbered file descriptors.
 *
 * Kernel API family: select(2) with nfds up to 2048 and caller-sized fd_set
 * bitmaps (fds above FD_SETSIZE=1024, after raising RLIMIT_NOFILE and dup2'ing
 * pipe ends to high numbers), pselect6 with a temporary signal mask (EINTR from
 * a pending signal, and a zero timeout), poll on 500 descriptors (POLLIN,
 * POLLOUT, POLLHUP, POLLNVAL, a negative fd), ppoll with a mask and zero
 * timeout, epoll_wait / epoll_pwait / epoll_pwait2 with many descriptors ready
 * (level- and edge-triggered, maxevents smaller than the ready count).
 *
 * Why it is hard for a record/replay tool: the kernel writes back all three fd
 * bitmaps, whose size comes from nfds (here 256 bytes each, not the 128 of an
 * fd_set) in whole longs, plus the remaining timeout; poll writes revents into
 * every one of 502 entries; epoll writes up to maxevents 12-byte packed
 * structures whose count is the return value; the signal masks given to
 * pselect6/ppoll/epoll_pwait are swapped in only for the duration of the call,
 * so a pending signal is delivered inside the call and the call returns EINTR;
 * readiness is a function of other descriptors' state.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define CHECK(c)                                                               \
    do {                                                                       \
        if (!(c)) {                                                            \
            fprintf(stderr, "FAIL: %s:%d: %s (errno=%d %s)\n", __FILE__,       \
                    __LINE__, #c, errno, strerror(errno));                     \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

#ifndef SYS_epoll_pwait2
#define SYS_epoll_pwait2 441
#endif

#define NBITS 2048
#define NWORDS (NBITS / 64)
#define SENT 0x5A5A5A5A5A5A5A5AULL

static volatile sig_atomic_t usr1_count;
static void on_usr1(int sig)
{
    (void)sig;
    usr1_count++;
}

static void bset(uint64_t *s, int fd) { s[fd / 64] |= 1ULL << (fd % 64); }
static int bisset(const uint64_t *s, int fd) { return (s[fd / 64] >> (fd % 64)) & 1; }
static int bcount(const uint64_t *s, int words)
{
    int n = 0;
    for (int i = 0; i < words; i++)
        n += __builtin_popcountll(s[i]);
    return n;
}

struct sigset_arg { /* 6th argument of pselect6 */
    const void *ss;
    size_t ss_len;
};

#define NPIPES 250

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGUSR1, &sa, NULL) == 0);
    sigset_t usr1, empty, old;
    sigemptyset(&usr1);
    sigaddset(&usr1, SIGUSR1);
    sigemptyset(&empty);
    CHECK(sigprocmask(SIG_BLOCK, &usr1, &old) == 0);

    /* 1. raise RLIMIT_NOFILE so that fds above 1024 are allowed */
    struct rlimit rl;
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    rlim_t want = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > 4096 ? 4096 : rl.rlim_max;
    if (rl.rlim_cur < want) {
        rl.rlim_cur = want;
        CHECK(setrlimit(RLIMIT_NOFILE, &rl) == 0);
    }
    CHECK(getrlimit(RLIMIT_NOFILE, &rl) == 0);
    int high = rl.rlim_cur >= NBITS;
    printf("RLIMIT_NOFILE soft>=2048: %d\n", high);

    int p[2], q[2], z[2]; /* p: one byte queued; q: full; z: empty */
    CHECK(pipe(p) == 0);
    CHECK(pipe(q) == 0);
    CHECK(pipe(z) == 0);
    int rd_hi = 1500, wr_hi = 1900, rd_empty = 1600, wr_full = 2000;
    if (high) {
        CHECK(dup2(p[0], rd_hi) == rd_hi);
        CHECK(dup2(p[1], wr_hi) == wr_hi);
        CHECK(dup2(z[0], rd_empty) == rd_empty);
        CHECK(dup2(q[1], wr_full) == wr_full);
    } else {
        printf("hard RLIMIT_NOFILE below 2048: using low fds\n");
        rd_hi = p[0];
        wr_hi = p[1];
        rd_empty = z[0];
        wr_full = q[1];
    }
    /* fill q so that wr_full is not writable */
    CHECK(fcntl(wr_full, F_SETFL, O_NONBLOCK) == 0);
    {
        char blk[4096];
        memset(blk, 'q', sizeof blk);
        while (write(wr_full, blk, sizeof blk) > 0)
            ;
        CHECK(errno == EAGAIN);
    }
    CHECK(write(wr_hi, "x", 1) == 1);

    /* 2. select() on 2048 bits with caller-sized sets, zero timeout */
    {
        uint64_t r[NWORDS + 4], w[NWORDS + 4], e[NWORDS + 4];
        for (int i = 0; i < NWORDS + 4; i++)
            r[i] = w[i] = e[i] = (i < NWORDS) ? 0 : SENT;
        bset(r, rd_hi);
        bset(r, rd_empty);
        bset(w, wr_hi);
        bset(w, wr_full);
        bset(e, rd_hi);
        struct timeval tv = {0, 0};
        long n = syscall(SYS_select, NBITS, r, w, e, &tv);
        printf("select 2048: ret=%ld rd_hi=%d rd_empty=%d wr_hi=%d wr_full=%d exc=%d tv=%ld.%06ld\n",
               n, bisset(r, rd_hi), bisset(r, rd_empty), bisset(w, wr_hi),
               bisset(w, wr_full), bcount(e, NWORDS), (long)tv.tv_sec, (long)tv.tv_usec);
        CHECK(n == 2);
        CHECK(bisset(r, rd_hi) && !bisset(r, rd_empty));
        CHECK(bisset(w, wr_hi) && !bisset(w, wr_full));
        CHECK(bcount(r, NWORDS) == 1 && bcount(w, NWORDS) == 1 && bcount(e, NWORDS) == 0);
        for (int i = NWORDS; i < NWORDS + 4; i++)
            CHECK(r[i] == SENT && w[i] == SENT && e[i] == SENT); /* beyond nfds: untouched */
        CHECK(tv.tv_sec == 0 && tv.tv_usec == 0);

        /* nfds not a multiple of 64: bits above nfds in the last word are cleared */
        int nfds = wr_hi + 1;
        for (int i = 0; i < NWORDS + 4; i++)
            r[i] = w[i] = (i < NWORDS) ? 0 : SENT;
        bset(r, rd_hi);
        bset(w, wr_hi);
        int above = nfds + 3; /* same word as wr_hi, beyond nfds */
        CHECK(above / 64 == wr_hi / 64);
        bset(w, above);
        tv.tv_sec = 0;
        tv.tv_usec = 0;
        n = syscall(SYS_select, nfds, r, w, NULL, &tv);
        int last_word = (nfds + 63) / 64;
        printf("select nfds=%d: ret=%ld above-nfds-bit=%d word-after=%s\n", nfds, n,
               bisset(w, above), w[last_word] == 0 ? "zero" : (w[last_word] == SENT ? "untouched" : "?"));
        CHECK(n == 2);
        CHECK(!bisset(w, above));
        CHECK(r[NWORDS] == SENT && w[NWORDS] == SENT);

        /* nothing ready, small timeout: returns 0, timeout written back as 0 */
        for (int i = 0; i < NWORDS; i++)
            r[i] = 0;
        bset(r, rd_empty);
        tv.tv_sec = 0;
        tv.tv_usec = 2000;
        n = syscall(SYS_select, NBITS, r, NULL, NULL, &tv);
        printf("select timeout: ret=%ld set=%d tv=%ld.%06ld\n", n, bcount(r, NWORDS),
               (long)tv.tv_sec, (long)tv.tv_usec);
        CHECK(n == 0 && bcount(r, NWORDS) == 0);
        CHECK(tv.tv_sec == 0 && tv.tv_usec == 0);
    }

    /* 3. pselect6 with a signal mask */
    {
        uint64_t r[NWORDS];
        memset(r, 0, sizeof r);
        bset(r, rd_hi);
        bset(r, rd_empty);
        struct timespec ts = {0, 0};
        struct sigset_arg sm = {&usr1, 8}; /* keep SIGUSR1 blocked */
        long n = syscall(SYS_pselect6, NBITS, r, NULL, NULL, &ts, &sm);
        printf("pselect6 zero timeout: ret=%ld rd_hi=%d rd_empty=%d\n", n, bisset(r, rd_hi),
               bisset(r, rd_empty));
        CHECK(n == 1 && bisset(r, rd_hi) && !bisset(r, rd_empty));

        /* pending SIGUSR1, unblocked only inside pselect6: EINTR, handler ran */
        CHECK(raise(SIGUSR1) == 0);
        CHECK(usr1_count == 0);
        memset(r, 0, sizeof r);
        bset(r, rd_empty);
        ts.tv_sec = 30;
        ts.tv_nsec = 0;
        sm.ss = &empty;
        errno = 0;
        n = syscall(SYS_pselect6, NBITS, r, NULL, NULL, &ts, &sm);
        int e = errno;
        sigset_t now;
        CHECK(sigprocmask(SIG_BLOCK, NULL, &now) == 0);
        printf("pselect6 with pending signal: ret=%ld errno=%s handler-runs=%d mask-restored=%d\n",
               n, e == EINTR ? "EINTR" : "other", (int)usr1_count, sigismember(&now, SIGUSR1));
        CHECK(n == -1 && e == EINTR);
        CHECK(usr1_count == 1);
        CHECK(sigismember(&now, SIGUSR1) == 1);
    }

    /* 4. poll on 500 descriptors (+ a negative fd) */
    int rd[NPIPES], wr[NPIPES];
    for (int i = 0; i < NPIPES; i++) {
        int pp[2];
        CHECK(pipe(pp) == 0);
        rd[i] = pp[0];
        wr[i] = pp[1];
        if (i % 3 == 0)
            CHECK(write(wr[i], "d", 1) == 1);
    }
    CHECK(close(wr[1]) == 0); /* pipe 1: reader sees POLLHUP, writer entry POLLNVAL */
    enum { NPFD = 2 * NPIPES + 1 };
    struct pollfd pf[NPFD];
    for (int i = 0; i < NPIPES; i++) {
        pf[2 * i] = (struct pollfd){rd[i], POLLIN, 0x7777};
        pf[2 * i + 1] = (struct pollfd){wr[i], POLLOUT, 0x7777};
    }
    pf[NPFD - 1] = (struct pollfd){-1, POLLIN, 0x7777};
    int expect = 84 + 1 + (NPIPES - 1) + 1;
    {
        int n = poll(pf, NPFD, 0);
        int nin = 0, nout = 0, nhup = 0, nnval = 0, bad = 0;
        for (int i = 0; i < NPIPES; i++) {
            short rv = pf[2 * i].revents, wv = pf[2 * i + 1].revents;
            if (i == 1) {
                bad += !(rv & POLLHUP) || (rv & POLLIN);
                bad += wv != POLLNVAL;
            } else {
                bad += (i % 3 == 0) != !!(rv & POLLIN);
                bad += wv != POLLOUT;
            }
            nin += !!(rv & POLLIN);
            nhup += !!(rv & POLLHUP);
            nout += !!(wv & POLLOUT);
            nnval += !!(wv & POLLNVAL);
        }
        printf("poll %d fds: ret=%d in=%d out=%d hup=%d nval=%d neg-fd-revents=%d bad=%d\n",
               NPFD, n, nin, nout, nhup, nnval, pf[NPFD - 1].revents, bad);
        CHECK(n == expect);
        CHECK(bad == 0);
        CHECK(pf[NPFD - 1].revents == 0);
    }

    /* 5. ppoll: zero timeout with a mask, then EINTR from a pending signal */
    {
        for (int i = 0; i < NPFD; i++)
            pf[i].revents = 0x7777;
        struct timespec ts = {0, 0};
        int n = ppoll(pf, NPFD, &ts, &usr1);
        int nin = 0;
        for (int i = 0; i < NPIPES; i++)
            nin += !!(pf[2 * i].revents & POLLIN);
        printf("ppoll zero timeout: ret=%d in=%d\n", n, nin);
        CHECK(n == expect && nin == 84);

        CHECK(raise(SIGUSR1) == 0);
        struct pollfd one = {rd[2], POLLIN, 0}; /* empty pipe */
        ts.tv_sec = 30;
        errno = 0;
        n = ppoll(&one, 1, &ts, &empty);
        int e = errno;
        printf("ppoll with pending signal: ret=%d errno=%s handler-runs=%d\n", n,
               e == EINTR ? "EINTR" : "other", (int)usr1_count);
        CHECK(n == -1 && e == EINTR && usr1_count == 2);
    }

    /* 6. epoll with many ready descriptors */
    {
        int ep = epoll_create1(EPOLL_CLOEXEC);
        int et = epoll_create1(0);
        CHECK(ep >= 0 && et >= 0);
        for (int i = 0; i < NPIPES; i++) {
            struct epoll_event ev = {.events = EPOLLIN, .data.u64 = 0xAB00000000ULL | i};
            CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, rd[i], &ev) == 0);
            ev.events = EPOLLIN | EPOLLET;
            CHECK(epoll_ctl(et, EPOLL_CTL_ADD, rd[i], &ev) == 0);
        }
        struct epoll_event hi = {.events = EPOLLIN, .data.u64 = 0xAB00000000ULL | 999};
        CHECK(epoll_ctl(ep, EPOLL_CTL_ADD, rd_hi, &hi) == 0);
        int ready = 84 + 1 + 1; /* data, HUP, the high fd */

        struct epoll_event evs[512];
        memset(evs, 0xCC, sizeof evs);
        int n = epoll_wait(ep, evs, 512, 0);
        char seen[1000] = {0};
        int dup = 0, badtag = 0, hups = 0;
        for (int i = 0; i < n; i++) {
            uint64_t d = evs[i].data.u64;
            badtag += (d >> 32) != 0xAB;
            int idx = (int)(d & 0xffffffff);
            if (idx < 0 || idx >= 1000) {
                badtag++;
                continue;
            }
            dup += seen[idx]++;
            hups += !!(evs[i].events & EPOLLHUP);
        }
        int missing = 0;
        for (int i = 0; i < NPIPES; i++)
            missing += (i % 3 == 0 || i == 1) && !seen[i];
        missing += !seen[999];
        /* the entry after the last one returned is untouched */
        unsigned char *after = (unsigned char *)&evs[n];
        printf("epoll_wait LT: ret=%d first=%d,%d,%d hups=%d dup=%d missing=%d next-untouched=%d\n",
               n, (int)(evs[0].data.u64 & 0xffff), (int)(evs[1].data.u64 & 0xffff),
               (int)(evs[2].data.u64 & 0xffff), hups, dup, missing, after[0] == 0xCC);
        CHECK(n == ready && dup == 0 && badtag == 0 && missing == 0 && hups == 1);
        CHECK(after[0] == 0xCC);

        n = epoll_wait(ep, evs, 10, 0);
        printf("epoll_wait maxevents=10: ret=%d\n", n);
        CHECK(n == 10);
        n = epoll_wait(ep, evs, 512, 0); /* level-triggered: all still ready */
        CHECK(n == ready);

        n = epoll_pwait(ep, evs, 512, 0, &usr1);
        printf("epoll_pwait zero timeout: ret=%d\n", n);
        CHECK(n == ready);

        struct timespec ts0 = {0, 0};
        errno = 0;
        long n2 = syscall(SYS_epoll_pwait2, ep, evs, 512, &ts0, NULL, 8);
        printf("epoll_pwait2 zero timeout: %s\n",
               n2 == ready ? "ok" : (n2 == -1 && errno == ENOSYS ? "ENOSYS" : "bad"));
        CHECK(n2 == ready || (n2 == -1 && errno == ENOSYS));

        /* edge-triggered: reported once, then nothing until new data */
        n = epoll_wait(et, evs, 512, 0);
        int n3 = epoll_wait(et, evs, 512, 0);
        CHECK(write(wr[4], "e", 1) == 1); /* pipe 4 had no data: new edge */
        int n4 = epoll_wait(et, evs, 512, 0);
        printf("epoll ET: first=%d second=%d after-write=%d idx=%d\n", n, n3, n4,
               n4 > 0 ? (int)(evs[0].data.u64 & 0xffff) : -1);
        CHECK(n == 85 && n3 == 0 && n4 == 1 && (evs[0].data.u64 & 0xffff) == 4);

        /* EINTR from a pending signal unblocked by epoll_pwait's mask */
        CHECK(raise(SIGUSR1) == 0);
        int e2 = epoll_create1(0);
        CHECK(e2 >= 0);
        struct epoll_event ev1 = {.events = EPOLLIN, .data.u64 = 7};
        CHECK(epoll_ctl(e2, EPOLL_CTL_ADD, rd_empty, &ev1) == 0);
        errno = 0;
        n = epoll_pwait(e2, evs, 4, 30000, &empty);
        int e = errno;
        printf("epoll_pwait with pending signal: ret=%d errno=%s handler-runs=%d\n", n,
               e == EINTR ? "EINTR" : "other", (int)usr1_count);
        CHECK(n == -1 && e == EINTR && usr1_count == 3);
        close(e2);
        close(ep);
        close(et);
    }

    for (int i = 0; i < NPIPES; i++) {
        close(rd[i]);
        if (i != 1)
            close(wr[i]);
    }
    if (high) {
        close(rd_hi);
        close(wr_hi);
        close(rd_empty);
        close(wr_full);
    }
    close(p[0]);
    close(p[1]);
    close(q[0]);
    close(q[1]);
    close(z[0]);
    close(z[1]);
    CHECK(sigprocmask(SIG_SETMASK, &old, NULL) == 0);
    printf("select_poll: OK\n");
    return 0;
}
