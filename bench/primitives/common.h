/* Shared helpers + kernel ABI definitions missing from Debian 12 headers. */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>
#include <errno.h>
#include <time.h>
#include <unistd.h>
#include <fcntl.h>
#include <signal.h>
#include <sched.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <sys/uio.h>
#include <linux/types.h>
#include <linux/userfaultfd.h>

/* ---- userfaultfd features newer than the Debian 12 header (include/uapi/linux/userfaultfd.h) ---- */
#ifndef UFFD_FEATURE_WP_UNPOPULATED
#define UFFD_FEATURE_WP_UNPOPULATED (1ULL << 13)   /* 6.4 */
#endif
#ifndef UFFD_FEATURE_POISON
#define UFFD_FEATURE_POISON         (1ULL << 14)   /* 6.6 */
#endif
#ifndef UFFD_FEATURE_WP_ASYNC
#define UFFD_FEATURE_WP_ASYNC       (1ULL << 15)   /* 6.7 */
#endif
#ifndef UFFD_FEATURE_MOVE
#define UFFD_FEATURE_MOVE           (1ULL << 16)   /* 6.8 */
#endif
#ifndef UFFD_USER_MODE_ONLY
#define UFFD_USER_MODE_ONLY 1
#endif

/* ---- PAGEMAP_SCAN (include/uapi/linux/fs.h, 6.7) ---- */
#define PAGE_IS_WPALLOWED  (1ULL << 0)
#define PAGE_IS_WRITTEN    (1ULL << 1)
#define PAGE_IS_FILE       (1ULL << 2)
#define PAGE_IS_PRESENT    (1ULL << 3)
#define PAGE_IS_SWAPPED    (1ULL << 4)
#define PAGE_IS_PFNZERO    (1ULL << 5)
#define PAGE_IS_HUGE       (1ULL << 6)
#define PAGE_IS_SOFT_DIRTY (1ULL << 7)
#define PAGE_IS_GUARD      (1ULL << 8)

struct page_region { __u64 start, end, categories; };

#define PM_SCAN_WP_MATCHING    (1ULL << 0)
#define PM_SCAN_CHECK_WPASYNC  (1ULL << 1)

struct pm_scan_arg {
	__u64 size;               /* sizeof(struct pm_scan_arg) */
	__u64 flags;
	__u64 start, end;         /* [start,end) page aligned */
	__u64 walk_end;           /* out: where the walk stopped */
	__u64 vec;                /* struct page_region * */
	__u64 vec_len;
	__u64 max_pages;          /* 0 = unlimited */
	__u64 category_inverted, category_mask, category_anyof_mask, return_mask;
};
#define PAGEMAP_SCAN _IOWR('f', 16, struct pm_scan_arg)

#define PAGE 4096UL

static inline uint64_t now_ns(void) {
	struct timespec ts; clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}
static __attribute__((unused)) int cmp_u64(const void *a, const void *b) {
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b; return x < y ? -1 : x > y;
}
/* sorts in place; prints median/p10/p90 in microseconds */
static __attribute__((unused)) void report(const char *name, uint64_t *v, int n) {
	qsort(v, n, sizeof *v, cmp_u64);
	printf("%-58s n=%-6d median=%10.2f us  p10=%10.2f  p90=%10.2f\n", name, n,
	       v[n / 2] / 1e3, v[n / 10] / 1e3, v[(n * 9) / 10] / 1e3);
	fflush(stdout);
}
static __attribute__((unused)) double median_us(uint64_t *v, int n) { qsort(v, n, sizeof *v, cmp_u64); return v[n/2]/1e3; }
#define CHECK(x) do { if ((long)(x) < 0) { fprintf(stderr, "%s:%d %s: %s (errno %d)\n", __FILE__, __LINE__, #x, strerror(errno), errno); exit(1);} } while (0)

static __attribute__((unused)) void pin_cpu(int cpu) {
	cpu_set_t s; CPU_ZERO(&s); CPU_SET(cpu, &s); sched_setaffinity(0, sizeof s, &s);
}

/* xxh64 (4-lane) -- fast non-crypto hash, spec-conformant implementation */
#define P1 11400714785074694791ULL
#define P2 14029467366897019727ULL
#define P3 1609587929392839161ULL
#define P4 9650029242287828579ULL
#define P5 2870177450012600261ULL
static inline uint64_t rotl(uint64_t x, int r) { return (x << r) | (x >> (64 - r)); }
static inline uint64_t rd64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }
static inline uint64_t xround(uint64_t acc, uint64_t in) { acc += in * P2; acc = rotl(acc, 31); return acc * P1; }
static inline uint64_t xmerge(uint64_t acc, uint64_t v) { v = xround(0, v); acc ^= v; return acc * P1 + P4; }
static __attribute__((unused)) uint64_t xxh64(const void *data, size_t len, uint64_t seed) {
	const uint8_t *p = data, *end = p + len; uint64_t h;
	if (len >= 32) {
		uint64_t v1 = seed + P1 + P2, v2 = seed + P2, v3 = seed, v4 = seed - P1;
		const uint8_t *lim = end - 32;
		do { v1 = xround(v1, rd64(p)); v2 = xround(v2, rd64(p+8)); v3 = xround(v3, rd64(p+16)); v4 = xround(v4, rd64(p+24)); p += 32; } while (p <= lim);
		h = rotl(v1,1) + rotl(v2,7) + rotl(v3,12) + rotl(v4,18);
		h = xmerge(h, v1); h = xmerge(h, v2); h = xmerge(h, v3); h = xmerge(h, v4);
	} else h = seed + P5;
	h += len;
	while (p + 8 <= end) { h ^= xround(0, rd64(p)); h = rotl(h, 27) * P1 + P4; p += 8; }
	while (p < end) { h ^= (*p) * P5; h = rotl(h, 11) * P1; p++; }
	h ^= h >> 33; h *= P2; h ^= h >> 29; h *= P3; h ^= h >> 32; return h;
}
/* FNV-1a 64 over 8-byte words (word-wise variant; bytewise is far slower) */
static __attribute__((unused)) uint64_t fnv64w(const void *data, size_t len) {
	const uint64_t *p = data; uint64_t h = 14695981039346656037ULL;
	for (size_t i = 0; i < len / 8; i++) { h ^= p[i]; h *= 1099511628211ULL; }
	return h;
}
