/*
 * unit.h — the tiny unit-test runner every tests/unit/test_<module>.c uses.
 *
 * A test file defines test functions with UT_TEST(name), lists them in
 * UT_MAIN(t1, t2, ...), and checks with UT_CHECK / UT_EQ.  Each failing
 * check prints file:line and the expression; the runner prints one line per
 * test and ends with "N passed, N failed", exiting non-zero on any failure.
 * Single-threaded; no EAL needed.
 */
#ifndef SFU_TEST_UNIT_H
#define SFU_TEST_UNIT_H

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

static int ut_failures_in_test;

#define UT_TEST(name) static void name(void)

#define UT_CHECK(cond)                                                     \
	do {                                                               \
		if (!(cond)) {                                             \
			ut_failures_in_test++;                             \
			fprintf(stderr, "  %s:%d: check failed: %s\n",     \
				__FILE__, __LINE__, #cond);                \
		}                                                          \
	} while (0)

/* Integer equality with both values printed on failure. */
#define UT_EQ(a, b)                                                        \
	do {                                                               \
		long long ut_a_ = (long long)(a), ut_b_ = (long long)(b);  \
		if (ut_a_ != ut_b_) {                                      \
			ut_failures_in_test++;                             \
			fprintf(stderr, "  %s:%d: %s == %s: %lld != %lld\n", \
				__FILE__, __LINE__, #a, #b, ut_a_, ut_b_); \
		}                                                          \
	} while (0)

/* Byte-for-byte equality of two buffers of length n. */
#define UT_MEMEQ(a, b, n)                                                  \
	do {                                                               \
		if (memcmp((a), (b), (n)) != 0) {                          \
			ut_failures_in_test++;                             \
			fprintf(stderr, "  %s:%d: memcmp(%s, %s, %s) != 0\n", \
				__FILE__, __LINE__, #a, #b, #n);           \
		}                                                          \
	} while (0)

struct ut_case {
	const char *name;
	void (*fn)(void);
};

static inline int ut_run(const char *suite, const struct ut_case *cases, int n)
{
	int passed = 0, failed = 0;

	for (int i = 0; i < n; i++) {
		ut_failures_in_test = 0;
		cases[i].fn();
		if (ut_failures_in_test == 0) {
			passed++;
			printf("ok   %s/%s\n", suite, cases[i].name);
		} else {
			failed++;
			printf("FAIL %s/%s\n", suite, cases[i].name);
		}
	}
	printf("%s: %d passed, %d failed\n", suite, passed, failed);
	return failed ? 1 : 0;
}

#define UT_CASE(fn) { #fn, fn }
#define UT_MAIN(suite, ...)                                                \
	int main(void)                                                     \
	{                                                                  \
		static const struct ut_case cases[] = { __VA_ARGS__ };     \
		return ut_run(suite, cases,                                \
			      (int)(sizeof(cases) / sizeof(cases[0])));    \
	}

#endif /* SFU_TEST_UNIT_H */
