/*
 * vdso_vsyscall: time and cpu queries that do not enter the kernel through the syscall instruction.
 *
 * Exercises:
 *   1. getauxval(AT_SYSINFO_EHDR): the vDSO (may be 0 under a record/replay tool that hides it;
 *      either is accepted). If present: it must be the [vdso] mapping of /proc/self/maps; parse its
 *      ELF header and dynamic symbol table, look up __vdso_clock_gettime, __vdso_gettimeofday,
 *      __vdso_time and __vdso_getcpu and call them directly, checking them against real syscalls.
 *   2. libc clock_gettime (several clocks), clock_getres, gettimeofday, time, sched_getcpu/getcpu:
 *      monotonic never goes back, the different sources agree.
 *   3. the legacy vsyscall page (0xffffffffff600000 gettimeofday, ...400 time, ...800 getcpu),
 *      only if /proc/self/maps lists [vsyscall] as executable; skipped (and said so) otherwise. If
 *      it is also readable (vsyscall=emulate), its first bytes are read and printed.
 *
 * Why it is hard for record/replay: vDSO functions read kernel-updated shared data pages (vvar)
 * and the TSC entirely in user space, so no syscall is seen and their results are nondeterministic;
 * rdtscp/rdpid in __vdso_getcpu return the current cpu. A replayer must hide or redirect the vDSO
 * (and trap rdtsc) or the replayed values differ. The vsyscall page is emulated by the kernel via a
 * page fault at a fixed address outside the normal syscall path (and seccomp sees it specially).
 */
#define _GNU_SOURCE
#include <elf.h>
#include <errno.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/auxv.h>
#include <sys/syscall.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

/* compile with -DSKIP_CASES=mask to leave out sub-cases (bit n = sub-case n), for diagnosis */
#ifndef SKIP_CASES
#define SKIP_CASES 0
#endif

#define CHECK(c)                                                                              \
	do {                                                                                  \
		if (!(c)) {                                                                   \
			fprintf(stderr, "FAIL: %s:%d: %s (errno %d %s)\n", __FILE__, __LINE__, \
				#c, errno, strerror(errno));                                  \
			exit(1);                                                              \
		}                                                                             \
	} while (0)

static int64_t ts_ns(const struct timespec *t) { return (int64_t)t->tv_sec * 1000000000 + t->tv_nsec; }

static int64_t sys_clock(clockid_t id) {
	struct timespec t;
	CHECK(syscall(SYS_clock_gettime, id, &t) == 0);
	return ts_ns(&t);
}

/* find a line of /proc/self/maps whose name ends with tag; returns 1 and fills start/perms */
static int find_map(const char *tag, uintptr_t *start, char perms[5]) {
	FILE *f = fopen("/proc/self/maps", "r");
	CHECK(f != NULL);
	char line[512];
	int found = 0;
	while (fgets(line, sizeof line, f)) {
		if (!strstr(line, tag)) continue;
		unsigned long s, e;
		char p[8];
		if (sscanf(line, "%lx-%lx %4s", &s, &e, p) == 3) {
			*start = s;
			memcpy(perms, p, 4);
			perms[4] = 0;
			found = 1;
		}
	}
	fclose(f);
	return found;
}

/* ---- minimal vDSO symbol lookup through the section headers of the mapped image ---- */
static void *vdso_sym(uintptr_t base, const char *name) {
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
	const Elf64_Phdr *ph = (const Elf64_Phdr *)(base + eh->e_phoff);
	intptr_t load_offset = 0;
	int have_load = 0;
	for (int i = 0; i < eh->e_phnum; i++)
		if (ph[i].p_type == PT_LOAD && !have_load) {
			load_offset = (intptr_t)base + (intptr_t)ph[i].p_offset - (intptr_t)ph[i].p_vaddr;
			have_load = 1;
		}
	if (!have_load) return NULL;
	const Elf64_Shdr *sh = (const Elf64_Shdr *)(base + eh->e_shoff);
	for (int i = 0; i < eh->e_shnum; i++) {
		if (sh[i].sh_type != SHT_DYNSYM) continue;
		const Elf64_Sym *sym = (const Elf64_Sym *)(base + sh[i].sh_offset);
		const char *str = (const char *)(base + sh[sh[i].sh_link].sh_offset);
		size_t n = sh[i].sh_size / sizeof(Elf64_Sym);
		for (size_t k = 0; k < n; k++) {
			if (ELF64_ST_TYPE(sym[k].st_info) != STT_FUNC || sym[k].st_shndx == SHN_UNDEF) continue;
			if (strcmp(str + sym[k].st_name, name) == 0) return (void *)(load_offset + sym[k].st_value);
		}
	}
	return NULL;
}

typedef int (*cg_fn)(clockid_t, struct timespec *);
typedef int (*gtod_fn)(struct timeval *, void *);
typedef time_t (*time_fn)(time_t *);
typedef long (*getcpu_fn)(unsigned *, unsigned *, void *);

static void case_vdso(void) {
	uintptr_t base = (uintptr_t)getauxval(AT_SYSINFO_EHDR);
	uintptr_t mstart = 0;
	char perms[5] = "";
	int in_maps = find_map("[vdso]", &mstart, perms);
	if (base == 0) {
		printf("vdso: AT_SYSINFO_EHDR=0 (hidden) in_maps=%d\n", in_maps);
		return;
	}
	CHECK(in_maps && mstart == base);
	const Elf64_Ehdr *eh = (const Elf64_Ehdr *)base;
	CHECK(memcmp(eh->e_ident, ELFMAG, SELFMAG) == 0);
	CHECK(eh->e_ident[EI_CLASS] == ELFCLASS64);
	CHECK(eh->e_type == ET_DYN);
	CHECK(eh->e_machine == EM_X86_64);
	cg_fn cg = (cg_fn)vdso_sym(base, "__vdso_clock_gettime");
	gtod_fn gtod = (gtod_fn)vdso_sym(base, "__vdso_gettimeofday");
	time_fn tm = (time_fn)vdso_sym(base, "__vdso_time");
	getcpu_fn gc = (getcpu_fn)vdso_sym(base, "__vdso_getcpu");
	CHECK(cg != NULL);
	/* monotonic: syscall <= vdso <= syscall */
	int64_t t1 = sys_clock(CLOCK_MONOTONIC);
	struct timespec v;
	CHECK(cg(CLOCK_MONOTONIC, &v) == 0);
	int64_t t3 = sys_clock(CLOCK_MONOTONIC);
	CHECK(t1 <= ts_ns(&v) && ts_ns(&v) <= t3);
	struct timespec vr;
	CHECK(cg(CLOCK_REALTIME, &vr) == 0);
	int64_t r = sys_clock(CLOCK_REALTIME);
	CHECK(ts_ns(&vr) <= r + 1000000 && r - ts_ns(&vr) < 5LL * 1000000000);
	/* a clock the vDSO does not handle itself falls back to the syscall */
	struct timespec vc;
	CHECK(cg(CLOCK_PROCESS_CPUTIME_ID, &vc) == 0);
	CHECK(ts_ns(&vc) > 0);
	long gtod_sec = -1, time_sec = -1;
	if (gtod) {
		struct timeval tv;
		CHECK(gtod(&tv, NULL) == 0);
		CHECK(tv.tv_usec >= 0 && tv.tv_usec < 1000000);
		CHECK(labs((long)tv.tv_sec - (long)vr.tv_sec) <= 1);
		gtod_sec = tv.tv_sec;
	}
	if (tm) {
		time_t t = tm(NULL);
		CHECK(labs((long)t - (long)vr.tv_sec) <= 1);
		time_sec = (long)t;
	}
	unsigned cpu = 9999, node = 9999;
	if (gc) {
		CHECK(gc(&cpu, &node, NULL) == 0);
		CHECK(cpu < CPU_SETSIZE && node < 4096);
	}
	printf("vdso: base=%#lx perms=%s clock_gettime=%d gettimeofday=%d time=%d getcpu=%d mono=%lld "
	       "real=%lld.%09ld gtod_sec=%ld time_sec=%ld cpu=%u node=%u\n",
	       (unsigned long)base, perms, cg != NULL, gtod != NULL, tm != NULL, gc != NULL,
	       (long long)ts_ns(&v), (long long)vr.tv_sec, vr.tv_nsec, gtod_sec, time_sec, cpu, node);
}

static void case_libc(void) {
	static const struct {
		clockid_t id;
		const char *name;
	} clocks[] = {{CLOCK_REALTIME, "realtime"},
		      {CLOCK_MONOTONIC, "monotonic"},
		      {CLOCK_MONOTONIC_RAW, "monotonic_raw"},
		      {CLOCK_MONOTONIC_COARSE, "monotonic_coarse"},
		      {CLOCK_REALTIME_COARSE, "realtime_coarse"},
		      {CLOCK_BOOTTIME, "boottime"},
		      {CLOCK_PROCESS_CPUTIME_ID, "process_cputime"},
		      {CLOCK_THREAD_CPUTIME_ID, "thread_cputime"}};
	for (size_t i = 0; i < sizeof clocks / sizeof clocks[0]; i++) {
		struct timespec a, b, res;
		CHECK(clock_gettime(clocks[i].id, &a) == 0);
		CHECK(clock_gettime(clocks[i].id, &b) == 0);
		CHECK(a.tv_nsec >= 0 && a.tv_nsec < 1000000000);
		if (clocks[i].id != CLOCK_REALTIME && clocks[i].id != CLOCK_REALTIME_COARSE)
			CHECK(ts_ns(&a) <= ts_ns(&b));
		CHECK(clock_getres(clocks[i].id, &res) == 0);
		CHECK(ts_ns(&res) > 0);
		printf("clock %s: t=%lld.%09ld res=%ld\n", clocks[i].name, (long long)a.tv_sec, a.tv_nsec,
		       (long)ts_ns(&res));
	}
	/* monotonic never goes back over many calls */
	struct timespec prev, cur;
	CHECK(clock_gettime(CLOCK_MONOTONIC, &prev) == 0);
	int64_t first = ts_ns(&prev);
	for (int i = 0; i < 2000; i++) {
		CHECK(clock_gettime(CLOCK_MONOTONIC, &cur) == 0);
		CHECK(ts_ns(&cur) >= ts_ns(&prev));
		prev = cur;
	}
	struct timeval tv;
	CHECK(gettimeofday(&tv, NULL) == 0);
	time_t t = time(NULL);
	struct timespec rt;
	CHECK(clock_gettime(CLOCK_REALTIME, &rt) == 0);
	CHECK(labs((long)tv.tv_sec - (long)rt.tv_sec) <= 1);
	CHECK(labs((long)t - (long)rt.tv_sec) <= 1);
	int c1 = sched_getcpu();
	unsigned c2 = 9999, n2 = 9999;
	CHECK(syscall(SYS_getcpu, &c2, &n2, NULL) == 0);
	CHECK(c1 >= 0 && c1 < CPU_SETSIZE && c2 < CPU_SETSIZE);
	cpu_set_t set;
	CPU_ZERO(&set);
	CHECK(sched_getaffinity(0, sizeof set, &set) == 0);
	CHECK(CPU_ISSET(c2, &set)); /* the cpu we ran on is one we may run on */
	printf("libc: mono_span_ns=%lld gtod=%ld.%06ld time=%ld sched_getcpu=%d getcpu=%u node=%u\n",
	       (long long)(ts_ns(&prev) - first), (long)tv.tv_sec, (long)tv.tv_usec, (long)t, c1, c2, n2);
}

static void case_vsyscall(void) {
	uintptr_t start = 0;
	char perms[5] = "";
	if (!find_map("[vsyscall]", &start, perms)) {
		printf("vsyscall: skipped (no [vsyscall] mapping)\n");
		return;
	}
	CHECK(start == 0xffffffffff600000UL);
	if (perms[2] != 'x') {
		printf("vsyscall: skipped (perms %s, not executable)\n", perms);
		return;
	}
	gtod_fn vgtod = (gtod_fn)0xffffffffff600000UL;
	time_fn vtime = (time_fn)0xffffffffff600400UL;
	getcpu_fn vgetcpu = (getcpu_fn)0xffffffffff600800UL;
	struct timeval tv;
	CHECK(vgtod(&tv, NULL) == 0);
	time_t t2 = 0;
	time_t t = vtime(&t2);
	CHECK(t == t2);
	unsigned cpu = 9999, node = 9999;
	CHECK(vgetcpu(&cpu, &node, NULL) == 0);
	struct timespec rt;
	CHECK(syscall(SYS_clock_gettime, CLOCK_REALTIME, &rt) == 0);
	CHECK(labs((long)tv.tv_sec - (long)rt.tv_sec) <= 1);
	CHECK(labs((long)t - (long)rt.tv_sec) <= 1);
	CHECK(cpu < CPU_SETSIZE);
	char bytes[3 * 8 + 1] = "unreadable";
	if (perms[0] == 'r') {
		const unsigned char *pg = (const unsigned char *)start;
		for (int i = 0; i < 8; i++) snprintf(bytes + 3 * i, 4, "%02x%s", pg[i], i < 7 ? " " : "");
	}
	printf("vsyscall: perms=%s gtod=%ld.%06ld time=%ld cpu=%u node=%u bytes=%s\n", perms, (long)tv.tv_sec,
	       (long)tv.tv_usec, (long)t, cpu, node, bytes);
}

int main(void) {
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (!(SKIP_CASES & (1 << 1))) case_vdso();
	if (!(SKIP_CASES & (1 << 2))) case_libc();
	if (!(SKIP_CASES & (1 << 3))) case_vsyscall();
	printf("vdso_vsyscall: ok\n");
	return 0;
}
