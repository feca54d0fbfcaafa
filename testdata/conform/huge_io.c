/*
 * huge_io.c - conformance test: very large reads/writes and very large (mostly
 * untouched) mappings.
 *
 * Kernel API family: read()/write() of 64 MiB in one call, 1 GiB
 * MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE mappings touched sparsely, a 1 GiB
 * MAP_PRIVATE mapping of /dev/zero, a MAP_SHARED mapping of /dev/zero (a
 * character device; becomes shared anonymous memory, written by a forked
 * child), a small window mapped from a big file, a mapping longer than its file
 * (zero tail of the last page, SIGBUS beyond it), readv/writev with IOV_MAX
 * iovecs of assorted sizes, readv into untouched pages of the sparse mapping,
 * a short readv (EOF) that must leave the rest of the iovecs untouched, and
 * iovcnt > IOV_MAX (EINVAL).
 *
 * Why it is hard for a record/replay tool: a single read() makes the kernel
 * write 64 MiB of user memory that must be recorded (or re-read) exactly; a
 * tool that snapshots or scans whole mappings must not try to copy 1 GiB
 * mappings of which only a few pages exist (MAP_NORESERVE, /dev/zero); the
 * shared /dev/zero mapping is written by another process; file mappings
 * depend on file contents that the tool has to reproduce; the scatter list of
 * a readv decides which of 1024 buffers the kernel wrote and how much, and a
 * short readv writes only a prefix of it; SIGBUS past EOF is synchronous.
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
#include <sys/uio.h>
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

#define MB (1024UL * 1024UL)
#define GB (1024UL * MB)
#define BIG (64 * MB)

static long page;
static char dir[PATH_MAX];
static int own_dir;

/* pattern: 64-bit words derived from their index (cheap, position dependent) */
static inline uint64_t pat(uint64_t i, uint64_t seed)
{
    uint64_t x = (i + 1) * 0x9E3779B97F4A7C15ULL ^ seed;
    x ^= x >> 29;
    return x;
}

static uint64_t fnv(const void *p, size_t n)
{
    const unsigned char *c = p;
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ c[i]) * 1099511628211ULL;
    return h;
}

static uint64_t sum64(const void *p, size_t n)
{
    const uint64_t *w = p;
    uint64_t s = 0;
    for (size_t i = 0; i < n / 8; i++)
        s += w[i] * (i | 1);
    return s;
}

static sigjmp_buf bus_env;
static volatile sig_atomic_t bus_sig;
static void on_bus(int sig)
{
    bus_sig = sig;
    siglongjmp(bus_env, 1);
}

static void path_of(char *out, const char *name)
{
    snprintf(out, PATH_MAX, "%s/%s", dir, name);
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    page = sysconf(_SC_PAGESIZE);
    if (argc > 1) {
        snprintf(dir, sizeof dir, "%s", argv[1]);
    } else {
        snprintf(dir, sizeof dir, "/tmp/huge_io.XXXXXX");
        CHECK(mkdtemp(dir) != NULL);
        own_dir = 1;
    }
    char bigpath[PATH_MAX], smallpath[PATH_MAX], vpath[PATH_MAX];
    path_of(bigpath, "big.dat");
    path_of(smallpath, "small.dat");
    path_of(vpath, "vec.dat");

    /* 1. write() of 64 MiB from one buffer */
    uint64_t *wbuf = mmap(NULL, BIG, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(wbuf != MAP_FAILED);
    for (size_t i = 0; i < BIG / 8; i++)
        wbuf[i] = pat(i, 0x1234);
    uint64_t wsum = sum64(wbuf, BIG);
    int fd = open(bigpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
    CHECK(fd >= 0);
    ssize_t n = write(fd, wbuf, BIG);
    printf("write 64MiB: ret=%zd\n", n);
    CHECK(n == (ssize_t)BIG);
    struct stat st;
    CHECK(fstat(fd, &st) == 0 && st.st_size == (off_t)BIG);

    /* 2. read() of 64 MiB into one (fresh, untouched) buffer */
    uint64_t *rbuf = mmap(NULL, BIG, PROT_READ | PROT_WRITE,
                          MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(rbuf != MAP_FAILED);
    CHECK(lseek(fd, 0, SEEK_SET) == 0);
    n = read(fd, rbuf, BIG);
    printf("read 64MiB: ret=%zd\n", n);
    CHECK(n == (ssize_t)BIG);
    uint64_t rsum = sum64(rbuf, BIG);
    printf("64MiB checksum: %016llx match=%d\n", (unsigned long long)rsum, rsum == wsum);
    CHECK(rsum == wsum);
    CHECK(memcmp(rbuf, wbuf, BIG) == 0);
    /* the next read is at EOF */
    CHECK(read(fd, rbuf, 16) == 0);
    munmap(rbuf, BIG);

    /* 3. 1 GiB MAP_PRIVATE|MAP_ANONYMOUS|MAP_NORESERVE, touched sparsely */
    {
        unsigned char *m = mmap(NULL, GB, PROT_READ | PROT_WRITE,
                                MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        CHECK(m != MAP_FAILED);
        size_t offs[] = {0, 4096 + 17, 256 * MB, 512 * MB + 4097, GB - 1};
        uint64_t h = 0;
        for (size_t k = 0; k < sizeof offs / sizeof offs[0]; k++) {
            CHECK(m[offs[k]] == 0);
            m[offs[k]] = (unsigned char)(0xA0 + k);
        }
        for (size_t k = 0; k < sizeof offs / sizeof offs[0]; k++) {
            CHECK(m[offs[k]] == (unsigned char)(0xA0 + k));
            h = h * 31 + m[offs[k]];
        }
        /* count resident pages: only the touched ones */
        size_t np = GB / page;
        unsigned char *vec = malloc(np);
        CHECK(vec != NULL);
        CHECK(mincore(m, GB, vec) == 0);
        size_t res = 0;
        for (size_t i = 0; i < np; i++)
            res += vec[i] & 1;
        free(vec);
        printf("noreserve 1GiB: sparse-hash=%llx resident-pages=%zu\n",
               (unsigned long long)h, res);
        CHECK(res >= 4 && res <= 8 * 512); /* 512: a THP may back a touched page */

        /* 4. readv into untouched pages of that mapping */
        CHECK(lseek(fd, 8 * MB, SEEK_SET) == 8 * (off_t)MB);
        struct iovec iv[3] = {
            {m + 700 * MB, 100},
            {m + 900 * MB - 50, 100}, /* straddles a page boundary */
            {m + 1000 * MB, 3 * page},
        };
        ssize_t want = 100 + 100 + 3 * page;
        n = readv(fd, iv, 3);
        printf("readv into sparse pages: ret=%zd\n", n);
        CHECK(n == want);
        const unsigned char *src = (const unsigned char *)wbuf + 8 * MB;
        CHECK(memcmp(m + 700 * MB, src, 100) == 0);
        CHECK(memcmp(m + 900 * MB - 50, src + 100, 100) == 0);
        CHECK(memcmp(m + 1000 * MB, src + 200, 3 * page) == 0);
        CHECK(m[700 * MB + 100] == 0 && m[900 * MB + 50] == 0);
        printf("readv sparse hash: %llx\n",
               (unsigned long long)(fnv(m + 700 * MB, 100) ^ fnv(m + 1000 * MB, 3 * page)));
        CHECK(munmap(m, GB) == 0);
    }

    /* 5. MAP_PRIVATE mapping of /dev/zero, 1 GiB, sparse touch */
    {
        int zfd = open("/dev/zero", O_RDWR);
        CHECK(zfd >= 0);
        unsigned char *z = mmap(NULL, GB, PROT_READ | PROT_WRITE, MAP_PRIVATE, zfd, 0);
        CHECK(z != MAP_FAILED);
        size_t offs[] = {123, 300 * MB + 5, GB - page, GB - 2};
        for (size_t k = 0; k < 4; k++) {
            CHECK(z[offs[k]] == 0);
            z[offs[k]] = (unsigned char)(k + 1);
        }
        unsigned s = 0;
        for (size_t k = 0; k < 4; k++)
            s = s * 7 + z[offs[k]];
        printf("/dev/zero private 1GiB: sparse sum=%u\n", s);
        CHECK(s == ((1 * 7 + 2) * 7 + 3) * 7 + 4);
        CHECK(munmap(z, GB) == 0);

        /* 6. MAP_SHARED mapping of the /dev/zero character device, shared with a child */
        size_t zsz = 16 * MB;
        volatile uint32_t *sh = mmap(NULL, zsz, PROT_READ | PROT_WRITE, MAP_SHARED, zfd, 0);
        CHECK(sh != MAP_FAILED);
        close(zfd);
        CHECK(sh[0] == 0 && sh[zsz / 4 - 1] == 0);
        sh[1] = 77;
        fflush(stdout);
        pid_t c = fork();
        CHECK(c >= 0);
        if (c == 0) {
            if (sh[1] != 77)
                _exit(2);
            sh[0] = (uint32_t)getpid();
            sh[zsz / 8] = 0xC0FFEE;
            sh[zsz / 4 - 1] = 0xFEED;
            _exit(0);
        }
        int status;
        CHECK(waitpid(c, &status, 0) == c);
        CHECK(WIFEXITED(status) && WEXITSTATUS(status) == 0);
        printf("/dev/zero shared: child pid=%u child-is-%d mid=%x end=%x\n", sh[0],
               sh[0] == (uint32_t)c, sh[zsz / 8], sh[zsz / 4 - 1]);
        CHECK(sh[0] == (uint32_t)c);
        CHECK(sh[zsz / 8] == 0xC0FFEE && sh[zsz / 4 - 1] == 0xFEED);
        CHECK(munmap((void *)sh, zsz) == 0);
    }

    /* 7. a small window of the big file (mapping much less than the file) */
    {
        off_t off = 48 * MB + 3 * page;
        unsigned char *w = mmap(NULL, 2 * page, PROT_READ, MAP_SHARED, fd, off);
        CHECK(w != MAP_FAILED);
        CHECK(memcmp(w, (unsigned char *)wbuf + off, 2 * page) == 0);
        printf("window at 48MiB: hash=%llx\n", (unsigned long long)fnv(w, 2 * page));
        CHECK(munmap(w, 2 * page) == 0);
    }

    /* 8. a mapping longer than its file: zero tail, SIGBUS beyond EOF */
    {
        int sfd = open(smallpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
        CHECK(sfd >= 0);
        char text[5000];
        for (size_t i = 0; i < sizeof text; i++)
            text[i] = (char)('a' + i % 23);
        CHECK(write(sfd, text, sizeof text) == (ssize_t)sizeof text);
        size_t len = 16 * page;
        volatile unsigned char *s = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, sfd, 0);
        CHECK(s != MAP_FAILED);
        CHECK(memcmp((const void *)s, text, sizeof text) == 0);
        int tail_zero = 1;
        for (size_t i = sizeof text; i < 2 * (size_t)page; i++)
            tail_zero &= s[i] == 0;
        CHECK(tail_zero);
        struct sigaction sa, old;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_bus;
        sigemptyset(&sa.sa_mask);
        CHECK(sigaction(SIGBUS, &sa, &old) == 0);
        bus_sig = 0;
        if (sigsetjmp(bus_env, 1) == 0) {
            unsigned char v = s[5 * page];
            (void)v;
            CHECK(!"read beyond EOF did not fault");
        }
        CHECK(sigaction(SIGBUS, &old, NULL) == 0);
        printf("mapping past EOF: tail-zero=%d beyond-EOF=%s\n", tail_zero,
               bus_sig == SIGBUS ? "SIGBUS" : "?");
        CHECK(bus_sig == SIGBUS);
        CHECK(munmap((void *)s, len) == 0);
        close(sfd);
        CHECK(unlink(smallpath) == 0);
    }

    /* 9. writev / readv with IOV_MAX iovecs of assorted sizes */
    {
        int vfd = open(vpath, O_RDWR | O_CREAT | O_TRUNC, 0600);
        CHECK(vfd >= 0);
        enum { NV = IOV_MAX };
        static struct iovec wv[NV], rv[NV + 1];
        size_t total = 0;
        const unsigned char *src = (const unsigned char *)wbuf;
        for (int i = 0; i < NV; i++) {
            size_t len = (i * 37) % 301; /* includes zero-length iovecs */
            wv[i].iov_base = (void *)(src + total * 3 + i);
            wv[i].iov_len = len;
            total += len;
        }
        n = writev(vfd, wv, NV);
        printf("writev %d iovecs: ret=%zd (want %zu)\n", NV, n, total);
        CHECK(n == (ssize_t)total);
        /* the file now holds the concatenation of the write iovecs */
        unsigned char *flat = malloc(total);
        CHECK(flat != NULL);
        size_t at = 0;
        for (int i = 0; i < NV; i++) {
            memcpy(flat + at, wv[i].iov_base, wv[i].iov_len);
            at += wv[i].iov_len;
        }
        /* read it back scattered differently, into one sentinel-filled arena */
        size_t arena_sz = total * 2 + NV * 8;
        unsigned char *arena = malloc(arena_sz);
        CHECK(arena != NULL);
        memset(arena, 0xEE, arena_sz);
        size_t pos = 0, rtotal = 0;
        for (int i = 0; i < NV; i++) {
            size_t len = ((NV - i) * 53) % 401;
            rv[i].iov_base = arena + pos;
            rv[i].iov_len = len;
            pos += len + 5; /* 5-byte gaps must stay untouched */
            rtotal += len;
        }
        CHECK(rtotal >= total); /* file is shorter: short readv */
        CHECK(lseek(vfd, 0, SEEK_SET) == 0);
        n = readv(vfd, rv, NV);
        printf("readv %d iovecs: ret=%zd (asked %zu)\n", NV, n, rtotal);
        CHECK(n == (ssize_t)total);
        size_t got = 0;
        int gaps_ok = 1, tail_ok = 1;
        for (int i = 0; i < NV; i++) {
            unsigned char *b = rv[i].iov_base;
            size_t len = rv[i].iov_len;
            size_t use = got >= total ? 0 : (total - got < len ? total - got : len);
            CHECK(memcmp(b, flat + got, use) == 0);
            for (size_t k = use; k < len; k++)
                tail_ok &= b[k] == 0xEE; /* beyond EOF: untouched */
            for (int k = 0; k < 5; k++)
                gaps_ok &= b[len + k] == 0xEE;
            got += use;
        }
        printf("readv scatter: data-ok=1 gaps-untouched=%d past-eof-untouched=%d hash=%llx\n",
               gaps_ok, tail_ok, (unsigned long long)fnv(flat, total));
        CHECK(gaps_ok && tail_ok && got == total);

        /* iovcnt > IOV_MAX */
        errno = 0;
        n = readv(vfd, rv, NV + 1);
        printf("readv IOV_MAX+1: ret=%zd errno=%s\n", n, errno == EINVAL ? "EINVAL" : "other");
        CHECK(n == -1 && errno == EINVAL);
        /* preadv at an offset near the end: only a prefix is filled */
        memset(arena, 0xEE, arena_sz);
        n = preadv(vfd, rv, 4, (off_t)total - 10);
        printf("preadv near EOF: ret=%zd\n", n);
        CHECK(n == 10);
        free(flat);
        free(arena);
        close(vfd);
        CHECK(unlink(vpath) == 0);
    }

    close(fd);
    CHECK(unlink(bigpath) == 0);
    munmap(wbuf, BIG);
    if (own_dir)
        CHECK(rmdir(dir) == 0);
    printf("huge_io: OK\n");
    return 0;
}
