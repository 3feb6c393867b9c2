/*
 * sfu_level.c — RFC 6464 audio level read from an RFC 8285 header extension
 * (sfu_level.h).
 *
 * Threading: pure function, any thread (the data plane's fast path).
 */
#include <errno.h>

#include "sfu_level.h"

int sfu_level_read(const uint8_t *p, const struct sfu_rtp_info *ri, uint8_t id, uint8_t *dbov,
		   bool *voice)
{
	const uint8_t *data;
	size_t len;
	int ret = sfu_rtp_ext_find(p, ri, id, &data, &len);

	if (ret < 0)
		return ret;
	/* RFC 6464 3: exactly one byte (one-byte form: length field 0; two-byte: 1). */
	if (len != 1)
		return -EINVAL;
	*voice = (data[0] & 0x80) != 0;
	*dbov = data[0] & 0x7f;
	return 0;
}
