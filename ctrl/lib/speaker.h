/*
 * speaker.h — dominant (active) speaker selection for one room, from the
 * audio levels the data plane reports every interval (RFC 6464 levels,
 * averaged per producer; see sfu_msg.h SFU_MSG_AUDIO_LEVELS).
 *
 * Rules, per interval (speaker_step):
 *  - a candidate counts only when it sent packets and its mean level is at
 *    least as loud as the threshold (-dBov <= threshold_dbov): muted or paused
 *    producers send nothing, silence is 127;
 *  - the loudest counting candidate is the challenger (ties: the current
 *    speaker, then the running challenger, then the first given);
 *  - with no current speaker the challenger takes the floor at once;
 *  - otherwise it must be the loudest, and louder than the current speaker,
 *    for switch_intervals consecutive intervals -- or, once the current
 *    speaker has not counted for silence_intervals intervals in a row, take
 *    over at once;
 *  - nobody counting leaves the current speaker in place (as mediasoup's
 *    ActiveSpeakerObserver keeps the dominant speaker); speaker_forget()
 *    clears it when that participant leaves.
 *
 * Candidates are opaque non-zero keys (sfu-ctrl uses its peer pointers).
 * Pure: no allocation, no I/O, any thread (the caller owns the state).
 */
#ifndef SPEAKER_H
#define SPEAKER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct speaker_params {
	uint8_t threshold_dbov;       /* quieter than this (-dBov above it) does not count */
	unsigned int switch_intervals;  /* consecutive intervals a challenger must win (>= 1) */
	unsigned int silence_intervals; /* current speaker silent this long: switch at once */
};

/* One candidate's level over the last interval. */
struct speaker_obs {
	uintptr_t key;                /* non-zero */
	uint8_t dbov;                 /* mean -dBov, 0 loudest .. 127 */
	uint32_t packets;             /* 0: sent nothing */
};

struct speaker_sel {
	uintptr_t current;            /* 0: none */
	uintptr_t challenger;         /* 0: none */
	unsigned int challenger_wins; /* consecutive intervals won by challenger */
	unsigned int current_silent;  /* consecutive intervals current did not count */
};

/**
 * One interval: obs holds every candidate of the room (absent ones are
 * treated as silent).
 * @return true when s->current changed (the caller announces it)
 */
bool speaker_step(struct speaker_sel *s, const struct speaker_params *p,
		  const struct speaker_obs *obs, size_t n);

/**
 * A candidate left (or lost its audio): forget it.
 * @return true when it was the current speaker (now none)
 */
bool speaker_forget(struct speaker_sel *s, uintptr_t key);

#endif /* SPEAKER_H */
