/*
 * mremap.c - conformance test: mremap in all its forms.
 *
 * Kernel API family: mremap(2): growing in place, growing with MREMAP_MAYMOVE
 * when a neighbouring mapping blocks in-place growth (ENOMEM without it),
 * shrinking, MREMAP_FIXED to a chosen address inside a reservation (and its
 * EINVAL cases), MREMAP_DONTUNMAP (pages move, the old range stays mapped and
 * reads zero), mremap of a range that two adjacent mmaps formed after the
 * kernel merged them into one VMA, mremap of MAP_SHARED and MAP_PRIVATE file
 * mappings (file contents appear in the grown part, a copied-on-write page
 * keeps its private data after moving), and old_size == 0 on a shared
 * anonymous mapping (a second alias of the same pages).
 *
 * Why it is hard for a record/replay tool: mremap moves page contents without
 * any data passing through the system call, so the tool's picture of the
 * address space (which ranges exist, which file and offset back them, which
 * pages are private copies) must follow the move exactly; the address the
 * kernel picks for a moving mremap must be reproduced at replay; the new part
 * of a grown file mapping shows file contents never read by a syscall;
 * DONTUNMAP leaves an empty mapping behind; a zero-size mremap makes two
 * virtual ranges alias the same memory.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define CHECK(c)                                                               \
    do {                                                                       \
        if (!(c)) {                                                            \
            fprintf(stderr, "FAIL: %s:%d: %s (errno=%d %s)\n", __FILE__,       \
                    __LINE__, #c, errno, strerror(errno));                     \
            exit(1);                                                           \
        }                                                                      \
    } while (0)

#ifndef MREMAP_DONTUNMAP
#define MREMAP_DONTUNMAP 4
#endif

static long page;

static void fill(char *p, long pages, int tag)
{
    for (long i = 0; i < pages; i++)
        memset(p + i * page, tag + (int)i, page);
}

/* every page i of p holds tag+i */
static int check_fill(const char *p, long pages, int tag)
{
    for (long i = 0; i < pages; i++)
        for (long k = 0; k < page; k += 511)
            if (p[i * page + k] != (char)(tag + i))
                return 0;
    return 1;
}

static int all_zero(const char *p, long len)
{
    for (long i = 0; i < len; i++)
        if (p[i])
            return 0;
    return 1;
}

/* 1 if [p, p+len) is entirely mapped */
static int mapped(void *p, long len)
{
    unsigned char vec[64];
    CHECK(len / page <= 64);
    return mincore(p, len, vec) == 0;
}

/* number of /proc/self/maps lines that intersect [lo, hi) and whether one covers it */
static int maps_lines(uintptr_t lo, uintptr_t hi, int *one_covers)
{
    FILE *f = fopen("/proc/self/maps", "r");
    CHECK(f != NULL);
    char line[512];
    int n = 0;
    *one_covers = 0;
    while (fgets(line, sizeof line, f)) {
        uintptr_t a, b;
        if (sscanf(line, "%lx-%lx", &a, &b) != 2)
            continue;
        if (a < hi && b > lo)
            n++;
        if (a <= lo && b >= hi)
            *one_covers = 1;
    }
    fclose(f);
    return n;
}

static void *reserve(long pages)
{
    void *p = mmap(NULL, pages * page, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    CHECK(p != MAP_FAILED);
    return p;
}

static void *map_fixed_rw(void *at, long pages)
{
    void *p = mmap(at, pages * page, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0);
    CHECK(p == at);
    return p;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    page = sysconf(_SC_PAGESIZE);
    char dir[PATH_MAX - 64];
    int own_dir = 0;
    if (argc > 1) {
        snprintf(dir, sizeof dir, "%s", argv[1]);
    } else {
        snprintf(dir, sizeof dir, "/tmp/mremap.XXXXXX");
        CHECK(mkdtemp(dir) != NULL);
        own_dir = 1;
    }

    /* 1. grow in place: the pages after the mapping are free */
    {
        char *r = reserve(16);
        char *a = map_fixed_rw(r, 2);
        CHECK(munmap(r + 2 * page, 14 * page) == 0);
        fill(a, 2, 10);
        char *g = mremap(a, 2 * page, 6 * page, 0);
        CHECK(g != MAP_FAILED);
        int ok = check_fill(g, 2, 10), z = all_zero(g + 2 * page, 4 * page);
        fill(g + 2 * page, 4, 12);
        printf("grow in place: same-address=%d old-data=%d new-zero=%d\n", g == a, ok, z);
        CHECK(g == a && ok && z);
        CHECK(check_fill(g, 6, 10));
        CHECK(munmap(g, 6 * page) == 0);
    }

    /* 2. grow blocked by a neighbour: ENOMEM, then MREMAP_MAYMOVE */
    char *moved;
    {
        char *r = reserve(3); /* page 2 stays PROT_NONE: the blocker */
        char *b = map_fixed_rw(r, 2);
        fill(b, 2, 20);
        errno = 0;
        void *x = mremap(b, 2 * page, 8 * page, 0);
        int e = errno;
        moved = mremap(b, 2 * page, 8 * page, MREMAP_MAYMOVE);
        CHECK(moved != MAP_FAILED);
        int ok = check_fill(moved, 2, 20), z = all_zero(moved + 2 * page, 6 * page);
        int old_gone = !mapped(b, 2 * page), blocker = mapped(r + 2 * page, page);
        printf("grow blocked: in-place=%s maymove moved=%d old-data=%d new-zero=%d "
               "old-unmapped=%d blocker-kept=%d\n",
               x == MAP_FAILED && e == ENOMEM ? "ENOMEM" : "?", moved != b, ok, z,
               old_gone, blocker);
        CHECK(x == MAP_FAILED && e == ENOMEM);
        CHECK(moved != b && ok && z && old_gone && blocker);
        fill(moved + 2 * page, 6, 22);
        CHECK(munmap(r + 2 * page, page) == 0);
    }

    /* 3. shrink */
    {
        char *s = mremap(moved, 8 * page, 3 * page, 0);
        CHECK(s == moved);
        int ok = check_fill(s, 3, 20), tail_gone = !mapped(s + 3 * page, 5 * page);
        printf("shrink: same-address=%d data=%d tail-unmapped=%d\n", s == moved, ok, tail_gone);
        CHECK(ok && tail_gone);
        CHECK(munmap(s, 3 * page) == 0);
    }

    /* 4. MREMAP_FIXED to a chosen address inside a reservation */
    {
        char *t = reserve(6);
        char *src = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
                         MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK(src != MAP_FAILED);
        fill(src, 2, 30);
        errno = 0;
        void *bad1 = mremap(src, 2 * page, 2 * page, MREMAP_FIXED, t + page);
        int e1 = errno;
        errno = 0;
        void *bad2 = mremap(src, 2 * page, 2 * page, MREMAP_MAYMOVE | MREMAP_FIXED, src + page);
        int e2 = errno;
        char *d = mremap(src, 2 * page, 3 * page, MREMAP_MAYMOVE | MREMAP_FIXED, t + 2 * page);
        CHECK(d != MAP_FAILED);
        int ok = check_fill(d, 2, 30), z = all_zero(d + 2 * page, page);
        int src_gone = !mapped(src, 2 * page);
        int lines, covers;
        lines = maps_lines((uintptr_t)t, (uintptr_t)(t + 6 * page), &covers);
        printf("MREMAP_FIXED: at-target=%d data=%d grown-zero=%d src-unmapped=%d "
               "no-maymove=%s overlap=%s vmas-in-reservation=%d\n",
               d == t + 2 * page, ok, z, src_gone,
               bad1 == MAP_FAILED && e1 == EINVAL ? "EINVAL" : "?",
               bad2 == MAP_FAILED && e2 == EINVAL ? "EINVAL" : "?", lines);
        CHECK(d == t + 2 * page && ok && z && src_gone);
        CHECK(bad1 == MAP_FAILED && e1 == EINVAL);
        CHECK(bad2 == MAP_FAILED && e2 == EINVAL);
        CHECK(lines == 3); /* PROT_NONE, moved RW, PROT_NONE */
        CHECK(munmap(t, 6 * page) == 0);
    }

    /* 5. MREMAP_DONTUNMAP */
    {
        char *s = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        CHECK(s != MAP_FAILED);
        fill(s, 2, 40);
        errno = 0;
        char *d = mremap(s, 2 * page, 2 * page, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
        if (d == MAP_FAILED && errno == EINVAL) {
            printf("MREMAP_DONTUNMAP: not supported by this kernel (EINVAL), skipped\n");
        } else {
            CHECK(d != MAP_FAILED);
            int ok = check_fill(d, 2, 40), old_mapped = mapped(s, 2 * page);
            int old_zero = old_mapped && all_zero(s, 2 * page);
            s[5] = 'w'; /* the old range is usable */
            errno = 0;
            void *bad = mremap(d, 2 * page, 3 * page, MREMAP_MAYMOVE | MREMAP_DONTUNMAP, NULL);
            int e = errno;
            printf("MREMAP_DONTUNMAP: moved=%d data=%d old-still-mapped=%d old-reads-zero=%d "
                   "size-change=%s\n",
                   d != s, ok, old_mapped, old_zero,
                   bad == MAP_FAILED && e == EINVAL ? "EINVAL" : "?");
            CHECK(d != s && ok && old_mapped && old_zero && s[5] == 'w');
            CHECK(bad == MAP_FAILED && e == EINVAL);
            CHECK(check_fill(d, 2, 40)); /* unaffected by the store to s */
            CHECK(munmap(d, 2 * page) == 0);
        }
        CHECK(munmap(s, 2 * page) == 0);
    }

    /* 6. two adjacent mmaps merged by the kernel, then mremap of the whole */
    {
        char *r = reserve(8);
        map_fixed_rw(r, 4);
        map_fixed_rw(r + 4 * page, 4);
        fill(r, 8, 50);
        int covers;
        int lines = maps_lines((uintptr_t)r, (uintptr_t)(r + 8 * page), &covers);
        printf("adjacent mmaps: vmas=%d merged=%d\n", lines, covers && lines == 1);
        errno = 0;
        char *g = mremap(r, 8 * page, 12 * page, MREMAP_MAYMOVE);
        if (covers && lines == 1) {
            CHECK(g != MAP_FAILED);
            int ok = check_fill(g, 8, 50), z = all_zero(g + 8 * page, 4 * page);
            printf("mremap merged region: data=%d new-zero=%d\n", ok, z);
            CHECK(ok && z);
            CHECK(munmap(g, 12 * page) == 0);
        } else {
            /* not merged: a range spanning two VMAs cannot be remapped */
            printf("mremap unmerged region: %s\n",
                   g == MAP_FAILED && errno == EFAULT ? "EFAULT" : "?");
            CHECK(g == MAP_FAILED && errno == EFAULT);
            CHECK(munmap(r, 8 * page) == 0);
        }
    }

    /* 7. file mappings */
    {
        char path[PATH_MAX];
        snprintf(path, sizeof path, "%s/mremap.dat", dir);
        int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0600);
        CHECK(fd >= 0);
        char *img = malloc(6 * page);
        CHECK(img != NULL);
        fill(img, 6, 60);
        CHECK(write(fd, img, 6 * page) == 6 * page);

        /* MAP_SHARED at file offset 1 page, grown to 5 pages with MAYMOVE */
        /* (inside a 3-page reservation whose last page blocks in-place growth) */
        char *r = reserve(3);
        char *f = mmap(r, 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_FIXED, fd, page);
        CHECK(f == r);
        CHECK(check_fill(f, 2, 61));
        char *g = mremap(f, 2 * page, 5 * page, MREMAP_MAYMOVE);
        CHECK(g != MAP_FAILED);
        int ok = check_fill(g, 5, 61);
        g[4 * page + 1] = 'Z'; /* file page 5 */
        char c = 0;
        CHECK(pread(fd, &c, 1, 5 * page + 1) == 1);
        printf("mremap shared file map: moved=%d file-data=%d store-reaches-file=%d\n",
               g != f, ok, c == 'Z');
        CHECK(g != f && ok && c == 'Z');
        CHECK(munmap(r + 2 * page, page) == 0);
        CHECK(munmap(g, 5 * page) == 0);

        /* MAP_PRIVATE: a copied-on-write page moves with its private data */
        char *p = mmap(NULL, 3 * page, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        CHECK(p != MAP_FAILED);
        p[page + 7] = 'P'; /* private copy of file page 1 */
        char *t = reserve(4);
        char *q = mremap(p, 3 * page, 3 * page, MREMAP_MAYMOVE | MREMAP_FIXED, t + page);
        CHECK(q == t + page);
        int p0 = q[0] == (char)60, p1 = q[page + 7] == 'P' && q[page] == (char)61;
        int p2 = q[2 * page] == (char)62;
        CHECK(pread(fd, &c, 1, page + 7) == 1);
        printf("mremap private file map: page0=%d cow-page=%d page2=%d file-unchanged=%d\n",
               p0, p1, p2, c == (char)61);
        CHECK(p0 && p1 && p2 && c == (char)61);
        CHECK(munmap(t, 4 * page) == 0);
        close(fd);
        free(img);
        CHECK(unlink(path) == 0);
    }

    /* 8. old_size == 0 on a shared anonymous mapping: a second alias */
    {
        char *sh = mmap(NULL, 2 * page, PROT_READ | PROT_WRITE,
                        MAP_SHARED | MAP_ANONYMOUS, -1, 0);
        CHECK(sh != MAP_FAILED);
        fill(sh, 2, 70);
        char *al = mremap(sh, 0, 2 * page, MREMAP_MAYMOVE);
        CHECK(al != MAP_FAILED);
        int same = check_fill(al, 2, 70);
        sh[100] = 'x';
        al[page + 100] = 'y';
        printf("mremap old_size=0 alias: distinct=%d data=%d sh->al=%c al->sh=%c\n", al != sh,
               same, al[100], sh[page + 100]);
        CHECK(al != sh && same && al[100] == 'x' && sh[page + 100] == 'y');
        CHECK(munmap(al, 2 * page) == 0);
        CHECK(sh[100] == 'x'); /* still there */
        CHECK(munmap(sh, 2 * page) == 0);
    }

    if (own_dir)
        CHECK(rmdir(dir) == 0);
    printf("mremap: OK\n");
    return 0;
}
