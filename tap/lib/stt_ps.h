/*
 * stt_ps.h — the embedded speech recognizer: pocketsphinx (Debian's
 * 0.8+5prealpha API) fed 16 kHz mono s16 PCM, giving partial and final
 * hypotheses with utterance endpointing by the library's voice activity
 * detector.  sfu-tap's "embedded" backend and sfu-sttd both sit on it.
 *
 * An engine loads the configuration and the language model once; each audio
 * stream gets a session (its own decoder: acoustic model, dictionary and
 * search state; the language model is shared).
 *
 * Threading: an engine and all its sessions belong to one thread at a time.
 * Sessions share the language model, whose scoring cache is written on every
 * lookup, so two sessions of one engine must never be fed concurrently.
 * Separate engines on separate threads are independent (sphinxbase's log
 * hook is process-wide; it is installed once and keeps its last error
 * message per thread).  Only engine_new and session_new read files.
 */
#ifndef SFU_STT_PS_H
#define SFU_STT_PS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** The only audio format: 16-bit signed native-endian PCM, mono, this rate. */
#define STT_PS_SAMPLE_RATE 16000

/** Bytes of a result's text, NUL included; longer hypotheses are cut at a word. */
#define STT_PS_TEXT_MAX 512

/**
 * Results one feed of up to 1 s of audio can produce: a partial and a final
 * per utterance, and a 1 s chunk spans at most two utterance ends.  With
 * max_out at least this, nothing is ever dropped.
 */
#define STT_PS_MAX_RESULTS 4

/** A partial hypothesis at most this often, in ms of speech. */
#define STT_PS_PARTIAL_MS 500

/** Longer utterances are ended (and finalised) here, to bound decoder memory. */
#define STT_PS_MAX_UTT_MS 20000

/** Debian's pocketsphinx-en-us: en-us/ (acoustic model), en-us.lm.bin, cmudict-en-us.dict. */
#define STT_PS_DEFAULT_MODEL_DIR "/usr/share/pocketsphinx/model/en-us"

struct stt_ps_engine;
struct stt_ps_session;

/** One hypothesis. */
struct stt_ps_result {
	char text[STT_PS_TEXT_MAX]; /**< words separated by single spaces; "" possible on a final */
	bool final;                 /**< false: partial, replaced by the next result of the utterance */
	uint64_t start_ms;          /**< utterance start, ms of stream audio (the samples fed) */
	uint64_t end_ms;            /**< audio decoded so far (partial) or the end of speech
				         (final: less the detector's hangover, but never before
				         a partial's end_ms); never past the audio fed */
};

/**
 * Load a model directory: the configuration, the language model (shared by
 * all sessions) and, when possible, a copy of the dictionary cut down to the
 * words the language model knows (in a memfd; the decoder never uses the
 * others, and each session saves their memory).
 *
 * @param model_dir  directory in Debian's pocketsphinx-en-us layout, NULL for
 *                   STT_PS_DEFAULT_MODEL_DIR
 * @param err        on failure, a sentence naming the file or step that failed
 * @param errlen     size of err
 * @return the engine, or NULL (err says why)
 */
struct stt_ps_engine *stt_ps_engine_new(const char *model_dir, char *err, size_t errlen);

/**
 * Release the caller's reference; the engine goes when its last session does.
 *
 * @param e  engine or NULL
 */
void stt_ps_engine_free(struct stt_ps_engine *e);

/**
 * A new decoder for one stream, its utterance started.  Reads the acoustic
 * model and dictionary: ~0.2 s of CPU and ~47 MB resident (test_stt_ps
 * prints the figure), plus 272 KB of audio history until the cepstral mean
 * is warm (see stt_ps.c).
 *
 * @param e  engine
 * @return the session, or NULL (errno: EINVAL, ENOMEM, or EIO when
 *         pocketsphinx refused the model)
 */
struct stt_ps_session *stt_ps_session_new(struct stt_ps_engine *e);

/**
 * Free a session; an utterance in progress is dropped (call stt_ps_end
 * first to get its final text).
 *
 * @param s  session or NULL
 */
void stt_ps_session_free(struct stt_ps_session *s);

/**
 * Feed audio.  It is decoded in blocks of at most 100 ms; after each block
 * the voice activity detector is asked whether speech goes on.  Speech
 * starting opens an utterance; every STT_PS_PARTIAL_MS of speech the current
 * hypothesis is emitted as a partial if it changed; the detector going back
 * to silence (after its -vad_postspeech hangover, 0.5 s) ends the utterance
 * and emits its final text, then the next utterance starts (so does
 * reaching STT_PS_MAX_UTT_MS).  An utterance with no words and no partial
 * ends without a result (silence, noise).
 * While the session is young the ending utterance is decoded a second time
 * (stt_ps.c), so that call costs about twice the utterance's decoding.
 *
 * Within one call only the last partial of an utterance is kept.  When out
 * has no room for a final (max_out < STT_PS_MAX_RESULTS with long chunks) it
 * replaces a trailing partial, else it is dropped and counted
 * (stt_ps_session_dropped).
 *
 * @param s        session
 * @param pcm      samples (may be NULL when samples is 0)
 * @param samples  number of samples
 * @param out      results produced by this chunk, in order
 * @param max_out  size of out (>= 1)
 * @return number of results written to out, or -EINVAL, or -EIO when the
 *         decoder failed (the session is unusable then)
 */
int stt_ps_feed(struct stt_ps_session *s, const int16_t *pcm, size_t samples,
		struct stt_ps_result *out, int max_out);

/**
 * End of stream (or a forced endpoint): finalise the utterance in progress.
 * The session stays usable; audio fed after this starts a new utterance.
 *
 * @param s        session
 * @param out      where the final goes
 * @param max_out  size of out (>= 1)
 * @return 1 if a final was written, 0 if no utterance (or an empty one) was
 *         in progress, -EINVAL, or -EIO
 */
int stt_ps_end(struct stt_ps_session *s, struct stt_ps_result *out, int max_out);

/**
 * @param s  session
 * @return ms of audio fed so far (the stream clock results are stamped with)
 */
uint64_t stt_ps_session_ms(const struct stt_ps_session *s);

/**
 * @param s  session
 * @return finals dropped because out had no room
 */
uint64_t stt_ps_session_dropped(const struct stt_ps_session *s);

#endif /* SFU_STT_PS_H */
