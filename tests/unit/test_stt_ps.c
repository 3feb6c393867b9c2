/*
 * test_stt_ps.c — unit tests for the embedded recognizer (stt_ps.h) on
 * Debian's en-us model: espeak-ng speaks known sentences at run time (sox
 * makes them 16 kHz mono s16 with silence around them, its dither seeded so
 * every run hears the same samples), fed in 100 ms chunks: partials come
 * before the final, the final holds >= 60% of the words, times are
 * monotonic and inside the audio fed; two interleaved
 * sessions give exactly what each gives alone; silence gives no text; white
 * noise and odd chunk sizes are survived; a one-slot out keeps the finals;
 * bad arguments are refused.  Prints the recognized text, the CPU cost per
 * 100 ms chunk and the memory of a session.
 *
 * Needs espeak-ng, sox and pocketsphinx-en-us; fails (never skips) without
 * them.  Single-threaded.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "stt_ps.h"
#include "unit.h"

#define CHUNK (STT_PS_SAMPLE_RATE / 10)
#define MAX_AUDIO_SAMPLES (STT_PS_SAMPLE_RATE * 30)

/*
 * Chosen from 15 candidates as the ones pocketsphinx hears from espeak-ng's
 * en-us voice whatever sox's dither (12 renderings each at 130, 140 and 150
 * words/min after 0.5 s of silence: A 95-100% of the words on average, B 85%,
 * none under 60%).  Many others ("the quick brown fox...", "this is a test")
 * come out under 40%.
 */
#define SENTENCE_A "i would like to order a cup of coffee"
#define SENTENCE_B "the children are playing in the park"

struct audio {
	int16_t *pcm;
	size_t samples;
};

/* Everything one stream produced. */
struct run {
	struct stt_ps_result res[64];
	int n;
	uint64_t fed_ms[64];       /* audio fed when each result came */
	char finals[2048];         /* the final texts, space-separated */
	int first_partial, first_final; /* indexes, -1 if none */
	double cpu_ms, cpu_max_ms;
	int chunks;
	bool failed;               /* a feed returned < 0 */
};

static struct stt_ps_engine *engine;
static char tmpdir[64];
static struct audio sentence_a, sentence_b;
static char heard_a[2048]; /* the first test's finals, for the second */

static double cpu_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static long rss_kb(void)
{
	long pages = 0, resident = 0;
	FILE *f = fopen("/proc/self/statm", "r");

	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
		resident = -1;
	fclose(f);
	return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}

static struct stt_ps_engine *get_engine(void)
{
	char err[256];

	if (engine == NULL) {
		engine = stt_ps_engine_new(NULL, err, sizeof(err));
		if (engine == NULL)
			fprintf(stderr, "  stt_ps_engine_new: %s\n", err);
	}
	return engine;
}

static bool have_tool(const char *name)
{
	char cmd[128];

	snprintf(cmd, sizeof(cmd), "command -v %s >/dev/null 2>&1", name);
	return system(cmd) == 0;
}

/* Speak text into a raw file with lead_s/trail_s of silence; load it. */
static bool speak(const char *name, const char *text, const char *lead_s, const char *trail_s,
		  struct audio *a)
{
	char wav[128], raw[128], cmd[512];
	FILE *f;
	long size;

	if (a->pcm != NULL)
		return true;
	if (!have_tool("espeak-ng") || !have_tool("sox")) {
		fprintf(stderr, "  espeak-ng and sox are needed (apt-get install espeak-ng sox)\n");
		return false;
	}
	if (tmpdir[0] == '\0') {
		snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_stt_ps.XXXXXX");
		if (mkdtemp(tmpdir) == NULL) {
			tmpdir[0] = '\0';
			return false;
		}
	}
	snprintf(wav, sizeof(wav), "%s/%s.wav", tmpdir, name);
	snprintf(raw, sizeof(raw), "%s/%s.raw", tmpdir, name);
	snprintf(cmd, sizeof(cmd),
		 "espeak-ng -v en-us -s 140 -w %s '%s' && "
		 "sox -R %s -r 16000 -c 1 -b 16 -e signed-integer %s pad %s %s",
		 wav, text, wav, raw, lead_s, trail_s);
	if (system(cmd) != 0) {
		fprintf(stderr, "  failed: %s\n", cmd);
		return false;
	}
	f = fopen(raw, "rb");
	if (f == NULL)
		return false;
	fseek(f, 0, SEEK_END);
	size = ftell(f);
	rewind(f);
	if (size <= 0 || size > (long)(MAX_AUDIO_SAMPLES * sizeof(int16_t))) {
		fclose(f);
		return false;
	}
	a->samples = (size_t)size / sizeof(int16_t);
	a->pcm = malloc(a->samples * sizeof(int16_t));
	if (a->pcm == NULL || fread(a->pcm, sizeof(int16_t), a->samples, f) != a->samples) {
		free(a->pcm);
		a->pcm = NULL;
	}
	fclose(f);
	unlink(wav);
	unlink(raw);
	return a->pcm != NULL;
}

static void run_init(struct run *r)
{
	memset(r, 0, sizeof(*r));
	r->first_partial = -1;
	r->first_final = -1;
}

/* Take the results of one feed (or end) into the run. */
static void run_take(struct run *r, const struct stt_ps_result *res, int n, uint64_t fed_ms)
{
	if (n < 0) {
		r->failed = true;
		return;
	}
	for (int i = 0; i < n && r->n < (int)(sizeof(r->res) / sizeof(r->res[0])); i++) {
		if (!res[i].final && r->first_partial < 0)
			r->first_partial = r->n;
		if (res[i].final && res[i].text[0] != '\0') {
			if (r->first_final < 0)
				r->first_final = r->n;
			if (r->finals[0] != '\0')
				strncat(r->finals, " ", sizeof(r->finals) - strlen(r->finals) - 1);
			strncat(r->finals, res[i].text, sizeof(r->finals) - strlen(r->finals) - 1);
		}
		r->fed_ms[r->n] = fed_ms;
		r->res[r->n++] = res[i];
	}
}

/* Feed [from, to) of a in chunks of `chunk` samples with max_out slots. */
static void run_feed(struct stt_ps_session *s, struct run *r, const struct audio *a, size_t from,
		     size_t to, size_t chunk, int max_out)
{
	struct stt_ps_result res[STT_PS_MAX_RESULTS];

	for (size_t off = from; off < to; off += chunk) {
		size_t n = to - off < chunk ? to - off : chunk;
		double t0 = cpu_ms();
		int got = stt_ps_feed(s, a->pcm + off, n, res, max_out);

		double spent = cpu_ms() - t0;

		r->cpu_ms += spent;
		if (spent > r->cpu_max_ms)
			r->cpu_max_ms = spent;
		r->chunks++;
		run_take(r, res, got, stt_ps_session_ms(s));
	}
}

static void run_end(struct stt_ps_session *s, struct run *r)
{
	struct stt_ps_result res[1];

	run_take(r, res, stt_ps_end(s, res, 1), stt_ps_session_ms(s));
}

/* One whole stream through a fresh session. */
static bool run_alone(const struct audio *a, size_t chunk, int max_out, struct run *r)
{
	struct stt_ps_session *s = stt_ps_session_new(get_engine());

	run_init(r);
	if (s == NULL)
		return false;
	run_feed(s, r, a, 0, a->samples, chunk, max_out);
	run_end(s, r);
	stt_ps_session_free(s);
	return !r->failed;
}

/* Percentage of the expected words present in text, as whole words. */
static int word_recall(const char *expected, const char *text)
{
	char want[256], have[2100], needle[64];
	int n = 0, found = 0;

	snprintf(want, sizeof(want), "%s", expected);
	snprintf(have, sizeof(have), " %s ", text);
	for (char *save = NULL, *w = strtok_r(want, " ", &save); w; w = strtok_r(NULL, " ", &save)) {
		n++;
		snprintf(needle, sizeof(needle), " %s ", w);
		if (strstr(have, needle) != NULL)
			found++;
	}
	return n > 0 ? found * 100 / n : 0;
}

/* Times are ordered: each result inside [previous final's end, audio fed],
 * start <= end, and an utterance's partials never move back. */
static bool times_monotonic(const struct run *r)
{
	uint64_t floor = 0, last_end = 0;

	for (int i = 0; i < r->n; i++) {
		const struct stt_ps_result *x = &r->res[i];

		if (x->start_ms > x->end_ms || x->end_ms > r->fed_ms[i] || x->start_ms < floor ||
		    x->end_ms < last_end) {
			fprintf(stderr, "  result %d: %" PRIu64 "-%" PRIu64 " ms (fed %" PRIu64
					" ms, floor %" PRIu64 ")\n",
				i, x->start_ms, x->end_ms, r->fed_ms[i], floor);
			return false;
		}
		last_end = x->end_ms;
		if (x->final)
			floor = x->end_ms;
	}
	return true;
}

UT_TEST(test_sentence_partials_then_final)
{
	struct run r;
	long before, after;
	struct stt_ps_session *s;

	UT_CHECK(speak("a", SENTENCE_A, "0.5", "1.0", &sentence_a));
	UT_CHECK(get_engine() != NULL);
	if (sentence_a.pcm == NULL || engine == NULL)
		return;
	before = rss_kb();
	s = stt_ps_session_new(engine);
	after = rss_kb();
	UT_CHECK(s != NULL);
	if (s == NULL)
		return;
	run_init(&r);
	run_feed(s, &r, &sentence_a, 0, sentence_a.samples, CHUNK, STT_PS_MAX_RESULTS);
	/* 1 s of trailing silence: the detector has ended the utterance already. */
	UT_CHECK(r.first_final >= 0);
	run_end(s, &r);
	stt_ps_session_free(s);

	printf("  heard: \"%s\" (%d%% of \"%s\")\n", r.finals, word_recall(SENTENCE_A, r.finals),
	       SENTENCE_A);
	printf("  %d results; CPU per 100 ms chunk: %.1f ms mean, %.1f ms max; "
	       "session +%ld KB RSS\n",
	       r.n, r.cpu_ms / r.chunks, r.cpu_max_ms, after - before);
	memcpy(heard_a, r.finals, sizeof(heard_a));
	UT_CHECK(!r.failed);
	UT_CHECK(word_recall(SENTENCE_A, r.finals) >= 60);
	UT_CHECK(r.first_partial >= 0);
	UT_CHECK(r.first_partial < r.first_final);
	UT_CHECK(times_monotonic(&r));
	/* The utterance lies within the audio, after the leading silence's
	 * detector warm-up at the earliest and before the trailing silence. */
	UT_CHECK(r.first_final >= 0 &&
		 r.res[r.first_final].end_ms <= sentence_a.samples * 1000 / STT_PS_SAMPLE_RATE);
	UT_CHECK(r.first_final >= 0 && r.res[r.first_final].end_ms > 1000);
	/* Partials are rate-limited: at most one per 500 ms of audio. */
	UT_CHECK(r.n <= (int)(sentence_a.samples / (STT_PS_SAMPLE_RATE / 2)) + 2);
	/* The language model is shared and the dictionary cut: a decoder that
	 * loaded everything itself took ~94 MB. */
#if !defined(__SANITIZE_ADDRESS__)
	UT_CHECK(before > 0 && after - before < 70 * 1024);
#endif
}

UT_TEST(test_two_sessions_do_not_interfere)
{
	struct run alone_b, ra, rb;
	struct stt_ps_session *a, *b;
	size_t n;

	UT_CHECK(speak("a", SENTENCE_A, "0.5", "1.0", &sentence_a));
	UT_CHECK(speak("b", SENTENCE_B, "0.5", "1.0", &sentence_b));
	if (sentence_a.pcm == NULL || sentence_b.pcm == NULL || get_engine() == NULL)
		return;
	if (heard_a[0] == '\0') {
		struct run alone_a;

		UT_CHECK(run_alone(&sentence_a, CHUNK, STT_PS_MAX_RESULTS, &alone_a));
		memcpy(heard_a, alone_a.finals, sizeof(heard_a));
	}
	UT_CHECK(run_alone(&sentence_b, CHUNK, STT_PS_MAX_RESULTS, &alone_b));
	UT_CHECK(word_recall(SENTENCE_B, alone_b.finals) >= 60);

	a = stt_ps_session_new(engine);
	b = stt_ps_session_new(engine);
	UT_CHECK(a != NULL && b != NULL);
	if (a == NULL || b == NULL) {
		stt_ps_session_free(a);
		stt_ps_session_free(b);
		return;
	}
	run_init(&ra);
	run_init(&rb);
	n = sentence_a.samples > sentence_b.samples ? sentence_a.samples : sentence_b.samples;
	for (size_t off = 0; off < n; off += CHUNK) {
		if (off < sentence_a.samples)
			run_feed(a, &ra, &sentence_a, off,
				 off + CHUNK < sentence_a.samples ? off + CHUNK : sentence_a.samples,
				 CHUNK, STT_PS_MAX_RESULTS);
		if (off < sentence_b.samples)
			run_feed(b, &rb, &sentence_b, off,
				 off + CHUNK < sentence_b.samples ? off + CHUNK : sentence_b.samples,
				 CHUNK, STT_PS_MAX_RESULTS);
	}
	run_end(a, &ra);
	run_end(b, &rb);
	stt_ps_session_free(a);
	stt_ps_session_free(b);
	printf("  A: \"%s\"  B: \"%s\"\n", ra.finals, rb.finals);
	UT_CHECK(!ra.failed && !rb.failed);
	UT_CHECK(strcmp(ra.finals, heard_a) == 0);
	UT_CHECK(strcmp(rb.finals, alone_b.finals) == 0);
	UT_EQ(rb.n, alone_b.n);
	UT_CHECK(times_monotonic(&ra) && times_monotonic(&rb));
}

UT_TEST(test_silence_gives_no_text)
{
	struct audio silence = { calloc(3 * STT_PS_SAMPLE_RATE, sizeof(int16_t)),
				 3 * STT_PS_SAMPLE_RATE };
	struct run r;

	UT_CHECK(silence.pcm != NULL && get_engine() != NULL);
	if (silence.pcm == NULL || engine == NULL) {
		free(silence.pcm);
		return;
	}
	UT_CHECK(run_alone(&silence, CHUNK, STT_PS_MAX_RESULTS, &r));
	for (int i = 0; i < r.n; i++)
		UT_CHECK(r.res[i].text[0] == '\0');
	UT_CHECK(r.finals[0] == '\0');
	free(silence.pcm);
}

UT_TEST(test_noise_and_odd_chunks)
{
	struct audio noise = { malloc(2 * STT_PS_SAMPLE_RATE * sizeof(int16_t)),
			       2 * STT_PS_SAMPLE_RATE };
	struct stt_ps_result res[STT_PS_MAX_RESULTS];
	struct stt_ps_session *s;
	struct run r;
	uint32_t x = 12345;

	UT_CHECK(noise.pcm != NULL && get_engine() != NULL);
	if (noise.pcm == NULL || engine == NULL) {
		free(noise.pcm);
		return;
	}
	for (size_t i = 0; i < noise.samples; i++) {
		x = x * 1664525u + 1013904223u; /* Numerical Recipes LCG */
		noise.pcm[i] = (int16_t)((int32_t)(x >> 16) - 32768);
	}
	/* Full-scale white noise in 100 ms chunks. */
	UT_CHECK(run_alone(&noise, CHUNK, STT_PS_MAX_RESULTS, &r));
	for (int i = 0; i < r.n; i++)
		UT_CHECK(strlen(r.res[i].text) < STT_PS_TEXT_MAX);
	UT_CHECK(times_monotonic(&r));

	/* Chunks of 0, 1, 7 and 16000 samples; the clock counts every sample. */
	s = stt_ps_session_new(engine);
	UT_CHECK(s != NULL);
	if (s != NULL) {
		UT_CHECK(stt_ps_feed(s, NULL, 0, res, STT_PS_MAX_RESULTS) == 0);
		UT_CHECK(stt_ps_feed(s, noise.pcm, 1, res, STT_PS_MAX_RESULTS) >= 0);
		UT_CHECK(stt_ps_feed(s, noise.pcm + 1, 7, res, STT_PS_MAX_RESULTS) >= 0);
		UT_CHECK(stt_ps_feed(s, noise.pcm + 8, STT_PS_SAMPLE_RATE, res,
				     STT_PS_MAX_RESULTS) >= 0);
		UT_EQ(stt_ps_session_ms(s), (8 + STT_PS_SAMPLE_RATE) / 16);
		UT_CHECK(stt_ps_end(s, res, 1) >= 0);
		UT_EQ(stt_ps_session_dropped(s), 0);
		stt_ps_session_free(s);
	}
	free(noise.pcm);
}

UT_TEST(test_one_slot_keeps_finals)
{
	struct run r;

	UT_CHECK(speak("a", SENTENCE_A, "0.5", "1.0", &sentence_a));
	if (sentence_a.pcm == NULL || get_engine() == NULL)
		return;
	/* 1 s chunks, room for one result: partials give way to the final. */
	UT_CHECK(run_alone(&sentence_a, STT_PS_SAMPLE_RATE, 1, &r));
	UT_CHECK(word_recall(SENTENCE_A, r.finals) >= 60);
	UT_CHECK(times_monotonic(&r));
}

UT_TEST(test_bad_arguments)
{
	struct stt_ps_result res[1];
	struct stt_ps_session *s;
	char err[256];
	int16_t pcm[16] = { 0 };

	UT_CHECK(stt_ps_engine_new("/nonexistent/model", err, sizeof(err)) == NULL);
	UT_CHECK(strstr(err, "/nonexistent/model") != NULL);
	UT_CHECK(stt_ps_engine_new(NULL, NULL, 0) == NULL);
	errno = 0;
	UT_CHECK(stt_ps_session_new(NULL) == NULL && errno == EINVAL);
	if (get_engine() == NULL)
		return;
	s = stt_ps_session_new(engine);
	UT_CHECK(s != NULL);
	if (s == NULL)
		return;
	UT_EQ(stt_ps_feed(NULL, pcm, 16, res, 1), -EINVAL);
	UT_EQ(stt_ps_feed(s, NULL, 16, res, 1), -EINVAL);
	UT_EQ(stt_ps_feed(s, pcm, 16, NULL, 1), -EINVAL);
	UT_EQ(stt_ps_feed(s, pcm, 16, res, 0), -EINVAL);
	UT_EQ(stt_ps_end(s, res, 0), -EINVAL);
	UT_EQ(stt_ps_end(s, res, 1), 0);
	/* The engine outlives its owner's reference while a session holds it. */
	stt_ps_engine_free(engine);
	engine = NULL;
	UT_CHECK(stt_ps_feed(s, pcm, 16, res, 1) >= 0);
	stt_ps_session_free(s);
}

static void cleanup(void)
{
	stt_ps_engine_free(engine);
	free(sentence_a.pcm);
	free(sentence_b.pcm);
	if (tmpdir[0] != '\0')
		rmdir(tmpdir);
}

int main(void)
{
	static const struct ut_case cases[] = {
		UT_CASE(test_sentence_partials_then_final),
		UT_CASE(test_two_sessions_do_not_interfere),
		UT_CASE(test_silence_gives_no_text),
		UT_CASE(test_noise_and_odd_chunks),
		UT_CASE(test_one_slot_keeps_finals),
		UT_CASE(test_bad_arguments),
	};
	int rc = ut_run("stt_ps", cases, (int)(sizeof(cases) / sizeof(cases[0])));

	cleanup();
	return rc;
}
