/*
 * speaker.c — dominant speaker selection with threshold and hysteresis
 * (rules in speaker.h).
 *
 * Threading: pure functions on the caller's state.
 */
#include "speaker.h"

static bool counts(const struct speaker_params *p, const struct speaker_obs *o)
{
	return o->packets > 0 && o->dbov <= p->threshold_dbov;
}

/* The loudest counting candidate, or NULL; ties prefer the current speaker,
 * then the running challenger, then the first in obs. */
static const struct speaker_obs *loudest(const struct speaker_sel *s,
					 const struct speaker_params *p,
					 const struct speaker_obs *obs, size_t n)
{
	const struct speaker_obs *best = NULL;

	for (size_t i = 0; i < n; i++) {
		const struct speaker_obs *o = &obs[i];

		if (!counts(p, o))
			continue;
		if (best == NULL || o->dbov < best->dbov ||
		    (o->dbov == best->dbov && best->key != s->current &&
		     (o->key == s->current ||
		      (o->key == s->challenger && best->key != s->challenger))))
			best = o;
	}
	return best;
}

bool speaker_step(struct speaker_sel *s, const struct speaker_params *p,
		  const struct speaker_obs *obs, size_t n)
{
	const struct speaker_obs *best = loudest(s, p, obs, n), *cur = NULL;
	unsigned int need = p->switch_intervals > 0 ? p->switch_intervals : 1;

	for (size_t i = 0; i < n && s->current != 0; i++)
		if (obs[i].key == s->current)
			cur = &obs[i];
	if (cur != NULL && counts(p, cur))
		s->current_silent = 0;
	else if (s->current != 0)
		s->current_silent++;

	if (best == NULL || best->key == s->current) {
		s->challenger = 0;
		s->challenger_wins = 0;
		return false;
	}
	if (s->current == 0 || s->current_silent >= p->silence_intervals) {
		s->current = best->key;
		s->current_silent = 0;
		s->challenger = 0;
		s->challenger_wins = 0;
		return true;
	}
	/* best is louder than the current speaker here (or it did not count). */
	if (best->key == s->challenger) {
		s->challenger_wins++;
	} else {
		s->challenger = best->key;
		s->challenger_wins = 1;
	}
	if (s->challenger_wins < need)
		return false;
	s->current = best->key;
	s->current_silent = 0;
	s->challenger = 0;
	s->challenger_wins = 0;
	return true;
}

bool speaker_forget(struct speaker_sel *s, uintptr_t key)
{
	if (key == 0)
		return false;
	if (s->challenger == key) {
		s->challenger = 0;
		s->challenger_wins = 0;
	}
	if (s->current != key)
		return false;
	s->current = 0;
	s->current_silent = 0;
	return true;
}
