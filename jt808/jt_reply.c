/*
 * jt_reply.c - the platform's messages to a terminal: 0x8001 general
 * reply and 0x8100 registration reply, in the header form the terminal
 * used (2013 or 2019 with its version byte), framed by jt_frame_encode.
 * The unescaped message is built on the stack (at most JT_FRAME_MAX).
 */
#include <string.h>

#include "jt808/jt808-internal.h"

enum jt_err
jt_encode(const struct jt_header *to, uint16_t msg_id, uint16_t serial,
          const uint8_t *body, size_t body_len, uint8_t *out, size_t cap,
          size_t *out_len)
{
	uint8_t msg[JT_HEADER_2019 + JT_BODY_MAX];
	size_t n;

	if (body_len > JT_BODY_MAX || (body_len > 0 && !body))
		return JT_E_ARG;
	n = jt_header_encode(to, msg_id, serial, body_len, msg);
	if (body_len > 0)
		memcpy(msg + n, body, body_len);
	return jt_frame_encode(msg, n + body_len, out, cap, out_len);
}

enum jt_err
jt_reply_general(const struct jt_header *to, uint16_t serial, uint8_t result,
                 uint8_t *out, size_t cap, size_t *out_len)
{
	uint8_t body[5];

	jt_put16(body, to->serial);
	jt_put16(body + 2, to->msg_id);
	body[4] = result;
	return jt_encode(to, JT_MSG_PLATFORM_REPLY, serial, body, sizeof(body),
	                 out, cap, out_len);
}

enum jt_err
jt_reply_register(const struct jt_header *to, uint16_t serial, uint8_t result,
                  const uint8_t *auth, size_t auth_len, uint8_t *out,
                  size_t cap, size_t *out_len)
{
	uint8_t body[JT_BODY_MAX];
	size_t n = 3;

	jt_put16(body, to->serial);
	body[2] = result;
	if (result == 0) {
		if (auth_len > JT_BODY_MAX - 3 || (auth_len > 0 && !auth))
			return JT_E_ARG;
		if (auth_len > 0)
			memcpy(body + 3, auth, auth_len);
		n += auth_len;
	}
	return jt_encode(to, JT_MSG_REGISTER_REPLY, serial, body, n, out, cap,
	                 out_len);
}
