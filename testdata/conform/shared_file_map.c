/*
 * shared_file_map.c - conformance test: MAP_SHARED file mappings and their
 * coherence with read()/write(), across mappings and across processes.
 *
 * Kernel API family: mmap(MAP_SHARED) of a regular file twice in one process
 * (aliases), MAP_SHARED inherited by a forked child that writes through it,
 * pwrite() seen through an existing mapping and mapping stores seen by pread(),
 * ftruncate growing (and shrinking) a file under an existing longer mapping
 * (SIGBUS beyond EOF, zero-filled new pages), msync (MS_SYNC, MS_ASYNC,
 * MS_INVALIDATE, EINVAL, ENOMEM), MAP_PRIVATE of the same file seeing write()s
 * until its first store to a page (copy-on-write), and a POSIX shm_open object
 * (/dev/shm) mapped by parent and child and used to exchange values.
 *
 * Why it is hard for a record/replay tool: memory changes here without any
 * system call in the reading task: a store through one mapping changes the
 * bytes of another mapping, of the file (later read() results) and of other
 * processes' mappings; a write() changes bytes in mappings, including in a
 * MAP_PRIVATE mapping that has not been written yet; ftruncate changes which
 * pages exist (SIGBUS vs zero page); the tool has to reproduce the file and
 * shm object contents at the time of every mapping and every access, not only
 * at mmap time, and the order in which two processes touch shared pages.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <setjmp.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define CHECK(c)                                                               \
    do {                                                                       \
        if (!(c)) {                                                            \
            fprintf(stderr, "FAIL: %s:%d: %s (errno=%d %s)\n", __FILE__,       \
                    __LINE__, #c, errno, strerror(errno));                     \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

/* in a child: report and exit non-zero */
#define CCHECK(c)                                                              \
    do {                                                                       \
        if (!(c)) {                                                            \
            fprintf(stderr, "FAIL(child): %s:%d: %s (errno=%d)\n", __FILE__,   \
                    __LINE__, #c, errno);                                      \
            _exit(1);                                                          \
        }                                                                      \
    } while (0)

static long page;
static char dir[PATH_MAX - 64];
static int own_dir;

static sigjmp_buf bus_env;
static volatile sig_atomic_t bus_hits;
static void on_bus(int sig)
{
    (void)sig;
    bus_hits++;
    siglongjmp(bus_env, 1);
}

/* 1 if reading *p raises SIGBUS */
static int faults(volatile char *p)
{
    if (sigsetjmp(bus_env, 1) == 0) {
        char v = *p;
        (void)v;
        return 0;
    }
    return 1;
}

static void wait_ok(pid_t c)
{
    int st;
    CHECK(waitpid(c, &st, 0) == c);
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    page = sysconf(_SC_PAGESIZE);
    if (argc > 1) {
        snprintf(dir, sizeof dir, "%s", argv[1]);
    } else {
        snprintf(dir, sizeof dir, "/tmp/shared_file_map.XXXXXX");
        CHECK(mkdtemp(dir) != NULL);
        own_dir = 1;
    }
    char path[PATH_MAX];
    snprintf(path, sizeof path, "%s/shared.dat", dir);

    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_bus;
    sigemptyset(&sa.sa_mask);
    CHECK(sigaction(SIGBUS, &sa, NULL) == 0);

    int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    char *init = malloc(2 * page);
    CHECK(init != NULL);
    for (long i = 0; i < 2 * page; i++)
        init[i] = (char)('A' + i % 26);
    CHECK(write(fd, init, 2 * page) == 2 * page);

    /* 1. the same file mapped MAP_SHARED twice */
    volatile char *A = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    volatile char *B = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(A != MAP_FAILED && B != MAP_FAILED && A != B);
    CHECK(memcmp((const void *)A, init, 2 * page) == 0);
    A[10] = '1';
    B[page + 20] = '2';
    printf("two mappings: B[10]=%c A[page+20]=%c\n", B[10], A[page + 20]);
    CHECK(B[10] == '1' && A[page + 20] == '2');

    /* 2. write() to the file, read through the existing mappings */
    CHECK(pwrite(fd, "written", 7, 100) == 7);
    printf("pwrite seen via A: %.7s via B: %.7s\n", (const char *)A + 100, (const char *)B + 100);
    CHECK(memcmp((const void *)A + 100, "written", 7) == 0);
    CHECK(memcmp((const void *)B + 100, "written", 7) == 0);
    /* and a store through the mapping is seen by read() */
    memcpy((void *)(A + 200), "stored", 6);
    char buf[16] = {0};
    CHECK(pread(fd, buf, 6, 200) == 6);
    printf("store seen via pread: %s\n", buf);
    CHECK(memcmp(buf, "stored", 6) == 0);

    /* 3. MAP_PRIVATE mapping of the same file: sees write()s until it stores */
    volatile char *P = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
    CHECK(P != MAP_FAILED);
    CHECK(pwrite(fd, "before-touch", 12, 300) == 12);
    printf("private before first touch: %.12s\n", (const char *)P + 300);
    CHECK(memcmp((const void *)P + 300, "before-touch", 12) == 0);
    CHECK(pwrite(fd, "after-read!!", 12, 300) == 12); /* reading did not copy */
    CHECK(memcmp((const void *)P + 300, "after-read!!", 12) == 0);
    A[400] = 'S'; /* a store through a shared mapping is seen too */
    CHECK(P[400] == 'S');
    P[0] = 'p'; /* copy-on-write of page 0 only */
    CHECK(pwrite(fd, "after-cow", 9, 300) == 9);
    CHECK(pwrite(fd, "page-one", 8, page + 300) == 8);
    printf("private after COW: page0=%.12s page1=%.8s P[0]=%c file[0]=%c\n",
           (const char *)P + 300, (const char *)P + page + 300, P[0], A[0]);
    CHECK(memcmp((const void *)P + 300, "after-read!!", 12) == 0);
    CHECK(memcmp((const void *)P + page + 300, "page-one", 8) == 0);
    CHECK(P[0] == 'p' && A[0] == 'A');

    /* 4. forked child writes through the inherited shared mapping */
    fflush(stdout);
    pid_t c = fork();
    CHECK(c >= 0);
    if (c == 0) {
        pid_t me = getpid();
        memcpy((void *)(A + 512), &me, sizeof me);
        memcpy((void *)(B + page + 512), "child-B", 7);
        CCHECK(pwrite(fd, "child-pwrite", 12, 600) == 12);
        /* a fresh mapping made in the child */
        volatile char *C = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, page);
        CCHECK(C != MAP_FAILED);
        CCHECK(memcmp((const void *)C + 512, "child-B", 7) == 0);
        memcpy((void *)(C + 700), "child-C", 7);
        /* the child's private copy of P stays private */
        P[1] = 'q';
        _exit(0);
    }
    wait_ok(c);
    pid_t seen;
    memcpy(&seen, (const void *)(B + 512), sizeof seen);
    printf("child writes: pid=%d is-child=%d B=%.7s pwrite=%.12s C=%.7s P[1]=%c\n", (int)seen,
           seen == c, (const char *)A + page + 512, (const char *)B + 600,
           (const char *)A + page + 700, P[1]);
    CHECK(seen == c);
    CHECK(memcmp((const void *)A + page + 512, "child-B", 7) == 0);
    CHECK(memcmp((const void *)B + 600, "child-pwrite", 12) == 0);
    CHECK(memcmp((const void *)B + page + 700, "child-C", 7) == 0);
    CHECK(P[1] == 'B');

    /* 5. msync */
    CHECK(msync((void *)A, 2 * page, MS_SYNC) == 0);
    CHECK(msync((void *)B, page, MS_ASYNC) == 0);
    CHECK(msync((void *)A, 2 * page, MS_INVALIDATE) == 0);
    errno = 0;
    int r1 = msync((void *)(A + 1), page, MS_SYNC);
    int e1 = errno;
    errno = 0;
    int r2 = msync((void *)(A + 2 * page), 1000 * page, MS_SYNC); /* runs past mappings */
    int e2 = errno;
    printf("msync: unaligned=%s unmapped=%s\n", r1 == -1 && e1 == EINVAL ? "EINVAL" : "?",
           r2 == -1 && e2 == ENOMEM ? "ENOMEM" : (r2 == 0 ? "0" : "?"));
    CHECK(r1 == -1 && e1 == EINVAL);
    CHECK((r2 == -1 && e2 == ENOMEM) || r2 == 0); /* 0 only if neighbours happen to be mapped */
    CHECK(pread(fd, buf, 7, page + 700) == 7 && memcmp(buf, "child-C", 7) == 0);

    /* 6. ftruncate to grow the file under an existing, longer mapping */
    volatile char *L = mmap(NULL, 4 * page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    CHECK(L != MAP_FAILED);
    int f_before = faults(L + 3 * page);
    CHECK(ftruncate(fd, 4 * page) == 0);
    int f_after = faults(L + 3 * page);
    int zero = L[2 * page] == 0 && L[4 * page - 1] == 0;
    memcpy((void *)(L + 2 * page + 5), "grown", 5);
    memcpy((void *)(L + 3 * page + 5), "grown3", 6);
    CHECK(pread(fd, buf, 6, 3 * page + 5) == 6);
    printf("ftruncate grow: sigbus-before=%d sigbus-after=%d new-pages-zero=%d pread=%.6s\n",
           f_before, f_after, zero, buf);
    CHECK(f_before == 1 && f_after == 0 && zero);
    CHECK(memcmp(buf, "grown3", 6) == 0);
    /* shrink again: the last page disappears (SIGBUS), data below stays */
    CHECK(ftruncate(fd, 3 * page) == 0);
    int f_shrunk = faults(L + 3 * page + 5);
    printf("ftruncate shrink: sigbus=%d page2=%.5s\n", f_shrunk, (const char *)L + 2 * page + 5);
    CHECK(f_shrunk == 1);
    CHECK(memcmp((const void *)L + 2 * page + 5, "grown", 5) == 0);
    CHECK(bus_hits == 2);
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && st.st_size == 3 * page);

    /* 7. a POSIX shared memory object shared by parent and child */
    {
        char name[64];
        snprintf(name, sizeof name, "/conform_sfm.%d", (int)getpid());
        int sfd = shm_open(name, O_RDWR | O_CREAT | O_EXCL, 0600);
        CHECK(sfd >= 0);
        CHECK(ftruncate(sfd, page) == 0);
        volatile int32_t *S = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, sfd, 0);
        CHECK(S != MAP_FAILED);
        int to_child[2], to_parent[2];
        CHECK(pipe(to_child) == 0 && pipe(to_parent) == 0);
        fflush(stdout);
        pid_t k = fork();
        CHECK(k >= 0);
        if (k == 0) {
            /* map it again by name: the same object */
            int f2 = shm_open(name, O_RDWR, 0);
            CCHECK(f2 >= 0);
            volatile int32_t *S2 = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_SHARED, f2, 0);
            CCHECK(S2 != MAP_FAILED);
            S2[100] = (int32_t)getpid();
            for (int i = 0; i < 10; i++) {
                char t;
                CCHECK(read(to_child[0], &t, 1) == 1);
                CCHECK(S[0] == i);
                S2[1] = S[0] * 3 + 1;
                CCHECK(write(to_parent[1], "r", 1) == 1);
            }
            _exit(0);
        }
        long acc = 0;
        for (int i = 0; i < 10; i++) {
            S[0] = i;
            CHECK(write(to_child[1], "g", 1) == 1);
            char t;
            CHECK(read(to_parent[0], &t, 1) == 1);
            CHECK(S[1] == i * 3 + 1);
            acc = acc * 7 + S[1];
        }
        wait_ok(k);
        printf("shm_open ping-pong: acc=%ld child-pid=%d is-child=%d\n", acc, (int)S[100],
               S[100] == (int32_t)k);
        CHECK(S[100] == (int32_t)k);
        CHECK(shm_unlink(name) == 0);
        errno = 0;
        CHECK(shm_open(name, O_RDWR, 0) == -1 && errno == ENOENT);
        munmap((void *)S, page);
        close(sfd);
        close(to_child[0]);
        close(to_child[1]);
        close(to_parent[0]);
        close(to_parent[1]);
    }

    munmap((void *)A, 2 * page);
    munmap((void *)B, 2 * page);
    munmap((void *)P, 2 * page);
    munmap((void *)L, 4 * page);
    close(fd);
    free(init);
    CHECK(unlink(path) == 0);
    if (own_dir)
        CHECK(rmdir(dir) == 0);
    printf("shared_file_map: OK\n");
    return 0;
}
