/*
 * jt_registry.c - the terminals registry in memory (a chained hash table
 * keyed by phone number), auth codes (libsodium) and plates (iconv).
 * See jt_registry.h.
 */
#include "jt808/jt_registry.h"

#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>

#include <sodium.h>

#include "common/hz_hash.h"
#include "ingest/ingest.h"

_Static_assert(JT_VEHICLE_MAX == ING_VEHICLE_MAX, "a vehicle name is ingest's");
_Static_assert(JT_AUTH_HASH_BYTES == crypto_hash_sha256_BYTES, "SHA-256");

bool
jt_registry_init(struct jt_registry *r)
{
	memset(r, 0, sizeof(*r));
	r->nslots = 1024;
	r->slots = calloc(r->nslots, sizeof(*r->slots));
	return r->slots != NULL;
}

void
jt_registry_free(struct jt_registry *r)
{
	for (size_t i = 0; r->slots && i < r->nslots; i++) {
		struct jt_term *t = r->slots[i];

		while (t) {
			struct jt_term *next = t->next;

			free(t);
			t = next;
		}
	}
	free(r->slots);
	memset(r, 0, sizeof(*r));
}

struct jt_term *
jt_registry_find(const struct jt_registry *r, const char *phone)
{
	struct jt_term *t = r->slots[hz_fnv1a64_str(phone) & (r->nslots - 1)];

	while (t && strcmp(t->phone, phone) != 0)
		t = t->next;
	return t;
}

/* Double the table (best effort: a failed allocation keeps it as is). */
static void
grow(struct jt_registry *r)
{
	size_t n = r->nslots * 2;
	struct jt_term **slots = calloc(n, sizeof(*slots));

	if (!slots)
		return;
	for (size_t i = 0; i < r->nslots; i++) {
		struct jt_term *t = r->slots[i];

		while (t) {
			struct jt_term *next = t->next;
			size_t k = hz_fnv1a64_str(t->phone) & (n - 1);

			t->next = slots[k];
			slots[k] = t;
			t = next;
		}
	}
	free(r->slots);
	r->slots = slots;
	r->nslots = n;
}

struct jt_term *
jt_registry_add(struct jt_registry *r, const char *phone)
{
	struct jt_term *t = jt_registry_find(r, phone);
	size_t len = strlen(phone), k;

	if (t)
		return t;
	if (len > JT_PHONE_DIGITS_MAX)
		return NULL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return NULL;
	memcpy(t->phone, phone, len + 1);
	if (r->count >= r->nslots)
		grow(r);
	k = hz_fnv1a64_str(phone) & (r->nslots - 1);
	t->next = r->slots[k];
	r->slots[k] = t;
	r->count++;
	return t;
}

struct jt_term *
jt_registry_set(struct jt_registry *r, const char *phone, const char *vehicle,
                const uint8_t *auth_hash)
{
	struct jt_term *t = jt_registry_add(r, phone);

	if (!t)
		return NULL;
	t->vehicle[0] = '\0';
	if (vehicle && vehicle[0] && strlen(vehicle) <= JT_VEHICLE_MAX &&
	    ing_vehicle_check(vehicle, strlen(vehicle), NULL) == ING_REASON_NONE)
		strcpy(t->vehicle, vehicle);
	t->has_auth = auth_hash != NULL;
	if (auth_hash)
		memcpy(t->auth_hash, auth_hash, JT_AUTH_HASH_BYTES);
	if (!t->known)
		r->known++;
	t->known = true;
	t->loaded = true;
	return t;
}

/* Clear what the database said of T. */
static void
clear(struct jt_registry *r, struct jt_term *t)
{
	if (t->known)
		r->known--;
	t->known = false;
	t->has_auth = false;
	t->vehicle[0] = '\0';
}

void
jt_registry_clear(struct jt_registry *r, const char *phone)
{
	struct jt_term *t = jt_registry_find(r, phone);

	if (t)
		clear(r, t);
}

void
jt_registry_load_begin(struct jt_registry *r)
{
	for (size_t i = 0; i < r->nslots; i++)
		for (struct jt_term *t = r->slots[i]; t; t = t->next)
			t->loaded = false;
}

void
jt_registry_load_end(struct jt_registry *r)
{
	for (size_t i = 0; i < r->nslots; i++)
		for (struct jt_term *t = r->slots[i]; t; t = t->next)
			if (!t->loaded)
				clear(r, t);
}

bool
jt_registry_vehicle_taken(const struct jt_registry *r, const char *vehicle)
{
	for (size_t i = 0; i < r->nslots; i++)
		for (const struct jt_term *t = r->slots[i]; t; t = t->next)
			if (strcmp(t->vehicle, vehicle) == 0)
				return true;
	return false;
}

const char *
jt_term_vehicle(const struct jt_term *t)
{
	return t->vehicle[0] ? t->vehicle : t->phone;
}

void
jt_auth_new_code(char code[JT_AUTH_CODE_LEN + 1])
{
	static const char alphabet[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
	uint8_t rnd[JT_AUTH_CODE_LEN];

	randombytes_buf(rnd, sizeof(rnd));
	for (size_t i = 0; i < JT_AUTH_CODE_LEN; i++)
		code[i] = alphabet[rnd[i] & 31];
	code[JT_AUTH_CODE_LEN] = '\0';
}

void
jt_auth_hash(const uint8_t *code, size_t len, uint8_t out[JT_AUTH_HASH_BYTES])
{
	crypto_hash_sha256(out, code, len);
}

bool
jt_auth_check(const struct jt_term *t, const uint8_t *code, size_t len)
{
	uint8_t h[JT_AUTH_HASH_BYTES];

	if (!t || !t->has_auth)
		return false;
	jt_auth_hash(code, len, h);
	return sodium_memcmp(h, t->auth_hash, sizeof(h)) == 0;
}

bool
jt_plate_utf8(const uint8_t *gbk, size_t len, char *out, size_t cap)
{
	iconv_t cd;
	char *in = (char *)gbk, *o = out;
	size_t inleft, oleft, rc;

	while (len > 0 && (gbk[len - 1] == 0x00 || gbk[len - 1] == ' '))
		len--;
	if (len == 0 || cap < 2)
		return false;
	cd = iconv_open("UTF-8", "GB18030");
	if (cd == (iconv_t)-1)
		return false;
	inleft = len;
	oleft = cap - 1;
	rc = iconv(cd, &in, &inleft, &o, &oleft);
	iconv_close(cd);
	if (rc == (size_t)-1 || inleft != 0)
		return false;
	*o = '\0';
	return ing_vehicle_check(out, (size_t)(o - out), NULL) == ING_REASON_NONE;
}
