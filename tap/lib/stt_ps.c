/*
 * stt_ps.c — the embedded recognizer (see stt_ps.h): pocketsphinx 5prealpha
 * decoders, one per stream, sharing one language model; utterances are cut
 * by the front end's voice activity detector (ps_get_in_speech).
 *
 * Memory: a decoder loading everything itself is ~94 MB.  The trie language
 * model (34 MB) is read once and handed to each decoder with ps_set_lm, and
 * the 134k-word dictionary is cut to the 79k words the language model knows
 * (the n-gram search never uses the others), which leaves ~47 MB resident
 * per session (acoustic model, dictionary, triphone maps, lexicon tree) and
 * makes ps_init 25% faster (~0.17 s).  There is no
 * public 5prealpha API to share the acoustic model or dictionary.
 *
 * Each session gets its own cmd_ln_t: ps_init writes model file names and
 * feat.params into the configuration it is given, which would free strings
 * under a running decoder if the configuration were shared.
 *
 * Second pass while the cepstral mean is young: live CMN subtracts a running
 * mean that pocketsphinx only updates at the end of an utterance (or after 8 s
 * of speech), so a new stream's first utterance is decoded against the
 * model's -cmninit, which can be far from the caller's channel (espeak-ng's
 * voice: 22% of the words right over 15 sentences, a fresh decoder each).
 * Until the mean has seen WARM_FRAMES frames, a session keeps the utterance's
 * audio (with LEAD_SAMPLES before it, at most 8 s) and, when the utterance
 * ends, decodes it again against the mean just learnt from it (49% on the
 * same sentences, about what a decoder warmed on other speech gets).  The CMN state is put
 * back afterwards so the audio counts once.  Cost: the first utterance is
 * decoded twice; the buffer (272 KB) is freed once the mean is warm.
 *
 * Threading: see stt_ps.h — one thread at a time per engine and its sessions.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <pocketsphinx.h>
#include <sphinxbase/cmn.h>
#include <sphinxbase/err.h>
#include <sphinxbase/feat.h>
#include <sphinxbase/ngram_model.h>

#include "stt_ps.h"

#define SAMPLES_PER_MS (STT_PS_SAMPLE_RATE / 1000)
/* The detector is consulted after each block: 100 ms, the contract's chunk. */
#define BLOCK_SAMPLES (STT_PS_SAMPLE_RATE / 10)
#define PARTIAL_SAMPLES ((uint64_t)STT_PS_PARTIAL_MS * SAMPLES_PER_MS)
#define MAX_UTT_SAMPLES ((uint64_t)STT_PS_MAX_UTT_MS * SAMPLES_PER_MS)
#define SEARCH_NAME "stt"
/* Second pass: CMN frames after which the mean is trusted, the audio kept
 * before an utterance (covers the detector's 10 + 20 frames and a block), and
 * the longest utterance decoded twice (the mean moves by itself after 8 s). */
#define WARM_FRAMES 300
#define LEAD_SAMPLES (STT_PS_SAMPLE_RATE / 2)
#define HIST_SAMPLES (LEAD_SAMPLES + 8 * STT_PS_SAMPLE_RATE)
#define CMN_MAX_VECLEN 64

struct stt_ps_engine {
	char hmm[PATH_MAX];  /* acoustic model directory */
	char dict[PATH_MAX]; /* dictionary the sessions load (the memfd when there is one) */
	cmd_ln_t *config;    /* the one the language model was read with */
	logmath_t *lmath;
	ngram_model_t *lm;   /* shared by every session's search */
	int dict_fd;         /* memfd with the cut-down dictionary, or -1 */
	unsigned int refs;   /* the owner's, plus one per session */
	uint64_t startspeech_samples; /* speech the detector needs before it says so */
	uint64_t postspeech_samples;  /* silence it needs before it says speech ended */
};

struct stt_ps_session {
	struct stt_ps_engine *e;
	ps_decoder_t *ps;
	uint64_t samples;       /* fed so far: the stream clock */
	uint64_t utt_start;     /* samples, of the utterance in progress */
	uint64_t last_end;      /* samples, end of the previous utterance */
	uint64_t since_partial; /* speech samples since the last partial check */
	uint64_t partial_end;   /* samples, end_ms of the last partial sent */
	uint64_t dropped;       /* finals with no room in out */
	bool in_utt;            /* the detector has heard speech in this utterance */
	bool partial_sent;      /* this utterance has shown a partial */
	bool broken;            /* the decoder failed; every call returns -EIO */
	bool second_pass;       /* decode this utterance again when it ends */
	bool hist_full;         /* the utterance outgrew hist */
	int16_t *hist;          /* recent audio while the CMN is young, else NULL */
	size_t hist_len;        /* samples in hist */
	char partial[STT_PS_TEXT_MAX]; /* last partial text sent */
};

/* sphinxbase reports through one process-wide hook: keep the last warning or
 * error of this thread for engine_new's message, drop the chatter. */
static __thread char ps_last_error[256];
static pthread_once_t ps_log_once = PTHREAD_ONCE_INIT;

static void ps_log(void *user_data, err_lvl_t lvl, const char *fmt, ...)
{
	va_list ap;
	size_t n;

	(void)user_data;
	if (lvl != ERR_WARN && lvl != ERR_ERROR && lvl != ERR_FATAL)
		return;
	va_start(ap, fmt);
	vsnprintf(ps_last_error, sizeof(ps_last_error), fmt, ap);
	va_end(ap);
	n = strlen(ps_last_error);
	while (n > 0 && (ps_last_error[n - 1] == '\n' || ps_last_error[n - 1] == ' '))
		ps_last_error[--n] = '\0';
}

/* ps_init also prints its whole configuration straight to the log file
 * handle, bypassing the hook: close that too. */
static void ps_log_install(void)
{
	err_set_callback(ps_log, NULL);
	err_set_logfp(NULL);
}

/* The decoder's configuration: our model paths, the contract's sample rate,
 * everything else pocketsphinx's defaults plus the model's feat.params. */
static cmd_ln_t *engine_config(const struct stt_ps_engine *e)
{
	return cmd_ln_init(NULL, ps_args(), TRUE, "-hmm", e->hmm, "-dict", e->dict,
			   "-samprate", "16000", NULL);
}

/*
 * Copy the dictionary lines whose word (alternates "word(2)" included) the
 * language model knows into a memfd.  Returns the fd, or -1 to use the file
 * as it is (no memfd, unreadable, or nothing in common).
 */
static int dict_for_lm(ngram_model_t *lm, const char *path)
{
	FILE *in, *out;
	char *line = NULL, word[256];
	size_t cap = 0, kept = 0;
	int fd, fd2;
	bool ok;

	fd = memfd_create("stt-ps-dict", MFD_CLOEXEC);
	if (fd < 0)
		return -1;
	fd2 = dup(fd);
	out = fd2 >= 0 ? fdopen(fd2, "w") : NULL;
	in = fopen(path, "r");
	if (out == NULL || in == NULL) {
		if (out != NULL)
			fclose(out);
		else if (fd2 >= 0)
			close(fd2);
		if (in != NULL)
			fclose(in);
		close(fd);
		return -1;
	}
	while (getline(&line, &cap, in) > 0) {
		size_t len = strcspn(line, " \t\r\n(");

		if (len == 0 || len >= sizeof(word))
			continue;
		memcpy(word, line, len);
		word[len] = '\0';
		if (ngram_wid(lm, word) == ngram_unknown_wid(lm))
			continue;
		if (fputs(line, out) < 0)
			break;
		kept++;
	}
	ok = !ferror(in) && !ferror(out) && kept > 0;
	free(line);
	fclose(in);
	if (fclose(out) != 0)
		ok = false;
	if (!ok) {
		close(fd);
		return -1;
	}
	return fd;
}

static void engine_release(struct stt_ps_engine *e)
{
	if (e == NULL || --e->refs > 0)
		return;
	if (e->lm != NULL)
		ngram_model_free(e->lm);
	if (e->lmath != NULL)
		logmath_free(e->lmath);
	if (e->config != NULL)
		cmd_ln_free_r(e->config);
	if (e->dict_fd >= 0)
		close(e->dict_fd);
	free(e);
}

/* path = dir "/" name, or false if it does not fit. */
static bool join_path(char *path, const char *dir, const char *name)
{
	int n = snprintf(path, PATH_MAX, "%s/%s", dir, name);

	return n > 0 && n < PATH_MAX;
}

struct stt_ps_engine *stt_ps_engine_new(const char *model_dir, char *err, size_t errlen)
{
	char mdef[PATH_MAX], lm[PATH_MAX];
	struct stt_ps_engine *e;
	int32 frate;

	if (err == NULL || errlen == 0) {
		errno = EINVAL;
		return NULL;
	}
	err[0] = '\0';
	if (model_dir == NULL)
		model_dir = STT_PS_DEFAULT_MODEL_DIR;
	pthread_once(&ps_log_once, ps_log_install);
	e = calloc(1, sizeof(*e));
	if (e == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	e->dict_fd = -1;
	e->refs = 1;
	if (!join_path(e->hmm, model_dir, "en-us") || !join_path(mdef, e->hmm, "mdef") ||
	    !join_path(lm, model_dir, "en-us.lm.bin") ||
	    !join_path(e->dict, model_dir, "cmudict-en-us.dict")) {
		snprintf(err, errlen, "model directory name too long: %s", model_dir);
		goto fail;
	}
	/* Name the missing file here: pocketsphinx would only log it. */
	for (const char *const *f = (const char *const[]){ mdef, lm, e->dict, NULL }; *f; f++) {
		if (access(*f, R_OK) != 0) {
			snprintf(err, errlen, "cannot read %s: %s", *f, strerror(errno));
			goto fail;
		}
	}
	ps_last_error[0] = '\0';
	e->config = engine_config(e);
	if (e->config == NULL) {
		snprintf(err, errlen, "pocketsphinx configuration rejected: %s", ps_last_error);
		goto fail;
	}
	e->lmath = logmath_init((float64)cmd_ln_float32_r(e->config, "-logbase"), 0,
				cmd_ln_boolean_r(e->config, "-bestpath"));
	if (e->lmath == NULL) {
		snprintf(err, errlen, "pocketsphinx logmath_init failed");
		goto fail;
	}
	e->lm = ngram_model_read(e->config, lm, NGRAM_AUTO, e->lmath);
	if (e->lm == NULL) {
		snprintf(err, errlen, "cannot load language model %s: %s", lm, ps_last_error);
		goto fail;
	}
	e->dict_fd = dict_for_lm(e->lm, e->dict);
	if (e->dict_fd >= 0)
		snprintf(e->dict, sizeof(e->dict), "/proc/self/fd/%d", e->dict_fd);
	frate = cmd_ln_int32_r(e->config, "-frate");
	if (frate <= 0)
		frate = 100;
	e->startspeech_samples = (uint64_t)cmd_ln_int32_r(e->config, "-vad_startspeech") *
				 STT_PS_SAMPLE_RATE / (uint64_t)frate;
	e->postspeech_samples = (uint64_t)cmd_ln_int32_r(e->config, "-vad_postspeech") *
				STT_PS_SAMPLE_RATE / (uint64_t)frate;
	return e;
fail:
	engine_release(e);
	return NULL;
}

void stt_ps_engine_free(struct stt_ps_engine *e)
{
	engine_release(e);
}

struct stt_ps_session *stt_ps_session_new(struct stt_ps_engine *e)
{
	struct stt_ps_session *s;
	cmd_ln_t *config;

	if (e == NULL) {
		errno = EINVAL;
		return NULL;
	}
	s = calloc(1, sizeof(*s));
	if (s != NULL)
		s->hist = malloc(HIST_SAMPLES * sizeof(*s->hist));
	if (s == NULL || s->hist == NULL) {
		free(s);
		errno = ENOMEM;
		return NULL;
	}
	config = engine_config(e);
	if (config == NULL)
		goto fail;
	s->ps = ps_init(config); /* takes its own reference */
	cmd_ln_free_r(config);
	if (s->ps == NULL)
		goto fail;
	if (ps_set_lm(s->ps, SEARCH_NAME, e->lm) != 0 || ps_set_search(s->ps, SEARCH_NAME) != 0 ||
	    ps_start_utt(s->ps) < 0)
		goto fail;
	s->e = e;
	e->refs++;
	return s;
fail:
	if (s->ps != NULL)
		ps_free(s->ps);
	free(s->hist);
	free(s);
	errno = EIO;
	return NULL;
}

void stt_ps_session_free(struct stt_ps_session *s)
{
	if (s == NULL)
		return;
	ps_free(s->ps);
	engine_release(s->e);
	free(s->hist);
	free(s);
}

/* Copy a hypothesis, cutting an overlong one at a word boundary. */
static void copy_text(char *dst, const char *src)
{
	size_t n = src != NULL ? strlen(src) : 0;

	if (n >= STT_PS_TEXT_MAX) {
		n = STT_PS_TEXT_MAX - 1;
		while (n > 0 && src[n] != ' ')
			n--;
	}
	if (n > 0)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/*
 * Append a result.  The trailing result of this call, if a partial, belongs
 * to the same utterance (a final would sit between otherwise) and is
 * superseded: overwrite it.  With no room, a final is dropped and counted.
 */
static void emit(struct stt_ps_session *s, struct stt_ps_result *out, int max_out, int *n_out,
		 const char *text, bool final, uint64_t end)
{
	struct stt_ps_result *r;

	if (*n_out > 0 && !out[*n_out - 1].final)
		r = &out[*n_out - 1];
	else if (*n_out < max_out)
		r = &out[(*n_out)++];
	else {
		if (final)
			s->dropped++;
		return;
	}
	copy_text(r->text, text);
	r->final = final;
	r->start_ms = s->utt_start / SAMPLES_PER_MS;
	r->end_ms = end / SAMPLES_PER_MS;
}

static cmn_t *session_cmn(struct stt_ps_session *s)
{
	feat_t *fcb = ps_get_feat(s->ps);

	return fcb != NULL ? fcb->cmn_struct : NULL;
}

/* Keep a block in hist; outside an utterance only the last LEAD_SAMPLES. */
static void hist_add(struct stt_ps_session *s, const int16_t *pcm, size_t n)
{
	if (s->hist == NULL || s->hist_full)
		return;
	if (s->hist_len + n > HIST_SAMPLES) {
		s->hist_full = true;
		return;
	}
	memcpy(s->hist + s->hist_len, pcm, n * sizeof(*pcm));
	s->hist_len += n;
}

static void hist_trim(struct stt_ps_session *s)
{
	if (s->hist == NULL)
		return;
	if (s->hist_len > LEAD_SAMPLES) {
		memmove(s->hist, s->hist + s->hist_len - LEAD_SAMPLES,
			LEAD_SAMPLES * sizeof(*s->hist));
		s->hist_len = LEAD_SAMPLES;
	}
	s->hist_full = false;
}

/*
 * Speech began in the block of n samples just fed; the detector needed
 * startspeech of it, so the utterance started about that much earlier.
 * Decide whether the utterance gets a second pass; once the mean is warm the
 * audio is no longer kept.
 */
static void utt_open(struct stt_ps_session *s, size_t n)
{
	uint64_t back = (uint64_t)n + s->e->startspeech_samples;
	uint64_t start = s->samples > back ? s->samples - back : 0;
	cmn_t *cmn = session_cmn(s);

	s->utt_start = start > s->last_end ? start : s->last_end;
	s->in_utt = true;
	s->partial_sent = false;
	s->partial[0] = '\0';
	s->since_partial = 0;
	s->second_pass = false;
	if (s->hist == NULL)
		return;
	if (cmn == NULL || cmn->nframe >= WARM_FRAMES || cmn->veclen > CMN_MAX_VECLEN) {
		free(s->hist);
		s->hist = NULL;
		return;
	}
	s->second_pass = true;
}

/* The current hypothesis as a partial, if it says something new. */
static void utt_partial(struct stt_ps_session *s, struct stt_ps_result *out, int max_out,
			int *n_out)
{
	char text[STT_PS_TEXT_MAX];

	copy_text(text, ps_get_hyp(s->ps, NULL));
	if (text[0] == '\0' || strcmp(text, s->partial) == 0)
		return;
	memcpy(s->partial, text, sizeof(text));
	s->partial_sent = true;
	s->partial_end = s->samples;
	emit(s, out, max_out, n_out, text, false, s->samples);
}

/*
 * Decode the kept audio again, the mean now including this utterance, into
 * text (left alone if the second pass hears nothing).  The CMN accumulators
 * are restored afterwards: the audio has been counted once already.
 */
static int utt_second_pass(struct stt_ps_session *s, char *text)
{
	mfcc_t mean[CMN_MAX_VECLEN], sum[CMN_MAX_VECLEN];
	cmn_t *cmn = session_cmn(s);
	int32 nframe = cmn->nframe;
	size_t vec = (size_t)cmn->veclen * sizeof(mfcc_t);
	const char *hyp;

	memcpy(mean, cmn->cmn_mean, vec);
	memcpy(sum, cmn->sum, vec);
	if (ps_start_utt(s->ps) < 0)
		return -EIO;
	for (size_t off = 0; off < s->hist_len; off += BLOCK_SAMPLES) {
		size_t n = s->hist_len - off < BLOCK_SAMPLES ? s->hist_len - off : BLOCK_SAMPLES;

		if (ps_process_raw(s->ps, s->hist + off, n, FALSE, FALSE) < 0)
			return -EIO;
	}
	if (ps_end_utt(s->ps) < 0)
		return -EIO;
	hyp = ps_get_hyp(s->ps, NULL);
	if (hyp != NULL && hyp[0] != '\0')
		copy_text(text, hyp);
	memcpy(cmn->cmn_mean, mean, vec);
	memcpy(cmn->sum, sum, vec);
	cmn->nframe = nframe;
	return 0;
}

/*
 * End the utterance, emit its final (unless it said nothing and showed
 * nothing), start the next.  by_detector: the detector's hangover of silence
 * is not part of the utterance.
 */
static int utt_close(struct stt_ps_session *s, struct stt_ps_result *out, int max_out,
		     int *n_out, bool by_detector)
{
	char text[STT_PS_TEXT_MAX];
	uint64_t end = s->samples;

	if (by_detector && end > s->e->postspeech_samples)
		end -= s->e->postspeech_samples;
	if (end < s->utt_start)
		end = s->utt_start;
	if (ps_end_utt(s->ps) < 0)
		goto broken;
	copy_text(text, ps_get_hyp(s->ps, NULL));
	if (s->second_pass && !s->hist_full && text[0] != '\0' && utt_second_pass(s, text) < 0)
		goto broken;
	/* A partial already reached further: times never go back. */
	if (s->partial_sent && end < s->partial_end)
		end = s->partial_end;
	if (text[0] != '\0' || s->partial_sent)
		emit(s, out, max_out, n_out, text, true, end);
	s->in_utt = false;
	s->last_end = end;
	hist_trim(s);
	if (ps_start_utt(s->ps) < 0)
		goto broken;
	return 0;
broken:
	s->broken = true;
	return -EIO;
}

int stt_ps_feed(struct stt_ps_session *s, const int16_t *pcm, size_t samples,
		struct stt_ps_result *out, int max_out)
{
	int n_out = 0;

	if (s == NULL || (pcm == NULL && samples > 0) || out == NULL || max_out < 1)
		return -EINVAL;
	if (s->broken)
		return -EIO;
	while (samples > 0) {
		size_t n = samples < BLOCK_SAMPLES ? samples : BLOCK_SAMPLES;
		bool speech;

		if (ps_process_raw(s->ps, pcm, n, FALSE, FALSE) < 0) {
			s->broken = true;
			return -EIO;
		}
		hist_add(s, pcm, n);
		pcm += n;
		samples -= n;
		s->samples += n;
		speech = ps_get_in_speech(s->ps) != 0;
		if (speech && !s->in_utt)
			utt_open(s, n);
		if (!s->in_utt) {
			hist_trim(s);
			continue;
		}
		if (!speech || s->samples - s->utt_start >= MAX_UTT_SAMPLES) {
			if (utt_close(s, out, max_out, &n_out, !speech) < 0)
				return -EIO;
			continue;
		}
		s->since_partial += n;
		if (s->since_partial >= PARTIAL_SAMPLES) {
			s->since_partial = 0;
			utt_partial(s, out, max_out, &n_out);
		}
	}
	return n_out;
}

int stt_ps_end(struct stt_ps_session *s, struct stt_ps_result *out, int max_out)
{
	int n_out = 0;

	if (s == NULL || out == NULL || max_out < 1)
		return -EINVAL;
	if (s->broken)
		return -EIO;
	if (!s->in_utt)
		return 0;
	if (utt_close(s, out, max_out, &n_out, false) < 0)
		return -EIO;
	return n_out;
}

uint64_t stt_ps_session_ms(const struct stt_ps_session *s)
{
	return s->samples / SAMPLES_PER_MS;
}

uint64_t stt_ps_session_dropped(const struct stt_ps_session *s)
{
	return s->dropped;
}
