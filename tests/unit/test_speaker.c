/*
 * test_speaker.c — the dominant speaker selection (ctrl/lib/speaker.h):
 * threshold (too quiet or no packets never counts), the first speaker at once,
 * hysteresis (a louder challenger needs switch_intervals consecutive wins, a
 * one-interval blip does not move it), the silence rule, ties, a speaker who
 * leaves, and that all-silence keeps the current speaker.
 *
 * Single-threaded; no EAL.
 */
#include "speaker.h"
#include "unit.h"

#define A 1
#define B 2
#define C 3

static const struct speaker_params prm = {
	.threshold_dbov = 50, .switch_intervals = 2, .silence_intervals = 4,
};

/* One interval with levels for A, B, C (127: sent silence; -1: sent nothing). */
static bool step3(struct speaker_sel *s, int a, int b, int c)
{
	const int lv[3] = { a, b, c };
	struct speaker_obs obs[3];

	for (int i = 0; i < 3; i++) {
		obs[i].key = (uintptr_t)(i + 1);
		obs[i].dbov = lv[i] < 0 ? 127 : (uint8_t)lv[i];
		obs[i].packets = lv[i] < 0 ? 0 : 15;
	}
	return speaker_step(s, &prm, obs, 3);
}

UT_TEST(threshold)
{
	struct speaker_sel s = { 0 };

	UT_EQ(step3(&s, 51, 127, -1), false); /* quieter than -50 dBov */
	UT_EQ(s.current, 0);
	UT_EQ(speaker_step(&s, &prm, NULL, 0), false);
	UT_EQ(step3(&s, 50, 127, -1), true);  /* at the threshold counts */
	UT_EQ(s.current, A);
}

UT_TEST(no_packets_never_counts)
{
	struct speaker_sel s = { 0 };
	struct speaker_obs o = { .key = A, .dbov = 0, .packets = 0 };

	UT_EQ(speaker_step(&s, &prm, &o, 1), false);
	UT_EQ(s.current, 0);
}

UT_TEST(first_speaker_at_once_loudest_wins)
{
	struct speaker_sel s = { 0 };

	UT_EQ(step3(&s, 40, 20, 30), true);
	UT_EQ(s.current, B);
}

UT_TEST(hysteresis)
{
	struct speaker_sel s = { 0 };

	UT_EQ(step3(&s, 20, 60, 127), true);
	UT_EQ(s.current, A);
	/* B louder for one interval only: no change. */
	UT_EQ(step3(&s, 30, 10, 127), false);
	UT_EQ(step3(&s, 20, 30, 127), false);
	UT_EQ(step3(&s, 30, 10, 127), false);
	UT_EQ(s.current, A);
	/* Two in a row: B. */
	UT_EQ(step3(&s, 30, 10, 127), true);
	UT_EQ(s.current, B);
	/* Alternating challengers never accumulate. */
	UT_EQ(step3(&s, 5, 30, 127), false);
	UT_EQ(step3(&s, 30, 30, 5), false);
	UT_EQ(step3(&s, 5, 30, 127), false);
	UT_EQ(s.current, B);
}

UT_TEST(silent_speaker)
{
	struct speaker_sel s = { 0 };

	UT_EQ(step3(&s, 20, -1, -1), true);
	/* A goes silent; nobody else speaks: A stays (no flapping to nobody). */
	for (int i = 0; i < 10; i++)
		UT_EQ(step3(&s, 127, -1, -1), false);
	UT_EQ(s.current, A);
	/* A silent for over silence_intervals: C takes over in one interval. */
	UT_EQ(step3(&s, -1, -1, 45), true);
	UT_EQ(s.current, C);
	/* C silent for 2 intervals, then B: B needs its two wins. */
	UT_EQ(step3(&s, -1, -1, -1), false);
	UT_EQ(step3(&s, -1, 30, -1), false);
	UT_EQ(step3(&s, -1, 30, -1), true);
	UT_EQ(s.current, B);
}

UT_TEST(ties)
{
	struct speaker_sel s = { 0 };

	UT_EQ(step3(&s, 20, 20, 20), true);
	UT_EQ(s.current, A); /* the first given */
	/* A tie with the current speaker keeps it. */
	for (int i = 0; i < 5; i++)
		UT_EQ(step3(&s, 20, 20, 127), false);
	UT_EQ(s.current, A);
	/* B wins once, then ties C: the running challenger keeps its count. */
	UT_EQ(step3(&s, 30, 10, 127), false);
	UT_EQ(step3(&s, 30, 10, 10), true);
	UT_EQ(s.current, B);
}

UT_TEST(speaker_leaves)
{
	struct speaker_sel s = { 0 };

	UT_EQ(step3(&s, 20, 40, -1), true);
	UT_EQ(step3(&s, 60, 10, -1), false); /* B challenging */
	UT_EQ(speaker_forget(&s, C), false);
	UT_EQ(speaker_forget(&s, B), false); /* the challenger leaves */
	UT_EQ(s.challenger, 0);
	UT_EQ(s.current, A);
	UT_EQ(speaker_forget(&s, A), true);
	UT_EQ(s.current, 0);
	UT_EQ(speaker_forget(&s, 0), false);
	/* The next one counting takes the floor at once. */
	UT_EQ(step3(&s, -1, -1, 35), true);
	UT_EQ(s.current, C);
}

UT_MAIN("speaker", UT_CASE(threshold), UT_CASE(no_packets_never_counts),
	UT_CASE(first_speaker_at_once_loudest_wins), UT_CASE(hysteresis),
	UT_CASE(silent_speaker), UT_CASE(ties), UT_CASE(speaker_leaves))
