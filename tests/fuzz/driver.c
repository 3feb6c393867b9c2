/*
 * driver.c — standalone replay-and-mutate driver for the fuzz targets.
 *
 * Each tests/fuzz/fuzz_<name>.c defines LLVMFuzzerTestOneInput(); linked with
 * this file it becomes a program that feeds the target every corpus file named
 * on the command line (directories are read in sorted order), then a bounded
 * number of deterministic mutations of each (seeded PRNG: bit flips, byte
 * sets, truncations, byte insert/delete, 16-bit length-field tweaks, chunk
 * copies, appends), and prints "fuzz <name>: N inputs, 0 crashes".
 *
 *   fuzz_rtp [--mutations N] [--seed S] [--max-seconds T] corpus-dir-or-file...
 *
 * A crash is a sanitizer report or a signal: the process dies, so finishing
 * means success (exit 0).  Before dying it says which input did it (corpus
 * file and mutation number, reproducible with the same seed) and writes the
 * bytes to ./fuzz-crash-<name>.bin.  Every input is passed in a heap buffer of
 * exactly its size so ASan catches a one-byte over-read.
 *
 * Built with clang -fsanitize=fuzzer -DSFU_LIBFUZZER, this file contributes
 * nothing and libFuzzer provides main().
 *
 * Threading: single-threaded test program.
 */
#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#ifndef SFU_LIBFUZZER

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define DEFAULT_MUTATIONS 2000
#define DEFAULT_MAX_SECONDS 120
#define FUZZ_MAX_INPUT (1u << 20)  /* corpus files are small; refuse anything silly */
#define GROW_LIMIT 512        /* mutations may grow an input by this much */
#define MAX_STACKED 4         /* mutations applied on top of each other */

struct fuzz_opts {
	unsigned long mutations;
	uint64_t seed;
	double max_seconds;
	const char *name;
};

/* What is running now, for the crash report (read from a signal handler). */
static const uint8_t *volatile cur_data;
static volatile size_t cur_size;
static const char *volatile cur_origin;
static volatile unsigned long cur_mutation;
static char crash_path[256];

static unsigned long n_inputs;
static int time_up;
static struct timespec t_start;

/* splitmix64: small, seedable, good enough to pick mutations. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static size_t rng_below(uint64_t *s, size_t n)
{
	return n ? (size_t)(rng_next(s) % n) : 0;
}

/* FNV-1a of a name, so each corpus file gets its own mutation stream. */
static uint64_t hash_str(const char *str)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (*str)
		h = (h ^ (uint8_t)*str++) * 0x100000001b3ull;
	return h;
}

static void write_str(int fd, const char *s)
{
	ssize_t r = write(fd, s, strlen(s));

	(void)r;
}

static void write_ulong(int fd, unsigned long v)
{
	char buf[24];
	int i = sizeof(buf);

	do {
		buf[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v && i > 0);
	{
		ssize_t r = write(fd, buf + i, sizeof(buf) - (size_t)i);

		(void)r;
	}
}

/* Async-signal-safe: say which input crashed and save it. */
static void report_crash(void)
{
	int fd;

	if (!cur_origin)
		return;
	write_str(2, "fuzz: crash on input from ");
	write_str(2, cur_origin);
	if (cur_mutation) {
		write_str(2, " mutation #");
		write_ulong(2, cur_mutation);
	}
	write_str(2, "; saved to ");
	write_str(2, crash_path);
	write_str(2, "\n");
	fd = open(crash_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
	if (fd >= 0) {
		if (cur_size) {
			ssize_t r = write(fd, (const void *)cur_data, cur_size);

			(void)r;
		}
		close(fd);
	}
	cur_origin = NULL;
}

static void on_fatal_signal(int sig)
{
	report_crash();
	signal(sig, SIG_DFL);
	raise(sig);
}

/* Sanitizer runtimes call this before exiting on an error, when linked in. */
extern void __sanitizer_set_death_callback(void (*cb)(void)) __attribute__((weak));

static void install_crash_hooks(void)
{
	static const int sigs[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };

	if (__sanitizer_set_death_callback)
		__sanitizer_set_death_callback(report_crash);
	for (size_t i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		signal(sigs[i], on_fatal_signal);
}

static double elapsed(void)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t_start.tv_sec) +
	       (double)(now.tv_nsec - t_start.tv_nsec) / 1e9;
}

/* Run one input from an exact-size heap copy. */
static void run_one(const uint8_t *data, size_t size, const char *origin, unsigned long mutation)
{
	uint8_t *copy = malloc(size ? size : 1);

	if (!copy) {
		fprintf(stderr, "fuzz: out of memory\n");
		exit(1);
	}
	memcpy(copy, data, size);
	cur_data = copy;
	cur_size = size;
	cur_origin = origin;
	cur_mutation = mutation;
	LLVMFuzzerTestOneInput(copy, size);
	cur_origin = NULL;
	free(copy);
	n_inputs++;
}

/* One mutation of buf[0, *len) in place; cap is the buffer size. */
static void mutate_once(uint8_t *buf, size_t *len, size_t cap, uint64_t *rng)
{
	static const uint8_t interesting[] = { 0x00, 0x01, 0x02, 0x03, 0x04, 0x0f, 0x10, 0x1f,
					       0x20, 0x3f, 0x40, 0x7f, 0x80, 0x81, 0xbe, 0xc0,
					       0xc8, 0xc9, 0xcd, 0xce, 0xde, 0xdf, 0xe0, 0xff };
	size_t n = *len, pos = rng_below(rng, n);

	switch (rng_below(rng, 9)) {
	case 0: /* flip one bit */
		if (n)
			buf[pos] ^= (uint8_t)(1u << rng_below(rng, 8));
		break;
	case 1: /* set a byte to a boundary value */
		if (n)
			buf[pos] = interesting[rng_below(rng, sizeof(interesting))];
		break;
	case 2: /* set a byte at random */
		if (n)
			buf[pos] = (uint8_t)rng_next(rng);
		break;
	case 3: /* truncate */
		*len = rng_below(rng, n + 1);
		break;
	case 4: /* insert a byte */
		if (n < cap) {
			pos = rng_below(rng, n + 1);
			memmove(buf + pos + 1, buf + pos, n - pos);
			buf[pos] = (uint8_t)rng_next(rng);
			*len = n + 1;
		}
		break;
	case 5: /* delete a byte */
		if (n) {
			memmove(buf + pos, buf + pos + 1, n - pos - 1);
			*len = n - 1;
		}
		break;
	case 6: { /* tweak a big-endian 16-bit field, as RTP/RTCP length fields are */
		static const int deltas[] = { -4, -1, 1, 4, 0x100, -0x100 };
		uint16_t v;

		if (n < 2)
			break;
		/* Prefer 4-aligned offset + 2, where RTCP and extension lengths sit. */
		pos = rng_below(rng, 2) ? (rng_below(rng, n / 4 + 1) * 4 + 2) : rng_below(rng, n - 1);
		if (pos + 2 > n)
			pos = n - 2;
		v = (uint16_t)(buf[pos] << 8 | buf[pos + 1]);
		switch (rng_below(rng, 3)) {
		case 0:
			v = (uint16_t)(v + deltas[rng_below(rng, sizeof(deltas) / sizeof(deltas[0]))]);
			break;
		case 1:
			v = rng_below(rng, 2) ? 0 : 0xffff;
			break;
		default:
			v = (uint16_t)(n / 4 - 1 + rng_below(rng, 3) - 1);
			break;
		}
		buf[pos] = (uint8_t)(v >> 8);
		buf[pos + 1] = (uint8_t)v;
		break;
	}
	case 7: { /* copy a chunk over another place */
		size_t from, to, k;

		if (n < 2)
			break;
		from = rng_below(rng, n);
		to = rng_below(rng, n);
		k = 1 + rng_below(rng, n - (from > to ? from : to));
		memmove(buf + to, buf + from, k);
		break;
	}
	default: { /* append a few random bytes */
		size_t k = 1 + rng_below(rng, 8);

		if (n + k > cap)
			k = cap - n;
		for (size_t i = 0; i < k; i++)
			buf[n + i] = (uint8_t)rng_next(rng);
		*len = n + k;
		break;
	}
	}
}

static void fuzz_entry(const uint8_t *data, size_t size, const char *origin,
		       const struct fuzz_opts *o)
{
	size_t cap = size + GROW_LIMIT;
	uint8_t *buf = malloc(cap);
	uint64_t rng = o->seed ^ hash_str(origin);

	if (!buf) {
		fprintf(stderr, "fuzz: out of memory\n");
		exit(1);
	}
	run_one(data, size, origin, 0);
	for (unsigned long m = 1; m <= o->mutations && !time_up; m++) {
		size_t len = size;
		size_t stacked = 1 + rng_below(&rng, MAX_STACKED);

		memcpy(buf, data, size);
		for (size_t k = 0; k < stacked; k++)
			mutate_once(buf, &len, cap, &rng);
		run_one(buf, len, origin, m);
		if ((m & 63) == 0 && elapsed() > o->max_seconds)
			time_up = 1;
	}
	free(buf);
}

static int run_file(const char *path, const struct fuzz_opts *o)
{
	uint8_t *data;
	size_t size = 0;
	FILE *f = fopen(path, "rb");

	if (!f) {
		fprintf(stderr, "fuzz: %s: %s\n", path, strerror(errno));
		return -1;
	}
	data = malloc(FUZZ_MAX_INPUT);
	if (!data) {
		fclose(f);
		fprintf(stderr, "fuzz: out of memory\n");
		return -1;
	}
	size = fread(data, 1, FUZZ_MAX_INPUT, f);
	if (ferror(f) || !feof(f)) {
		fprintf(stderr, "fuzz: %s: read error or larger than %u bytes\n", path, FUZZ_MAX_INPUT);
		fclose(f);
		free(data);
		return -1;
	}
	fclose(f);
	fuzz_entry(data, size, path, o);
	free(data);
	return 0;
}

static int skip_dotfiles(const struct dirent *d)
{
	return d->d_name[0] != '.';
}

static int run_path(const char *path, const struct fuzz_opts *o)
{
	struct dirent **ents;
	struct stat st;
	int n, rc = 0;

	if (stat(path, &st) < 0) {
		fprintf(stderr, "fuzz: %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path, o);
	/* Sorted, so runs are reproducible across file systems. */
	n = scandir(path, &ents, skip_dotfiles, alphasort);
	if (n < 0) {
		fprintf(stderr, "fuzz: %s: %s\n", path, strerror(errno));
		return -1;
	}
	for (int i = 0; i < n; i++) {
		char full[4096];

		if (rc == 0) {
			if ((size_t)snprintf(full, sizeof(full), "%s/%s", path, ents[i]->d_name) >=
			    sizeof(full)) {
				fprintf(stderr, "fuzz: %s/%s: path too long\n", path, ents[i]->d_name);
				rc = -1;
			} else if (stat(full, &st) == 0 && S_ISREG(st.st_mode)) {
				rc = run_file(full, o);
			}
		}
		free(ents[i]);
	}
	free(ents);
	return rc;
}

static void usage(const char *argv0)
{
	fprintf(stderr,
		"usage: %s [--mutations N] [--seed S] [--max-seconds T] corpus-dir-or-file...\n",
		argv0);
}

static int parse_ulong(const char *s, unsigned long long *v)
{
	char *end;

	errno = 0;
	*v = strtoull(s, &end, 0);
	return errno || *s == '\0' || *end != '\0' || *s == '-' ? -1 : 0;
}

int main(int argc, char **argv)
{
	struct fuzz_opts o = { DEFAULT_MUTATIONS, 1, DEFAULT_MAX_SECONDS, argv[0] };
	const char *base = strrchr(argv[0], '/');
	int i, npaths = 0;

	base = base ? base + 1 : argv[0];
	o.name = strncmp(base, "fuzz_", 5) == 0 ? base + 5 : base;
	snprintf(crash_path, sizeof(crash_path), "fuzz-crash-%s.bin", o.name);

	for (i = 1; i < argc && strncmp(argv[i], "--", 2) == 0; i += 2) {
		unsigned long long v;

		if (strcmp(argv[i], "--") == 0) {
			i++;
			break;
		}
		if (i + 1 >= argc || parse_ulong(argv[i + 1], &v) < 0) {
			usage(argv[0]);
			return 2;
		}
		if (strcmp(argv[i], "--mutations") == 0) {
			o.mutations = (unsigned long)v;
		} else if (strcmp(argv[i], "--seed") == 0) {
			o.seed = v;
		} else if (strcmp(argv[i], "--max-seconds") == 0 && v > 0) {
			o.max_seconds = (double)v;
		} else {
			usage(argv[0]);
			return 2;
		}
	}
	if (i >= argc) {
		usage(argv[0]);
		return 2;
	}

	install_crash_hooks();
	clock_gettime(CLOCK_MONOTONIC, &t_start);
	for (; i < argc; i++) {
		if (run_path(argv[i], &o) < 0)
			return 1;
		npaths++;
	}
	if (time_up)
		fprintf(stderr, "fuzz %s: time budget of %.0f s reached, mutations cut short\n",
			o.name, o.max_seconds);
	/* An empty corpus would make this a test that cannot fail. */
	if (npaths == 0 || n_inputs == 0) {
		fprintf(stderr, "fuzz %s: no corpus inputs found\n", o.name);
		return 1;
	}
	printf("fuzz %s: %lu inputs, 0 crashes\n", o.name, n_inputs);
	return 0;
}

#endif /* SFU_LIBFUZZER */
