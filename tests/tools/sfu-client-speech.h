/*
 * sfu-client-speech.h — real Opus for the client's audio producer
 * (--speech FILE): 48 kHz mono s16le PCM (e.g. espeak-ng -> sox) encoded with
 * libopus in 20 ms frames, framed by 0.5 s of silence before and 2 s after
 * (so a recognizer's endpointing sees the utterance end), sent in a loop in
 * place of the test pattern.  Used by the captions tests.
 *
 * Threading: the client's one thread.
 */
#ifndef SFU_CLIENT_SPEECH_H
#define SFU_CLIENT_SPEECH_H

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <opus/opus.h>

#define SP_FRAME 960           /* 20 ms at 48 kHz */
#define SP_MAX_PACKET 400
#define SP_MAX_SECONDS 60

struct cl_speech {
	uint8_t (*pkt)[SP_MAX_PACKET];
	uint16_t *len;
	size_t n;
	size_t last_speech;   /* index of the last frame holding speech */
};

/** Load and encode; @return 0 or -errno (message on stderr). */
static inline int speech_load(struct cl_speech *sp, const char *path)
{
	const size_t lead = 48000 / 2, tail = 48000 * 2;
	FILE *f = fopen(path, "rb");
	int16_t *pcm;
	size_t got, total, frames;
	OpusEncoder *enc;
	int err;

	if (f == NULL) {
		fprintf(stderr, "sfu-client: --speech %s: cannot open\n", path);
		return -errno;
	}
	pcm = calloc(lead + 48000 * SP_MAX_SECONDS + tail + SP_FRAME, sizeof(*pcm));
	if (pcm == NULL) {
		fclose(f);
		return -ENOMEM;
	}
	got = fread(pcm + lead, sizeof(*pcm), 48000 * SP_MAX_SECONDS, f);
	fclose(f);
	total = lead + got + tail;
	frames = (total + SP_FRAME - 1) / SP_FRAME;
	enc = opus_encoder_create(48000, 1, OPUS_APPLICATION_VOIP, &err);
	sp->pkt = calloc(frames, sizeof(*sp->pkt));
	sp->len = calloc(frames, sizeof(*sp->len));
	if (enc == NULL || sp->pkt == NULL || sp->len == NULL || got == 0) {
		fprintf(stderr, "sfu-client: --speech %s: %s\n", path,
			got == 0 ? "empty file" : "encoder setup failed");
		free(pcm);
		if (enc != NULL)
			opus_encoder_destroy(enc);
		return -EINVAL;
	}
	opus_encoder_ctl(enc, OPUS_SET_BITRATE(32000));
	for (size_t i = 0; i < frames; i++) {
		int n = opus_encode(enc, pcm + i * SP_FRAME, SP_FRAME, sp->pkt[i], SP_MAX_PACKET);

		sp->len[i] = n > 0 ? (uint16_t)n : 0;
	}
	sp->n = frames;
	sp->last_speech = (lead + got - 1) / SP_FRAME;
	opus_encoder_destroy(enc);
	free(pcm);
	return 0;
}

#endif /* SFU_CLIENT_SPEECH_H */
